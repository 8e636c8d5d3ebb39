//! Why a cart or a choice cannot be priced, in words a shopper can be shown.

use super::explain::yuan;
use crate::domain::Lang;
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message(Lang::En))]
pub enum PricingError {
    EmptyCart,
    BadQuantity {
        sku: String,
        quantity: i64,
    },
    NegativePrice {
        sku: String,
        unit_price_cents: i64,
    },
    /// Amounts beyond what cents in an i64 can hold.
    TooLarge,
    UnknownCoupon {
        code: String,
    },
    CouponExpired {
        code: String,
        expired: NaiveDate,
    },
    CouponUsed {
        code: String,
    },
    CouponNotYours {
        code: String,
    },
    NotFirstOrder {
        code: String,
    },
    CouponThresholdNotMet {
        code: String,
        threshold_cents: i64,
        eligible_cents: i64,
    },
    PointsNegative {
        points: i64,
    },
    PointsNotHundreds {
        points: i64,
    },
    PointsOverBalance {
        points: i64,
        balance: i64,
    },
    PointsOverLimit {
        points: i64,
        limit: i64,
    },
}

impl PricingError {
    /// The reason in the shopper's language.
    pub fn message(&self, lang: Lang) -> String {
        use PricingError::*;
        match (self, lang) {
            (EmptyCart, Lang::En) => "The cart is empty.".into(),
            (EmptyCart, Lang::Zh) => "购物车是空的。".into(),
            (BadQuantity { sku, quantity }, Lang::En) => format!("{sku}: quantity {quantity} is not at least 1."),
            (BadQuantity { sku, quantity }, Lang::Zh) => format!("{sku}：数量 {quantity} 无效，至少为 1。"),
            (NegativePrice { sku, unit_price_cents }, Lang::En) => {
                format!("{sku}: the price {} is negative.", yuan(*unit_price_cents))
            }
            (NegativePrice { sku, unit_price_cents }, Lang::Zh) => {
                format!("{sku}：价格 {} 不能为负数。", yuan(*unit_price_cents))
            }
            (TooLarge, Lang::En) => "The order amount is too large to price.".into(),
            (TooLarge, Lang::Zh) => "订单金额过大，无法计算。".into(),
            (UnknownCoupon { code }, Lang::En) => format!("Coupon {code} is not one you can use."),
            (UnknownCoupon { code }, Lang::Zh) => format!("优惠券 {code} 不存在或不在您的账户中。"),
            (CouponExpired { code, expired }, Lang::En) => format!("Coupon {code} expired on {expired}."),
            (CouponExpired { code, expired }, Lang::Zh) => format!("优惠券 {code} 已于 {expired} 过期。"),
            (CouponUsed { code }, Lang::En) => format!("Coupon {code} has already been used."),
            (CouponUsed { code }, Lang::Zh) => format!("优惠券 {code} 已经使用过了。"),
            (CouponNotYours { code }, Lang::En) => format!("Coupon {code} belongs to another account."),
            (CouponNotYours { code }, Lang::Zh) => format!("优惠券 {code} 属于其他账户，不能使用。"),
            (NotFirstOrder { code }, Lang::En) => {
                format!("Coupon {code} is a new-customer coupon, valid on a first order only.")
            }
            (NotFirstOrder { code }, Lang::Zh) => format!("优惠券 {code} 是新人券，仅限首单使用。"),
            (CouponThresholdNotMet { code, threshold_cents, eligible_cents }, Lang::En) => format!(
                "Coupon {code} needs {} of eligible goods after the other discounts; this order has {} \
                 (final-sale items do not count).",
                yuan(*threshold_cents),
                yuan(*eligible_cents)
            ),
            (CouponThresholdNotMet { code, threshold_cents, eligible_cents }, Lang::Zh) => format!(
                "优惠券 {code} 需要满减后可用券金额满 {}，本单只有 {}（清仓商品不计入）。",
                yuan(*threshold_cents),
                yuan(*eligible_cents)
            ),
            (PointsNegative { points }, Lang::En) => format!("{points} is not a number of points you can use."),
            (PointsNegative { points }, Lang::Zh) => format!("积分数 {points} 无效。"),
            (PointsNotHundreds { points }, Lang::En) => {
                format!("Points are used in multiples of 100; {points} is not one.")
            }
            (PointsNotHundreds { points }, Lang::Zh) => format!("积分须按 100 的整数倍使用，{points} 不符合。"),
            (PointsOverBalance { points, balance }, Lang::En) => {
                format!("You have {balance} points, fewer than the {points} asked for.")
            }
            (PointsOverBalance { points, balance }, Lang::Zh) => {
                format!("您的积分余额为 {balance}，不足 {points}。")
            }
            (PointsOverLimit { points, limit }, Lang::En) => format!(
                "Points can pay at most 20% of the amount payable: up to {limit} points on this order, not {points}."
            ),
            (PointsOverLimit { points, limit }, Lang::Zh) => {
                format!("积分最多抵扣应付金额的 20%，本单最多可用 {limit} 积分，不能用 {points}。")
            }
        }
    }
}
