//! What one chat turn is understood to ask: intent, slots, sentiment.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The fixed intents of CONTRACT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    OrderStatus,
    OrderChange,
    InventoryCheck,
    ProductInfo,
    PriceQuote,
    ReturnRefund,
    PolicyQuestion,
    HowTo,
    PointsBalance,
    PaymentIssue,
    FaultDiagnosis,
    HumanHandoff,
    Greeting,
    Other,
}

impl Intent {
    pub const ALL: [Intent; 14] = [
        Intent::OrderStatus,
        Intent::OrderChange,
        Intent::InventoryCheck,
        Intent::ProductInfo,
        Intent::PriceQuote,
        Intent::ReturnRefund,
        Intent::PolicyQuestion,
        Intent::HowTo,
        Intent::PointsBalance,
        Intent::PaymentIssue,
        Intent::FaultDiagnosis,
        Intent::HumanHandoff,
        Intent::Greeting,
        Intent::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::OrderStatus => "order_status",
            Intent::OrderChange => "order_change",
            Intent::InventoryCheck => "inventory_check",
            Intent::ProductInfo => "product_info",
            Intent::PriceQuote => "price_quote",
            Intent::ReturnRefund => "return_refund",
            Intent::PolicyQuestion => "policy_question",
            Intent::HowTo => "how_to",
            Intent::PointsBalance => "points_balance",
            Intent::PaymentIssue => "payment_issue",
            Intent::FaultDiagnosis => "fault_diagnosis",
            Intent::HumanHandoff => "human_handoff",
            Intent::Greeting => "greeting",
            Intent::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s.trim())
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a product slot names one catalogue product (an SKU, "HH-RV500") rather than a
/// family of them (a lower-case tag, "stride-glide-3").
pub fn is_sku(product: &str) -> bool {
    product.chars().any(|c| c.is_ascii_uppercase())
}

/// Slots of CONTRACT.md, normalised: `fault_code` "E21" (not "E-21"), `size` as the catalogue
/// writes it without the system ("9" for "US 9" / "九码", "M" for apparel), `color` a
/// lower-case English word ("black" for "黑色"), `sku` upper-case, `points` and `quantity`
/// integers, `order_id` 12 digits, `coupon` upper-case code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slots {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product named without a SKU, as the catalogue SKU it resolves to, else the words used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
}

impl Slots {
    pub fn is_empty(&self) -> bool {
        *self == Slots::default()
    }

    /// Slots of `newer` win; the rest carry over from `self` (context across turns).
    pub fn merged_with(&self, newer: &Slots) -> Slots {
        Slots {
            order_id: newer.order_id.clone().or_else(|| self.order_id.clone()),
            sku: newer.sku.clone().or_else(|| self.sku.clone()),
            product: newer.product.clone().or_else(|| self.product.clone()),
            size: newer.size.clone().or_else(|| self.size.clone()),
            color: newer.color.clone().or_else(|| self.color.clone()),
            quantity: newer.quantity.or(self.quantity),
            fault_code: newer.fault_code.clone().or_else(|| self.fault_code.clone()),
            coupon: newer.coupon.clone().or_else(|| self.coupon.clone()),
            points: newer.points.or(self.points),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// 0 calm .. 1 furious.
    pub anger: f32,
    pub urgent: bool,
}

impl Sentiment {
    pub fn is_angry(&self) -> bool {
        self.anger >= 0.6
    }
}

/// The understanding of one message, before dialogue context is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub lang: crate::domain::Lang,
    pub intent: Intent,
    /// Calibrated probability that `intent` is right.
    pub confidence: f32,
    pub slots: Slots,
    pub sentiment: Sentiment,
}

/// A cited passage, in the shape of CONTRACT.md's `citations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    pub doc_id: String,
    pub title: String,
    pub section: String,
    pub path: String,
    pub snippet: String,
}

/// One tool the turn called, with what it returned (CONTRACT.md's `tool_calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: serde_json::Value,
    pub ok: bool,
    pub result: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    ExplicitRequest,
    LowConfidence,
    NegativeSentiment,
    BusinessRule,
    RepeatedFailure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub reason: HandoffReason,
    pub summary: String,
    pub ticket_id: String,
}

/// The answer to one turn: exactly the body of `POST /v1/ask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub session_id: String,
    pub turn_id: String,
    pub answer: String,
    pub answered: bool,
    pub intent: Intent,
    pub slots: Slots,
    pub confidence: f32,
    pub citations: Vec<Citation>,
    pub tool_calls: Vec<ToolCall>,
    pub handoff: Option<Handoff>,
    pub suggestions: Vec<String>,
    pub latency_ms: f64,
}
