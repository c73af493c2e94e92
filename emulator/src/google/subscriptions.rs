//! `purchases.subscriptions.acknowledge` (the v1 acknowledge, still current; the v1 `get`
//! is gone from the discovery document and not served).

use serde::Deserialize;

use super::{parse_body, Call, Reply};
use crate::error::GoogleError;
use crate::state::{Model, SubState};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AcknowledgeRequest {
    developer_payload: Option<String>,
    external_account_ids: Option<ExternalAccountIds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExternalAccountIds {
    obfuscated_account_id: Option<String>,
    obfuscated_profile_id: Option<String>,
}

/// `subscriptions.acknowledge`: harmless when already acknowledged; `400
/// invalidPurchaseState` for a pending, canceled-pending or expired subscription.
pub fn acknowledge(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let req: AcknowledgeRequest = parse_body(&call.body)?;
    let token = call.param("token");
    let p = super::subscriptionsv2::subscription(m, token)?;
    if p.product_id != call.param("subscriptionId") {
        return Err(GoogleError::token_product_mismatch());
    }
    if !p.sub_state.is_live() || p.sub_state == SubState::Pending {
        return Err(GoogleError::invalid_purchase_state());
    }
    let p = m.purchases.get_mut(token).expect("checked");
    if !p.acknowledged {
        p.acknowledged = true;
        p.version += 1;
        if req.developer_payload.is_some() {
            p.developer_payload = req.developer_payload;
        }
        if let Some(ids) = req.external_account_ids {
            if ids.obfuscated_account_id.is_some() {
                p.obfuscated_account_id = ids.obfuscated_account_id;
            }
            if ids.obfuscated_profile_id.is_some() {
                p.obfuscated_profile_id = ids.obfuscated_profile_id;
            }
        }
    }
    Ok(Reply::Empty)
}
