//! Builders shared by the pricing tests: dates, promotions and coupons as the seed writes them.

use crate::domain::commerce::{Coupon, CouponKind, Promotion, PromotionRule};
use chrono::NaiveDate;

pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn promotion(id: &str, rule: PromotionRule, starts: &str, ends: &str) -> Promotion {
    Promotion {
        id: id.into(),
        name_zh: format!("{id} zh"),
        name_en: format!("{id} en"),
        rule,
        starts: day(starts),
        ends: day(ends),
    }
}

/// A coupon of `amount` cents off `threshold` cents; codes starting "NEW" are new-customer ones.
pub fn coupon(code: &str, threshold: i64, amount: i64, owner: Option<&str>, expires: &str, used: bool) -> Coupon {
    let kind = if code.starts_with("NEW") { CouponKind::NewCustomer } else { CouponKind::Store };
    Coupon {
        code: code.into(),
        kind,
        threshold_cents: threshold,
        amount_cents: amount,
        customer_id: owner.map(Into::into),
        expires: day(expires),
        used,
    }
}
