//! The shared part of the three `batchUpdateStates` methods (purchase options, base plans,
//! subscription offers): 1–100 entries, each `{activate…Request: {…}}` (→ ACTIVE) or
//! `{deactivate…Request: {…}}` (→ INACTIVE) with its own `latencyTolerance`, the path's
//! `productId` `-` or each entry's product, every change made on a staged copy (several
//! entries may touch one resource) so that the batch is all or nothing.

use serde_json::Value;

use super::inappproducts::{batch_size, check_tolerance};
use super::Call;
use crate::error::GoogleError;

/// Staged resources by key, in first-touched order.
pub(crate) type Staged = Vec<(String, Value)>;

/// Runs the entries of `call`: `load` gives an entry's resource key and stored resource,
/// `change` moves it to the target state. Returns the changed resources, not yet stored.
pub(crate) fn batch_update_states(
    call: &Call,
    (activate, deactivate): (&str, &str),
    mut load: impl FnMut(&Value) -> Result<(String, Value), GoogleError>,
    mut change: impl FnMut(&mut Value, &Value, &'static str) -> Result<(), GoogleError>,
) -> Result<Staged, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    let path_product = call.param("productId");
    let mut staged: Staged = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let (inner, to) = if r[activate].is_object() {
            (&r[activate], "ACTIVE")
        } else if r[deactivate].is_object() {
            (&r[deactivate], "INACTIVE")
        } else {
            return Err(GoogleError::required(&format!(
                "requests[{i}].{activate} or {deactivate}"
            )));
        };
        check_tolerance(inner["latencyTolerance"].as_str())?;
        if !matches!(path_product, "-" | "") && inner["productId"] != path_product {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].productId does not match the URL."
            )));
        }
        let (key, stored) = load(inner)?;
        let mut resource = match staged.iter().position(|(k, _)| *k == key) {
            Some(p) => staged.remove(p).1,
            None => stored,
        };
        change(&mut resource, inner, to)?;
        staged.push((key, resource));
    }
    Ok(staged)
}
