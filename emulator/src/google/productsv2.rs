//! `purchases.productsv2.getproductpurchasev2`.

use serde_json::{json, Value};

use super::{Call, Reply};
use crate::clock::rfc3339;
use crate::error::GoogleError;
use crate::state::{Model, ProductState, Purchase};

/// The `ProductPurchaseV2` resource.
pub fn product_purchase_v2(p: &Purchase) -> Value {
    let mut v = json!({
        "kind": "androidpublisher#productPurchaseV2",
        "orderId": p.order_id,
        "regionCode": p.region_code,
        "purchaseStateContext": { "purchaseState": match p.product_state {
            ProductState::Purchased => "PURCHASED",
            ProductState::Canceled => "CANCELLED",
            ProductState::Pending => "PENDING",
        }},
        "acknowledgementState": if p.acknowledged { "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED" } else { "ACKNOWLEDGEMENT_STATE_PENDING" },
        "productLineItem": [{
            "productId": p.product_id,
            "productOfferDetails": {
                "quantity": p.quantity,
                "refundableQuantity": p.refundable_quantity(),
                "consumptionState": if p.consumed { "CONSUMPTION_STATE_CONSUMED" } else { "CONSUMPTION_STATE_YET_TO_BE_CONSUMED" },
                "purchaseOptionId": p.purchase_option_id,
            },
        }],
    });
    if let Some(t) = p.purchased_ms {
        v["purchaseCompletionTime"] = json!(rfc3339(t));
    }
    if p.test {
        v["testPurchaseContext"] = json!({ "fopType": "TEST" });
    }
    if let Some(a) = &p.obfuscated_account_id {
        v["obfuscatedExternalAccountId"] = json!(a);
    }
    if let Some(a) = &p.obfuscated_profile_id {
        v["obfuscatedExternalProfileId"] = json!(a);
    }
    v
}

/// `productsv2.getproductpurchasev2`: one-time purchases only (a subscription token is
/// unknown here).
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let p = super::products::one_time(m, call.param("token"), None)?;
    Ok(Reply::Json(product_purchase_v2(p)))
}
