//! External transactions: payments an app takes outside Play billing (alternative billing,
//! user choice billing, external offers), which Google requires reported within 24 hours of
//! the payment, and their refunds.
//!
//! The app's payment system posts each payment and refund to the API
//! ([`crate::routes::external_transactions`]); it is validated ([`model`]), stored with its
//! delivery job in one database transaction ([`store`]) and answered `202` before any call
//! to Google. The worker then reports it ([`delivery`]), paced by one limiter shared by
//! every replica ([`limiter`]); the [`watchdog`] watches the 24-hour deadline, and
//! [`cli`] imports a backlog from a file and shows the status.

pub mod cli;
pub mod delivery;
pub mod limiter;
pub mod model;
pub mod watchdog;

/// The outbox job kind that reports a payment.
pub const JOB_REPORT: &str = "external_transaction.report";
/// The outbox job kind that reports a refund.
pub const JOB_REFUND: &str = "external_transaction.refund";
