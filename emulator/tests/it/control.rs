//! Control API: purchases, faults, call counts, reset, notifications.

use crate::support;

use std::time::Instant;

use serde_json::json;
use support::Emu;

#[tokio::test]
async fn create_purchase_validation() {
    let e = Emu::start().await;
    let (s, v) = e
        .control(
            "POST",
            "/emulator/v1/purchases",
            Some(json!({ "productId": "coins_100" })),
        )
        .await;
    assert_eq!(s, 201);
    assert!(v["orderId"].as_str().unwrap().starts_with("GPA."));
    assert_eq!(v["kind"], "product");
    let (s, v) = e
        .control(
            "POST",
            "/emulator/v1/purchases",
            Some(json!({ "productId": "sub_yearly", "basePlanId": "yearly" })),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (201, Some("subscription")));
    for bad in [
        json!({ "productId": "nope" }),
        json!({ "productId": "coins_100", "kind": "subscription" }),
        json!({ "productId": "coins_100", "state": "weird" }),
        json!({ "productId": "coins_100", "quantity": 0 }),
        json!({ "productId": "sub_monthly", "basePlanId": "nope" }),
        json!({ "productId": "coins_100", "unknownField": 1 }),
    ] {
        let (s, v) = e
            .control("POST", "/emulator/v1/purchases", Some(bad.clone()))
            .await;
        assert!((400..500).contains(&s), "{bad} → {s} {v}");
        assert!(v["error"]["code"].is_string());
    }
    let (s, list) = e.control("GET", "/emulator/v1/purchases", None).await;
    assert_eq!(s, 200);
    assert_eq!(list["purchases"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn faults_inject_errors_and_latency() {
    let e = Emu::start().await;
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    let (s, _) = e
        .control(
            "PUT",
            "/emulator/v1/faults",
            Some(json!({ "rate": 1.0, "status": 503 })),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = e.product("coins_100", &t).await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (503, Some("backendError"))
    );
    // Restricted to some methods.
    e.control("PUT", "/emulator/v1/faults", Some(json!({ "rate": 1.0, "status": 429, "methods": ["androidpublisher.purchases.products.acknowledge"] }))).await;
    let (s, _) = e.product("coins_100", &t).await;
    assert_eq!(s, 200);
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/products/coins_100/tokens/{t}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (429, Some("rateLimitExceeded"))
    );
    // Latency only.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 0.0, "status": 500, "latencyMs": 300 })),
    )
    .await;
    let start = Instant::now();
    let (s, _) = e.product("coins_100", &t).await;
    assert_eq!(s, 200);
    assert!(start.elapsed().as_millis() >= 300);
    // Half the calls fail, roughly.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 0.5, "status": 500 })),
    )
    .await;
    let mut failed = 0;
    for _ in 0..60 {
        if e.product("coins_100", &t).await.0 == 500 {
            failed += 1;
        }
    }
    assert!(
        (10..=50).contains(&failed),
        "{failed} of 60 failed at rate 0.5"
    );
    // The token endpoint only when named.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 1.0, "status": 500, "methods": ["oauth2.token"] })),
    )
    .await;
    let key = e.emu.service_account_key();
    let (s, _) = support::exchange(
        &e.http,
        key["token_uri"].as_str().unwrap(),
        &support::assertion(&key, |_| {}),
    )
    .await;
    assert_eq!(s, 500);
    // Cleared.
    let (s, _) = e.control("DELETE", "/emulator/v1/faults", None).await;
    assert_eq!(s, 204);
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    // Validation.
    for bad in [
        json!({ "rate": 2.0, "status": 500 }),
        json!({ "rate": 0.5, "status": 200 }),
        json!({ "rate": 0.5 }),
        json!({ "rate": 0.5, "status": 500, "methods": ["androidpublisher.purchases.products.gte"] }),
    ] {
        assert_eq!(
            e.control("PUT", "/emulator/v1/faults", Some(bad)).await.0,
            400
        );
    }
}

#[tokio::test]
async fn faults_drop_connections_and_send_retry_after() {
    let e = Emu::start().await;
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    let url = e.url(&format!(
        "/androidpublisher/v3/applications/{}/purchases/products/coins_100/tokens/{t}",
        support::PKG
    ));
    let get = |http: reqwest::Client| {
        let (url, token) = (url.clone(), e.token.clone());
        async move { http.get(url).bearer_auth(token).send().await }
    };
    // Closed before any byte of a response: the client's request fails (and is not a
    // timeout), on a new connection and on a kept-alive one alike.
    let (s, _) = e
        .control(
            "PUT",
            "/emulator/v1/faults",
            Some(json!({ "rate": 1.0, "drop": "beforeResponse", "methods": ["androidpublisher.purchases.products.get"] })),
        )
        .await;
    assert_eq!(s, 200);
    let kept_alive = support::http_client();
    for http in [support::http_client(), kept_alive.clone(), kept_alive] {
        let err = get(http).await.expect_err("the connection must be dropped");
        assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    }
    // Other methods are untouched.
    let (s, _) = e
        .google(
            "POST",
            &format!("purchases/products/coins_100/tokens/{t}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    // A 200 head, then the body cut: the status arrives, reading the body fails.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 1.0, "drop": "midBody" })),
    )
    .await;
    let response = get(support::http_client()).await.expect("the head is sent");
    assert_eq!(response.status(), 200);
    let err = response.bytes().await.expect_err("the body must be cut");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    // The token endpoint too, when named.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 1.0, "drop": "beforeResponse", "methods": ["oauth2.token"] })),
    )
    .await;
    let key = e.emu.service_account_key();
    let sent = e
        .http
        .post(key["token_uri"].as_str().unwrap())
        .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")])
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    // 429 with Retry-After.
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 1.0, "status": 429, "retryAfterSecs": 7 })),
    )
    .await;
    let response = get(support::http_client()).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["errors"][0]["reason"], "rateLimitExceeded");
    // Every call was counted, each injected failure by kind, and the emulator answers once
    // the faults are gone.
    assert_eq!(e.emu.calls()["androidpublisher.purchases.products.get"], 5);
    assert_eq!(
        e.control("GET", "/emulator/v1/faults/injected", None)
            .await
            .1,
        json!({ "beforeResponse": 4, "midBody": 1, "429": 1 })
    );
    assert_eq!(
        e.control("DELETE", "/emulator/v1/faults", None).await.0,
        204
    );
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    for bad in [
        json!({ "rate": 1.0, "status": 500, "drop": "midBody" }),
        json!({ "rate": 1.0, "drop": "sideways" }),
        json!({ "rate": 1.0, "drop": "midBody", "retryAfterSecs": 3 }),
    ] {
        let (s, v) = e
            .control("PUT", "/emulator/v1/faults", Some(bad.clone()))
            .await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
}

#[tokio::test]
async fn calls_are_counted_by_method_id() {
    let e = Emu::start().await;
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    e.product("coins_100", &t).await;
    e.product("coins_100", "unknown").await;
    e.google(
        "POST",
        &format!("purchases/products/coins_100/tokens/{t}:consume"),
        None,
    )
    .await;
    e.google("GET", "purchases/voidedpurchases", None).await;
    let (s, calls) = e.control("GET", "/emulator/v1/calls", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        calls,
        json!({
            "androidpublisher.purchases.products.consume": 1,
            "androidpublisher.purchases.products.get": 2,
            "androidpublisher.purchases.voidedpurchases.list": 1,
            "oauth2.token": 1,
        })
    );
    assert_eq!(e.control("DELETE", "/emulator/v1/calls", None).await.0, 204);
    assert_eq!(
        e.control("GET", "/emulator/v1/calls", None).await.1,
        json!({})
    );
}

#[tokio::test]
async fn reset_forgets_state_but_not_keys_or_tokens() {
    let e = Emu::start().await;
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    e.advance(3600).await;
    e.control(
        "PUT",
        "/emulator/v1/faults",
        Some(json!({ "rate": 1.0, "status": 500, "methods": ["oauth2.token"] })),
    )
    .await;
    let key = e.emu.service_account_key();
    assert_eq!(e.control("POST", "/emulator/v1/reset", None).await.0, 204);
    let (s, _) = e.product("coins_100", &t).await;
    assert_eq!(s, 400, "the purchase is gone");
    assert_eq!(
        e.control("GET", "/emulator/v1/faults", None).await.1,
        json!({})
    );
    assert_eq!(
        e.control("GET", "/emulator/v1/clock", None).await.1["offsetSeconds"],
        0
    );
    assert!(e.notifications().await.is_empty());
    assert_eq!(e.emu.service_account_key(), key);
    assert_eq!(e.emu.calls()["androidpublisher.purchases.products.get"], 1);
}
