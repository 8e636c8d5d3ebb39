//! What the conversation store keeps: session state, turns, gaps, feedback, tickets.

use crate::domain::Lang;
use crate::domain::turn::{HandoffReason, Intent, Slots};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A question Clerk asked and awaits an answer to ("black or white?").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingAsk {
    pub intent: Intent,
    /// The slot the next message is expected to fill.
    pub slot: String,
    /// Values offered, when the question listed them.
    #[serde(default)]
    pub options: Vec<String>,
}

/// Dialogue state carried from turn to turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// Verified from a customer token, never from a request body.
    pub customer_id: Option<String>,
    pub lang: Lang,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub turns: u32,
    pub last_intent: Option<Intent>,
    pub slots: Slots,
    pub pending: Option<PendingAsk>,
    /// Orders this session has proven access to (anonymous proof given earlier).
    #[serde(default)]
    pub verified_orders: Vec<String>,
    /// Unanswered turns in a row.
    pub unanswered_streak: u32,
    /// What the last answer was about, for "what about the other one".
    #[serde(default)]
    pub last_options: Vec<String>,
    /// The session has been handed to a human.
    #[serde(default)]
    pub handed_off: bool,
    /// The last questions answered from the documents, oldest first, for a follow-up that
    /// leaves its subject out ("and to Lhasa?", "坏了要自己寄回去吗").
    #[serde(default)]
    pub recent_questions: Vec<String>,
}

impl Session {
    pub fn new(id: String, customer_id: Option<String>, lang: Lang, now: DateTime<Utc>) -> Session {
        Session {
            id,
            customer_id,
            lang,
            created_at: now,
            updated_at: now,
            turns: 0,
            last_intent: None,
            slots: Slots::default(),
            pending: None,
            verified_orders: Vec::new(),
            unanswered_streak: 0,
            last_options: Vec::new(),
            handed_off: false,
            recent_questions: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn_id: String,
    pub session_id: String,
    pub at: DateTime<Utc>,
    pub question: String,
    pub lang: Lang,
    pub intent: Intent,
    pub confidence: f32,
    pub answered: bool,
    pub handoff: Option<HandoffReason>,
    pub latency_ms: f64,
    /// The reply as sent, JSON.
    pub reply: serde_json::Value,
}

/// A retrieval candidate kept with a gap, so editors see what Clerk almost answered with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapCandidate {
    pub chunk_id: String,
    pub doc_id: String,
    pub title: String,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewGap {
    pub question: String,
    pub lang: Lang,
    pub session_id: String,
    pub turn_id: String,
    /// "unanswered" or "thumbs_down".
    pub source: String,
    pub candidates: Vec<GapCandidate>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub id: i64,
    #[serde(flatten)]
    pub gap: NewGap,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapGroup {
    pub id: String,
    /// The group's most typical question.
    pub label: String,
    pub count: usize,
    pub resolved: bool,
    pub questions: Vec<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub session_id: String,
    pub turn_id: String,
    pub rating: Rating,
    pub csat: Option<u8>,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    pub session_id: String,
    pub reason: HandoffReason,
    pub summary: String,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationStats {
    pub turns: u64,
    pub answered: u64,
    pub handoffs: u64,
    pub self_resolution_rate: f64,
    pub handoff_rate: f64,
    pub csat_avg: Option<f64>,
    pub feedback_up: u64,
    pub feedback_down: u64,
    pub open_gaps: u64,
    pub intents: std::collections::BTreeMap<String, u64>,
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p95: Option<f64>,
}
