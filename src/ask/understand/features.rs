//! Hashed features of one folded message, for the intent classifier: English word unigrams
//! and bigrams (lightly stemmed), character 3-5-grams inside words (so "refnud" still shares
//! most of its grams with "refund"), Chinese character 1-3-grams, the shapes of the slots
//! found (an order number matters, which order number does not), and bilingual concepts
//! ("退款" and "refund" both fire `refund`), so exemplars in one language teach the other.

use super::products::within_one_edit;
use crate::domain::Lang;
use crate::domain::turn::Slots;
use crate::text::is_cjk;

/// Group weights before the whole vector is scaled to unit length: word and Chinese bigram
/// features carry the meaning; the many character grams only back them up.
const WORD: f32 = 1.0;
const WORD_PAIR: f32 = 0.7;
const CHAR_GRAM: f32 = 0.3;
const HAN_1: f32 = 0.8;
const HAN_2: f32 = 1.0;
const HAN_3: f32 = 0.6;
const SHAPE: f32 = 1.0;
const CONCEPT: f32 = 2.0;

/// Shop concepts and the words that name them: Chinese as substrings, English as words or
/// word sequences (compared stemmed).
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "track",
        &[
            "到哪", "物流", "快递", "发货", "寄出", "送到", "签收", "派送", "包裹", "单号", "运单", "出库", "where",
            "track", "tracking", "arrive", "parcel", "package", "courier", "dispatch", "eta", "shipped",
        ],
    ),
    ("order", &["订单", "单子", "下单", "order", "purchase"]),
    ("cancel", &["取消", "撤销", "不要了", "cancel"]),
    ("modify", &["改", "更改", "换成", "change", "modify", "edit", "update", "amend", "switch"]),
    ("address", &["地址", "收货人", "收件人", "address", "recipient", "zip code"]),
    (
        "stock",
        &[
            "有货",
            "现货",
            "库存",
            "缺货",
            "补货",
            "到货",
            "断码",
            "卖完",
            "无货",
            "还有",
            "stock",
            "restock",
            "available",
            "sold out",
            "left",
            "carry",
        ],
    ),
    ("size", &["尺码", "码", "size", "fit"]),
    ("colour", &["颜色", "色", "colour", "color"]),
    (
        "spec",
        &[
            "多大",
            "多重",
            "材质",
            "容量",
            "功率",
            "噪音",
            "区别",
            "对比",
            "适合",
            "偏大",
            "偏小",
            "续航",
            "吸力",
            "参数",
            "weigh",
            "weight",
            "material",
            "capacity",
            "noise",
            "loud",
            "difference",
            "compare",
            "vs",
            "suitable",
            "battery",
            "suction",
            "spec",
            "dimension",
            "waterproof",
            "better",
            "recommend",
            "配件",
            "包装",
            "in the box",
            "comes with",
            "include",
        ],
    ),
    (
        "price",
        &[
            "多少钱",
            "价格",
            "价钱",
            "报价",
            "总价",
            "到手价",
            "实付",
            "便宜",
            "划算",
            "付多少",
            "price",
            "cost",
            "how much",
            "total",
            "cheap",
            "cheapest",
            "到手",
            "quote",
        ],
    ),
    ("discount", &["优惠", "折扣", "打折", "满减", "券", "折", "coupon", "discount", "off", "promo", "deal", "code"]),
    ("return", &["退货", "退", "换货", "退换", "return", "exchange", "send back", "swap"]),
    ("refund", &["退款", "退钱", "refund", "money back"]),
    ("policy", &["政策", "规则", "规定", "一般", "policy", "rule", "allowed", "fee", "penalty", "手续费", "违约金"]),
    ("shipping", &["运费", "包邮", "配送", "顺丰", "发货时间", "shipping", "ship", "deliver", "delivery"]),
    ("warranty", &["保修", "质保", "warranty", "guarantee"]),
    ("invoice", &["发票", "invoice", "vat", "receipt", "bill", "账单"]),
    ("privacy", &["隐私", "个人信息", "privacy", "personal data"]),
    (
        "how",
        &[
            "怎么",
            "如何",
            "怎样",
            "步骤",
            "设置",
            "教我",
            "how do",
            "how to",
            "feedback",
            "review",
            "评价",
            "how should",
            "how can",
            "set up",
            "setup",
            "steps",
            "walk me through",
            "schedule",
            "setting",
        ],
    ),
    ("connect", &["连接", "配网", "连", "蓝牙", "wifi", "app", "绑定", "pair", "connect", "bluetooth"]),
    (
        "maintain",
        &[
            "清洗", "清理", "清洁", "除垢", "拆", "安装", "更换", "clean", "descale", "remove", "replace", "install",
            "attach", "wash", "empty",
        ],
    ),
    (
        "account",
        &[
            "账号",
            "密码",
            "注册",
            "登录",
            "注销",
            "account",
            "password",
            "login",
            "log in",
            "sign up",
            "register",
            "profile",
            "sign in",
            "username",
            "newsletter",
            "subscribe",
            "订阅",
            "个人资料",
        ],
    ),
    ("points", &["积分", "points", "point"]),
    ("tier", &["会员", "等级", "金卡", "银卡", "铂金", "tier", "member", "gold", "silver", "platinum", "membership"]),
    ("expire", &["过期", "清零", "有效期", "expire", "expiry"]),
    (
        "pay",
        &[
            "付款",
            "支付",
            "扣款",
            "扣了",
            "花呗",
            "信用卡",
            "银行卡",
            "支付宝",
            "微信支付",
            "付不了",
            "pay",
            "payment",
            "paid",
            "charged",
            "charge",
            "card",
            "huabei",
            "alipay",
            "visa",
            "mastercard",
        ],
    ),
    ("fail", &["失败", "不成功", "异常", "被拒", "不了", "fail", "failed", "declined", "go through", "won't"]),
    ("twice", &["两次", "重复", "多扣", "两笔", "twice", "double", "duplicate"]),
    (
        "fault",
        &[
            "故障",
            "报错",
            "错误",
            "代码",
            "坏了",
            "不工作",
            "不转",
            "不加热",
            "不进水",
            "不排水",
            "漏水",
            "异响",
            "闪",
            "亮",
            "卡住",
            "error",
            "fault",
            "broken",
            "not working",
            "stuck",
            "leak",
            "noise",
            "beep",
            "flashing",
            "doesn't",
            "won't",
        ],
    ),
    (
        "appliance",
        &[
            "扫地机",
            "净化器",
            "洗碗机",
            "水壶",
            "机器人",
            "vacuum",
            "robot",
            "purifier",
            "dishwasher",
            "kettle",
            "sweepbot",
        ],
    ),
    (
        "human",
        &[
            "人工",
            "真人",
            "客服",
            "经理",
            "主管",
            "售后",
            "human",
            "person",
            "agent",
            "representative",
            "manager",
            "operator",
            "customer service",
            "support",
            "staff",
        ],
    ),
    ("complaint", &["投诉", "complain", "complaint"]),
    ("contact", &["电话", "联系", "打电话", "回电", "phone", "call", "contact", "email", "reach"]),
    (
        "greet",
        &[
            "你好",
            "您好",
            "谢",
            "感谢",
            "在吗",
            "有人吗",
            "再见",
            "拜拜",
            "辛苦",
            "好的",
            "收到",
            "明白",
            "晚安",
            "早",
            "hello",
            "hi",
            "hey",
            "thanks",
            "thank",
            "thx",
            "ty",
            "bye",
            "goodbye",
            "cheers",
            "ok",
            "okay",
            "see you",
            "appreciate",
            "morning",
            "evening",
            "night",
            "howdy",
            "hiya",
            "helpful",
            "great",
            "perfect",
            "cool",
        ],
    ),
    ("shoe", &["鞋", "跑鞋", "shoe", "shoes", "sneaker"]),
    ("apparel", &["衣", "t恤", "外套", "短裤", "袜", "shirt", "jacket", "shorts", "socks", "tee"]),
];

/// Features as (hash, weight), sorted by hash; the classifier weights and scales them.
pub fn extract(folded: &str, slots: &Slots, lang: Lang) -> Vec<(u64, f32)> {
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(128);
    let words = words(folded);
    let mut previous = "^".to_string();
    for word in &words {
        out.push((hash(b'w', &[word]), WORD));
        out.push((hash(b'b', &[&previous, word]), WORD_PAIR));
        if word.chars().all(|c| c.is_ascii_alphabetic()) && word.len() >= 3 {
            char_grams(word, &mut out);
        }
        previous.clone_from(word);
    }
    if !words.is_empty() {
        out.push((hash(b'b', &[&previous, "$"]), WORD_PAIR));
    }
    for run in han_runs(folded) {
        for n in 1..=3 {
            let weight = [HAN_1, HAN_2, HAN_3][n - 1];
            for gram in run.windows(n) {
                let gram: String = gram.iter().collect();
                out.push((hash(b'0' + n as u8, &[&gram]), weight));
            }
        }
    }
    for (name, present) in shapes(slots) {
        if present {
            out.push((hash(b's', &[name]), SHAPE));
        }
    }
    let before = out.len();
    concepts(folded, &raw_words(folded), &mut out);
    let shop_words = out.len() > before || shapes(slots).iter().any(|(_, present)| *present);
    if !shop_words {
        out.push((hash(b's', &["nothing_of_the_shop"]), SHAPE));
    }
    out.push((hash(b'l', &[lang.as_str()]), SHAPE));
    finish(out)
}

fn concepts(folded: &str, raw: &[String], out: &mut Vec<(u64, f32)>) {
    let stems: Vec<String> = raw.iter().map(|w| stem(w)).collect();
    for (concept, cues) in CONCEPTS {
        let found = cues.iter().any(|cue| {
            if !cue.is_ascii() {
                return folded.contains(cue);
            }
            let parts: Vec<String> = cue.split(' ').map(stem).collect();
            stems.windows(parts.len()).any(|w| w.iter().zip(&parts).all(|(a, b)| close(a, b)))
        });
        if found {
            out.push((hash(b'k', &[concept]), CONCEPT));
        }
    }
}

fn shapes(slots: &Slots) -> [(&'static str, bool); 9] {
    [
        ("order_id", slots.order_id.is_some()),
        ("sku", slots.sku.is_some()),
        ("product", slots.product.is_some()),
        ("size", slots.size.is_some()),
        ("color", slots.color.is_some()),
        ("quantity", slots.quantity.is_some()),
        ("fault_code", slots.fault_code.is_some()),
        ("coupon", slots.coupon.is_some()),
        ("points", slots.points.is_some()),
    ]
}

/// Merges repeated features, keeping the larger weight: presence counts, not frequency.
fn finish(mut out: Vec<(u64, f32)>) -> Vec<(u64, f32)> {
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    out.dedup_by_key(|f| f.0);
    out
}

/// ASCII words, stemmed; tokens with digits become their shape ("<order>" for 12 digits,
/// "<num>", "<code>").
pub fn words(folded: &str) -> Vec<String> {
    raw_words(folded).iter().map(|w| word_form(w)).collect()
}

/// ASCII letter-and-digit runs as written, apostrophes inside words dropped ("don't" -> "dont").
pub fn raw_words(folded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() {
            current.push(c);
        } else if matches!(c, '\'' | '’')
            && !current.is_empty()
            && chars.peek().is_some_and(|n| n.is_ascii_alphabetic())
        {
            // "where's" and "men's" are "where" and "men"; "don't" is "dont".
            let mut after = chars.clone();
            if after.next() == Some('s') && !after.peek().is_some_and(char::is_ascii_alphabetic) {
                chars.next();
            }
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn word_form(token: &str) -> String {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        stem(token)
    } else if digits == token.len() {
        if digits == 12 { "<order>".into() } else { "<num>".into() }
    } else {
        "<code>".into()
    }
}

/// Light suffix stripping: enough to meet "refunds"/"refunded"/"refunding", not a full stemmer.
pub fn stem(word: &str) -> String {
    let w = word;
    let strip = |suffix: &str, min_left: usize| {
        w.strip_suffix(suffix).filter(|rest| rest.len() >= min_left).map(str::to_string)
    };
    if let Some(s) = strip("ies", 3) {
        return s + "y";
    }
    for (suffix, min_left) in [("ing", 3), ("ed", 3), ("es", 4), ("ly", 4)] {
        if let Some(s) = strip(suffix, min_left) {
            return s;
        }
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && w.len() > 3 {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// Equal, or one typo apart for words of five letters or more ("poinst", "refnud").
fn close(word: &str, cue: &str) -> bool {
    word == cue || (cue.len() >= 5 && word.len() >= 5 && within_one_edit(word.as_bytes(), cue.as_bytes()))
}

fn char_grams(word: &str, out: &mut Vec<(u64, f32)>) {
    let padded: Vec<u8> = std::iter::once(b'<').chain(word.bytes()).chain(std::iter::once(b'>')).collect();
    for n in 3..=5 {
        for gram in padded.windows(n) {
            out.push((hash_bytes(b'c', gram), CHAR_GRAM));
        }
    }
}

fn han_runs(folded: &str) -> Vec<Vec<char>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for c in folded.chars() {
        if is_cjk(c) {
            current.push(c);
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// FNV-1a over a group tag and the parts, separated so ("ab","c") and ("a","bc") differ.
fn hash(group: u8, parts: &[&str]) -> u64 {
    let mut h = fnv_step(FNV_OFFSET, group);
    for part in parts {
        h = part.bytes().fold(h, fnv_step);
        h = fnv_step(h, 0x1f);
    }
    h
}

fn hash_bytes(group: u8, bytes: &[u8]) -> u64 {
    bytes.iter().copied().fold(fnv_step(FNV_OFFSET, group), fnv_step)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_step(h: u64, byte: u8) -> u64 {
    (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_meet_across_inflections() {
        assert_eq!(stem("refunds"), "refund");
        assert_eq!(stem("refunded"), "refund");
        assert_eq!(stem("refunding"), "refund");
        assert_eq!(stem("batteries"), "battery");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("address"), "address");
    }

    #[test]
    fn numbers_become_shapes() {
        assert_eq!(
            words("where's order 202611150123 with e21, 2 pairs"),
            ["where", "order", "<order>", "with", "<code>", "<num>", "pair"]
        );
    }

    #[test]
    fn a_typo_keeps_most_character_grams() {
        let f = |t: &str| extract(t, &Slots::default(), Lang::En).into_iter().map(|f| f.0).collect::<Vec<_>>();
        let (right, typo, other) = (f("refund"), f("refnud"), f("kettle"));
        let shared = |a: &[u64], b: &[u64]| a.iter().filter(|x| b.contains(x)).count();
        assert!(shared(&right, &typo) > shared(&right, &other) + 2);
    }

    #[test]
    fn repeated_words_count_once() {
        let once = extract("退货", &Slots::default(), Lang::Zh);
        let twice = extract("退货 退货", &Slots::default(), Lang::Zh);
        assert_eq!(once, twice);
    }
}
