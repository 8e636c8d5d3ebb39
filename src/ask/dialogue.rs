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

/// A bare yes to a question Clerk asked.
pub fn is_yes(message: &str) -> bool {
    let m = plain(message);
    YES.contains(&m.as_str())
        || (m.chars().count() <= 8 && YES.iter().any(|y| y.chars().count() >= 2 && m.starts_with(y)))
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
    }

    #[test]
    fn follow_ups_are_short_and_marked() {
        assert!(is_follow_up("那白色呢"));
        assert!(is_follow_up("what about the other one?"));
        assert!(is_follow_up("And in size 10?"));
        assert!(!is_follow_up("我想查一下我的订单202611150123现在到哪里了，物流信息好久没更新了"));
        assert!(refers_to_other("那另一个呢"));
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
