//! One turn of a conversation: understand, dialogue state, tools, hybrid retrieval,
//! grounded composition, handoff and gap logging.

pub mod address;
pub mod assistant;
pub mod browse;
pub mod compose;
pub mod dialogue;
pub mod handoff;
pub mod retrieve;
pub mod tools;
pub mod understand;

pub use assistant::{Assistant, MAX_MESSAGE_CHARS, TurnError, TurnRequest};
