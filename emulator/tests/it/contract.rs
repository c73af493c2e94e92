//! The contract itself: every served route is a method of the discovery document with the
//! same HTTP method and flatPath, and the validator catches what it must.

use crate::support;

use play_model::methods::ROUTES;
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

/// One successful call of every served method, each response validated against its schema.
#[tokio::test]
async fn tour_of_every_route() {
    let e = support::Emu::start().await;
    let p = e.buy(json!({ "productId": "coins_100", "test": true, "obfuscatedExternalAccountId": "a", "obfuscatedExternalProfileId": "b" })).await;
    let p2 = e
        .buy(json!({ "productId": "coins_100", "quantity": 2 }))
        .await;
    let s = e
        .buy(
            json!({ "productId": "sub_monthly", "test": true, "obfuscatedExternalAccountId": "a" }),
        )
        .await;
    let s2 = e.buy(json!({ "productId": "sub_yearly" })).await;
    e.action(&p2, "void", Some(json!({ "quantity": 1 }))).await;
    e.action(&s2, "pause", None).await;
    let ok = |(status, body): (u16, serde_json::Value)| {
        assert!(status < 300, "{status}: {body}");
        body
    };
    ok(e.product("coins_100", &p).await);
    let (o1, o2) = (e.order_id(&p2).await, e.order_id(&s2).await);
    ok(e.google("GET", &format!("orders/{o1}"), None).await);
    ok(e.google(
        "GET",
        &format!("orders:batchGet?orderIds={o1}&orderIds={o2}"),
        None,
    )
    .await);
    ok(
        e.google("GET", &format!("purchases/productsv2/tokens/{p}"), None)
            .await,
    );
    ok(e.google(
        "POST",
        &format!("purchases/products/coins_100/tokens/{p}:acknowledge"),
        Some(json!({ "developerPayload": "d" })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("purchases/products/coins_100/tokens/{p2}:consume"),
        None,
    )
    .await);
    ok(e.google(
        "POST",
        &format!("purchases/subscriptions/sub_monthly/tokens/{s}:acknowledge"),
        Some(json!({ "externalAccountIds": { "obfuscatedAccountId": "x" } })),
    )
    .await);
    ok(e.subscription(&s2).await);
    let sub = ok(e.subscription(&s).await);
    ok(e.google(
        "POST",
        &format!("purchases/subscriptionsv2/tokens/{s}:defer"),
        Some(json!({ "deferralContext": { "deferDuration": "3600s", "etag": sub["etag"] } })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("purchases/subscriptionsv2/tokens/{s}:cancel"),
        Some(json!({})),
    )
    .await);
    ok(e.subscription(&s).await);
    ok(e.google(
        "POST",
        &format!("purchases/subscriptionsv2/tokens/{s}:revoke"),
        Some(json!({ "revocationContext": { "proratedRefund": {} } })),
    )
    .await);
    ok(e.google(
        "GET",
        "purchases/voidedpurchases?type=1&includeQuantityBasedPartialRefund=true&maxResults=1",
        None,
    )
    .await);

    let iap = json!({ "sku": "t1", "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1000000", "currency": "USD" }, "listings": { "en-US": { "title": "T" } } });
    ok(e.google("POST", "inappproducts", Some(iap.clone())).await);
    ok(e.google("GET", "inappproducts/t1", None).await);
    ok(e.google("GET", "inappproducts?maxResults=1", None).await);
    ok(e.google("PUT", "inappproducts/t1", Some(iap.clone())).await);
    ok(e.google(
        "PATCH",
        "inappproducts/t1",
        Some(json!({ "status": "inactive" })),
    )
    .await);
    ok(e.google("GET", "inappproducts:batchGet?sku=t1", None).await);
    ok(e.google(
        "POST",
        "inappproducts:batchUpdate",
        Some(json!({ "requests": [{ "sku": "t1", "inappproduct": iap }] })),
    )
    .await);
    ok(e.google(
        "POST",
        "inappproducts:batchDelete",
        Some(json!({ "requests": [{ "sku": "t1" }] })),
    )
    .await);
    ok(e.google("POST", "inappproducts", Some(json!({ "sku": "t2", "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1", "currency": "USD" }, "listings": { "en-US": { "title": "T" } } }))).await);
    ok(e.google("DELETE", "inappproducts/t2", None).await);

    let sub_body = json!({
        "productId": "gold",
        "listings": [{ "languageCode": "en-US", "title": "Gold" }],
        "basePlans": [
            { "basePlanId": "m", "autoRenewingBasePlanType": { "billingPeriodDuration": "P1M" }, "regionalConfigs": [{ "regionCode": "US", "price": { "currencyCode": "USD", "units": "1" } }] },
            { "basePlanId": "p", "prepaidBasePlanType": { "billingPeriodDuration": "P1M" } },
        ],
    });
    ok(e.google(
        "POST",
        "subscriptions?productId=gold&regionsVersion.version=2022/02",
        Some(sub_body.clone()),
    )
    .await);
    ok(e.google("GET", "subscriptions/gold", None).await);
    ok(e.google("GET", "subscriptions?pageSize=1", None).await);
    ok(e.google(
        "PATCH",
        "subscriptions/gold?updateMask=listings&regionsVersion.version=2022/02",
        Some(sub_body.clone()),
    )
    .await);
    ok(
        e.google("GET", "subscriptions:batchGet?productIds=gold", None)
            .await,
    );
    ok(e.google("POST", "subscriptions:batchUpdate", Some(json!({ "requests": [{ "subscription": sub_body, "updateMask": "basePlans", "regionsVersion": { "version": "2022/02" } }] }))).await);
    ok(e.google("DELETE", "subscriptions/gold/basePlans/p", None)
        .await);
    ok(e.google(
        "POST",
        "subscriptions/gold/basePlans/m:activate",
        Some(json!({})),
    )
    .await);
    ok(e.google(
        "POST",
        "subscriptions/gold/basePlans/m:deactivate",
        Some(json!({})),
    )
    .await);
    ok(e.google(
        "POST",
        "subscriptions?productId=tmp&regionsVersion.version=2022/02",
        Some(json!({ "listings": [{ "languageCode": "en-US", "title": "Tmp" }] })),
    )
    .await);
    ok(e.google("DELETE", "subscriptions/tmp", None).await);
    ok(e.google(
        "POST",
        "subscriptions/gold/basePlans:batchUpdateStates",
        Some(json!({ "requests": [{ "activateBasePlanRequest": { "productId": "gold", "basePlanId": "m" } }] })),
    )
    .await);

    ok(e.google(
        "POST",
        "subscriptions/gold/basePlans/m:migratePrices",
        Some(json!({ "packageName": support::PKG, "productId": "gold", "basePlanId": "m", "regionsVersion": { "version": "2025/03" },
            "regionalPriceMigrations": [{ "regionCode": "US", "oldestAllowedPriceVersionTime": "2026-01-01T00:00:00Z", "priceIncreaseType": "PRICE_INCREASE_TYPE_OPT_IN" }] })),
    )
    .await);

    let offer = |id: &str| {
        json!({ "productId": "gold", "basePlanId": "m", "offerId": id,
        "phases": [{ "duration": "P7D", "recurrenceCount": 1, "regionalConfigs": [{ "regionCode": "US", "free": {} }] }],
        "regionalConfigs": [{ "regionCode": "US", "newSubscriberAvailability": true }],
        "targeting": { "acquisitionRule": { "scope": { "anySubscriptionInApp": {} } } },
        "offerTags": [{ "tag": "trial" }] })
    };
    ok(e.google("POST", "subscriptions/gold/basePlans/m/offers:batchUpdate", Some(json!({ "requests": [
        { "subscriptionOffer": offer("trial"), "allowMissing": true, "regionsVersion": { "version": "2025/03" } },
        { "subscriptionOffer": offer("draft"), "allowMissing": true, "regionsVersion": { "version": "2025/03" } },
    ] }))).await);
    ok(e.google(
        "GET",
        "subscriptions/-/basePlans/-/offers?pageSize=10",
        None,
    )
    .await);
    ok(
        e.google("GET", "subscriptions/gold/basePlans/m/offers/trial", None)
            .await,
    );
    ok(e.google(
        "POST",
        "subscriptions/-/basePlans/-/offers:batchUpdateStates",
        Some(json!({ "requests": [{ "activateSubscriptionOfferRequest": { "productId": "gold", "basePlanId": "m", "offerId": "trial" } }] })),
    )
    .await);
    ok(e.google(
        "DELETE",
        "subscriptions/gold/basePlans/m/offers/draft",
        None,
    )
    .await);

    let otp = json!({
        "productId": "gems",
        "listings": [{ "languageCode": "en-US", "title": "Gems", "description": "d" }],
        "purchaseOptions": [{ "purchaseOptionId": "buy", "buyOption": { "legacyCompatible": true },
            "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "price": { "currencyCode": "USD", "units": "1" }, "availability": "AVAILABLE" }] }],
    });
    ok(e.google(
        "PATCH",
        "onetimeproducts/gems?allowMissing=true&regionsVersion.version=2025/03",
        Some(otp.clone()),
    )
    .await);
    ok(e.google("POST", "oneTimeProducts:batchUpdate", Some(json!({ "requests": [{ "oneTimeProduct": otp, "updateMask": "listings", "regionsVersion": { "version": "2025/03" }, "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" }] }))).await);
    ok(e.google("GET", "oneTimeProducts/gems", None).await);
    ok(e.google("GET", "oneTimeProducts?pageSize=1", None).await);
    ok(
        e.google("GET", "oneTimeProducts:batchGet?productIds=gems", None)
            .await,
    );
    ok(e.google(
        "POST",
        "oneTimeProducts/-/purchaseOptions:batchUpdateStates",
        Some(json!({ "requests": [{ "activatePurchaseOptionRequest": { "productId": "gems", "purchaseOptionId": "buy" } }] })),
    )
    .await);
    ok(e.google(
        "PATCH",
        "onetimeproducts/draft1?allowMissing=true&regionsVersion.version=2025/03",
        Some(json!({ "listings": [{ "languageCode": "en-US", "title": "D" }] })),
    )
    .await);
    ok(e.google("DELETE", "oneTimeProducts/draft1", None).await);
    ok(e.google(
        "PATCH",
        "onetimeproducts/draft2?allowMissing=true&regionsVersion.version=2025/03",
        Some(json!({ "listings": [{ "languageCode": "en-US", "title": "D" }] })),
    )
    .await);
    ok(e.google(
        "POST",
        "oneTimeProducts:batchDelete",
        Some(json!({ "requests": [{ "productId": "draft2" }] })),
    )
    .await);
    let otp_offer = |id: &str| {
        json!({ "productId": "gems", "purchaseOptionId": "buy", "offerId": id,
            "discountedOffer": { "startTime": "2027-01-01T00:00:00Z", "redemptionLimit": "1" },
            "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "availability": "AVAILABLE", "relativeDiscount": 0.25 }],
            "offerTags": [{ "tag": "launch" }] })
    };
    let otp_offers = "oneTimeProducts/gems/purchaseOptions/buy/offers";
    ok(e.google("POST", &format!("{otp_offers}:batchUpdate"), Some(json!({ "requests": [
        { "oneTimeProductOffer": otp_offer("launch"), "allowMissing": true, "updateMask": "offerTags", "regionsVersion": { "version": "2025/03" } },
        { "oneTimeProductOffer": otp_offer("draft"), "allowMissing": true, "updateMask": "offerTags", "regionsVersion": { "version": "2025/03" } },
    ] }))).await);
    ok(e.google(
        "GET",
        "oneTimeProducts/-/purchaseOptions/-/offers?pageSize=10",
        None,
    )
    .await);
    let offer_ref = |id: &str| json!({ "packageName": support::PKG, "productId": "gems", "purchaseOptionId": "buy", "offerId": id });
    ok(e.google(
        "POST",
        &format!("{otp_offers}:batchGet"),
        Some(json!({ "requests": [offer_ref("launch")] })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{otp_offers}/launch:activate"),
        Some(json!({})),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{otp_offers}/launch:deactivate"),
        Some(json!({})),
    )
    .await);
    ok(e.google(
        "POST",
        "oneTimeProducts/-/purchaseOptions/-/offers:batchUpdateStates",
        Some(
            json!({ "requests": [{ "activateOneTimeProductOfferRequest": offer_ref("launch") }] }),
        ),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{otp_offers}/launch:cancel"),
        Some(json!({})),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{otp_offers}:batchDelete"),
        Some(json!({ "requests": [offer_ref("draft")] })),
    )
    .await);
    ok(e.google(
        "POST",
        "subscriptions/-/basePlans:batchMigratePrices",
        Some(json!({ "requests": [{ "packageName": support::PKG, "productId": "gold", "basePlanId": "m", "regionsVersion": { "version": "2025/03" },
            "regionalPriceMigrations": [{ "regionCode": "US", "oldestAllowedPriceVersionTime": "2026-01-01T00:00:00Z" }] }] })),
    )
    .await);
    ok(e.google(
        "POST",
        "pricing:convertRegionPrices",
        Some(json!({ "price": { "currencyCode": "USD", "units": "4", "nanos": 990_000_000 } })),
    )
    .await);

    let tx = json!({
        "originalPreTaxAmount": { "priceMicros": "1000000", "currency": "USD" },
        "originalTaxAmount": { "priceMicros": "100000", "currency": "USD" },
        "transactionTime": "2026-11-01T10:00:00Z",
        "userTaxAddress": { "regionCode": "US", "administrativeArea": "CA" },
        "oneTimeTransaction": { "externalTransactionToken": "tok" },
    });
    ok(e.google(
        "POST",
        "externalTransactions?externalTransactionId=t",
        Some(tx),
    )
    .await);
    ok(e.google("GET", "externalTransactions/t", None).await);
    ok(e.google(
        "POST",
        "externalTransactions/t:refund",
        Some(json!({ "refundTime": "2026-11-02T10:00:00Z", "fullRefund": {} })),
    )
    .await);

    // The single-offer methods of subscription offers.
    let plan_offers = "subscriptions/gold/basePlans/m/offers";
    let mut single = offer("single");
    single.as_object_mut().unwrap().remove("offerId");
    ok(e.google(
        "POST",
        &format!("{plan_offers}?offerId=single&regionsVersion.version=2025/03"),
        Some(single.clone()),
    )
    .await);
    ok(e.google(
        "PATCH",
        &format!("{plan_offers}/single?updateMask=offerTags&regionsVersion.version=2025/03"),
        Some(json!({ "offerTags": [{ "tag": "patched" }] })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{plan_offers}/single:activate"),
        Some(json!({ "packageName": support::PKG, "productId": "gold", "basePlanId": "m", "offerId": "single" })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{plan_offers}/single:deactivate"),
        Some(json!({ "packageName": support::PKG, "productId": "gold", "basePlanId": "m", "offerId": "single" })),
    )
    .await);
    ok(e.google(
        "POST",
        &format!("{plan_offers}:batchGet"),
        Some(json!({ "requests": [{ "packageName": support::PKG, "productId": "gold", "basePlanId": "m", "offerId": "single" }] })),
    )
    .await);
    // A draft purchase option deleted.
    let mut two = otp.clone();
    two["purchaseOptions"].as_array_mut().unwrap().push(json!({
        "purchaseOptionId": "spare", "buyOption": { "legacyCompatible": false },
        "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "price": { "currencyCode": "USD", "units": "2" }, "availability": "AVAILABLE" }],
    }));
    ok(e.google(
        "PATCH",
        "onetimeproducts/gems?updateMask=purchaseOptions&regionsVersion.version=2025/03",
        Some(two),
    )
    .await);
    ok(e.google(
        "POST",
        "oneTimeProducts/gems/purchaseOptions:batchDelete",
        Some(json!({ "requests": [{ "packageName": support::PKG, "productId": "gems", "purchaseOptionId": "spare" }] })),
    )
    .await);
    // orders.refund of a charged order.
    let refundable = e.buy(json!({ "productId": "premium_unlock" })).await;
    let order = e.order_id(&refundable).await;
    ok(
        e.google("POST", &format!("orders/{order}:refund?revoke=true"), None)
            .await,
    );
    // subscriptions.archive: deprecated by Google, answered 501 naming the method.
    let (status, body) = e
        .google("POST", "subscriptions/gold:archive", Some(json!({})))
        .await;
    assert_eq!(status, 501, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("androidpublisher.monetization.subscriptions.archive"),
        "{body}"
    );

    // Every method of play-model's table had a successful call validated by this test: a
    // method added to the table without a call here fails.
    let validated = e.validated.lock().unwrap().clone();
    let untested: Vec<&str> = ROUTES
        .iter()
        .map(|r| r.id)
        .filter(|id| *id != "androidpublisher.monetization.subscriptions.archive")
        .filter(|id| !validated.contains(*id))
        .collect();
    assert!(
        untested.is_empty(),
        "methods without a contract test: {untested:?}"
    );
    // Every method the server calls had a successful call here, its request body checked
    // by the emulator's `contract` feature and its response by this test: a server call
    // site added for a method without a contract test fails.
    let server = contract::server_methods();
    assert!(
        server.len() >= 30,
        "the scan of server/src found only {server:?}"
    );
    let unexercised: Vec<String> = server
        .iter()
        .filter(|(id, _)| !validated.contains(**id))
        .map(|(id, files)| format!("{id} (called in {})", files.join(", ")))
        .collect();
    assert!(
        unexercised.is_empty(),
        "server calls without a contract test: {unexercised:?}"
    );
}

/// The scan behind the server's coverage: every constant of play-model's table is named
/// from its method id, call sites are found by constant and by `by_id`, and a name that is
/// no method of the table is an error, not a call that goes unchecked.
#[test]
fn the_server_call_scan_reads_the_method_table() {
    let table = include_str!("../../../crates/play-model/src/methods.rs");
    for r in ROUTES {
        let name = contract::const_name(r.id);
        assert!(
            table.contains(&format!("    {name} = \"{}\"", r.id)),
            "{} is not the constant {name}",
            r.id
        );
    }
    let refs = contract::method_refs(
        "use play_model::methods::{self, Method};\n\
         let a = self.url(&methods::ORDERS_GET, &[id]);\n\
         let b = methods::by_id(\"androidpublisher.purchases.products.consume\");\n\
         let c: &methods::Method = &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHUPDATE;",
    )
    .unwrap();
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        [
            "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate",
            "androidpublisher.orders.get",
            "androidpublisher.purchases.products.consume",
        ]
    );
    assert!(contract::method_refs("&methods::ORDERS_GETT").is_err());
    assert!(contract::method_refs("by_id(\"androidpublisher.orders.gett\")").is_err());
    let server = contract::server_methods();
    for id in [
        "androidpublisher.purchases.products.acknowledge",
        "androidpublisher.purchases.subscriptionsv2.get",
        "androidpublisher.monetization.subscriptions.batchUpdate",
        "androidpublisher.monetization.subscriptions.basePlans.migratePrices",
        "androidpublisher.externaltransactions.createexternaltransaction",
    ] {
        assert!(server.contains_key(id), "{id} not found in server/src");
    }
}

/// `orders.get` of an order id: (status, `state`).
async fn order_state(e: &support::Emu, order_id: &str) -> (u16, serde_json::Value) {
    let (status, body) = e.google("GET", &format!("orders/{order_id}"), None).await;
    (status, body["state"].clone())
}

/// Every order id a one-time purchase hands out resolves through `orders.get` in every state:
/// pending (`PENDING`), canceled while pending (`CANCELED`), purchased (`PROCESSED`),
/// partially and fully refunded.
#[tokio::test]
async fn one_time_order_ids_resolve_in_every_state() {
    let e = support::Emu::start().await;
    let pending = e
        .buy(json!({ "productId": "coins_100", "state": "pending" }))
        .await;
    let (_, v1) = e.product("coins_100", &pending).await;
    let (_, v2) = e
        .google(
            "GET",
            &format!("purchases/productsv2/tokens/{pending}"),
            None,
        )
        .await;
    let order = v1["orderId"].as_str().unwrap().to_string();
    assert_eq!(v2["orderId"], order.as_str());
    assert_eq!(order_state(&e, &order).await, (200, json!("PENDING")));
    let (status, v) = e
        .google("GET", &format!("orders:batchGet?orderIds={order}"), None)
        .await;
    assert_eq!((status, &v["orders"][0]["state"]), (200, &json!("PENDING")));
    e.action(&pending, "complete", None).await;
    assert_eq!(order_state(&e, &order).await, (200, json!("PROCESSED")));

    let canceled = e
        .buy(json!({ "productId": "coins_100", "state": "pending" }))
        .await;
    let canceled_order = e.order_id(&canceled).await;
    let (s, v) = e.action(&canceled, "cancel-pending", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        order_state(&e, &canceled_order).await,
        (200, json!("CANCELED"))
    );
    // A canceled pending order was never charged: nothing to refund.
    let (s, _) = e
        .google("POST", &format!("orders/{canceled_order}:refund"), None)
        .await;
    assert_eq!(s, 404);

    let several = e
        .buy(json!({ "productId": "coins_100", "quantity": 3 }))
        .await;
    let several_order = e.order_id(&several).await;
    e.action(&several, "void", Some(json!({ "quantity": 1 })))
        .await;
    assert_eq!(
        order_state(&e, &several_order).await,
        (200, json!("PARTIALLY_REFUNDED"))
    );
    e.action(&several, "void", None).await;
    assert_eq!(
        order_state(&e, &several_order).await,
        (200, json!("REFUNDED"))
    );
}

/// A subscription's `latestSuccessfulOrderId` is absent until an order is charged (pending,
/// and the new token of a deferred replacement until its first renewal), and every one it
/// shows resolves, in every state the subscription goes through.
#[tokio::test]
async fn subscription_order_ids_resolve_in_every_state() {
    let e = support::Emu::start().await;
    let latest = |v: &serde_json::Value| v["lineItems"][0]["latestSuccessfulOrderId"].clone();

    let pending = e
        .buy(json!({ "productId": "sub_monthly", "state": "pending" }))
        .await;
    let (_, v) = e.subscription(&pending).await;
    assert_eq!(v["subscriptionState"], "SUBSCRIPTION_STATE_PENDING");
    assert!(latest(&v).is_null(), "{v}");
    let pending_order = e.order_id(&pending).await;
    assert_eq!(
        order_state(&e, &pending_order).await,
        (200, json!("PENDING"))
    );
    e.action(&pending, "cancel-pending", None).await;
    let (_, v) = e.subscription(&pending).await;
    assert_eq!(
        v["subscriptionState"],
        "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED"
    );
    assert!(latest(&v).is_null(), "{v}");
    assert_eq!(
        order_state(&e, &pending_order).await,
        (200, json!("CANCELED"))
    );

    // One subscription through its states; each latest order resolves.
    let s = e.buy(json!({ "productId": "sub_monthly" })).await;
    let mut seen = std::collections::BTreeSet::new();
    for (action, state) in [
        (None, "SUBSCRIPTION_STATE_ACTIVE"),
        (Some("renew"), "SUBSCRIPTION_STATE_ACTIVE"),
        (Some("grace"), "SUBSCRIPTION_STATE_IN_GRACE_PERIOD"),
        (Some("hold"), "SUBSCRIPTION_STATE_ON_HOLD"),
        (Some("recover"), "SUBSCRIPTION_STATE_ACTIVE"),
        (Some("pause"), "SUBSCRIPTION_STATE_PAUSED"),
        (Some("resume"), "SUBSCRIPTION_STATE_ACTIVE"),
        (Some("cancel"), "SUBSCRIPTION_STATE_CANCELED"),
        (Some("restart"), "SUBSCRIPTION_STATE_ACTIVE"),
        (Some("expire"), "SUBSCRIPTION_STATE_EXPIRED"),
    ] {
        if let Some(a) = action {
            let (status, body) = e.action(&s, a, Some(json!({}))).await;
            assert_eq!(status, 200, "{a}: {body}");
        }
        let (_, v) = e.subscription(&s).await;
        assert_eq!(v["subscriptionState"], state, "{action:?}: {v}");
        let order = latest(&v).as_str().unwrap().to_string();
        let (status, _) = order_state(&e, &order).await;
        assert_eq!(status, 200, "{state}: {order}");
        seen.insert(order);
    }
    assert!(seen.len() >= 3, "renewals charge new orders: {seen:?}");

    // Revoked: the order is refunded and still resolves.
    let r = e.buy(json!({ "productId": "sub_monthly" })).await;
    e.action(&r, "revoke", Some(json!({}))).await;
    let (_, v) = e.subscription(&r).await;
    let order = latest(&v).as_str().unwrap().to_string();
    assert_eq!(order_state(&e, &order).await, (200, json!("REFUNDED")));

    // A deferred replacement: the new token owns nothing yet, so it has no order.
    let old = e.buy(json!({ "productId": "sub_monthly" })).await;
    let (status, replaced) = e
        .action(
            &old,
            "replace",
            Some(json!({ "productId": "sub_yearly", "mode": "DEFERRED" })),
        )
        .await;
    assert_eq!(status, 201, "{replaced}");
    let new = replaced["purchaseToken"].as_str().unwrap().to_string();
    assert!(replaced["latestOrderId"].is_null(), "{replaced}");
    let (_, v) = e.subscription(&new).await;
    assert!(
        v["lineItems"][0]["deferredItemReplacement"].is_object(),
        "{v}"
    );
    assert!(latest(&v).is_null(), "{v}");
    // Nothing to refund either: orders.refund knows only charged orders.
    let (s, _) = e
        .google(
            "POST",
            &format!("orders/{}:refund", replaced["orderId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 404);
    // Acknowledged, its first renewal charges the new plan: an order that resolves.
    let (s, v) = e
        .google(
            "POST",
            &format!("purchases/subscriptions/sub_monthly/tokens/{new}:acknowledge"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    e.advance(40 * 24 * 3600).await;
    let (_, v) = e.subscription(&new).await;
    assert_eq!(v["lineItems"][0]["productId"], "sub_yearly", "{v}");
    let order = latest(&v).as_str().unwrap().to_string();
    assert_eq!(order_state(&e, &order).await, (200, json!("PROCESSED")));
}

/// The purchase option of a one-time purchase is the same in `productsv2`, `orders` and
/// `monetization.onetimeproducts`: the product's legacy-compatible buy option, `legacy-base`
/// for a product written as an `InAppProduct`.
#[tokio::test]
async fn purchase_option_ids_agree() {
    let e = support::Emu::start().await;
    let option_of = |product: serde_json::Value| {
        product["purchaseOptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["buyOption"]["legacyCompatible"] == true)
            .unwrap()["purchaseOptionId"]
            .clone()
    };
    // A demo product (an InAppProduct seen through the one-time product view), and one
    // written through monetization.onetimeproducts with its own option id.
    let otp = json!({
        "productId": "gems",
        "listings": [{ "languageCode": "en-US", "title": "Gems", "description": "d" }],
        "purchaseOptions": [{ "purchaseOptionId": "buy-gems", "buyOption": { "legacyCompatible": true },
            "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "price": { "currencyCode": "USD", "units": "1" }, "availability": "AVAILABLE" }] }],
    });
    let (s, v) = e
        .google(
            "PATCH",
            "onetimeproducts/gems?allowMissing=true&regionsVersion.version=2025/03",
            Some(otp),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions:batchUpdateStates",
            Some(json!({ "requests": [{ "activatePurchaseOptionRequest": { "productId": "gems", "purchaseOptionId": "buy-gems" } }] })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // A product written as an InAppProduct: Play names a migrated product's
    // backwards-compatible option `legacy-base`.
    let legacy = json!({ "sku": "old_coins", "status": "active", "defaultLanguage": "en-US",
        "defaultPrice": { "priceMicros": "990000", "currency": "USD" },
        "prices": { "US": { "priceMicros": "990000", "currency": "USD" } },
        "listings": { "en-US": { "title": "Old coins", "description": "d" } } });
    let (s, v) = e.google("POST", "inappproducts", Some(legacy)).await;
    assert_eq!(s, 200, "{v}");
    for (product, option) in [
        ("coins_100", "buy"),
        ("gems", "buy-gems"),
        ("old_coins", "legacy-base"),
    ] {
        let (_, p) = e
            .google("GET", &format!("oneTimeProducts/{product}"), None)
            .await;
        let listed = option_of(p);
        assert_eq!(listed, option, "{product}");
        let token = e.buy(json!({ "productId": product })).await;
        let (_, v2) = e
            .google("GET", &format!("purchases/productsv2/tokens/{token}"), None)
            .await;
        let in_purchase = &v2["productLineItem"][0]["productOfferDetails"]["purchaseOptionId"];
        let (_, order) = e
            .google(
                "GET",
                &format!("orders/{}", v2["orderId"].as_str().unwrap()),
                None,
            )
            .await;
        let in_order = &order["lineItems"][0]["oneTimePurchaseDetails"]["purchaseOptionId"];
        assert_eq!((in_purchase, in_order), (&listed, &listed), "{product}");
    }
}

/// Each method answers at its discovery spelling only: the one-time product collection is
/// `oneTimeProducts` except in `patch` (`onetimeproducts`); the other spelling is a 404.
#[tokio::test]
async fn other_spellings_are_not_found() {
    use play_emulator::google::find_route;
    for r in ROUTES {
        let other = if r.flat_path.contains("/onetimeproducts") {
            r.flat_path.replace("/onetimeproducts", "/oneTimeProducts")
        } else if r.flat_path.contains("/oneTimeProducts") {
            r.flat_path.replace("/oneTimeProducts", "/onetimeproducts")
        } else {
            continue;
        };
        assert!(
            find_route(r.http_method, &other).is_none(),
            "{} answers at {other}",
            r.id
        );
    }
    let e = support::Emu::start().await;
    for (method, rest) in [
        ("GET", "onetimeproducts/coins_100"),
        ("GET", "onetimeproducts"),
        ("PATCH", "oneTimeProducts/coins_100?allowMissing=true"),
    ] {
        let (status, body) = e.google(method, rest, Some(json!({}))).await;
        assert_eq!(status, 404, "{method} {rest}: {body}");
    }
}

/// Empty lists are left out, as Google's JSON does; the contract check refuses them in every
/// response (see `support::contract::validate`).
#[tokio::test]
async fn empty_lists_are_left_out() {
    let e = support::Emu::start().await;
    let (status, v) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!(status, 200);
    assert!(v.get("voidedPurchases").is_none(), "{v}");
    let (status, v) = e
        .google("GET", "subscriptions/-/basePlans/-/offers", None)
        .await;
    assert_eq!(status, 200);
    assert!(v.get("subscriptionOffers").is_none(), "{v}");
    let mut errors = Vec::new();
    contract::validate(
        &json!({ "$ref": "VoidedPurchasesListResponse" }),
        &json!({ "voidedPurchases": [] }),
        "$",
        &mut errors,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// Request bodies are read as Google's parser reads them: proto3 JSON's leniency (numbers as
/// strings and back, `null`, empty lists) accepted, unknown fields, wrong types and unknown
/// enum values refused, by the validator and by the emulator (`contract` feature).
#[tokio::test]
async fn request_bodies_are_checked_against_the_discovery_document() {
    use play_emulator::contract::{request_violations, Side};
    let ack = "androidpublisher.purchases.products.acknowledge";
    assert!(request_violations(ack, &json!({ "developerPayload": "p" })).is_empty());
    assert!(request_violations(ack, &serde_json::Value::Null).is_empty());
    assert_eq!(request_violations(ack, &json!({ "payload": "p" })).len(), 1);
    let mut errors = Vec::new();
    play_emulator::contract::validate(
        &json!({ "$ref": "Money" }),
        &json!({ "units": 1, "currencyCode": "USD" }),
        "$",
        Side::Request,
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "an int64 may be a JSON number in a request: {errors:?}"
    );
    play_emulator::contract::validate(
        &json!({ "$ref": "Money" }),
        &json!({ "units": 1, "currencyCode": "USD" }),
        "$",
        Side::Response,
        &mut errors,
    );
    assert_eq!(errors.len(), 1, "but never in a response: {errors:?}");
    let migrate = "androidpublisher.monetization.subscriptions.basePlans.migratePrices";
    assert_eq!(
        request_violations(
            migrate,
            &json!({ "regionalPriceMigrations": [{ "regionCode": "US", "priceIncreaseType": "SOMETIMES" }] })
        )
        .len(),
        1
    );

    let e = support::Emu::start().await;
    let token = e.buy(json!({ "productId": "coins_100" })).await;
    let (status, body) = e
        .google(
            "POST",
            &format!("purchases/products/coins_100/tokens/{token}:acknowledge"),
            Some(json!({ "developerPayload": "p", "extra": 1 })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("$.extra"),
        "{body}"
    );
}
