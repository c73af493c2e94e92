//! `purchases.productsv2.getproductpurchasev2`.

use play_model::purchases::{
    AcknowledgementState, ConsumptionState, ProductLineItem, ProductOfferDetails,
    ProductPurchaseV2, PurchaseStateContext, TestPurchaseContext,
};

use super::{Call, Reply};
use crate::clock::datetime;
use crate::error::GoogleError;
use crate::state::{Model, Purchase};

/// The `ProductPurchaseV2` resource.
pub fn product_purchase_v2(p: &Purchase) -> ProductPurchaseV2 {
    ProductPurchaseV2 {
        kind: Some(ProductPurchaseV2::KIND.into()),
        order_id: Some(p.order_id.clone()),
        region_code: Some(p.region_code.clone()),
        purchase_state_context: Some(PurchaseStateContext {
            purchase_state: Some(p.product_state.into()),
        }),
        acknowledgement_state: Some(AcknowledgementState::of(p.acknowledged)),
        product_line_item: vec![ProductLineItem {
            product_id: Some(p.product_id.clone()),
            product_offer_details: Some(ProductOfferDetails {
                quantity: Some(p.quantity.into()),
                refundable_quantity: Some(p.refundable_quantity().into()),
                consumption_state: Some(ConsumptionState::of(p.consumed)),
                purchase_option_id: p.purchase_option_id.clone(),
                ..Default::default()
            }),
        }],
        purchase_completion_time: p.purchased_ms.and_then(datetime),
        test_purchase_context: p.test.then(|| TestPurchaseContext {
            fop_type: Some("TEST".into()),
        }),
        obfuscated_external_account_id: p.obfuscated_account_id.clone(),
        obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
    }
}

/// `productsv2.getproductpurchasev2`: one-time purchases only (a subscription token is
/// unknown here).
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let p = super::products::one_time(m, call.param("token"), None)?;
    Ok(Reply::resource(&product_purchase_v2(p)))
}
