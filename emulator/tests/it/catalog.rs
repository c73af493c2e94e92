//! Catalog methods: inappproducts and monetization.subscriptions.

use crate::support;

use serde_json::{json, Value};
use support::Emu;

fn product(sku: &str, title: &str) -> Value {
    json!({
        "sku": sku, "status": "active", "defaultLanguage": "en-US",
        "defaultPrice": { "priceMicros": "2990000", "currency": "USD" },
        "prices": { "DE": { "priceMicros": "2490000", "currency": "EUR" } },
        "listings": { "en-US": { "title": title, "description": "d" } },
    })
}

#[tokio::test]
async fn inappproducts_crud() {
    let e = Emu::start().await;
    let (s, list) = e.google("GET", "inappproducts", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        list["inappproduct"].as_array().unwrap().len(),
        2,
        "the demo catalog's one-time products"
    );
    let (s, p) = e.google("GET", "inappproducts/coins_100", None).await;
    assert_eq!((s, p["purchaseType"].as_str()), (200, Some("managedUser")));

    let (s, p) = e
        .google("POST", "inappproducts", Some(product("gems_10", "10 gems")))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["packageName"], support::PKG);
    let (s, b) = e
        .google("POST", "inappproducts", Some(product("gems_10", "again")))
        .await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (409, Some("alreadyExists"))
    );
    for bad in [
        json!({ "sku": "Bad-Id", "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1", "currency": "USD" }, "listings": { "en-US": { "title": "t" } } }),
        json!({ "sku": "nolisting", "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1", "currency": "USD" } }),
        json!({ "sku": "noprice", "defaultLanguage": "en-US", "listings": { "en-US": { "title": "t" } } }),
        json!({ "sku": "sub", "purchaseType": "subscription", "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1", "currency": "USD" }, "listings": { "en-US": { "title": "t" } } }),
    ] {
        let (s, _) = e.google("POST", "inappproducts", Some(bad)).await;
        assert_eq!(s, 400);
    }
    // Patch merges; update replaces; allowMissing creates.
    let (s, p) = e
        .google(
            "PATCH",
            "inappproducts/gems_10",
            Some(json!({ "status": "inactive" })),
        )
        .await;
    assert_eq!(
        (
            s,
            p["status"].as_str(),
            p["listings"]["en-US"]["title"].as_str()
        ),
        (200, Some("inactive"), Some("10 gems"))
    );
    let (s, _) = e
        .google(
            "PUT",
            "inappproducts/gems_20",
            Some(product("gems_20", "20 gems")),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = e.google("PUT", "inappproducts/gems_20?allowMissing=true&latencyTolerance=PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT", Some(product("gems_20", "20 gems"))).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .google(
            "PUT",
            "inappproducts/gems_20?latencyTolerance=FAST",
            Some(product("gems_20", "20 gems")),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = e
        .google("PUT", "inappproducts/gems_20", Some(product("other", "x")))
        .await;
    assert_eq!(s, 400, "sku mismatch");
    // Paging.
    let (_, page) = e.google("GET", "inappproducts?maxResults=3", None).await;
    assert_eq!(page["inappproduct"].as_array().unwrap().len(), 3);
    let next = page["tokenPagination"]["nextPageToken"].as_str().unwrap();
    let (_, page2) = e
        .google(
            "GET",
            &format!("inappproducts?maxResults=3&token={next}"),
            None,
        )
        .await;
    assert_eq!(page2["inappproduct"].as_array().unwrap().len(), 1);
    assert!(page2.get("tokenPagination").is_none());
    // Delete.
    assert_eq!(
        e.google("DELETE", "inappproducts/gems_20", None).await.0,
        204
    );
    assert_eq!(
        e.google("DELETE", "inappproducts/gems_20", None).await.0,
        404
    );
    assert_eq!(e.google("GET", "inappproducts/gems_20", None).await.0, 404);

    // An inactive product is not sold on the device.
    let (_, items) = e
        .control(
            "GET",
            "/emulator/v1/device/items?ids=gems_10,coins_100",
            None,
        )
        .await;
    assert_eq!(items.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn inappproducts_batches() {
    let e = Emu::start().await;
    let (s, b) = e
        .google(
            "GET",
            "inappproducts:batchGet?sku=coins_100&sku=premium_unlock",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["inappproduct"][1]["sku"], "premium_unlock");
    assert_eq!(
        e.google("GET", "inappproducts:batchGet?sku=coins_100&sku=nope", None)
            .await
            .0,
        404
    );
    assert_eq!(e.google("GET", "inappproducts:batchGet", None).await.0, 400);

    let requests: Vec<Value> = (0..3)
        .map(|i| json!({ "sku": format!("pack_{i}"), "packageName": support::PKG, "allowMissing": true, "inappproduct": product(&format!("pack_{i}"), "pack") }))
        .collect();
    let (s, b) = e
        .google(
            "POST",
            "inappproducts:batchUpdate",
            Some(json!({ "requests": requests })),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["inappproducts"].as_array().unwrap().len(), 3);
    // All or nothing: one bad entry changes nothing.
    let bad = json!({ "requests": [
        { "sku": "pack_0", "inappproduct": { "status": "inactive" } },
        { "sku": "pack_9", "inappproduct": product("pack_9", "x") },
    ]});
    assert_eq!(
        e.google("POST", "inappproducts:batchUpdate", Some(bad))
            .await
            .0,
        400
    );
    let too_many: Vec<Value> = (0..101).map(|i| json!({ "sku": format!("x{i}"), "allowMissing": true, "inappproduct": product(&format!("x{i}"), "x") })).collect();
    assert_eq!(
        e.google(
            "POST",
            "inappproducts:batchUpdate",
            Some(json!({ "requests": too_many }))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        e.google("GET", "inappproducts/pack_0", None).await.1["status"],
        "active"
    );

    let (s, _) = e
        .google(
            "POST",
            "inappproducts:batchDelete",
            Some(json!({ "requests": [{ "sku": "pack_0" }, { "sku": "nope" }] })),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = e
        .google(
            "POST",
            "inappproducts:batchDelete",
            Some(json!({ "requests": [{ "sku": "pack_0" }, { "sku": "pack_1" }] })),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(e.google("GET", "inappproducts/pack_1", None).await.0, 404);
    assert_eq!(e.google("GET", "inappproducts/pack_2", None).await.0, 200);
}

fn subscription(id: &str) -> Value {
    json!({
        "productId": id,
        "listings": [{ "languageCode": "en-US", "title": "Gold", "benefits": ["All of it"] }],
        "basePlans": [{
            "basePlanId": "weekly",
            "autoRenewingBasePlanType": { "billingPeriodDuration": "P1W", "legacyCompatible": true },
            "regionalConfigs": [{ "regionCode": "US", "newSubscriberAvailability": true, "price": { "currencyCode": "USD", "units": "2", "nanos": 490000000 } }],
        }],
    })
}

#[tokio::test]
async fn monetization_subscriptions() {
    let e = Emu::start().await;
    let (s, list) = e.google("GET", "subscriptions", None).await;
    assert_eq!(
        (s, list["subscriptions"].as_array().unwrap().len()),
        (200, 2)
    );
    let (s, _) = e
        .google(
            "POST",
            "subscriptions?productId=gold",
            Some(subscription("gold")),
        )
        .await;
    assert_eq!(s, 400, "regionsVersion.version is required");
    let (s, sub) = e
        .google(
            "POST",
            "subscriptions?productId=gold&regionsVersion.version=2022%2F02",
            Some(subscription("gold")),
        )
        .await;
    assert_eq!(s, 200, "{sub}");
    assert_eq!(sub["basePlans"][0]["state"], "DRAFT");
    assert_eq!(
        e.google(
            "POST",
            "subscriptions?productId=gold&regionsVersion.version=2022/02",
            Some(subscription("gold"))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        e.google(
            "POST",
            "subscriptions?productId=silver&regionsVersion.version=2022/02",
            Some(subscription("gold"))
        )
        .await
        .0,
        400
    );

    // A DRAFT base plan is not sold; activation makes it so.
    let (_, items) = e
        .control("GET", "/emulator/v1/device/items?ids=gold", None)
        .await;
    assert_eq!(items, json!([]));
    assert_eq!(
        e.control(
            "POST",
            "/emulator/v1/purchases",
            Some(json!({ "productId": "gold" }))
        )
        .await
        .0,
        409
    );
    let (s, sub) = e
        .google(
            "POST",
            "subscriptions/gold/basePlans/weekly:activate",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (s, sub["basePlans"][0]["state"].as_str()),
        (200, Some("ACTIVE"))
    );
    let (_, items) = e
        .control("GET", "/emulator/v1/device/items?ids=gold", None)
        .await;
    assert_eq!(
        items[0]["price"],
        json!({ "currency": "USD", "value": "2.49" })
    );
    assert_eq!(items[0]["subscriptionPeriod"], "P1W");
    let t = e.buy(json!({ "productId": "gold" })).await;
    assert_eq!(
        e.subscription(&t).await.1["lineItems"][0]["offerDetails"]["basePlanId"],
        "weekly"
    );

    // Patch with updateMask keeps base plan states.
    let mut changed = subscription("gold");
    changed["listings"][0]["title"] = json!("Gold+");
    let (s, sub) = e
        .google(
            "PATCH",
            "subscriptions/gold?updateMask=listings&regionsVersion.version=2022/02",
            Some(changed.clone()),
        )
        .await;
    assert_eq!(s, 200, "{sub}");
    assert_eq!(sub["listings"][0]["title"], "Gold+");
    assert_eq!(sub["basePlans"][0]["state"], "ACTIVE");
    assert_eq!(
        e.google(
            "PATCH",
            "subscriptions/gold?regionsVersion.version=2022/02",
            Some(changed.clone())
        )
        .await
        .0,
        400
    );
    assert_eq!(
        e.google(
            "PATCH",
            "subscriptions/gold?updateMask=archived&regionsVersion.version=2022/02",
            Some(changed.clone())
        )
        .await
        .0,
        400
    );
    assert_eq!(
        e.google(
            "PATCH",
            "subscriptions/platinum?updateMask=listings&regionsVersion.version=2022/02",
            Some(subscription("platinum"))
        )
        .await
        .0,
        404
    );
    let (s, _) = e.google("PATCH", "subscriptions/platinum?updateMask=listings,basePlans&allowMissing=true&regionsVersion.version=2022/02", Some(subscription("platinum"))).await;
    assert_eq!(s, 200);

    // Deactivate, delete rules.
    let (s, sub) = e
        .google(
            "POST",
            "subscriptions/gold/basePlans/weekly:deactivate",
            Some(
                json!({ "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" }),
            ),
        )
        .await;
    assert_eq!(
        (s, sub["basePlans"][0]["state"].as_str()),
        (200, Some("INACTIVE"))
    );
    assert_eq!(
        e.google(
            "POST",
            "subscriptions/gold/basePlans/weekly:deactivate",
            Some(json!({}))
        )
        .await
        .0,
        400
    );
    let (s, b) = e.google("DELETE", "subscriptions/gold", None).await;
    assert_eq!(
        (s, b["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION"))
    );
    assert_eq!(
        e.google("DELETE", "subscriptions/gold/basePlans/weekly", None)
            .await
            .0,
        400
    );
    assert_eq!(
        e.google("DELETE", "subscriptions/platinum/basePlans/weekly", None)
            .await
            .0,
        204
    );
    assert_eq!(
        e.google("DELETE", "subscriptions/platinum", None).await.0,
        204
    );
    assert_eq!(e.google("GET", "subscriptions/platinum", None).await.0, 404);

    // Batches and paging.
    let (s, b) = e
        .google(
            "GET",
            "subscriptions:batchGet?productIds=gold&productIds=sub_monthly",
            None,
        )
        .await;
    assert_eq!((s, b["subscriptions"].as_array().unwrap().len()), (200, 2));
    assert_eq!(
        e.google("GET", "subscriptions:batchGet?productIds=nope", None)
            .await
            .0,
        404
    );
    let req = json!({ "requests": [{ "subscription": changed, "updateMask": "listings", "regionsVersion": { "version": "2022/02" } }] });
    let (s, b) = e
        .google("POST", "subscriptions:batchUpdate", Some(req))
        .await;
    assert_eq!(
        (s, b["subscriptions"][0]["productId"].as_str()),
        (200, Some("gold"))
    );
    let (_, page) = e.google("GET", "subscriptions?pageSize=2", None).await;
    let next = page["nextPageToken"].as_str().unwrap();
    let (_, page2) = e
        .google(
            "GET",
            &format!("subscriptions?pageSize=2&pageToken={next}"),
            None,
        )
        .await;
    assert_eq!(page2["subscriptions"].as_array().unwrap().len(), 1);
}

fn otp(id: &str, regions: &[(&str, &str, i64)]) -> Value {
    let configs: Vec<Value> = regions
        .iter()
        .map(|(r, c, units)| json!({ "regionCode": r, "price": { "currencyCode": c, "units": units.to_string() }, "availability": "AVAILABLE" }))
        .collect();
    json!({
        "productId": id,
        "listings": [{ "languageCode": "en-US", "title": id }],
        "purchaseOptions": [{ "purchaseOptionId": "buy", "buyOption": { "legacyCompatible": true }, "regionalPricingAndAvailabilityConfigs": configs }],
    })
}

fn reason(b: &Value) -> &str {
    b["error"]["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn onetimeproducts_model_and_refusals() {
    let e = Emu::start_with(|c| c.inappproducts_migrated = true).await;
    let (s, b) = e.google("GET", "inappproducts", None).await;
    assert_eq!(
        (s, b["error"]["message"].as_str()),
        (403, Some("Please migrate to the new publishing API."))
    );
    let (s, list) = e.google("GET", "oneTimeProducts", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        list["oneTimeProducts"].as_array().unwrap().len(),
        2,
        "seeded from the demo catalog"
    );

    // Created by patch with allowMissing, options start DRAFT; regionsVersion is required.
    let body = otp("gems", &[("US", "USD", 1), ("DE", "EUR", 1)]);
    let (s, _) = e
        .google(
            "PATCH",
            "onetimeproducts/gems?allowMissing=true",
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, 400);
    let (s, p) = e
        .google(
            "PATCH",
            "onetimeproducts/gems?allowMissing=true&regionsVersion.version=2025/03",
            Some(body),
        )
        .await;
    assert_eq!(
        (s, p["purchaseOptions"][0]["state"].as_str()),
        (200, Some("DRAFT")),
        "{p}"
    );
    // Only the discovery document's spelling of each method is served: `get` says
    // `oneTimeProducts`, so `onetimeproducts` is a 404 there, as on Google.
    let r = e
        .http
        .get(e.url(&format!(
            "/androidpublisher/v3/applications/{}/onetimeproducts/gems",
            support::PKG
        )))
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Google's refusals.
    let refusals = [
        (
            otp("gems", &[("US", "USD", 2)]),
            "Cannot remove region once it has been added: DE",
        ),
        (
            otp(
                "gems",
                &[("US", "USD", 1), ("DE", "EUR", 1), ("BG", "EUR", 1)],
            ),
            "Expected BGN but got EUR",
        ),
    ];
    for (body, message) in refusals {
        let (s, b) = e
            .google(
                "PATCH",
                "onetimeproducts/gems?updateMask=purchaseOptions&regionsVersion.version=2022/02",
                Some(body),
            )
            .await;
        assert_eq!(s, 400, "{b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(message),
            "{b}"
        );
    }
    let mut two_legacy = otp("gems", &[("US", "USD", 1), ("DE", "EUR", 1)]);
    let second = json!({ "purchaseOptionId": "buy-2", "buyOption": { "legacyCompatible": true } });
    two_legacy["purchaseOptions"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let (s, b) = e
        .google(
            "PATCH",
            "onetimeproducts/gems?updateMask=purchaseOptions&regionsVersion.version=2025/03",
            Some(two_legacy),
        )
        .await;
    assert_eq!(s, 400, "{b}");

    // States through batchUpdateStates; a published product cannot be deleted.
    let activate = json!({ "requests": [{ "activatePurchaseOptionRequest": { "productId": "gems", "purchaseOptionId": "buy" } }] });
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions:batchUpdateStates",
            Some(activate),
        )
        .await;
    assert_eq!(
        (
            s,
            b["oneTimeProducts"][0]["purchaseOptions"][0]["state"].as_str()
        ),
        (200, Some("ACTIVE"))
    );
    let (s, b) = e.google("DELETE", "oneTimeProducts/gems", None).await;
    assert_eq!((s, reason(&b)), (400, "failedPrecondition"), "{b}");
    // A batch is all or nothing: one bad entry stores nothing.
    let batch = json!({ "requests": [
        { "oneTimeProduct": otp("ok1", &[("US", "USD", 1)]), "allowMissing": true, "regionsVersion": { "version": "2025/03" } },
        { "oneTimeProduct": otp("bad", &[("US", "EUR", 1)]), "allowMissing": true, "regionsVersion": { "version": "2025/03" } },
    ] });
    let (s, b) = e
        .google("POST", "oneTimeProducts:batchUpdate", Some(batch))
        .await;
    assert_eq!(s, 400);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("requests[1] (bad)"),
        "{b}"
    );
    let (s, _) = e.google("GET", "oneTimeProducts/ok1", None).await;
    assert_eq!(s, 404);

    // Base plans: the billing period is immutable, a published plan is never removed.
    let sub = |period: &str| {
        json!({ "productId": "sub_monthly", "listings": [{ "languageCode": "en-US", "title": "M" }],
        "basePlans": [{ "basePlanId": "monthly", "autoRenewingBasePlanType": { "billingPeriodDuration": period },
            "regionalConfigs": [{ "regionCode": "US", "newSubscriberAvailability": true, "price": { "currencyCode": "USD", "units": "1" } }] }] })
    };
    let (s, b) = e
        .google(
            "PATCH",
            "subscriptions/sub_monthly?updateMask=basePlans&regionsVersion.version=2025/03",
            Some(sub("P1Y")),
        )
        .await;
    assert!(
        s == 400
            && b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("immutable"),
        "{b}"
    );
    let (s, b) = e
        .google(
            "PATCH",
            "subscriptions/sub_monthly?updateMask=basePlans&regionsVersion.version=2025/03",
            Some(json!({ "basePlans": [] })),
        )
        .await;
    assert_eq!((s, reason(&b)), (400, "failedPrecondition"), "{b}");
    let states = json!({ "requests": [{ "deactivateBasePlanRequest": { "productId": "sub_monthly", "basePlanId": "monthly" } }] });
    let (s, b) = e
        .google(
            "POST",
            "subscriptions/-/basePlans:batchUpdateStates",
            Some(states),
        )
        .await;
    assert_eq!(
        (s, b["subscriptions"][0]["basePlans"][0]["state"].as_str()),
        (200, Some("INACTIVE")),
        "{b}"
    );
}

#[tokio::test]
async fn tolerant_batches_spare_the_latency_sensitive_quota() {
    let e = Emu::start_with(|c| {
        c.quotas.latency_sensitive_changes_per_hour = 150;
        c.quotas.catalog_modifications_per_hour = 3;
    })
    .await;
    let batch = |from: usize, tolerance: &str| {
        let requests: Vec<Value> = (from..from + 100)
            .map(|i| json!({ "oneTimeProduct": otp(&format!("p{i}"), &[("US", "USD", 1)]), "allowMissing": true,
                "regionsVersion": { "version": "2025/03" }, "latencyTolerance": tolerance }))
            .collect();
        json!({ "requests": requests })
    };
    let tolerant = "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT";
    let sensitive = "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_SENSITIVE";
    assert_eq!(
        e.google(
            "POST",
            "oneTimeProducts:batchUpdate",
            Some(batch(0, sensitive))
        )
        .await
        .0,
        200
    );
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts:batchUpdate",
            Some(batch(100, sensitive)),
        )
        .await;
    assert_eq!(
        (s, reason(&b)),
        (403, "quotaExceeded"),
        "100 + 100 > 150 latency-sensitive entries"
    );
    assert_eq!(
        e.google(
            "POST",
            "oneTimeProducts:batchUpdate",
            Some(batch(100, tolerant))
        )
        .await
        .0,
        200
    );
    // convertRegionPrices is a read: it spends no modification.
    let price = json!({ "price": { "currencyCode": "USD", "units": "4", "nanos": 990_000_000 } });
    let (s, c) = e
        .google("POST", "pricing:convertRegionPrices", Some(price))
        .await;
    assert_eq!(
        (
            s,
            c["convertedRegionPrices"]["DE"]["price"]["units"].as_str()
        ),
        (200, Some("4"))
    );
    assert_eq!(c["regionVersion"]["version"], "2025/03");
    assert_eq!(
        e.google(
            "POST",
            "oneTimeProducts:batchUpdate",
            Some(batch(200, tolerant))
        )
        .await
        .0,
        200
    );
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts:batchUpdate",
            Some(batch(300, tolerant)),
        )
        .await;
    assert_eq!(
        (s, reason(&b)),
        (403, "quotaExceeded"),
        "the 4th modification call of the hour"
    );
}

#[tokio::test]
async fn subscription_offers_follow_googles_rules() {
    let e = Emu::start().await;
    let offer = |plan: &str, id: &str, phases: usize, region: &str| {
        let phase = json!({ "duration": "P7D", "recurrenceCount": 1, "regionalConfigs": [{ "regionCode": region, "free": {} }] });
        json!({ "productId": "sub_monthly", "basePlanId": plan, "offerId": id, "phases": vec![phase; phases],
            "regionalConfigs": [{ "regionCode": region, "newSubscriberAvailability": true }] })
    };
    let update = |o: Value| json!({ "requests": [{ "subscriptionOffer": o, "allowMissing": true, "regionsVersion": { "version": "2025/03" } }] });
    let path = "subscriptions/sub_monthly/basePlans/monthly/offers:batchUpdate";
    for (bad, why) in [
        (offer("monthly", "t", 3, "US"), "one or two phases"),
        (offer("monthly", "t", 1, "DE"), "not a region of base plan"),
        (offer("nope", "t", 1, "US"), "Base plan not found"),
        (offer("monthly", "Bad_Id", 1, "US"), "Invalid offer ID"),
    ] {
        let (s, b) = e.google("POST", path, Some(update(bad))).await;
        assert!(
            s >= 400 && b["error"]["message"].as_str().unwrap().contains(why),
            "{why}: {b}"
        );
    }
    let (s, b) = e
        .google(
            "POST",
            path,
            Some(update(offer("monthly", "trial", 1, "US"))),
        )
        .await;
    assert_eq!(
        (s, b["subscriptionOffers"][0]["state"].as_str()),
        (200, Some("DRAFT")),
        "{b}"
    );
    let states = json!({ "requests": [{ "activateSubscriptionOfferRequest": { "productId": "sub_monthly", "basePlanId": "monthly", "offerId": "trial" } }] });
    assert_eq!(
        e.google(
            "POST",
            "subscriptions/-/basePlans/-/offers:batchUpdateStates",
            Some(states)
        )
        .await
        .0,
        200
    );
    let (s, b) = e
        .google(
            "DELETE",
            "subscriptions/sub_monthly/basePlans/monthly/offers/trial",
            None,
        )
        .await;
    assert_eq!(
        (s, reason(&b)),
        (400, "failedPrecondition"),
        "a published offer stays"
    );
    let (s, list) = e
        .google("GET", "subscriptions/-/basePlans/-/offers", None)
        .await;
    assert_eq!(
        (s, list["subscriptionOffers"].as_array().unwrap().len()),
        (200, 1)
    );
}

/// Asserts a 400 whose message contains `why`.
fn refused((status, body): (u16, Value), why: &str) {
    assert!(
        status == 400
            && body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
        "{why}: {status} {body}"
    );
}

#[tokio::test]
async fn one_time_product_offers_follow_googles_rules() {
    let e = Emu::start_with(|c| c.inappproducts_migrated = true).await;
    let offer = |id: &str, kind: Value, config: Value| {
        let mut o = json!({ "productId": "premium_unlock", "purchaseOptionId": "buy", "offerId": id,
            "regionalPricingAndAvailabilityConfigs": [config], "offerTags": [{ "tag": "launch" }] });
        o[kind["k"].as_str().unwrap()] = kind["v"].clone();
        o
    };
    let discounted = json!({ "k": "discountedOffer", "v": { "startTime": "2027-01-01T00:00:00Z", "endTime": "2027-02-01T00:00:00Z", "redemptionLimit": "1" } });
    let us = |d: Value| {
        let mut c = json!({ "regionCode": "US", "availability": "AVAILABLE" });
        for (k, v) in d.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let update = |o: Value| json!({ "requests": [{ "oneTimeProductOffer": o, "allowMissing": true, "updateMask": "offerTags", "regionsVersion": { "version": "2025/03" } }] });
    let path = "oneTimeProducts/premium_unlock/purchaseOptions/buy/offers:batchUpdate";
    let off =
        |units: &str| json!({ "absoluteDiscount": { "currencyCode": "USD", "units": units } });
    let mut both = offer("t", discounted.clone(), us(off("1")));
    both["preOrderOffer"] = json!({});
    let mut tagged = offer("t", discounted.clone(), us(off("1")));
    tagged["offerTags"] = json!((0..21)
        .map(|i| json!({ "tag": format!("t{i}") }))
        .collect::<Vec<_>>());
    for (bad, why) in [
        (both, "exactly one of discountedOffer, preOrderOffer"),
        (tagged, "At most 20 offer tags"),
        (
            offer("t", discounted.clone(), us(off("5"))),
            "less than the purchase option's price",
        ),
        (
            offer(
                "t",
                discounted.clone(),
                us(json!({ "relativeDiscount": 1.0 })),
            ),
            "strictly between 0 and 1",
        ),
        (
            offer(
                "t",
                discounted.clone(),
                us(json!({ "relativeDiscount": 0.5, "noOverride": {} })),
            ),
            "exactly one of absoluteDiscount",
        ),
        (
            offer(
                "t",
                discounted.clone(),
                json!({ "regionCode": "US", "noOverride": {} }),
            ),
            "availability",
        ),
        (
            offer(
                "t",
                discounted.clone(),
                json!({ "regionCode": "DE", "availability": "AVAILABLE", "noOverride": {} }),
            ),
            "not a region of purchase option buy",
        ),
        (
            offer(
                "t",
                json!({ "k": "discountedOffer", "v": { "redemptionLimit": "51" } }),
                us(off("1")),
            ),
            "between 0 (unlimited) and 50",
        ),
        (
            offer(
                "t",
                json!({ "k": "preOrderOffer", "v": { "startTime": "2027-02-01T00:00:00Z", "endTime": "2027-01-01T00:00:00Z", "releaseTime": "2027-03-01T00:00:00Z", "priceChangeBehavior": "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_NEW_ORDERS_ONLY" } }),
                us(off("1")),
            ),
            "startTime < endTime <= releaseTime",
        ),
        (
            offer("Bad_Id", discounted.clone(), us(off("1"))),
            "Invalid offer ID",
        ),
    ] {
        refused(e.google("POST", path, Some(update(bad))).await, why);
    }
    let (s, b) = e
        .google(
            "POST",
            path,
            Some(update(offer("launch", discounted.clone(), us(off("1"))))),
        )
        .await;
    assert_eq!(
        (s, b["oneTimeProductOffers"][0]["state"].as_str()),
        (200, Some("DRAFT")),
        "{b}"
    );
    // A masked update: the kind is immutable, a region is never removed.
    let masked = |o: Value, mask: &str| json!({ "requests": [{ "oneTimeProductOffer": o, "updateMask": mask, "regionsVersion": { "version": "2025/03" } }] });
    let mut pre = offer(
        "launch",
        json!({ "k": "preOrderOffer", "v": { "startTime": "2027-01-01T00:00:00Z", "endTime": "2027-02-01T00:00:00Z", "releaseTime": "2027-03-01T00:00:00Z", "priceChangeBehavior": "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_NEW_ORDERS_ONLY" } }),
        us(off("1")),
    );
    pre["discountedOffer"] = Value::Null;
    refused(
        e.google(
            "POST",
            path,
            Some(masked(pre, "discountedOffer,preOrderOffer")),
        )
        .await,
        "offer type is immutable",
    );
    let mut no_regions = offer("launch", discounted.clone(), us(off("1")));
    no_regions["regionalPricingAndAvailabilityConfigs"] = json!([]);
    refused(
        e.google(
            "POST",
            path,
            Some(masked(no_regions, "regionalPricingAndAvailabilityConfigs")),
        )
        .await,
        "Cannot remove region",
    );

    // The state machine: the single methods and the batch one.
    let one = |verb: &str| {
        format!("oneTimeProducts/premium_unlock/purchaseOptions/buy/offers/launch:{verb}")
    };
    let states = |request: &str| json!({ "requests": [{ request: { "packageName": support::PKG, "productId": "premium_unlock", "purchaseOptionId": "buy", "offerId": "launch", "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" } }] });
    let (s, b) = e.google("POST", &one("deactivate"), Some(json!({}))).await;
    assert_eq!(
        (s, reason(&b)),
        (400, "failedPrecondition"),
        "a draft is not deactivated"
    );
    let (s, b) = e.google("POST", &one("activate"), Some(json!({}))).await;
    assert_eq!((s, b["state"].as_str()), (200, Some("ACTIVE")), "{b}");
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions/-/offers:batchUpdateStates",
            Some(states("deactivateOneTimeProductOfferRequest")),
        )
        .await;
    assert_eq!(
        (s, b["oneTimeProductOffers"][0]["state"].as_str()),
        (200, Some("INACTIVE")),
        "{b}"
    );
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions/-/offers:batchUpdateStates",
            Some(states("cancelOneTimeProductOfferRequest")),
        )
        .await;
    assert_eq!(
        (s, b["oneTimeProductOffers"][0]["state"].as_str()),
        (200, Some("CANCELLED")),
        "{b}"
    );
    let (s, b) = e.google("POST", &one("activate"), Some(json!({}))).await;
    assert_eq!(
        (s, reason(&b)),
        (400, "failedPrecondition"),
        "cancelled stays cancelled: {b}"
    );
    let (s, b) = e.google("POST", &one("cancel"), Some(json!({}))).await;
    assert_eq!((s, reason(&b)), (400, "failedPrecondition"), "{b}");

    // Deletes: a published offer stays, a draft goes; batchGet and list with '-'.
    let (s, _) = e
        .google(
            "POST",
            path,
            Some(update(offer(
                "draft",
                discounted.clone(),
                us(json!({ "noOverride": {} })),
            ))),
        )
        .await;
    assert_eq!(s, 200);
    let delete = |id: &str| json!({ "requests": [{ "packageName": support::PKG, "productId": "premium_unlock", "purchaseOptionId": "buy", "offerId": id }] });
    let batch_delete = "oneTimeProducts/premium_unlock/purchaseOptions/buy/offers:batchDelete";
    let (s, b) = e.google("POST", batch_delete, Some(delete("launch"))).await;
    assert_eq!((s, reason(&b)), (400, "failedPrecondition"), "{b}");
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/premium_unlock/purchaseOptions/buy/offers:batchGet",
            Some(delete("draft")),
        )
        .await;
    assert_eq!(
        (s, b["oneTimeProductOffers"][0]["offerId"].as_str()),
        (200, Some("draft")),
        "{b}"
    );
    assert_eq!(
        e.google("POST", batch_delete, Some(delete("draft")))
            .await
            .0,
        204
    );
    let (s, list) = e
        .google("GET", "oneTimeProducts/-/purchaseOptions/-/offers", None)
        .await;
    assert_eq!(
        (s, list["oneTimeProductOffers"].as_array().unwrap().len()),
        (200, 1),
        "{list}"
    );
    let (s, _) = e
        .google("GET", "oneTimeProducts/-/purchaseOptions/buy/offers", None)
        .await;
    assert_eq!(s, 400, "purchaseOptionId must be - when productId is -");
}

#[tokio::test]
async fn one_time_batches_are_parsed_into_the_model_before_they_are_checked() {
    let e = Emu::start_with(|c| c.inappproducts_migrated = true).await;
    let states = "oneTimeProducts/-/purchaseOptions/-/offers:batchUpdateStates";
    // An entry with none of its three requests names them, in the model's order.
    refused(
        e.google("POST", states, Some(json!({ "requests": [{}] })))
            .await,
        "requests[0].activateOneTimeProductOfferRequest or cancelOneTimeProductOfferRequest or deactivateOneTimeProductOfferRequest",
    );
    // A field of the wrong JSON type is refused as Google's parse refuses it, before any
    // rule runs.
    let typed = json!({ "requests": [{ "activatePurchaseOptionRequest": { "productId": 5 } }] });
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions:batchUpdateStates",
            Some(typed),
        )
        .await;
    // (With the `contract` feature the discovery document's schema refuses it first.)
    let message = b["error"]["message"].as_str().unwrap_or_default();
    assert!(
        s == 400 && message.starts_with("Invalid JSON payload received"),
        "{b}"
    );

    // purchaseOptions.batchDelete: an option with offers needs `force`, which takes them too.
    let mut gems = otp("gems", &[("US", "USD", 3)]);
    gems["purchaseOptions"].as_array_mut().unwrap().push(json!({
        "purchaseOptionId": "spare", "buyOption": { "legacyCompatible": false },
        "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "price": { "currencyCode": "USD", "units": "2" }, "availability": "AVAILABLE" }],
    }));
    let (s, b) = e
        .google(
            "PATCH",
            "onetimeproducts/gems?allowMissing=true&regionsVersion.version=2025/03",
            Some(gems),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let offer = json!({ "productId": "gems", "purchaseOptionId": "spare", "offerId": "sale",
        "discountedOffer": { "redemptionLimit": "2" },
        "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "availability": "AVAILABLE", "relativeDiscount": 0.5 }] });
    let write = json!({ "requests": [{ "oneTimeProductOffer": offer, "allowMissing": true, "regionsVersion": { "version": "2025/03" } }] });
    let (s, b) = e
        .google(
            "POST",
            "oneTimeProducts/gems/purchaseOptions/spare/offers:batchUpdate",
            Some(write),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let delete = |force: bool| json!({ "requests": [{ "productId": "gems", "purchaseOptionId": "spare", "force": force }] });
    let path = "oneTimeProducts/gems/purchaseOptions:batchDelete";
    let (s, b) = e.google("POST", path, Some(delete(false))).await;
    assert_eq!((s, reason(&b)), (400, "failedPrecondition"), "{b}");
    assert_eq!(e.google("POST", path, Some(delete(true))).await.0, 204);
    let (s, p) = e.google("GET", "oneTimeProducts/gems", None).await;
    assert_eq!(
        (s, p["purchaseOptions"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{p}"
    );
    let (s, list) = e
        .google("GET", "oneTimeProducts/-/purchaseOptions/-/offers", None)
        .await;
    assert_eq!(s, 200);
    let offers = list["oneTimeProductOffers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        offers.iter().all(|o| o["productId"] != "gems"),
        "the forced delete took the offer: {list}"
    );
}

#[tokio::test]
async fn batch_migrate_prices_is_all_or_nothing() {
    let e = Emu::start().await;
    let migration = |plan: &str, region: &str| {
        json!({ "packageName": support::PKG, "productId": if plan == "monthly" { "sub_monthly" } else { "sub_yearly" }, "basePlanId": plan,
        "regionsVersion": { "version": "2025/03" },
        "regionalPriceMigrations": [{ "regionCode": region, "oldestAllowedPriceVersionTime": "2026-01-01T00:00:00Z", "priceIncreaseType": "PRICE_INCREASE_TYPE_OPT_IN" }] })
    };
    let path = "subscriptions/-/basePlans:batchMigratePrices";
    let (s, b) = e
        .google(
            "POST",
            path,
            Some(json!({ "requests": [migration("monthly", "US"), migration("yearly", "US")] })),
        )
        .await;
    assert_eq!(
        (s, b["responses"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{b}"
    );
    refused(
        e.google(
            "POST",
            path,
            Some(json!({ "requests": [migration("monthly", "US"), migration("yearly", "ZZ")] })),
        )
        .await,
        "requests[1] (sub_yearly/yearly)",
    );
    let (s, _) = e
        .google(
            "POST",
            "subscriptions/sub_monthly/basePlans:batchMigratePrices",
            Some(json!({ "requests": [migration("yearly", "US")] })),
        )
        .await;
    assert_eq!(s, 400, "the path's product must match");
}

#[tokio::test]
async fn one_catalog_through_two_api_views() {
    let e = Emu::start().await;
    // Written through the legacy API: a one-time product with one legacy-compatible option.
    assert_eq!(
        e.google(
            "POST",
            "inappproducts",
            Some(product("old_coins", "Old coins"))
        )
        .await
        .0,
        200
    );
    let (s, p) = e.google("GET", "oneTimeProducts/old_coins", None).await;
    assert_eq!(s, 200, "{p}");
    let option = &p["purchaseOptions"][0];
    assert_eq!(
        (
            option["purchaseOptionId"].as_str(),
            option["state"].as_str(),
            option["buyOption"]["legacyCompatible"].as_bool()
        ),
        (Some("legacy-base"), Some("ACTIVE"), Some(true)),
        "{p}"
    );
    assert_eq!(
        option["regionalPricingAndAvailabilityConfigs"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "its regional price (DE; the default price is not a region): {p}"
    );
    // Written through the new API: the legacy view follows its legacy-compatible option.
    let body = json!({ "requests": [{ "oneTimeProduct": otp("fresh", &[("US", "USD", 2)]), "allowMissing": true, "regionsVersion": { "version": "2025/03" } }] });
    assert_eq!(
        e.google("POST", "oneTimeProducts:batchUpdate", Some(body))
            .await
            .0,
        200
    );
    let (s, legacy) = e.google("GET", "inappproducts/fresh", None).await;
    assert_eq!(
        (
            s,
            legacy["status"].as_str(),
            legacy["defaultPrice"]["priceMicros"].as_str()
        ),
        (200, Some("inactive"), Some("2000000")),
        "a draft option is not sold: {legacy}"
    );
    let activate = json!({ "requests": [{ "activatePurchaseOptionRequest": { "productId": "fresh", "purchaseOptionId": "buy" } }] });
    assert_eq!(
        e.google(
            "POST",
            "oneTimeProducts/-/purchaseOptions:batchUpdateStates",
            Some(activate)
        )
        .await
        .0,
        200
    );
    let (_, legacy) = e.google("GET", "inappproducts/fresh", None).await;
    assert_eq!(legacy["status"], "active", "{legacy}");
    // The device sandbox sells it, as it sells every product of the one catalog.
    let items: Value = e
        .http
        .get(e.url("/emulator/v1/device/items?ids=fresh"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(items[0]["price"]["value"], "2.00", "{items}");
    // Deleted through one view, gone from both.
    assert_eq!(
        e.google("DELETE", "inappproducts/old_coins", None).await.0,
        204
    );
    assert_eq!(
        e.google("GET", "oneTimeProducts/old_coins", None).await.0,
        404
    );
}
