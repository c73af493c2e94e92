//! The shared part of the four `batchUpdateStates` methods (purchase options, base plans,
//! subscription offers, one-time product offers): 1–100 entries, each `{activate…Request:
//! {…}}` (→ ACTIVE), `{deactivate…Request: {…}}` (→ INACTIVE) or, for one-time product
//! offers, `{cancel…Request: {…}}` (→ CANCELLED), with its own `latencyTolerance`, the path's
//! `productId` `-` or each entry's product, every change made on a staged copy (several
//! entries may touch one resource) so that the batch is all or nothing.

use play_model::subscriptions::{BasePlanState, BasePlanStateRequest, OfferStateRequest};
use serde_json::Value;

use super::inappproducts::{batch_size, check_latency, check_tolerance};
use super::Call;
use crate::error::GoogleError;

/// Staged resources by key, in first-touched order.
pub(crate) type Staged<T> = Vec<(String, T)>;

/// The inner request of a state change entry: its product and latency tolerance.
pub(crate) trait StateEntry {
    /// The product id it names.
    fn product(&self) -> &str;
    /// Refuses a latency tolerance Google does not define.
    fn check_latency(&self) -> Result<(), GoogleError>;
}

impl StateEntry for Value {
    fn product(&self) -> &str {
        self["productId"].as_str().unwrap_or_default()
    }

    fn check_latency(&self) -> Result<(), GoogleError> {
        check_tolerance(self["latencyTolerance"].as_str())
    }
}

/// The typed inner requests: `productId` and `latencyTolerance` fields.
macro_rules! typed_state_entry {
    ($($t:ty),+) => {$(
        impl StateEntry for $t {
            fn product(&self) -> &str {
                self.product_id.as_deref().unwrap_or_default()
            }

            fn check_latency(&self) -> Result<(), GoogleError> {
                check_latency(self.latency_tolerance)
            }
        }
    )+};
}

typed_state_entry!(BasePlanStateRequest, OfferStateRequest);

/// The entries of a batch kept as JSON: `kinds` names each request kind and its target
/// state.
pub(crate) fn json_entries<S: Copy>(
    call: &Call,
    kinds: &[(&str, S)],
) -> Result<Vec<(Value, S)>, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let found = kinds.iter().find(|(k, _)| r[*k].is_object());
            let (k, to) = found.ok_or_else(|| missing(i, kinds.iter().map(|(k, _)| *k)))?;
            Ok((r[*k].clone(), *to))
        })
        .collect()
}

/// The changes of typed entries: `split` gives each entry's activate and deactivate
/// requests (→ ACTIVE, → INACTIVE); `names` are their fields, for the refusal of an entry
/// with neither.
pub(crate) fn typed_entries<R, E>(
    requests: Vec<R>,
    split: impl Fn(R) -> (Option<E>, Option<E>),
    names: [&str; 2],
) -> Result<Vec<(E, BasePlanState)>, GoogleError> {
    let entries = requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| match split(r) {
            (Some(a), _) => Ok((a, BasePlanState::Active)),
            (None, Some(d)) => Ok((d, BasePlanState::Inactive)),
            (None, None) => Err(missing(i, names)),
        });
    entries.collect()
}

fn missing<'a>(i: usize, names: impl IntoIterator<Item = &'a str>) -> GoogleError {
    let names: Vec<&str> = names.into_iter().collect();
    GoogleError::required(&format!("requests[{i}].{}", names.join(" or ")))
}

/// Runs `entries` (each an inner request and its target state) of `call`: `load` gives an
/// entry's resource key and stored resource, `change` moves it to the target state.
/// Returns the changed resources, not yet stored.
pub(crate) fn batch_update_states<E: StateEntry, S: Copy, T>(
    call: &Call,
    entries: Vec<(E, S)>,
    mut load: impl FnMut(&E) -> Result<(String, T), GoogleError>,
    mut change: impl FnMut(&mut T, &E, S) -> Result<(), GoogleError>,
) -> Result<Staged<T>, GoogleError> {
    batch_size(entries.len())?;
    let path_product = call.param("productId");
    let mut staged: Staged<T> = Vec::new();
    for (i, (inner, to)) in entries.iter().enumerate() {
        inner.check_latency()?;
        if !matches!(path_product, "-" | "") && inner.product() != path_product {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].productId does not match the URL."
            )));
        }
        let (key, stored) = load(inner)?;
        let mut resource = match staged.iter().position(|(k, _)| *k == key) {
            Some(p) => staged.remove(p).1,
            None => stored,
        };
        change(&mut resource, inner, *to)?;
        staged.push((key, resource));
    }
    Ok(staged)
}
