//! One module per resource, each with `router() -> OpenApiRouter<AppState>`, merged in
//! [`crate::app`].

pub mod accounts;
pub mod dev;
pub mod entitlements;
pub mod events;
pub mod external_transactions;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod purchases;
pub mod reports;
pub mod rtdn;
