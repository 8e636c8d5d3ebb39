//! The seams between pipelines and adapters: small traits, their errors, and the values
//! that cross them. Pipelines (`ingest`, `ask`, `eval`) see only these; `app` picks the
//! concrete adapters.

use crate::domain::{Chunk, Filters, Lang, commerce, conversation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Whether a text is a question or a stored passage: some models (e5, bge) embed them with
/// different prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedKind {
    Query,
    Passage,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model not found: {0}")]
    ModelNotFound(String),
    #[error("model files are not usable: {0}")]
    BadModel(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the embedding worker is overloaded")]
    Overloaded,
    #[error("the embedding worker has stopped")]
    WorkerGone,
}

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// Identity recorded in every index generation; vectors of another id are never mixed in.
    fn id(&self) -> &str;
    fn dims(&self) -> usize;
    /// Languages whose text this model embeds meaningfully.
    fn languages(&self) -> &[Lang];
    /// Longest input in model tokens; chunking keeps passages under it.
    fn max_tokens(&self) -> usize;
    fn count_tokens(&self, text: &str) -> Result<usize, EmbedError>;
    fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError>;

    fn supports(&self, lang: Lang) -> bool {
        self.languages().contains(&lang)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("i/o on {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("text index: {0}")]
    TextIndex(String),
    #[error("index data is corrupt: {0}")]
    Corrupt(String),
    #[error("index was built with embedder {built_with:?}, but {configured:?} is configured; re-ingest")]
    EmbedderMismatch { built_with: String, configured: String },
    #[error(
        "index was built with text analysis {built_with:?}, but this Clerk analyses text as {configured:?} \
         (a new version, dictionary or synonyms); run `clerk ingest` to rebuild it"
    )]
    AnalyzerMismatch { built_with: String, configured: String },
}

impl StoreError {
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        StoreError::Io { path: path.as_ref().display().to_string(), source }
    }
}

/// A chunk's position in its generation's chunk table, and a leg's score for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub ordinal: u32,
    pub score: f32,
}

/// BM25 term-frequency saturation (k1) and length normalisation (b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25Params {
    pub k1: f32,
    pub b: f32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Self { k1: 1.2, b: 0.75 }
    }
}

/// Full-text search over one generation (BM25).
pub trait TextIndex: Send + Sync {
    fn search(&self, query: &str, k: usize, filters: &Filters, params: Bm25Params) -> Result<Vec<Scored>, StoreError>;
    /// Chunks whose exact code field equals one of the normalised codes or SKUs.
    fn exact_codes(&self, codes: &[String], filters: &Filters) -> Result<Vec<u32>, StoreError>;
}

/// Nearest-neighbour search over one generation's vectors (inner product on unit vectors).
pub trait VectorIndex: Send + Sync {
    fn dims(&self) -> usize;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The k best chunks among those `admit` accepts, each scored by its best vector.
    fn search(&self, query: &[f32], k: usize, admit: &dyn Fn(u32) -> bool) -> Vec<Scored>;
    /// All vectors of one chunk, row after row.
    fn vectors(&self, ordinal: u32) -> Option<&[f32]>;
}

/// What an ingest run recorded about one source file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub hash: String,
    pub doc_id: String,
    pub chunks: usize,
}

/// The record of one generation: which embedder built it and from which files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generation: u64,
    pub embedder: String,
    pub dims: usize,
    #[serde(default)]
    pub window_tokens: usize,
    /// Fingerprint of the text analysis the full-text index was built with (empty before
    /// this field existed): a query analysed differently would silently miss its terms.
    #[serde(default)]
    pub analyzer: String,
    pub created_at: String,
    pub documents: usize,
    pub chunks: usize,
    pub files: BTreeMap<String, FileEntry>,
}

/// One published generation, opened for reading: an immutable snapshot.
#[derive(Clone)]
pub struct Snapshot {
    pub manifest: Arc<Manifest>,
    pub chunks: Arc<Vec<Chunk>>,
    pub text: Arc<dyn TextIndex>,
    pub vectors: Arc<dyn VectorIndex>,
}

/// Everything a new generation holds; vectors are row-major, `rows[i]` of them for chunk `i`
/// (a long chunk is embedded as several windows), in chunk order.
pub struct GenerationBuild<'a> {
    pub embedder: &'a str,
    pub dims: usize,
    /// The embedding window the vectors were made with (they are reused only under the same).
    pub window_tokens: usize,
    pub chunks: &'a [Chunk],
    pub vectors: &'a [f32],
    pub rows: &'a [u32],
    pub files: BTreeMap<String, FileEntry>,
}

/// Where generations live. One writer; readers open immutable snapshots.
pub trait GenerationStore: Send + Sync {
    /// What shapes an index besides its chunks (analyzer version, dictionary, synonyms):
    /// when it changes, every document is indexed again.
    fn fingerprint(&self) -> &str;
    /// The published generation, if any.
    fn open_current(&self) -> Result<Option<Snapshot>, StoreError>;
    /// Writes a complete new generation, then publishes it atomically. A crash before the
    /// publish leaves the previous generation current and whole.
    fn publish(&self, build: GenerationBuild<'_>) -> Result<Manifest, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum CommerceError {
    #[error("not found: {0}")]
    NotFound(String),
    /// The request is understood but the record's state forbids it (e.g. cancelling a
    /// shipped order). The message is safe to show the shopper.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The backing system failed or timed out; the turn degrades instead of failing.
    #[error("commerce backend unavailable: {0}")]
    Unavailable(String),
    #[error("commerce data is corrupt: {0}")]
    Corrupt(String),
}

/// Live orders, stock, prices and members: the embedded SQLite store or an external order
/// system over HTTP. Synchronous: callers on the async runtime use `spawn_blocking`.
/// Business rules (which states allow a change, return windows) belong to the caller;
/// a backend may refuse with [`CommerceError::NotAllowed`] as well.
pub trait CommerceBackend: Send + Sync {
    /// Name for traces: "sqlite", "http".
    fn name(&self) -> &str;
    fn product(&self, sku: &str) -> Result<Option<commerce::Product>, CommerceError>;
    fn products(&self) -> Result<Vec<commerce::Product>, CommerceError>;
    /// Stock rows of a SKU, narrowed to a size and/or colour when given.
    fn stock(
        &self,
        sku: &str,
        size: Option<&str>,
        color: Option<&str>,
    ) -> Result<Vec<commerce::StockRow>, CommerceError>;
    fn customer(&self, id: &str) -> Result<Option<commerce::Customer>, CommerceError>;
    fn order(&self, order_id: &str) -> Result<Option<commerce::Order>, CommerceError>;
    fn orders_of(&self, customer_id: &str) -> Result<Vec<commerce::Order>, CommerceError>;
    fn shipment(&self, order_id: &str) -> Result<Option<commerce::Shipment>, CommerceError>;
    /// Promotions, running or not; callers check the dates.
    fn promotions(&self) -> Result<Vec<commerce::Promotion>, CommerceError>;
    /// Public coupons plus the customer's own (all public ones when `customer_id` is None).
    fn coupons(&self, customer_id: Option<&str>) -> Result<Vec<commerce::Coupon>, CommerceError>;
    fn change_order(&self, order_id: &str, change: &commerce::OrderChange) -> Result<commerce::Order, CommerceError>;
    fn create_return(&self, request: &commerce::NewReturn) -> Result<commerce::ReturnRecord, CommerceError>;
    fn subscribe_restock(
        &self,
        request: &commerce::RestockRequest,
    ) -> Result<commerce::RestockSubscription, CommerceError>;
    fn create_work_order(&self, request: &commerce::NewWorkOrder) -> Result<commerce::WorkOrder, CommerceError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("conversation store: {0}")]
    Storage(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Sessions, turns, gaps, feedback and handoff tickets (SQLite here; PostgreSQL at scale).
/// Every write is durable when the call returns: a turn's gap is committed before the reply.
pub trait ConversationStore: Send + Sync {
    /// The session's saved state, or None when unknown or idle longer than the expiry at `now`.
    fn load_session(
        &self,
        session_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<conversation::Session>, ConversationError>;
    /// Saves the session state and the turn, and its gap when unanswered, in one transaction.
    fn record_turn(
        &self,
        session: &conversation::Session,
        turn: &conversation::TurnRecord,
        gap: Option<&conversation::NewGap>,
    ) -> Result<(), ConversationError>;
    /// Stores feedback on a turn; a thumbs-down also logs the turn's question as a gap.
    fn record_feedback(&self, feedback: &conversation::Feedback) -> Result<(), ConversationError>;
    fn create_ticket(&self, ticket: &conversation::NewTicket) -> Result<String, ConversationError>;
    /// Unresolved gaps grouped by similarity, largest group first.
    fn gap_groups(&self, include_resolved: bool) -> Result<Vec<conversation::GapGroup>, ConversationError>;
    /// Marks every gap of the group resolved; false when no such open group exists.
    fn resolve_gap_group(&self, group_id: &str) -> Result<bool, ConversationError>;
    fn stats(&self) -> Result<conversation::ConversationStats, ConversationError>;
}
