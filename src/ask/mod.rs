//! One turn of a conversation. For now: hybrid retrieval, the part every answer stands on.

pub mod dialogue;
pub mod handoff;
pub mod retrieve;
pub mod tools;
