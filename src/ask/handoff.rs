//! When a human takes over: business rules the bot must not decide (special discounts,
//! fraud, formal complaints), and the summary an agent acts on.

use crate::domain::Lang;
use crate::domain::turn::{Intent, Slots};

/// Someone claiming to be the shop's staff ("有个自称客服的人", "someone claiming to be from
/// your support"): a product "claimed to be waterproof" is no such thing.
fn poses_as_staff(m: &str) -> bool {
    const CLAIMS: &[&str] =
        &["自称", "说是你们", "claiming to be", "claimed to be", "pretending to be", "said they were"];
    const STAFF: &[&str] = &[
        "客服",
        "工作人员",
        "官方",
        "你们",
        "禾登",
        "平台",
        "快递",
        "support",
        "staff",
        "customer service",
        "agent",
        "your",
        "halden",
        "courier",
    ];
    CLAIMS.iter().any(|claim| {
        m.match_indices(claim).any(|(at, c)| {
            let after: String = m[at + c.len()..].chars().take(24).collect();
            STAFF.iter().any(|s| after.contains(s))
        })
    })
}

/// Requests only a person may grant or handle, by what the message says.
pub fn business_rule(message: &str) -> Option<&'static str> {
    let m = message.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    // Money or an account taken by someone else: fake shops, stolen cards, orders the
    // customer never placed.
    if any(&[
        "盗刷",
        "被盗",
        "盗号",
        "诈骗",
        "骗子",
        "被骗",
        "上当",
        "钓鱼",
        "假网站",
        "冒充",
        "安全账户",
        "不是我下的",
        "不是我买的",
        "我没下过",
        "fraud",
        "scam",
        "stolen",
        "unauthori",
        "phishing",
        "hacked",
        "fake website",
        "fake site",
        "impersonat",
        "safe account",
        "safety account",
        "did not place",
        "didn't place",
        "never placed",
        "didnt place",
        "someone else used my",
        "someone used my",
        "someone logged into",
    ]) || poses_as_staff(&m)
    {
        return Some("fraud");
    }
    if any(&[
        "投诉",
        "12315",
        "消协",
        "工商局",
        "律师",
        "起诉",
        "举报",
        "曝光",
        "formal complaint",
        "file a complaint",
        "lodge a complaint",
        "make a complaint",
        "complaint about",
        "complain about",
        "report your",
        "lawyer",
        "sue ",
        "consumer association",
    ]) {
        return Some("formal_complaint");
    }
    // Trade buyers asking to buy or for a price get quotes from the sales team, not the shop's
    // price list; a dealer asking about a customer's repair is not buying.
    let buys = any(&[
        "采购",
        "购买",
        "买",
        "订购",
        "下单",
        "报价",
        "价格",
        "价",
        "多少钱",
        "优惠",
        "折扣",
        "buy",
        "purchas",
        "order",
        "price",
        "quote",
        "discount",
        "cost",
    ]);
    if buys
        && any(&[
            "批发",
            "批量",
            "大量采购",
            "企业采购",
            "公司采购",
            "单位采购",
            "团购",
            "集采",
            "经销",
            "代理商",
            "bulk",
            "wholesale",
            "b2b",
            "corporate order",
            "corporate purchase",
            "for our company",
            "for my company",
            "for our office",
            "reseller",
            "distributor",
        ])
        || large_quantity(&m)
    {
        return Some("bulk_order");
    }
    let asks_discount = any(&[
        "打折",
        "便宜点",
        "便宜一点",
        "优惠点",
        "特价",
        "给我优惠",
        "给个优惠",
        "额外优惠",
        "折扣券",
        "发个券",
        "给我券",
        "special discount",
        "extra discount",
        "discount code for me",
        "give me a coupon",
        "give me a discount",
        "price match",
        "cheaper for me",
        "% off coupon",
        "% coupon",
    ]);
    let coupon_number =
        (m.contains("coupon") || m.contains("券") || m.contains("折")) && m.chars().any(|c| c.is_ascii_digit());
    let demands = any(&["give me", "给我", "送我", "i want a", "我要一张"]);
    if asks_discount || (coupon_number && demands) {
        return Some("special_discount_approval");
    }
    None
}

const ORDER_ID_DIGITS: usize = 12;

/// Twenty or more of something ("50 pairs", "30台"): more than one household buys.
fn large_quantity(m: &str) -> bool {
    const UNITS_EN: &[&str] = &["pairs", "units", "pieces", "pcs", "sets"];
    const UNITS_ZH: &[char] = &['双', '台', '件', '套', '个'];
    let chars: Vec<char> = m.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // Only digits here, so a failed parse is a number past u64: a huge count.
        let n: u64 = chars[start..i].iter().collect::<String>().parse().unwrap_or(u64::MAX);
        let rest: String = chars[i..].iter().take(16).collect();
        let rest = rest.trim_start();
        let counted = rest.starts_with(UNITS_ZH) || UNITS_EN.iter().any(|u| rest.starts_with(u));
        // A twelve-digit order number is no count, even before "件".
        if counted && n >= 20 && i - start != ORDER_ID_DIGITS {
            return true;
        }
    }
    false
}

/// What an agent needs to pick the chat up without asking again.
pub fn summary(
    lang: Lang,
    question: &str,
    intent: Intent,
    slots: &Slots,
    tried: &[String],
    customer_id: Option<&str>,
    reason: &str,
) -> String {
    let slots = serde_json::to_string(slots).unwrap_or_default();
    let tried = if tried.is_empty() { "-".to_string() } else { tried.join("; ") };
    let customer = customer_id.unwrap_or("anonymous");
    match lang {
        Lang::Zh => format!(
            "转人工原因：{reason}。顾客（{customer}）的诉求：“{question}”。意图：{intent}；槽位：{slots}。已尝试：{tried}。"
        ),
        Lang::En => format!(
            "Handoff reason: {reason}. Customer ({customer}) asks: \"{question}\". Intent: {intent}; slots: {slots}. Tried: {tried}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_catch_what_only_people_may_decide() {
        assert_eq!(business_rule("give me a 90% coupon"), Some("special_discount_approval"));
        assert_eq!(business_rule("someone hacked my account and placed orders"), Some("fraud"));
        assert_eq!(business_rule("There is an order I did not place on my account"), Some("fraud"));
        assert_eq!(business_rule("我们公司想批量采购50台净化器，能给报价吗"), Some("bulk_order"));
        assert_eq!(business_rule("price for 40 pairs of Stride Glide 3 for our running club?"), Some("bulk_order"));
        assert_eq!(business_rule("I want to file a complaint about the engineer"), Some("formal_complaint"));
        assert_eq!(business_rule("买2双轻驰3多少钱"), None);
        // However many: a count past any the shop quotes, even past u64, is for the sales team.
        assert_eq!(business_rule("买 99999999 台净化器多少钱"), Some("bulk_order"));
        assert_eq!(business_rule("I want to buy 99999999999999999999999 pairs"), Some("bulk_order"));
        assert_eq!(business_rule("我们是经销商，客户的洗碗机坏了，是上门修还是寄修"), None);
        assert_eq!(business_rule("where is order 202611150123"), None);
        assert_eq!(business_rule("能不能再便宜点"), Some("special_discount_approval"));
        assert_eq!(business_rule("我的卡被盗刷了"), Some("fraud"));
        // Someone posing as staff, or the classic "move your money to a safe account".
        assert_eq!(business_rule("有人自称是客服，说要退款给我"), Some("fraud"));
        assert_eq!(
            business_rule("someone claiming to be your support asked me to move money to a safe account"),
            Some("fraud")
        );
        assert_eq!(business_rule("a man claiming to be from Halden support called me"), Some("fraud"));
        assert_eq!(business_rule("The jacket is claimed to be waterproof but it leaked"), None);
        assert_eq!(business_rule("我要投诉你们"), Some("formal_complaint"));
        assert_eq!(business_rule("满300减50能和优惠券一起用吗"), None);
        assert_eq!(business_rule("how do I use coupon HALDEN60?"), None);
    }
}
