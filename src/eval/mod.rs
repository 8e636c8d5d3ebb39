//! Evaluation: retrieval suites (BEIR folders) and their metrics. Question suites and gates
//! come with the query server.

pub mod beir;
pub mod intents;
pub mod metrics;
