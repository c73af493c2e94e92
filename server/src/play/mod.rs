//! A client of the Google Play Developer API (androidpublisher v3): service-account OAuth,
//! typed resources (from `play_model`), Google's error format, retries with backoff and jitter.

pub mod auth;
pub mod client;
pub mod external_transactions;
pub mod quota;
pub mod retry;
pub mod status;

pub use auth::{ServiceAccountKey, TokenSource};
pub use client::PlayClient;
pub use play_model::{orders, voided};
pub use status::{PlayError, Status};

/// An HTTP client for Google (rustls with ring).
pub fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("pwa-billing/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("reqwest client with the ring provider installed")
}
