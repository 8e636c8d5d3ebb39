//! # Clerk
//!
//! A self-hosted knowledge assistant for retailers, e-commerce shops and manufacturers.
//!
//! ## Map
//! ```text
//! domain  plain data (Chunk, Hit, Lang, ...)           imports nothing in-crate
//! text    language detection, code/SKU normalisation   imports domain
//! ports   the seams: Embedder, TextIndex, VectorIndex, GenerationStore, CommerceBackend,
//!         ConversationStore
//! config  defaults -> clerk.toml -> CLERK_* -> flags, validated once
//! ingest  Markdown -> sections -> chunks -> vectors -> a new generation   (pipeline)
//! ask     one turn: understand, dialogue, tools, retrieval, compose, handoff (pipeline)
//! eval    BEIR-style retrieval suites, intent suites, their metrics       (pipeline)
//! pricing promotions, one coupon, points -> a quote in cents, explained   (pipeline)
//! infer   candle BERT embedder on its own thread                          (adapter)
//! store   tantivy + jieba analysis, flat vector index, generations,
//!         SQLite conversations (sessions, turns, gaps, tickets)           (adapter)
//! commerce SQLite shop seeded from knowledge/store; HTTP connector       (adapter)
//! http    axum server: routes, auth, limits, SSE, metrics; uses `ask`
//! app     composition root: the only module naming adapters
//! cli     clap definitions; main.rs is thin glue
//! ```
//!
//! Import rules: pipelines use domain + ports (+ text, config), never adapters; adapters use
//! domain + ports, never each other (store's text index may use `text`); only `app` names
//! concrete adapters.
//!
//! ## One ingest run
//! walk -> front matter + hash -> diff with the manifest -> sections -> chunks -> embed new
//! chunks -> write a new generation -> publish by atomic rename.
//!
//! ## One turn (`POST /v1/ask`, `clerk ask`)
//! validate -> session -> understand (rules, then a classifier; slots; sentiment) -> dialogue
//! (pending questions, follow-ups) -> tools over CommerceBackend and/or retrieval + compose
//! -> handoff rules -> gap log and turn committed -> reply.

pub mod app;
pub mod ask;
pub mod bench;
pub mod cli;
pub mod commerce;
pub mod config;
pub mod domain;
pub mod eval;
pub mod http;
pub mod infer;
pub mod ingest;
pub mod ports;
pub mod pricing;
pub mod store;
pub mod text;
