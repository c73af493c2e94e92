//! The contract itself: every served route is a method of the discovery document with the
//! same HTTP method and flatPath, and the validator catches what it must.

mod support;

use play_emulator::google::ROUTES;
use serde_json::json;
use support::contract;

#[test]
fn every_route_is_a_discovery_method() {
    let methods = contract::methods();
    for r in ROUTES {
        let m = methods
            .iter()
            .find(|m| m["id"] == r.id)
            .unwrap_or_else(|| panic!("{} is not in the discovery document", r.id));
        assert_eq!(m["httpMethod"], r.http_method, "{}", r.id);
        assert_eq!(m["flatPath"], r.flat_path, "{}", r.id);
    }
    // Every purchases method the issue asks for is served.
    for id in [
        "androidpublisher.purchases.products.get",
        "androidpublisher.purchases.products.acknowledge",
        "androidpublisher.purchases.products.consume",
        "androidpublisher.purchases.productsv2.getproductpurchasev2",
        "androidpublisher.purchases.subscriptionsv2.get",
        "androidpublisher.purchases.subscriptionsv2.cancel",
        "androidpublisher.purchases.subscriptionsv2.revoke",
        "androidpublisher.purchases.subscriptionsv2.defer",
        "androidpublisher.purchases.subscriptions.acknowledge",
        "androidpublisher.purchases.voidedpurchases.list",
    ] {
        assert!(ROUTES.iter().any(|r| r.id == id), "{id} is not served");
    }
    // Every inappproducts method.
    for m in methods.iter().filter(|m| {
        m["id"]
            .as_str()
            .unwrap()
            .starts_with("androidpublisher.inappproducts.")
    }) {
        assert!(
            ROUTES.iter().any(|r| r.id == m["id"]),
            "{} is not served",
            m["id"]
        );
    }
}

#[test]
fn validator_catches_violations() {
    let schema = json!({ "$ref": "ProductPurchase" });
    let mut errors = Vec::new();
    contract::validate(
        &schema,
        &json!({ "purchaseTimeMillis": "123", "purchaseState": 0, "kind": "k" }),
        "$",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({ "purchaseTimeMillis": 123 }),
        json!({ "purchaseTimeMillis": "12x" }),
        json!({ "purchaseState": "0" }),
        json!({ "unknownField": true }),
        json!({ "quantity": 1.5 }),
    ] {
        let mut errors = Vec::new();
        contract::validate(&schema, &bad, "$", &mut errors);
        assert!(!errors.is_empty(), "{bad} should fail");
    }
    let mut errors = Vec::new();
    contract::validate(
        &json!({ "$ref": "SubscriptionPurchaseV2" }),
        &json!({ "subscriptionState": "ACTIVE" }),
        "$",
        &mut errors,
    );
    assert!(!errors.is_empty(), "enum values are checked");
    let mut errors = Vec::new();
    contract::validate(
        &json!({ "$ref": "SubscriptionPurchaseV2" }),
        &json!({ "startTime": "yesterday" }),
        "$",
        &mut errors,
    );
    assert!(!errors.is_empty(), "datetimes are checked");
    assert!(
        contract::method_for(
            "POST",
            "androidpublisher/v3/applications/p/purchases/products/x/tokens/t:acknowledge"
        )
        .unwrap()["id"]
            == "androidpublisher.purchases.products.acknowledge"
    );
    assert!(contract::method_for("GET", "androidpublisher/v3/applications/p/nowhere").is_none());
    assert!(
        !contract::validate_error(400, &json!({ "error": { "code": 400, "message": "m" } }))
            .is_empty()
    );
}
