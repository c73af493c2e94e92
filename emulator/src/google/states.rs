//! The shared part of the four `batchUpdateStates` methods (purchase options, base plans,
//! subscription offers, one-time product offers): 1–100 entries, each `{activate…Request:
//! {…}}` (→ ACTIVE), `{deactivate…Request: {…}}` (→ INACTIVE) or, for one-time product
//! offers, `{cancel…Request: {…}}` (→ CANCELLED), with its own `latencyTolerance`, the path's
//! `productId` `-` or each entry's product, every change made on a staged copy (several
//! entries may touch one resource) so that the batch is all or nothing.

use serde_json::Value;

use super::inappproducts::{batch_size, check_tolerance};
use super::Call;
use crate::error::GoogleError;

/// Staged resources by key, in first-touched order.
pub(crate) type Staged<T> = Vec<(String, T)>;

/// Runs the entries of `call`: `kinds` names each request kind and its target state, `load`
/// gives an entry's resource key and stored resource, `change` moves it to the target
/// state. Returns the changed resources, not yet stored.
pub(crate) fn batch_update_states<T>(
    call: &Call,
    kinds: &[(&str, &'static str)],
    mut load: impl FnMut(&Value) -> Result<(String, T), GoogleError>,
    mut change: impl FnMut(&mut T, &Value, &'static str) -> Result<(), GoogleError>,
) -> Result<Staged<T>, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    let path_product = call.param("productId");
    let mut staged: Staged<T> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let Some((inner, to)) = kinds
            .iter()
            .find(|(k, _)| r[*k].is_object())
            .map(|(k, to)| (&r[*k], *to))
        else {
            let names: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
            return Err(GoogleError::required(&format!(
                "requests[{i}].{}",
                names.join(" or ")
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
