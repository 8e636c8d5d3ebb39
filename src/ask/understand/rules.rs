//! Strong patterns decided before the classifier: a message Clerk refuses (see `guard`), an
//! order number with a status word or with a return word, a fault code with an appliance or
//! error word, an explicit request for a person, a message that is nothing but a greeting or
//! thanks, and a question about how a rule of the shop works in general (no order, nothing
//! of "my"). Each backs off when a competing word says the shopper wants something else
//! ("cancel 202611150123", "E04, can I return it?").

use super::features::raw_words;
use super::guard::{self, Refusal};
use super::products::within_one_edit;
use crate::domain::turn::{Intent, Slots};
use crate::text::is_cjk;

/// Confidence of a rule before the exemplars have shown how often it agrees with them.
pub const PRIOR_CONFIDENCE: f32 = 0.9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    OrderLookup,
    FaultCode,
    Handoff,
    Greeting,
    /// A question on how a rule works in general ("what's your return window?"): the
    /// shopper's own case ("my order", an order number) goes to the tools instead.
    GeneralQuestion,
    /// Injection, code, another shop or noise: about nothing this shop does.
    Refused,
    /// A named product in a size or colour, asked whether it is there to buy ("轻驰3女款8.5码有吗").
    VariantAvailability,
    /// An order number with a return, refund or exchange word: the shopper's own return
    /// ("202611050862里的T恤还能七天无理由退吗"), which the order's dates decide.
    OrderReturn,
}

impl Rule {
    pub fn intent(self) -> Intent {
        match self {
            Rule::OrderLookup => Intent::OrderStatus,
            Rule::FaultCode => Intent::FaultDiagnosis,
            Rule::Handoff => Intent::HumanHandoff,
            Rule::Greeting => Intent::Greeting,
            Rule::GeneralQuestion => Intent::PolicyQuestion,
            Rule::Refused => Intent::Other,
            Rule::VariantAvailability => Intent::InventoryCheck,
            Rule::OrderReturn => Intent::ReturnRefund,
        }
    }
}

const STATUS_ZH: &[&str] = &[
    "查",
    "到哪",
    "到了吗",
    "物流",
    "快递",
    "发货",
    "发了吗",
    "状态",
    "进度",
    "签收",
    "配送",
    "什么时候到",
    "啥时候到",
    "几时到",
    "在哪",
    "到没到",
    "派送",
];
/// English cues match as word starts: "ship" finds "shipped", "deliver" finds "delivery".
const STATUS_EN: &[&str] =
    &["where", "status", "track", "ship", "arriv", "deliver", "eta", "update", "when", "dispatch"];
const OTHER_ORDER_ZH: &[&str] = &[
    "退", "取消", "改", "换", "修改", "发票", "积分", "付款", "支付", "扣款", "扣了", "价保", "地址", "少发", "漏发",
    "投诉", "加一", "加个", "再加", "删", "合并",
];
const OTHER_ORDER_EN: &[&str] = &[
    "return", "refund", "cancel", "chang", "modif", "invoice", "point", "paid", "charg", "pay", "address", "exchang",
    "missing", "wrong", "broken", "damaged", "add", "remov", "instead", "switch", "swap", "upgrad", "combin", "merg",
];
const RETURN_ZH: &[&str] = &[
    "退货",
    "退款",
    "退钱",
    "退掉",
    "退回",
    "寄回",
    "退吗",
    "能退",
    "可以退",
    "无理由",
    "换货",
    "换码",
    "换尺码",
    "换个码",
];
/// English cues match as word starts, as the status cues do.
const RETURN_EN: &[&str] = &["return", "refund", "exchang"];
/// The order's other business: cancelling, an invoice, a price drop, a redemption code, a
/// complaint.
const NOT_RETURN_ZH: &[&str] = &["取消", "发票", "价保", "差价", "兑换", "投诉"];
const NOT_RETURN_EN: &[&str] = &["cancel", "invoice", "price protection", "price differ", "price drop", "complain"];
/// A repair, unless the message asks for the return itself ("修好又坏了，我要退货").
const REPAIR_ZH: &[&str] = &["维修", "保修", "修好", "返修"];
const REPAIR_EN: &[&str] = &["repair", "warrant"];
const EXPLICIT_RETURN: &[&str] = &["退货", "退款", "换货", "return it", "refund", "exchange"];
const FAULT_ZH: &[&str] = &[
    "报",
    "显示",
    "提示",
    "故障",
    "错误",
    "代码",
    "亮",
    "闪",
    "怎么办",
    "什么意思",
    "啥意思",
    "响",
    "坏",
    "机器",
    "扫地机",
    "净化器",
    "洗碗机",
    "水壶",
    "不工作",
    "停",
];
const FAULT_EN: &[&str] = &[
    "error",
    "code",
    "show",
    "display",
    "flash",
    "blink",
    "fault",
    "beep",
    "mean",
    "robot",
    "vacuum",
    "purifier",
    "dishwasher",
    "kettle",
    "sweepbot",
    "pureair",
    "cleanwave",
    "boilsmart",
    "stop",
    "fix",
    "keep",
    "came",
    "pop",
];
const NOT_FAULT_ZH: &[&str] = &["退货", "退款", "换货", "退", "保修期", "多少钱", "价格"];
const NOT_FAULT_EN: &[&str] = &["return", "refund", "exchang", "warrant", "price", "cost", "buy"];
const HANDOFF_ZH: &[&str] = &[
    "转人工",
    "人工客服",
    "人工服务",
    "找人工",
    "要人工",
    "接人工",
    "人工坐席",
    "真人客服",
    "找真人",
    "转真人",
    "要真人",
    "找个真人",
    "找客服",
    "转客服",
    "叫你们经理",
    "找你们经理",
    "找主管",
    "活人",
];
const HANDOFF_NOUNS_EN: &[&str] = &[
    "human",
    "person",
    "agent",
    "representative",
    "rep",
    "operator",
    "someone",
    "somebody",
    "manager",
    "supervisor",
    "staff",
];
const HANDOFF_VERBS_EN: &[&str] =
    &["talk", "speak", "connect", "transfer", "chat", "put", "get", "want", "need", "reach", "escalate"];
const GREETING_ZH: &[&str] = &[
    "你好",
    "您好",
    "嗨",
    "哈喽",
    "哈罗",
    "在吗",
    "在不在",
    "有人吗",
    "谢谢",
    "多谢",
    "感谢",
    "谢啦",
    "好的",
    "拜拜",
    "再见",
    "早上好",
    "晚上好",
    "下午好",
    "中午好",
    "早安",
    "晚安",
    "亲",
    "客服",
    "呀",
    "啊",
    "哦",
    "嗯",
    "了",
    "你",
    "们",
    "非常",
    "太",
    "好",
    "的",
    "哈",
    "呢",
    "您",
    "啦",
];
const GREETING_EN: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hiya",
    "yo",
    "thanks",
    "thank",
    "you",
    "thx",
    "ty",
    "much",
    "very",
    "so",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "bye",
    "goodbye",
    "cheers",
    "there",
    "great",
    "ok",
    "okay",
    "appreciate",
    "it",
    "awesome",
    "anyone",
    "is",
    "a",
    "lot",
    "many",
    "again",
    "helpful",
    "perfect",
    "cool",
    "see",
    "ya",
    "greetings",
];
/// Words that make a greeting a greeting; the rest only fill it ("ok", "so").
const GREETING_CORE: &[&str] = &[
    "你好",
    "您好",
    "嗨",
    "哈喽",
    "哈罗",
    "在吗",
    "在不在",
    "有人吗",
    "谢谢",
    "多谢",
    "感谢",
    "谢啦",
    "拜拜",
    "再见",
    "早上好",
    "晚上好",
    "下午好",
    "早安",
    "晚安",
    "hi",
    "hello",
    "hey",
    "hiya",
    "thanks",
    "thank",
    "thx",
    "bye",
    "goodbye",
    "cheers",
    "morning",
    "evening",
    "greetings",
];
/// What the shop's rules are about, as whole English words and as Chinese words.
const RULE_NOUNS_EN: &[&str] = &[
    "policy",
    "rules",
    "window",
    "rma",
    "fee",
    "fees",
    "shipping",
    "warranty",
    "invoice",
    "restocking",
    "earn",
    "charge",
    "tier",
    "tiers",
];
const RULE_PHRASES_EN: &[&str] = &["per yuan", "price protection", "price drop"];
const RULE_NOUNS_ZH: &[&str] = &[
    "政策",
    "规则",
    "升金卡",
    "升银卡",
    "升铂金",
    "运费",
    "保修",
    "发票",
    "手续费",
    "无理由",
    "价保",
    "差价",
    "包邮",
    "怎么算",
    "有效期",
    "会员等级",
];
/// Words that open a question in English, and Chinese question words and particles.
const ASK_FIRST_EN: &[&str] = &["what", "whats", "how", "when", "is", "are", "do", "does", "which", "can", "will"];
const ASK_ZH: &[&str] = &["多久", "怎么", "吗", "多少", "哪些", "是否", "能不能", "可以", "几天"];
/// The shopper's own case or a request to act: then a tool, not the rule, answers.
const OWN_CASE_ZH: &[&str] = &["我的", "我买的", "我下的", "帮我", "请帮", "我要", "我想", "多少钱", "还差"];
const OWN_CASE_EN: &[&str] = &["please", "i want", "i'd like", "help me", "can you", "could you", "how much would"];

/// Asking whether something is there to buy.
const AVAILABLE_ZH: &[&str] = &["有货", "有现货", "能下单", "可以下单", "能买到", "缺货", "到货"];
const AVAILABLE_EN: &[&str] = &[
    "in stock",
    "available in",
    "availability",
    "sold out",
    "have it in",
    "have them in",
    "have this in",
    "got it in",
    "can i order",
];
/// Price, fit and rule questions that happen to name a size or colour.
const NOT_AVAILABILITY_ZH: &[&str] =
    &["多少钱", "价格", "优惠", "券", "退", "换", "偏大", "偏小", "合适", "适合", "穿多大", "选哪"];
const NOT_AVAILABILITY_EN: &[&str] =
    &["price", "cost", "much", "coupon", "discount", "return", "exchange", "fit", "run", "should"];

const NEGATE_ZH: &[&str] = &["不要", "不用", "不需要", "不必", "别", "无需"];
const NEGATE_EN: &[&str] = &["dont", "not", "no", "without", "never"];

pub fn strong_intent(folded: &str, slots: &Slots) -> Option<Rule> {
    let words = raw_words(folded);
    let has_en = |starts: &[&str]| words.iter().any(|w| starts.iter().any(|s| w.starts_with(s)));
    let has_zh = |list: &[&str]| list.iter().any(|w| folded.contains(w));

    // Claimed authority still asks for something ("refund me"); the rest ask nothing of the
    // shop, unless they name an order, which is then what they are about.
    let refused = guard::refusal(folded).filter(|r| *r != Refusal::ClaimedAuthority);
    if refused.is_some() && slots.order_id.is_none() {
        return Some(Rule::Refused);
    }
    if asks_for_person(folded, &words) {
        return Some(Rule::Handoff);
    }
    if slots.order_id.is_some()
        && (has_zh(STATUS_ZH) || has_en(STATUS_EN))
        && !has_zh(OTHER_ORDER_ZH)
        && !has_en(OTHER_ORDER_EN)
    {
        return Some(Rule::OrderLookup);
    }
    let repair = (has_zh(REPAIR_ZH) || has_en(REPAIR_EN)) && !EXPLICIT_RETURN.iter().any(|w| folded.contains(w));
    if slots.order_id.is_some()
        && (has_zh(RETURN_ZH) || has_en(RETURN_EN))
        && !has_zh(NOT_RETURN_ZH)
        && !NOT_RETURN_EN.iter().any(|p| folded.contains(p))
        && !repair
    {
        return Some(Rule::OrderReturn);
    }
    if slots.fault_code.is_some()
        && (has_zh(FAULT_ZH) || has_en(FAULT_EN))
        && !has_zh(NOT_FAULT_ZH)
        && !has_en(NOT_FAULT_EN)
    {
        return Some(Rule::FaultCode);
    }
    if slots.order_id.is_none() && asks_general_rule(folded, &words) {
        return Some(Rule::GeneralQuestion);
    }
    let variant = (slots.product.is_some() || slots.sku.is_some()) && (slots.size.is_some() || slots.color.is_some());
    if variant
        && slots.order_id.is_none()
        && (has_zh(AVAILABLE_ZH) || asks_if_there(folded) || AVAILABLE_EN.iter().any(|p| folded.contains(p)))
        && !has_zh(NOT_AVAILABILITY_ZH)
        && !has_en(NOT_AVAILABILITY_EN)
    {
        return Some(Rule::VariantAvailability);
    }
    is_pure_greeting(folded, &words).then_some(Rule::Greeting)
}

/// "8.5码有吗", "有9码吗", "有没有白的": a question ending in 有吗, or with 有 just before the
/// size or colour ("鞋底有点硬，正常吗" is neither).
fn asks_if_there(folded: &str) -> bool {
    let question = folded.trim_end_matches(['?', '？', ' ', '!', '！']).ends_with(['吗', '么', '嘛', '没']);
    let before_variant = folded.match_indices('有').any(|(at, _)| {
        let next: String = folded[at + '有'.len_utf8()..].trim_start_matches("没有").chars().take(4).collect();
        next.starts_with(|c: char| c.is_ascii_digit()) || super::slots::normalize_color(&next).is_some()
    });
    let ends_asking_if_there =
        ["有吗", "有么", "有嘛", "有没有"].iter().any(|e| folded.trim_end_matches(['?', '？', ' ']).ends_with(e));
    ends_asking_if_there || (before_variant && (question || folded.contains("有没有")))
}

/// A question (question word first, or a Chinese question word) naming a rule of the shop,
/// with nothing that makes it the shopper's own case.
fn asks_general_rule(folded: &str, words: &[String]) -> bool {
    let own = words.iter().any(|w| w == "my")
        || OWN_CASE_ZH.iter().any(|c| folded.contains(c))
        || OWN_CASE_EN.iter().any(|c| folded.contains(c));
    // The question word opens the message, or a later clause of a message that continues the
    // conversation ("and for a price drop, how do I claim it?").
    let continues = words.first().is_some_and(|w| ["and", "but", "so", "also", "for"].contains(&w.as_str()));
    let asks_later = continues
        && folded
            .split([',', ';', '.'])
            .any(|clause| raw_words(clause).first().is_some_and(|w| ASK_FIRST_EN.contains(&w.as_str())));
    let asks = words.first().is_some_and(|w| ASK_FIRST_EN.contains(&w.as_str()))
        || asks_later
        || ASK_ZH.iter().any(|z| folded.contains(z));
    let rule = words.iter().any(|w| RULE_NOUNS_EN.contains(&w.as_str()))
        || RULE_PHRASES_EN.iter().any(|p| folded.contains(p))
        || RULE_NOUNS_ZH.iter().any(|n| folded.contains(n));
    (!own && asks && rule) || asks_when_points_arrive(folded, words)
}

/// "When do the points from my order show up?", "积分多久到账": when points are credited is
/// a rule, even of the shopper's own order; how many they have is not.
fn asks_when_points_arrive(folded: &str, words: &[String]) -> bool {
    let points = words.iter().any(|w| w == "points") || folded.contains("积分");
    let when =
        words.iter().any(|w| w == "when") || ["多久", "什么时候", "何时", "几天"].iter().any(|z| folded.contains(z));
    let arrive = ["show up", "arrive", "credit", "appear", "到账", "发放", "进账"].iter().any(|a| folded.contains(a));
    // Expiry and balance are of the shopper's own points: the account tool answers those.
    let own = ["how many points", "balance", "expire", "余额", "多少积分", "有多少", "过期", "到期"]
        .iter()
        .any(|b| folded.contains(b));
    points && when && arrive && !own
}

fn asks_for_person(folded: &str, words: &[String]) -> bool {
    let zh = HANDOFF_ZH.iter().filter_map(|cue| folded.find(cue)).any(|at| {
        let before = &folded[..at];
        !NEGATE_ZH.iter().any(|n| before.ends_with(n) || before.chars().rev().take(4).collect::<String>().contains(n))
    }) || folded.trim_matches(|c: char| !c.is_alphanumeric()) == "人工";
    if zh {
        return true;
    }
    let negated = |i: usize| words[i.saturating_sub(4)..i].iter().any(|w| NEGATE_EN.contains(&w.as_str()));
    let en = words.iter().enumerate().any(|(i, w)| {
        let noun = HANDOFF_NOUNS_EN.contains(&w.as_str())
            || (w == "real" && words.get(i + 1).is_some_and(|n| n == "person" || n == "human"))
            || (w == "live" && words.get(i + 1).is_some_and(|n| n == "agent" || n == "person" || n == "chat"));
        let asked = words[i.saturating_sub(5)..i].iter().any(|v| HANDOFF_VERBS_EN.contains(&v.as_str()));
        // "human please", "agent!": a bare noun in a very short message is a request too.
        noun && (asked || words.len() <= 3) && !negated(i)
    });
    // "is someone there" is a greeting, not a request.
    en && !words.iter().any(|w| w == "there")
}

/// Nothing but greetings, thanks and filler, with at least one real greeting word. Longer
/// English words may carry one typo ("helo", "thnak").
fn is_pure_greeting(folded: &str, words: &[String]) -> bool {
    let like = |w: &str, list: &[&str]| {
        list.iter().any(|g| *g == w || (g.len() >= 4 && w.len() >= 4 && within_one_edit(g.as_bytes(), w.as_bytes())))
    };
    if words.iter().any(|w| !like(w, GREETING_EN)) {
        return false;
    }
    let mut han: String = folded.chars().filter(|&c| is_cjk(c)).collect();
    let mut core = words.iter().any(|w| like(w, GREETING_CORE));
    // Strip greeting phrases longest first; anything left means more than a greeting.
    let mut phrases: Vec<&str> = GREETING_ZH.to_vec();
    phrases.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
    for p in phrases {
        if han.contains(p) {
            core |= GREETING_CORE.contains(&p);
            han = han.replace(p, "");
        }
    }
    han.is_empty() && core
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::understand::fold;

    fn rule(text: &str, slots: Slots) -> Option<Intent> {
        strong_intent(&fold(text), &slots).map(Rule::intent)
    }

    fn order() -> Slots {
        Slots { order_id: Some("202611150123".into()), ..Slots::default() }
    }

    fn code() -> Slots {
        Slots { fault_code: Some("E04".into()), ..Slots::default() }
    }

    #[test]
    fn strong_patterns_fire() {
        assert_eq!(rule("查一下202611150123到哪了", order()), Some(Intent::OrderStatus));
        assert_eq!(rule("where is 202611150123", order()), Some(Intent::OrderStatus));
        assert_eq!(rule("202611150123里的T恤还能七天无理由退吗", order()), Some(Intent::ReturnRefund));
        assert_eq!(rule("can I still return the shoes from order 202611150123?", order()), Some(Intent::ReturnRefund));
        // The order's other business, and rules asked without an order, are not a return.
        assert_ne!(rule("202611150123降价了，退差价吗", order()), Some(Intent::ReturnRefund));
        assert_ne!(rule("cancel 202611150123 and refund me", order()), Some(Intent::ReturnRefund));
        assert_ne!(rule("202611150123的净化器坏了，寄回维修要多久", order()), Some(Intent::ReturnRefund));
        assert_ne!(rule("订单202611150123还能用兑换码吗", order()), Some(Intent::ReturnRefund));
        assert_eq!(rule("202611150123退货寄回地址是哪", order()), Some(Intent::ReturnRefund));
        assert_eq!(rule("202611150123的扫地机刚修好又坏了，我要退货", order()), Some(Intent::ReturnRefund));
        assert_eq!(rule("202611150123的鞋小了想换码", order()), Some(Intent::ReturnRefund));
        assert_eq!(
            rule("202611150123 arrived in a different size, I want to return it", order()),
            Some(Intent::ReturnRefund)
        );
        assert_ne!(
            rule("can I get the price difference refunded for 202611150123", order()),
            Some(Intent::ReturnRefund)
        );
        assert_ne!(rule("T恤还能七天无理由退吗", Slots::default()), Some(Intent::ReturnRefund));
        assert_eq!(rule("扫地机器人报E04怎么办", code()), Some(Intent::FaultDiagnosis));
        assert_eq!(rule("dishwasher shows E04", code()), Some(Intent::FaultDiagnosis));
        assert_eq!(rule("转人工", Slots::default()), Some(Intent::HumanHandoff));
        assert_eq!(rule("can I talk to a real person please", Slots::default()), Some(Intent::HumanHandoff));
        assert_eq!(rule("你好", Slots::default()), Some(Intent::Greeting));
        assert_eq!(rule("Hi there!", Slots::default()), Some(Intent::Greeting));
        assert_eq!(rule("好的谢谢你", Slots::default()), Some(Intent::Greeting));
        assert_eq!(rule("helo", Slots::default()), Some(Intent::Greeting));
        assert_eq!(rule("thnak you!", Slots::default()), Some(Intent::Greeting));
    }

    #[test]
    fn competing_words_leave_it_to_the_classifier() {
        assert_eq!(rule("取消订单202611150123", order()), None);
        assert_eq!(rule("can I add socks to 202611150123 before it ships", order()), None);
        // Where to return an order is about its return, not where the order is.
        assert_eq!(rule("where do I return 202611150123", order()), Some(Intent::ReturnRefund));
        assert_eq!(rule("E04 还能退货吗", code()), None);
        assert_eq!(rule("不需要转人工，我自己看看", Slots::default()), None);
        assert_eq!(rule("I don't need a human, just tell me the price", Slots::default()), None);
        assert_eq!(rule("你好，我的订单到哪了", Slots::default()), None);
        assert_eq!(rule("hi, is the kettle in stock", Slots::default()), None);
    }

    #[test]
    fn general_rule_questions_are_policy_questions_and_own_cases_are_not() {
        let variant = Slots { product: Some("HS-RUN-102".into()), size: Some("8.5".into()), ..Slots::default() };
        assert_eq!(rule("轻驰3女款8.5码有吗", variant.clone()), Some(Intent::InventoryCheck));
        assert_eq!(
            rule("is the women's Stride Glide 3 available in 8.5?", variant.clone()),
            Some(Intent::InventoryCheck)
        );
        assert_eq!(rule("这款轻驰3有9码吗", variant.clone()), Some(Intent::InventoryCheck));
        assert_eq!(rule("轻驰3女款8.5码多少钱", variant.clone()), None);
        assert_eq!(rule("does the 8.5 run small?", variant.clone()), None);
        // A cue is there, but the question is another one.
        assert_eq!(rule("轻驰3女款8.5码有货吗，多少钱", variant.clone()), None);
        assert_eq!(rule("is the 8.5 in stock, and does it run small?", variant.clone()), None);
        let white = Slots { product: Some("HS-RUN-101".into()), color: Some("white".into()), ..Slots::default() };
        assert_eq!(rule("轻驰3白色的鞋底有点硬，正常吗", white.clone()), None);
        assert_eq!(rule("I have the Stride Glide 3 in white and the sole squeaks, do you have any tips?", white), None);
        assert_eq!(
            rule("When do the points from my order actually show up?", Slots::default()),
            Some(Intent::PolicyQuestion)
        );
        assert_eq!(rule("怎么升金卡？要消费多少", Slots::default()), Some(Intent::PolicyQuestion));
        assert_eq!(rule("我还有多少积分，什么时候过期", Slots::default()), None);
        assert_eq!(rule("When do my points expire?", Slots::default()), None);
        assert_eq!(rule("我还差多少能升金卡", Slots::default()), None);
        assert_eq!(rule("积分什么时候到期", Slots::default()), None);
        assert_eq!(rule("The vacuum won't charge, is the battery dead?", Slots::default()), None);
        assert_eq!(rule("固件怎么升级", Slots::default()), None);
        // The question word may open a later clause.
        assert_eq!(
            rule("and for a normal price drop, how do I claim it?", Slots::default()),
            Some(Intent::PolicyQuestion)
        );
        assert_eq!(
            rule("What's your return window? I got them on Monday", Slots::default()),
            Some(Intent::PolicyQuestion)
        );
        assert_eq!(rule("do you charge shipping to Tibet?", Slots::default()), Some(Intent::PolicyQuestion));
        assert_eq!(rule("保修期是多久", Slots::default()), Some(Intent::PolicyQuestion));
        assert_eq!(rule("when will my refund arrive, what's the policy", Slots::default()), None);
        assert_eq!(rule("我的发票开了吗", Slots::default()), None);
        assert_eq!(rule("what is the shipping status of 202611150123", order()), Some(Intent::OrderStatus));
    }
}
