//! polyauth's shared core: domain types, use cases, the store and sender ports with their
//! adapters, and the five HTTP dialects. Functions and the local binary are thin wiring on top.

pub mod app;
pub mod aws;
pub mod clock;
pub mod config;
pub mod dialects;
pub mod domain;
pub mod error;
pub mod http;
pub mod lambda;
pub mod local;
pub mod metrics;
pub mod openapi;
pub mod random;
pub mod schema;
pub mod sender;
pub mod services;
pub mod store;

pub use error::{Error, Result};
pub use services::Auth;
