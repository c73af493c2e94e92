//! The shared part of the four `batchUpdateStates` methods (purchase options, base plans,
//! subscription offers, one-time product offers): 1–100 entries, each `{activate…Request:
//! {…}}` (→ ACTIVE), `{deactivate…Request: {…}}` (→ INACTIVE) or, for one-time product
//! offers, `{cancel…Request: {…}}` (→ CANCELLED), with its own `latencyTolerance`, the path's
//! `productId` `-` or each entry's product, every change made on a staged copy (several
//! entries may touch one resource) so that the batch is all or nothing.

use play_model::onetimeproducts::{OneTimeProductOfferRequest, PurchaseOptionStateRequest};
use play_model::subscriptions::{BasePlanStateRequest, Batch, OfferStateRequest, StateChange};

use super::inappproducts::{batch_size, check_latency};
use super::{parse_body, Call};
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

/// The inner requests: `productId` and `latencyTolerance` fields.
macro_rules! state_entry {
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

state_entry!(
    BasePlanStateRequest,
    OfferStateRequest,
    PurchaseOptionStateRequest,
    OneTimeProductOfferRequest
);

/// Each entry's inner request and the state it moves to.
pub(crate) type Changes<B> = Vec<(<B as StateChange>::Request, <B as StateChange>::State)>;

/// The changes of the call's `Batch` of `B` entries: each entry's request and target
/// state, refused (naming the request fields) when an entry has none.
pub(crate) fn entries<B>(call: &Call) -> Result<Changes<B>, GoogleError>
where
    B: StateChange + serde::de::DeserializeOwned + Default,
{
    let batch: Batch<B> = parse_body(&call.body)?;
    let entries = batch.requests.into_iter().enumerate().map(|(i, r)| {
        r.change().ok_or_else(|| {
            GoogleError::required(&format!("requests[{i}].{}", B::FIELDS.join(" or ")))
        })
    });
    entries.collect()
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
