//! One turn of a conversation. For now: hybrid retrieval, the part every answer stands on,
//! and grounded extractive answers composed from what it found.

pub mod compose;
pub mod retrieve;
