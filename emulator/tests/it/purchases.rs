//! One-time purchases and subscriptions on Google's side: shapes and semantics.

use crate::support;

use serde_json::json;
use support::Emu;

#[tokio::test]
async fn product_get_acknowledge_consume() {
    let e = Emu::start().await;
    let token = e.buy(json!({ "productId": "coins_100" })).await;
    assert!(
        token.len() > 100
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    );

    let (s, p) = e.product("coins_100", &token).await;
    assert_eq!(s, 200);
    assert_eq!(p["kind"], "androidpublisher#productPurchase");
    assert_eq!(p["purchaseState"], 0);
    assert_eq!(p["acknowledgementState"], 0);
    assert_eq!(p["consumptionState"], 0);
    assert!(p["purchaseTimeMillis"].is_string(), "int64 as a string");
    assert!(p["orderId"].as_str().unwrap().starts_with("GPA."));
    assert!(p.get("purchaseType").is_none(), "not a test purchase");

    // Acknowledging twice is harmless.
    for _ in 0..2 {
        let (s, b) = e
            .google(
                "POST",
                &format!("purchases/products/coins_100/tokens/{token}:acknowledge"),
                Some(json!({ "developerPayload": "x" })),
            )
            .await;
        assert_eq!(s, 204, "{b}");
    }
    let (_, p) = e.product("coins_100", &token).await;
    assert_eq!(p["acknowledgementState"], 1);
    assert_eq!(p["developerPayload"], "x");

    // Consume (also acknowledges; a second consume is harmless).
    let t2 = e
        .buy(json!({ "productId": "coins_100", "quantity": 3 }))
        .await;
    for _ in 0..2 {
        let (s, _) = e
            .google(
                "POST",
                &format!("purchases/products/coins_100/tokens/{t2}:consume"),
                None,
            )
            .await;
        assert_eq!(s, 204);
    }
    let (_, p) = e.product("coins_100", &t2).await;
    assert_eq!(p["consumptionState"], 1);
    assert_eq!(p["acknowledgementState"], 1);
    assert_eq!(p["quantity"], 3);

    let calls = e.emu.calls();
    assert_eq!(calls["androidpublisher.purchases.products.get"], 3);
    assert_eq!(calls["androidpublisher.purchases.products.acknowledge"], 2);
    assert_eq!(calls["androidpublisher.purchases.products.consume"], 2);
}

#[tokio::test]
async fn product_errors() {
    let e = Emu::start().await;
    let token = e.buy(json!({ "productId": "coins_100" })).await;

    // Unknown token: Google's 400 invalid.
    let (s, b) = e.product("coins_100", "not-a-token").await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (400, Some("invalid"))
    );
    // Wrong product id.
    let (s, b) = e.product("premium_unlock", &token).await;
    assert_eq!(s, 400);
    assert_eq!(
        b["error"]["errors"][0]["reason"],
        "purchaseTokenDoesNotMatchProductId"
    );
    assert_eq!(b["error"]["status"], "INVALID_ARGUMENT");
    // A subscription token on the product endpoint.
    let sub = e.buy(json!({ "productId": "sub_monthly" })).await;
    let (s, _) = e.product("sub_monthly", &sub).await;
    assert_eq!(s, 400);
    let (s, _) = e
        .google("GET", &format!("purchases/productsv2/tokens/{sub}"), None)
        .await;
    assert_eq!(s, 400);
    // A one-time token on the subscription endpoint.
    let (s, _) = e.subscription(&token).await;
    assert_eq!(s, 400);
    // Wrong package.
    let (s, b) = e
        .google_path("GET", &format!("/androidpublisher/v3/applications/com.other/purchases/products/coins_100/tokens/{token}"), None, Some(&e.token))
        .await;
    assert_eq!(s, 404);
    assert_eq!(b["error"]["errors"][0]["reason"], "applicationNotFound");
    // Unknown path.
    let (s, _) = e.google("GET", "purchases/nothing", None).await;
    assert_eq!(s, 404);
    // Bad JSON.
    let r = e
        .http
        .post(e.url(&format!("/androidpublisher/v3/applications/{}/purchases/products/coins_100/tokens/{token}:acknowledge", support::PKG)))
        .bearer_auth(&e.token)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["error"]["errors"][0]["reason"], "parseError");
}

#[tokio::test]
async fn pending_purchase() {
    let e = Emu::start().await;
    let token = e
        .buy(json!({ "productId": "premium_unlock", "state": "pending" }))
        .await;
    let (_, p) = e.product("premium_unlock", &token).await;
    assert_eq!(p["purchaseState"], 2);
    let (_, v2) = e
        .google("GET", &format!("purchases/productsv2/tokens/{token}"), None)
        .await;
    assert_eq!(v2["purchaseStateContext"]["purchaseState"], "PENDING");
    assert!(v2.get("purchaseCompletionTime").is_none());

    for op in ["acknowledge", "consume"] {
        let (s, b) = e
            .google(
                "POST",
                &format!("purchases/products/premium_unlock/tokens/{token}:{op}"),
                None,
            )
            .await;
        assert_eq!(s, 400);
        assert_eq!(b["error"]["errors"][0]["reason"], "invalidPurchaseState");
    }
    assert!(
        e.notified(&token).await.is_empty(),
        "nothing is sent for a pending purchase"
    );

    let (s, _) = e.action(&token, "complete", None).await;
    assert_eq!(s, 200);
    let (_, p) = e.product("premium_unlock", &token).await;
    assert_eq!(p["purchaseState"], 0);
    let (_, v2) = e
        .google("GET", &format!("purchases/productsv2/tokens/{token}"), None)
        .await;
    assert_eq!(v2["purchaseStateContext"]["purchaseState"], "PURCHASED");
    assert!(v2["purchaseCompletionTime"].is_string());
    let (s, _) = e
        .google(
            "POST",
            &format!("purchases/products/premium_unlock/tokens/{token}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(e.notified(&token).await, ["one:1"]);

    // Canceled pending purchase.
    let t2 = e
        .buy(json!({ "productId": "coins_100", "state": "pending" }))
        .await;
    let (s, _) = e.action(&t2, "cancel-pending", None).await;
    assert_eq!(s, 200);
    let (_, p) = e.product("coins_100", &t2).await;
    assert_eq!(p["purchaseState"], 1);
    assert_eq!(e.notified(&t2).await, ["one:2"]);
    let (s, _) = e.action(&t2, "complete", None).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn test_purchases_are_marked() {
    let e = Emu::start().await;
    let token = e.buy(json!({ "productId": "coins_100", "test": true, "obfuscatedExternalAccountId": "acct-1" })).await;
    let (_, p) = e.product("coins_100", &token).await;
    assert_eq!(p["purchaseType"], 0);
    assert_eq!(p["obfuscatedExternalAccountId"], "acct-1");
    let (_, v2) = e
        .google("GET", &format!("purchases/productsv2/tokens/{token}"), None)
        .await;
    assert_eq!(v2["testPurchaseContext"]["fopType"], "TEST");
    let sub = e
        .buy(json!({ "productId": "sub_monthly", "test": true }))
        .await;
    let (_, s) = e.subscription(&sub).await;
    assert_eq!(s["testPurchase"], json!({}));
    let (_, s) = e
        .subscription(&e.buy(json!({ "productId": "sub_monthly" })).await)
        .await;
    assert!(s.get("testPurchase").is_none());
}

#[tokio::test]
async fn subscription_get_acknowledge_cancel_revoke_defer() {
    let e = Emu::start().await;
    let token = e.buy(json!({ "productId": "sub_monthly" })).await;
    let (s, sub) = e.subscription(&token).await;
    assert_eq!(s, 200);
    assert_eq!(sub["kind"], "androidpublisher#subscriptionPurchaseV2");
    assert_eq!(sub["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(sub["acknowledgementState"], "ACKNOWLEDGEMENT_STATE_PENDING");
    let item = &sub["lineItems"][0];
    assert_eq!(item["productId"], "sub_monthly");
    assert_eq!(item["offerDetails"]["basePlanId"], "monthly");
    assert_eq!(item["autoRenewingPlan"]["autoRenewEnabled"], true);
    assert_eq!(
        item["autoRenewingPlan"]["recurringPrice"],
        json!({ "currencyCode": "USD", "units": "1", "nanos": 990000000 })
    );
    assert!(item["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .starts_with("GPA."));

    // Acknowledge (v1 path), wrong subscription id, twice harmless.
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/subscriptions/sub_yearly/tokens/{token}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (400, Some("purchaseTokenDoesNotMatchProductId"))
    );
    for _ in 0..2 {
        let (s, _) = e
            .google(
                "POST",
                &format!("purchases/subscriptions/sub_monthly/tokens/{token}:acknowledge"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 204);
    }
    let (_, sub) = e.subscription(&token).await;
    assert_eq!(
        sub["acknowledgementState"],
        "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"
    );

    // Defer: etag required and checked.
    let etag = sub["etag"].as_str().unwrap().to_string();
    let expiry = sub["lineItems"][0]["expiryTime"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/subscriptionsv2/tokens/{token}:defer"),
            Some(json!({ "deferralContext": { "deferDuration": "86400s", "etag": "stale" } })),
        )
        .await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (409, Some("concurrentUpdate"))
    );
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/subscriptionsv2/tokens/{token}:defer"),
            Some(json!({ "deferralContext": { "deferDuration": "86400s", "etag": etag } })),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let new_expiry = b["itemExpiryTimeDetails"][0]["expiryTime"]
        .as_str()
        .unwrap();
    assert!(new_expiry > expiry.as_str());
    let (_, sub) = e.subscription(&token).await;
    assert_eq!(sub["lineItems"][0]["expiryTime"], new_expiry);

    // Cancel: CANCELED, auto-renew off, developer-initiated context; twice harmless.
    for _ in 0..2 {
        let (s, b) = e.google("POST", &format!("purchases/subscriptionsv2/tokens/{token}:cancel"), Some(json!({ "cancellationContext": { "cancellationType": "DEVELOPER_REQUESTED_STOP_PAYMENTS" } }))).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b, json!({}));
    }
    let (_, sub) = e.subscription(&token).await;
    assert_eq!(sub["subscriptionState"], "SUBSCRIPTION_STATE_CANCELED");
    assert_eq!(
        sub["lineItems"][0]["autoRenewingPlan"]["autoRenewEnabled"],
        false
    );
    assert!(sub["canceledStateContext"]["developerInitiatedCancellation"].is_object());

    // Revoke: exactly one refund kind; then EXPIRED and voided.
    let (s, _) = e
        .google(
            "POST",
            &format!("purchases/subscriptionsv2/tokens/{token}:revoke"),
            Some(json!({ "revocationContext": {} })),
        )
        .await;
    assert_eq!(s, 400);
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/subscriptionsv2/tokens/{token}:revoke"),
            Some(json!({ "revocationContext": { "fullRefund": {} } })),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, sub) = e.subscription(&token).await;
    assert_eq!(sub["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    let (s, _) = e
        .google(
            "POST",
            &format!("purchases/subscriptionsv2/tokens/{token}:revoke"),
            Some(json!({ "revocationContext": { "fullRefund": {} } })),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        e.notified(&token).await,
        ["sub:4", "sub:9", "sub:3", "sub:12", "voided"]
    );
    let (_, v) = e
        .google("GET", "purchases/voidedpurchases?type=1", None)
        .await;
    assert_eq!(v["voidedPurchases"][0]["purchaseToken"], token.as_str());
    assert_eq!(v["voidedPurchases"][0]["voidedSource"], 1);
}

#[tokio::test]
async fn replacement_links_tokens() {
    let e = Emu::start().await;
    let old = e.buy(json!({ "productId": "sub_monthly" })).await;
    let (s, new) = e
        .action(
            &old,
            "replace",
            Some(json!({ "productId": "sub_yearly", "mode": "chargeFullPrice" })),
        )
        .await;
    assert_eq!(s, 201, "{new}");
    let new_token = new["purchaseToken"].as_str().unwrap();
    let (_, sub) = e.subscription(new_token).await;
    assert_eq!(sub["linkedPurchaseToken"], old.as_str());
    assert_eq!(sub["lineItems"][0]["productId"], "sub_yearly");
    assert_eq!(sub["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    let (_, o) = e.subscription(&old).await;
    assert_eq!(o["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    assert!(o["canceledStateContext"]["replacementCancellation"].is_object());
    assert_eq!(e.notified(new_token).await, ["sub:4"]);

    // Deferred: the new token keeps the old product until the old expiry, then renews on
    // the new plan.
    let old = e.buy(json!({ "productId": "sub_yearly" })).await;
    let (_, o) = e.subscription(&old).await;
    let old_expiry = o["lineItems"][0]["expiryTime"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, new) = e
        .action(
            &old,
            "replace",
            Some(json!({ "productId": "sub_monthly", "mode": "deferred" })),
        )
        .await;
    assert_eq!(s, 201);
    let new_token = new["purchaseToken"].as_str().unwrap().to_string();
    e.google(
        "POST",
        &format!("purchases/subscriptions/sub_yearly/tokens/{new_token}:acknowledge"),
        None,
    )
    .await;
    let (_, sub) = e.subscription(&new_token).await;
    assert_eq!(sub["linkedPurchaseToken"], old.as_str());
    assert_eq!(sub["lineItems"][0]["productId"], "sub_yearly");
    assert_eq!(sub["lineItems"][0]["expiryTime"], old_expiry.as_str());
    assert_eq!(
        sub["lineItems"][0]["deferredItemReplacement"]["productId"],
        "sub_monthly"
    );
    e.advance(366 * 24 * 3600).await;
    let (_, sub) = e.subscription(&new_token).await;
    assert_eq!(sub["lineItems"][0]["productId"], "sub_monthly");
    assert_eq!(sub["lineItems"][0]["offerDetails"]["basePlanId"], "monthly");
    assert!(sub["lineItems"][0].get("deferredItemReplacement").is_none());
    assert!(sub["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .ends_with("..0"));
}

#[tokio::test]
async fn voided_purchases_list() {
    let e = Emu::start().await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        let t = e.buy(json!({ "productId": "coins_100" })).await;
        let (s, _) = e.action(&t, "void", Some(json!({ "reason": 1 }))).await;
        assert_eq!(s, 200);
        tokens.push(t);
    }
    let sub = e.buy(json!({ "productId": "sub_monthly" })).await;
    e.action(&sub, "void", Some(json!({ "reason": 7 }))).await;
    // A partial refund of a multi-quantity purchase.
    let multi = e
        .buy(json!({ "productId": "coins_100", "quantity": 5 }))
        .await;
    let (s, v) = e
        .action(&multi, "void", Some(json!({ "quantity": 2 })))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, p) = e.product("coins_100", &multi).await;
    assert_eq!(
        (
            p["purchaseState"].as_i64(),
            p["refundableQuantity"].as_i64()
        ),
        (Some(0), Some(3))
    );

    // Default type 0: one-time only; no partial refunds.
    let (s, v) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["voidedPurchases"].as_array().unwrap().len(), 5);
    let first = &v["voidedPurchases"][0];
    assert_eq!(first["purchaseToken"], tokens[0].as_str());
    assert_eq!(first["voidedReason"], 1);
    assert!(first["voidedTimeMillis"].is_string());
    // type=1 includes subscriptions; partial refunds on request.
    let (_, v) = e
        .google(
            "GET",
            "purchases/voidedpurchases?type=1&includeQuantityBasedPartialRefund=true",
            None,
        )
        .await;
    assert_eq!(v["voidedPurchases"].as_array().unwrap().len(), 7);
    assert_eq!(v["voidedPurchases"][6]["voidedQuantity"], 2);
    // Paging.
    let (_, page1) = e
        .google("GET", "purchases/voidedpurchases?maxResults=2", None)
        .await;
    assert_eq!(page1["voidedPurchases"].as_array().unwrap().len(), 2);
    let mut seen = vec![
        page1["voidedPurchases"][0]["purchaseToken"].clone(),
        page1["voidedPurchases"][1]["purchaseToken"].clone(),
    ];
    let mut next = page1["tokenPagination"]["nextPageToken"]
        .as_str()
        .map(String::from);
    while let Some(t) = next {
        let (s, page) = e
            .google(
                "GET",
                &format!("purchases/voidedpurchases?maxResults=2&token={t}"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        seen.extend(
            page["voidedPurchases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["purchaseToken"].clone()),
        );
        next = page["tokenPagination"]["nextPageToken"]
            .as_str()
            .map(String::from);
    }
    assert_eq!(seen, tokens.iter().map(|t| json!(t)).collect::<Vec<_>>());
    // Time window.
    let now = e.emu.now_ms();
    let (_, v) = e
        .google(
            "GET",
            &format!("purchases/voidedpurchases?startTime={}", now + 1000),
            None,
        )
        .await;
    assert!(v.get("voidedPurchases").is_none());
    let (s, _) = e
        .google(
            "GET",
            &format!(
                "purchases/voidedpurchases?startTime={}",
                now - 31 * 24 * 3600 * 1000
            ),
            None,
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = e
        .google("GET", "purchases/voidedpurchases?type=2", None)
        .await;
    assert_eq!(s, 400);
    let (s, _) = e
        .google("GET", "purchases/voidedpurchases?token=garbage", None)
        .await;
    assert_eq!(s, 400);
}
