//! A quote told line by line, and money as shoppers read it.

use super::{Quote, StepKind};
use crate::domain::Lang;
use crate::domain::commerce::{Coupon, CouponKind};

/// What the shop's rules call a coupon's kind: ("Coupon", "店铺券").
pub(super) fn coupon_kind_names(kind: CouponKind) -> (&'static str, &'static str) {
    match kind {
        CouponKind::Store => ("Coupon", "店铺券"),
        CouponKind::NewCustomer => ("New-customer coupon", "新人券"),
    }
}

/// A coupon as the promotion rules name it ("store coupon", "新人券"): a question about a code
/// is about the rules for its kind, which its amounts would only match to worked examples.
pub fn coupon_in_rule_words(coupon: &Coupon, lang: Lang) -> &'static str {
    match (lang, coupon.kind) {
        (Lang::Zh, kind) => coupon_kind_names(kind).1,
        (Lang::En, CouponKind::Store) => "store coupon",
        (Lang::En, CouponKind::NewCustomer) => "new-customer coupon",
    }
}

/// "¥699.00", "-¥44.70".
pub(super) fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}¥{}.{:02}", cents / 100, cents % 100)
}

/// "500", "99.50": the short form of 满500减60.
pub(super) fn yuan_plain(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    if abs.is_multiple_of(100) {
        format!("{sign}{}", abs / 100)
    } else {
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Quote {
    /// The goods, each discount, the payable amount, shipping, points and the total, one per line.
    pub fn explain(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let (goods, payable, total, free) = if zh {
            ("商品金额", "优惠后应付", "实付", "包邮")
        } else {
            ("Goods", "Payable after discounts", "Total", "free")
        };
        let separator = if zh { "：" } else { ": " };
        let mut out = vec![format!("{goods}{separator}{}", yuan(self.subtotal_cents))];
        for step in &self.steps {
            if step.kind == StepKind::Shipping {
                out.push(format!("{payable}{separator}{}", yuan(self.payable_cents)));
            }
            let label = if zh { &step.label_zh } else { &step.label_en };
            let amount = if step.kind == StepKind::Shipping && step.amount_cents == 0 {
                free.to_string()
            } else {
                yuan(step.amount_cents)
            };
            out.push(format!("{label}{separator}{amount}"));
        }
        out.push(format!("{total}{separator}{}", yuan(self.total_cents)));
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_yuan_with_two_decimals() {
        assert_eq!(yuan(69900), "¥699.00");
        assert_eq!(yuan(-4470), "-¥44.70");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan_plain(50000), "500");
        assert_eq!(yuan_plain(9950), "99.50");
    }
}
