//! Commerce backends: live orders, stock, prices and members behind
//! [`crate::ports::CommerceBackend`].
//!
//! - [`SqliteStore`]: the embedded store, one SQLite file in the data dir seeded from
//!   `knowledge/store/*.json` and reseeded when those files change; what shoppers create
//!   (returns, restock subscriptions, work orders, order changes) survives a reseed.
//! - [`HttpBackend`]: a connector to an external order system over a small JSON REST API
//!   (documented in [`http`]).
//!
//! Both answer the same questions the same way: the tests run one behaviour suite against
//! the store directly and against the connector talking to a mock server that serves the
//! store over that REST API.

pub mod http;
mod rules;
mod seed;
pub mod sqlite;

#[cfg(test)]
mod behaviour;
#[cfg(test)]
mod testing;

pub use http::{HttpBackend, HttpBackendConfig};
pub use sqlite::SqliteStore;
