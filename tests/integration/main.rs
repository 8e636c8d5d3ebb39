//! Integration tests: one binary (faster linking), real tantivy, the real embedding model.
//! They need `models/all-MiniLM-L6-v2` (run `scripts/fetch-model.sh` or `scripts/setup.sh`).

mod answer;
mod common;
mod embedding;
mod eval;
mod ingest;
mod search;
mod server;
