//! pwa-billing companion server: verifies Google Play purchases of a PWA, grants each token
//! once to one account, acknowledges (or consumes) it through a durable outbox, and serves
//! the caller's entitlements.
#![deny(missing_docs)]

pub mod auth;
pub mod catalog;
pub mod config;
pub mod connections;
pub mod console;
pub mod db;
pub mod entitlement;
pub mod error;
pub mod external_transactions;
pub mod fingerprint;
pub mod jwks;
pub mod lifecycle;
pub mod metrics;
pub mod play;
pub mod product;
pub mod reconcile;
pub mod reports;
pub mod routes;
pub mod rtdn;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod server;
pub mod settle;
pub mod single_flight;
pub mod state;
pub mod token_cache;
pub mod verify;
pub mod voided;
pub mod watchdog;
pub mod webhooks;
pub mod worker;

pub use server::{app, RunningServer};
pub use state::AppState;
