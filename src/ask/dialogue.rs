//! Dialogue rules that need no model: short answers to a question Clerk asked ("黑色",
//! "yes", "1234"), follow-ups ("那白色呢", "what about the other one"), and proof of order.

/// Lower-cased, trimmed, trailing punctuation dropped.
fn plain(message: &str) -> String {
    message.trim().trim_end_matches(|c: char| c.is_ascii_punctuation() || "。！？，～…".contains(c)).to_lowercase()
}

const YES: &[&str] = &[
    "好",
    "好的",
    "好啊",
    "是",
    "是的",
    "要",
    "需要",
    "可以",
    "行",
    "嗯",
    "对",
    "确认",
    "加入",
    "麻烦了",
    "帮我创建",
    "创建吧",
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "please",
    "please do",
    "go ahead",
    "do it",
    "yes please",
    "confirm",
];
const NO: &[&str] = &[
    "不",
    "不用",
    "不要",
    "不需要",
    "算了",
    "先不用",
    "no",
    "nope",
    "no thanks",
    "no thank you",
    "not now",
    "cancel that",
];

/// `plain` drops the question mark, which says the shopper is asking, not agreeing.
fn is_question(message: &str) -> bool {
    message.contains(['?', '？'])
}

/// After a yes, words that take it back ("yes, but...", "好的不用了").
const DOUBT: &[&str] = &["不", "别", "但", "可是", "no ", "not", "dont", "don't", "but", "however"];
/// Words that put an offer off or ask about it instead of taking it ("好的我再想想", "上门维修要多少钱").
const ASKS_OR_WAITS: &[&str] = &[
    "?", "？", "吗", "么", "呢", "想想", "考虑", "等", "再说", "以后", "晚点", "多久", "多少", "怎么", "什么", "哪",
    "费用", "收费", "later", "wait", "think", "how", "what", "when", "which", "cost", "price",
];
/// Chinese words that go on from a yes without a comma ("好的那帮我申请退货").
const GOES_ON_ZH: &[char] = &['那', '就', '请', '帮', '麻'];

/// A yes to a question Clerk asked: bare ("好的", "yes please"), or leading a sentence that
/// goes on without doubt ("yes, please go ahead", "好的，那帮我申请退货").
pub fn is_yes(message: &str) -> bool {
    let m = plain(message);
    if YES.contains(&m.as_str()) {
        return true;
    }
    !is_question(message)
        && YES.iter().any(|y| {
            m.strip_prefix(y).is_some_and(|rest| {
                // A short reply may run on from its yes ("好的谢谢"); a longer one must break first.
                let short = m.chars().count() <= 8 && y.chars().count() >= 2;
                let breaks = rest.starts_with(|c: char| " ,，.。!！、~～".contains(c))
                    || (y.chars().all(crate::text::is_cjk) && rest.starts_with(GOES_ON_ZH));
                (short || breaks) && ![DOUBT, ASKS_OR_WAITS].concat().iter().any(|d| rest.contains(d))
            })
        })
}

/// Words asking for an exchange of faulty goods.
pub const EXCHANGE_WORDS: &[&str] =
    &["换货", "帮我换", "换一个", "换个新", "换新", "exchange it", "an exchange", "swap it"];

/// Words that ask for the action Clerk offered, without a yes ("麻烦安排师傅上门吧",
/// "book an engineer visit"), by the offer's pending slot.
fn offer_words(slot: &str) -> &'static [&'static str] {
    match slot {
        "confirm_work_order" => {
            &["上门", "师傅", "工单", "维修", "报修", "engineer", "technician", "visit", "work order", "repair"]
        }
        "confirm_return" => {
            &["申请退", "帮我退", "退掉", "退了吧", "start the return", "create the return", "return it", "go ahead"]
        }
        super::tools::CONFIRM_QUALITY_RETURN => &[
            "申请退",
            "帮我退",
            "退了吧",
            "换货",
            "帮我换",
            "换吧",
            "换一个",
            "start the return",
            "create the return",
            "return it",
            "exchange it",
            "go ahead",
        ],
        "restock_notify" => &["通知我", "提醒我", "到货提醒", "notify me", "let me know", "remind me"],
        _ => &[],
    }
}

/// The shopper takes up Clerk's pending offer: a yes, or a request for the offered action
/// that neither refuses nor asks about something else.
pub fn accepts(slot: &str, message: &str) -> bool {
    let m = plain(message);
    let negated =
        ["不要", "不用", "不需要", "别", "don't", "dont", "do not", "no need", "not yet"].iter().any(|n| m.contains(n));
    let holds_back = negated || is_question(message) || ASKS_OR_WAITS.iter().any(|w| m.contains(w));
    is_yes(message) || (!holds_back && offer_words(slot).iter().any(|w| m.contains(w)))
}

pub fn is_no(message: &str) -> bool {
    NO.contains(&plain(message).as_str())
}

/// A follow-up that reuses the last turn's subject: "那白色呢", "what about white", "and in size 10?".
pub fn is_follow_up(message: &str) -> bool {
    let m = plain(message);
    let short = m.chars().count() <= 40;
    short
        && (m.starts_with('那')
            || m.ends_with('呢')
            || m.starts_with("what about")
            || m.starts_with("how about")
            || m.starts_with("and ")
            || m.starts_with("and in")
            || refers_to_other(message))
}

/// A message that continues the last question rather than asking one of its own: a marked
/// follow-up ("and to Lhasa?") or one pointing back at its subject.
pub fn continues(message: &str, lang: crate::domain::Lang) -> bool {
    is_follow_up(message) || refers_back(message, lang)
}

/// The message points back at what was just discussed: a pronoun ("is it still under
/// warranty?", "这个能退吗"), or, in Chinese, a short question with no subject at all
/// ("坏了要寄回去吗"), which Chinese leaves to the context.
pub fn refers_back(message: &str, lang: crate::domain::Lang) -> bool {
    let m = plain(message);
    let words: Vec<&str> = m.split(|c: char| !c.is_ascii_alphanumeric() && c != '\'').collect();
    let en = words.iter().any(|w| ["it", "it's", "its", "this", "that", "them", "they", "one"].contains(w));
    let zh = ["它", "这个", "这款", "这台", "那台", "那个", "那款", "这双", "那双"].iter().any(|p| m.contains(p));
    let subjectless = lang == crate::domain::Lang::Zh && m.chars().count() <= 16 && !m.contains('我');
    en || zh || subjectless
}

/// A colour or size with next to nothing else ("黑色", "white please", "size 10"): it narrows
/// the question just asked rather than asking a new one.
pub fn is_bare_attribute(message: &str, slots: &crate::domain::turn::Slots) -> bool {
    let names_attribute = slots.color.is_some() || slots.size.is_some();
    let names_subject = slots.order_id.is_some() || slots.product.is_some() || slots.sku.is_some();
    let m = plain(message);
    let short = m.chars().filter(|c| crate::text::is_cjk(*c)).count() <= 6 && m.split_whitespace().count() <= 4;
    names_attribute && !names_subject && short
}

/// "the other one", "另一个".
pub fn refers_to_other(message: &str) -> bool {
    let m = plain(message);
    ["the other one", "the other", "another one", "另一个", "另外一个", "另一款", "另外那个"]
        .iter()
        .any(|p| m.contains(p))
}

/// Proof of an anonymous shopper's order: 4 digits (phone tail) or an email in the message.
pub fn proof_in(message: &str) -> Option<String> {
    let words: Vec<&str> =
        message.split(|c: char| c.is_whitespace() || "，,。:：;；".contains(c)).filter(|w| !w.is_empty()).collect();
    if let Some(email) = words.iter().find(|w| w.contains('@') && w.contains('.')) {
        return Some(email.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.').to_string());
    }
    // Runs of exactly four digits ("尾号1234", "last 4: 7345").
    crate::text::digit_runs(message).find(|run| run.len() == 4).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_answers_are_recognised_in_both_languages() {
        assert!(is_yes("好的"));
        assert!(is_yes("Yes please!"));
        assert!(is_yes("ok"));
        assert!(!is_yes("好的鞋子有哪些推荐的款式呢"));
        assert!(is_no("不用了".trim_end_matches('了')));
        assert!(is_no("No thanks."));
        assert!(!is_yes("no"));
        assert!(is_yes("yes, please go ahead"));
        assert!(is_yes("好的，那帮我申请退货"));
        assert!(is_yes("好的那帮我申请退货"));
        assert!(!is_yes("ok and size 10 in white?"));
        assert!(!is_yes("yes, but not today"));
        assert!(!is_yes("好的，那白色的还有没有货呢"));
        // A short reply that starts with a yes can still hold back or ask.
        for held_back in ["好的我再想想", "好的不用了", "可以吗", "需要多久", "yes but not now", "ok later", "好的等等"]
        {
            assert!(!is_yes(held_back), "{held_back}");
        }
        assert!(is_yes("好的谢谢"));
        assert!(is_yes("可以的"));
    }

    #[test]
    fn an_offer_is_taken_up_by_asking_for_it() {
        assert!(accepts("confirm_work_order", "yes please, book an engineer visit"));
        assert!(accepts("confirm_work_order", "重启过了还是不行，麻烦安排师傅上门吧"));
        assert!(!accepts("confirm_work_order", "不用上门，我自己修"));
        assert!(!accepts("confirm_work_order", "how much does an engineer visit cost?"));
        assert!(!accepts("confirm_work_order", "上门维修要多少钱"));
        assert!(!accepts("confirm_work_order", "师傅上门的话我再考虑一下"));
        assert!(!accepts("confirm_return", "I'll think about whether to return it"));
        assert!(accepts("confirm_return", "please start the return"));
        assert!(!accepts("confirm_return", "what colours does it come in"));
    }

    #[test]
    fn follow_ups_are_short_and_marked() {
        assert!(is_follow_up("那白色呢"));
        assert!(is_follow_up("what about the other one?"));
        assert!(is_follow_up("And in size 10?"));
        assert!(continues("and to Lhasa?", crate::domain::Lang::En));
        assert!(continues("the lower price is a flash sale though, does that count?", crate::domain::Lang::En));
        assert!(!continues("How long does delivery take to Chengdu?", crate::domain::Lang::En));
        assert!(!is_follow_up("我想查一下我的订单202611150123现在到哪里了，物流信息好久没更新了"));
        assert!(refers_to_other("那另一个呢"));
    }

    #[test]
    fn a_bare_colour_or_size_narrows_the_last_question() {
        use crate::domain::turn::Slots;
        let black = Slots { color: Some("black".into()), ..Slots::default() };
        assert!(is_bare_attribute("黑色", &black));
        assert!(is_bare_attribute("black please", &black));
        assert!(!is_bare_attribute("我想要一双黑色的跑鞋，平时穿42码，有推荐吗", &black));
        let with_product = Slots { product: Some("HH-RV500".into()), ..black };
        assert!(!is_bare_attribute("R5 黑色", &with_product));
        assert!(!is_bare_attribute("hello", &Slots::default()));
    }

    #[test]
    fn back_references_point_at_the_last_subject() {
        use crate::domain::Lang;
        assert!(refers_back("is it still under warranty? I got it in October", Lang::En));
        assert!(refers_back("坏了要自己拆下来寄回去吗", Lang::Zh));
        assert!(!refers_back("How long does delivery take to Chengdu?", Lang::En));
        assert!(!refers_back("我买的衣服不合适，签收后几天内能无理由退货？", Lang::Zh));
    }

    #[test]
    fn proof_is_four_digits_or_an_email() {
        assert_eq!(proof_in("尾号7345").as_deref(), Some("7345"));
        assert_eq!(proof_in("last 4 digits: 7345.").as_deref(), Some("7345"));
        assert_eq!(proof_in("my email is wang.li@example.com").as_deref(), Some("wang.li@example.com"));
        assert_eq!(proof_in("order 202611150123"), None);
        assert_eq!(proof_in("13816627345"), None);
    }
}
