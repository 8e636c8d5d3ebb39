//! The commerce store's records, in the shapes of `knowledge/store/*.json` (so the embedded
//! store, the HTTP connector and the seed files share one serde form). Money is integer cents,
//! timestamps are UTC, date-only fields are calendar days in the shop's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Shoes,
    Apparel,
    Appliances,
    Consumables,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name_en: String,
    pub name_zh: String,
    pub category: Category,
    pub price_cents: i64,
    #[serde(default)]
    pub sizes: Vec<String>,
    #[serde(default)]
    pub colors: Vec<String>,
    #[serde(default)]
    pub final_sale: bool,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One sku x size x colour row. `quantity == 0` is out of stock; `restock_date` is set only
/// then, and `None` means unknown or never.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockRow {
    pub sku: String,
    pub size: Option<String>,
    pub color: Option<String>,
    pub quantity: i64,
    pub restock_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Member,
    Silver,
    Gold,
    Platinum,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointsLot {
    pub points: i64,
    pub expires: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub tier: Tier,
    pub points: i64,
    #[serde(default)]
    pub points_expiring: Vec<PointsLot>,
    pub birthday_month: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
    ReturnRequested,
    Returned,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Processing => "processing",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::ReturnRequested => "return_requested",
            OrderStatus::Returned => "returned",
            OrderStatus::Refunded => "refunded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub sku: String,
    pub size: Option<String>,
    pub color: Option<String>,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub items: Vec<OrderItem>,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub shipping_cents: i64,
    pub points_used: i64,
    pub total_cents: i64,
    pub payment_method: Option<String>,
    pub coupon: Option<String>,
    pub address: Address,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub time: DateTime<Utc>,
    pub location: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub order_id: String,
    pub carrier: String,
    pub tracking_no: String,
    pub eta: Option<DateTime<Utc>>,
    #[serde(default)]
    pub events: Vec<TrackingEvent>,
}

/// A promotion's rule; the common fields live on [`Promotion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromotionRule {
    /// `off_cents` off every full `every_cents`, at most `cap_cents` in all (None: uncapped).
    Threshold {
        every_cents: i64,
        off_cents: i64,
        cap_cents: Option<i64>,
        #[serde(default)]
        excludes_final_sale: bool,
    },
    /// `percent` off every line of `category`, except `excluded_skus`.
    Category {
        category: Category,
        percent: i64,
        #[serde(default)]
        excluded_skus: Vec<String>,
        #[serde(default)]
        excludes_final_sale: bool,
    },
    /// `percent` off for members of `tier`, taken last.
    Member { tier: Tier, percent: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(flatten)]
    pub rule: PromotionRule,
    pub starts: NaiveDate,
    pub ends: NaiveDate,
}

impl Promotion {
    /// Both ends of the range count.
    pub fn runs_on(&self, day: NaiveDate) -> bool {
        self.starts <= day && day <= self.ends
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponKind {
    Store,
    NewCustomer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coupon {
    pub code: String,
    pub kind: CouponKind,
    pub threshold_cents: i64,
    pub amount_cents: i64,
    /// `None` for public codes anyone may use.
    pub customer_id: Option<String>,
    pub expires: NaiveDate,
    #[serde(default)]
    pub used: bool,
}

/// What a shopper may change on an order; which states allow it is the caller's rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum OrderChange {
    Address { address: Address },
    Quantity { sku: String, quantity: i64 },
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReturn {
    pub order_id: String,
    /// SKUs returned; empty means the whole order.
    pub skus: Vec<String>,
    pub reason: String,
    /// Quality fault (Halden pays shipping) or a no-reason return.
    pub quality_issue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub rma: String,
    pub order_id: String,
    pub skus: Vec<String>,
    pub reason: String,
    pub quality_issue: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestockRequest {
    pub sku: String,
    pub size: Option<String>,
    pub color: Option<String>,
    /// Customer id, phone or email to notify.
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestockSubscription {
    pub id: String,
    pub request: RestockRequest,
    pub created_at: DateTime<Utc>,
}

/// A work order for an engineer visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewWorkOrder {
    pub sku: String,
    pub fault_code: Option<String>,
    pub description: String,
    pub steps_tried: Vec<String>,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: String,
    #[serde(flatten)]
    pub request: NewWorkOrder,
    pub created_at: DateTime<Utc>,
}
