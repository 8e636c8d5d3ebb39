//! Storage adapters: the tantivy text index and its bilingual analysis, the embedded vector
//! index, index generations on disk, and the SQLite conversation store.

pub mod analysis;
mod bm25;
pub mod conversation;
pub mod generation;
pub mod text_index;
pub mod vectors;
