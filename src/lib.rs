//! # pwa-billing
//!
//! Sell digital goods from a Progressive Web App on Google Play: one connected object over
//! the Digital Goods API and the Payment Request API (inside a Trusted Web Activity), that
//! forwards every purchase token to a companion server for verification and keeps tokens
//! in a durable outbox until the server has answered.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pwa_billing::Error> {
//! use pwa_billing::{AuthToken, ConnectOptions, PlayBilling};
//!
//! let mut options = ConnectOptions::new("https://example.com/v1");
//! options.auth_token = AuthToken::Static("session-jwt".into());
//! let billing = PlayBilling::connect(options).await?;
//! let items = billing.get_details(&["coins_100", "sub_monthly"]).await?;
//! let bought = billing.purchase(&items[0].item_id).await?;
//! assert!(bought.verification.entitlement.entitled);
//! # Ok(()) }
//! ```
//!
//! The same API is exported to JavaScript in camelCase (`PlayBilling.connect`,
//! `getDetails`, `purchase`, …) with TypeScript types; see `docs/library.md`.
#![deny(missing_docs)]

mod answer;
mod backend;
mod billing;
mod convert;
mod error;
mod js;
mod outbox;
pub mod price;
mod replacement;
mod sys;
mod text;
mod types;

pub use backend::AuthToken;
pub use billing::{
    ConnectOptions, PlayBilling, SubscriptionChange, CONNECT_ATTEMPTS, CONNECT_RETRY_MS,
    PLAY_BILLING,
};
pub use error::Error;
pub use outbox::BAD_RESPONSE_ATTEMPTS;
pub use replacement::ReplacementMode;
pub use types::{
    Amount, Diagnosis, Entitlement, EntitlementKind, EntitlementState, ItemDetails, ItemType,
    PendingToken, PurchaseDetails, PurchaseResult, Verification,
};

/// Installs a panic hook that prints Rust panics to the console (feature `panic-hook`).
#[cfg(feature = "panic-hook")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Talc instead of the default dlmalloc: about half its size in the wasm, and faster
/// (feature `talc-allocator`, on by default; off for Rust apps with their own allocator).
#[cfg(all(
    feature = "talc-allocator",
    target_family = "wasm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
