//! Model inference on candle: the BERT-family embedder and the thread it runs on.

pub mod bert;
pub mod bert_forward;
pub mod hub;
mod kernels;
pub mod worker;
