//! One turn of a conversation. For now: hybrid retrieval, the part every answer stands on.

pub mod retrieve;
pub mod understand;
