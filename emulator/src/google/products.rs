//! `purchases.products`: get, acknowledge, consume.

use play_model::purchases::ProductPurchase;
use serde::Deserialize;

use super::{parse_body, Call, Reply};
use crate::error::GoogleError;
use crate::state::{Kind, Model, ProductState, Purchase};

/// A one-time purchase by token, checked against the path's product id. A subscription
/// token here is an unknown token (`400 invalid`), as the one-time store does not know it.
pub(crate) fn one_time<'m>(
    m: &'m Model,
    token: &str,
    product_id: Option<&str>,
) -> Result<&'m Purchase, GoogleError> {
    let p = m
        .purchases
        .get(token)
        .filter(|p| p.kind == Kind::Product)
        .ok_or_else(GoogleError::unknown_token)?;
    if product_id.is_some_and(|id| id != p.product_id) {
        return Err(GoogleError::token_product_mismatch());
    }
    Ok(p)
}

/// The `ProductPurchase` resource.
pub fn product_purchase(p: &Purchase) -> ProductPurchase {
    ProductPurchase {
        kind: Some(ProductPurchase::KIND.into()),
        purchase_time_millis: Some(p.created_ms),
        purchase_state: Some(p.product_state.into()),
        consumption_state: Some(p.consumed.into()),
        developer_payload: Some(p.developer_payload.clone().unwrap_or_default()),
        order_id: Some(p.order_id.clone()),
        acknowledgement_state: Some(p.acknowledged.into()),
        product_id: Some(p.product_id.clone()),
        purchase_token: Some(p.token.clone()),
        quantity: Some(p.quantity.into()),
        refundable_quantity: Some(p.refundable_quantity().into()),
        region_code: Some(p.region_code.clone()),
        purchase_type: p.test.then_some(0),
        obfuscated_external_account_id: p.obfuscated_account_id.clone(),
        obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
    }
}

/// `products.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let p = one_time(m, call.param("token"), Some(call.param("productId")))?;
    Ok(Reply::resource(&product_purchase(p)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AcknowledgeRequest {
    developer_payload: Option<String>,
}

/// `products.acknowledge`: harmless when already acknowledged; `400 invalidPurchaseState`
/// unless PURCHASED.
pub fn acknowledge(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let req: AcknowledgeRequest = parse_body(&call.body)?;
    let token = call.param("token");
    let p = one_time(m, token, Some(call.param("productId")))?;
    if p.product_state != ProductState::Purchased {
        return Err(GoogleError::invalid_purchase_state());
    }
    if !p.acknowledged {
        let p = m.purchases.get_mut(token).expect("checked");
        p.acknowledged = true;
        p.version += 1;
        if req.developer_payload.is_some() {
            p.developer_payload = req.developer_payload;
        }
    }
    Ok(Reply::Empty)
}

/// `products.consume`: consumes and acknowledges; harmless when already consumed;
/// `400 invalidPurchaseState` unless PURCHASED.
pub fn consume(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let token = call.param("token");
    let p = one_time(m, token, Some(call.param("productId")))?;
    if p.product_state != ProductState::Purchased {
        return Err(GoogleError::invalid_purchase_state());
    }
    let p = m.purchases.get_mut(token).expect("checked");
    if !p.consumed {
        p.consumed = true;
        p.acknowledged = true;
        p.version += 1;
    }
    Ok(Reply::Empty)
}
