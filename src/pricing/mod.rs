//! What a shopper will pay: the shop's promotions, one coupon and points applied to a cart,
//! in integer cents, step by step (see `knowledge/policies/promotions.*.md` and
//! `knowledge/store/README.md`, "How the amounts are calculated"):
//!
//! 1. category discount, item by item (final-sale items and excluded SKUs keep their price);
//! 2. threshold discount on what is left of the eligible goods, capped;
//! 3. one coupon, its threshold checked on the non-final-sale amount after 1-2;
//! 4. member discount on everything left, final-sale items included;
//! 5. shipping by the amount after 4 and the region, plus the express upgrade;
//! 6. points, in hundreds, at most 20% of the amount after 4.
//!
//! Percentages round half up to the cent. Of several running promotions of one kind, the one
//! that saves most applies; the kinds stack. [`quote`] prices the shopper's own choice and says
//! why an invalid one is refused; [`best_quote`] finds the cheapest choice; [`advise`] prices what
//! the shopper asked for and names better coupons and points apart, without applying them.

mod advice;
mod engine;
mod error;
mod explain;
mod shop;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod seed_check;

pub use advice::{Advice, advise};
pub use engine::{best_quote, quote};
pub use error::PricingError;
pub use explain::coupon_in_rule_words;
pub use shop::{is_remote_province, names_remote_province, shop_day};

use crate::domain::commerce::{Category, Coupon, Promotion, Tier};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One cart line at list price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: String,
    pub category: Category,
    pub unit_price_cents: i64,
    pub quantity: i64,
    /// Clearance (清仓): no category discount, threshold discount or coupon.
    #[serde(default)]
    pub final_sale: bool,
}

/// Who is buying, when and where, and what the shop offers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The shop's calendar day (China time, see [`shop_day`]); decides which promotions run
    /// and which coupons have expired.
    pub today: NaiveDate,
    /// `None` for an anonymous shopper, who may use public coupons only.
    pub customer_id: Option<String>,
    pub tier: Option<Tier>,
    pub points_balance: i64,
    /// No earlier paid order: new-customer coupons are for a first order only.
    pub first_order: bool,
    /// Coupons the shopper holds and public ones; codes of other shoppers are refused.
    pub coupons: Vec<Coupon>,
    /// Promotions running or not; the engine checks the dates.
    pub promotions: Vec<Promotion>,
    /// Delivery to a remote province ([`is_remote_province`]).
    pub remote_region: bool,
    /// SF next-day upgrade.
    pub express: bool,
}

/// What the shopper chose to use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Coupon code, matched case-insensitively.
    pub coupon: Option<String>,
    pub points: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Category,
    Threshold,
    Coupon,
    Member,
    Shipping,
    Express,
    Points,
}

/// One line of the explanation: discounts and points negative, shipping positive or zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    pub label_en: String,
    pub label_zh: String,
    pub amount_cents: i64,
}

/// A priced cart. `total_cents = subtotal_cents - discount_cents + shipping_cents - points_used`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub steps: Vec<Step>,
    pub subtotal_cents: i64,
    /// Steps 1-4 together, as a positive amount.
    pub discount_cents: i64,
    /// `subtotal_cents - discount_cents`: what shipping and the points limit are judged on.
    pub payable_cents: i64,
    pub shipping_cents: i64,
    pub points_used: i64,
    /// The most points this cart could take, given the shopper's balance.
    pub points_max: i64,
    pub total_cents: i64,
    /// The coupon's code as the shop writes it.
    pub coupon: Option<String>,
}
