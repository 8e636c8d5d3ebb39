//! Ingestion: Markdown knowledge files -> chunks -> vectors + full text, published as a new
//! index generation. Pure stages (`source`, `markdown`, `chunk`) and one pipeline (`run`).

pub mod chunk;
pub mod markdown;
pub mod run;
pub mod source;

pub use run::{IngestError, IngestReport, Tuning, model_tokens, progress_bar, publish_chunks, run};
