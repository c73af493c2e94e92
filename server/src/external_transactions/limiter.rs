//! One rate limit for every replica: Google allows 1,200 external transaction creates and
//! refunds together a minute per app, however many servers call. It is one bucket
//! ([`Bucket::ExternalTransactionWrites`]) of the quota limiter every Google call goes
//! through ([`crate::play::quota`]): GCRA in the `rate_limits` table, the database deciding
//! for every replica. The worker books a slot of it before each create or refund (and the
//! call itself a slot of the external transactions bucket); the default of 1,188 a minute
//! leaves 1 % for network jitter.

use crate::play::quota::Bucket;
pub use crate::play::quota::{Limiter, TOLERANCE_SLOTS};

/// The shared limit of external transaction writes (create + refund).
pub const WRITES: &str = Bucket::ExternalTransactionWrites.row();
