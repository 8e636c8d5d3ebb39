//! Plain data shared by every layer. Imports nothing from the crate.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Languages Clerk answers in. Text in anything else is treated as English for analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" | "english" => Some(Lang::En),
            "zh" | "zh-cn" | "zh-hans" | "zh-tw" | "chinese" | "cn" => Some(Lang::Zh),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of knowledge document of CONTRACT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    Manual,
    Policy,
    FaultCodes,
    Faq,
    Product,
}

impl DocType {
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Manual => "manual",
            DocType::Policy => "policy",
            DocType::FaultCodes => "fault_codes",
            DocType::Faq => "faq",
            DocType::Product => "product",
        }
    }

    pub fn parse(s: &str) -> Option<DocType> {
        match s.trim() {
            "manual" => Some(DocType::Manual),
            "policy" => Some(DocType::Policy),
            "fault_codes" => Some(DocType::FaultCodes),
            "faq" => Some(DocType::Faq),
            "product" => Some(DocType::Product),
            _ => None,
        }
    }
}

/// A knowledge document's validated front matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocMeta {
    pub id: String,
    pub title: String,
    pub doc_type: DocType,
    pub lang: Lang,
    pub products: Vec<String>,
    pub updated: String,
}

/// One retrievable passage. `id` is a hash of everything that goes into its embedding, so an
/// unchanged chunk keeps its id (and its vector) across ingest runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: String,
    pub doc_id: String,
    pub doc_type: DocType,
    pub lang: Lang,
    pub products: Vec<String>,
    pub title: String,
    /// Heading path inside the document, joined with " > ".
    pub section: String,
    /// Source file, relative to the knowledge root.
    pub path: String,
    pub text: String,
    /// Normalised fault code or SKU when the chunk is one table row about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Chunk {
    /// Where the passage sits, put before it (or each window of it) for the embedder.
    pub fn embedding_header(&self) -> String {
        if self.section.is_empty() { self.title.clone() } else { format!("{} > {}", self.title, self.section) }
    }

    /// What the embedder sees: where the passage sits, then the passage.
    pub fn embedding_text(&self) -> String {
        format!("{}\n{}", self.embedding_header(), self.text)
    }
}

/// Retrieval filters of `POST /v1/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<DocType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
}

impl Filters {
    pub fn admits(&self, chunk: &Chunk) -> bool {
        self.doc_type.is_none_or(|t| t == chunk.doc_type)
            && self.lang.is_none_or(|l| l == chunk.lang)
            && self.product.as_ref().is_none_or(|p| chunk.products.iter().any(|cp| cp.eq_ignore_ascii_case(p)))
    }
}

/// Which retrieval legs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    #[default]
    Hybrid,
    Bm25,
    Dense,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Bm25 => "bm25",
            SearchMode::Dense => "dense",
        }
    }
}

/// One search result, in the shape of CONTRACT.md's `hits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub chunk_id: String,
    pub doc_id: String,
    pub title: String,
    pub section: String,
    pub path: String,
    pub text: String,
    pub score: f32,
}

/// One retrieval leg's view of a chunk: its 1-based rank in that leg and the leg's raw score
/// (BM25 score, or cosine similarity in the dense leg).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LegScore {
    pub rank: u32,
    pub score: f32,
}

/// A retrieved chunk with everything an answer is judged on: the chunk itself and what each
/// retrieval leg said about it. `/v1/search` hits are derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub chunk: Chunk,
    /// The fused score the hit list is ordered by.
    pub score: f32,
    /// None when the BM25 leg did not run or did not return the chunk.
    pub bm25: Option<LegScore>,
    /// None when the dense leg did not run (e.g. a language the embedder does not know) or
    /// did not return the chunk.
    pub dense: Option<LegScore>,
    /// The chunk's code field equals a code or SKU the query names.
    pub exact: bool,
}

impl Evidence {
    pub fn hit(&self) -> Hit {
        let c = &self.chunk;
        Hit {
            chunk_id: c.id.clone(),
            doc_id: c.doc_id.clone(),
            title: c.title.clone(),
            section: c.section.clone(),
            path: c.path.clone(),
            text: c.text.clone(),
            score: self.score,
        }
    }
}

pub mod commerce;
pub mod conversation;
pub mod turn;
