//! Storage adapters: the tantivy text index and its bilingual analysis, the embedded vector
//! index, and index generations on disk.

pub mod analysis;
mod bm25;
pub mod generation;
pub mod text_index;
pub mod vectors;
