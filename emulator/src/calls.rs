//! Call counting: every Google-side call that reaches a known method is counted under its
//! discovery method id (`androidpublisher.purchases.products.get`, …) before faults,
//! authentication and quotas are applied, as Google's own request metrics count it. Token
//! fetches count as `oauth2.token`. `GET /emulator/v1/calls` shows the counts;
//! `DELETE /emulator/v1/calls` (and `reset`) zeroes them.

use std::collections::BTreeMap;

use crate::state::Model;

/// Counts one call.
pub fn record(model: &mut Model, method_id: &str) {
    *model.calls.entry(method_id.to_string()).or_default() += 1;
}

/// The counts so far.
pub fn snapshot(model: &Model) -> BTreeMap<String, u64> {
    model.calls.clone()
}
