//! Evaluation (`clerk eval`): question suites run through whole turns, intent suites, BEIR
//! retrieval suites and the Bitext intent set; figures, reports and the baseline's gates.

pub mod beir;
pub mod cases;
pub mod gates;
pub mod intents;
pub mod metrics;
pub mod report;
pub mod run;
pub mod turns;
