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

    let validated = contract::validated();
    for r in ROUTES {
        assert!(validated.contains(r.id), "{} was not validated", r.id);
    }
}
