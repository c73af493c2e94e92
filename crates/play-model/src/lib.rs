//! One model of Google's Play Developer API for the pwa-billing server and the Play
//! emulator: the methods ([`methods`]: id, HTTP method, `flatPath`), exact money
//! ([`money`]), Google's id rules ([`ids`]), the codes of real-time developer notifications
//! ([`rtdn`]), the purchase resources ([`purchases`]) and the catalog file of `pwa-billing catalog` ([`catalog_file`]).
//!
//! Both sides use these, so a test against Google's own description (the discovery
//! document, in the emulator's contract tests) is what proves them right.

#![deny(missing_docs)]

pub mod catalog_file;
pub mod ids;
pub mod methods;
pub mod money;
pub mod purchases;
pub mod rtdn;

pub use catalog_file::CatalogFile;
pub use methods::Method;
pub use money::{Amount, Money, Price};
