//! Control API: purchases, faults, call counts, reset, notifications.

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use play_emulator::control::{
    CreatePurchase, ReplaceRequest, SetRtdn, SubscriptionAction, VoidRequest,
};
use play_emulator::faults::{Disconnect, Faults};
use play_emulator::rtdn::Forge;
use play_emulator::ControlClient;
use reqwest::StatusCode;
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

/// The typed client of the emulator running in `e`.
fn client(e: &Emu) -> ControlClient {
    ControlClient::with_http(e.http.clone(), e.emu.url())
}

/// Google's `subscriptionState` of a subscription token.
async fn google_state(e: &Emu, token: &str) -> String {
    let (s, v) = e.subscription(token).await;
    assert_eq!(s, 200, "{v}");
    v["subscriptionState"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn client_creates_completes_cancels_and_voids_purchases() {
    let e = Emu::start().await;
    let c = client(&e);
    // Purchased: Google reads it as purchased, with the order and account the answer names.
    let bought = c
        .create_purchase(&CreatePurchase {
            obfuscated_external_account_id: Some("acct-1".into()),
            ..CreatePurchase::of("coins_100")
        })
        .await
        .unwrap();
    assert_eq!(
        (bought.kind.as_str(), bought.state.as_str()),
        ("product", "purchased")
    );
    let (s, g) = e.product("coins_100", &bought.purchase_token).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["purchaseState"], 0);
    assert_eq!(g["orderId"], bought.order_id.as_str());
    assert_eq!(g["obfuscatedExternalAccountId"], "acct-1");
    assert!(g.get("purchaseType").is_none(), "{g}");
    // A license tester's.
    let test = c
        .create_purchase(&CreatePurchase {
            test: true,
            ..CreatePurchase::of("premium_unlock")
        })
        .await
        .unwrap();
    assert!(test.test);
    let (_, g) = e.product("premium_unlock", &test.purchase_token).await;
    assert_eq!(g["purchaseType"], 0);
    // Pending, then completed: Google's purchaseState goes 2 → 0.
    let pending = CreatePurchase {
        state: Some("pending".into()),
        ..CreatePurchase::of("coins_100")
    };
    let p = c.create_purchase(&pending).await.unwrap();
    assert_eq!(p.state, "pending");
    assert_eq!(
        e.product("coins_100", &p.purchase_token).await.1["purchaseState"],
        2
    );
    let done = c.complete(&p.purchase_token).await.unwrap();
    assert_eq!(done.state, "purchased");
    assert_eq!(
        e.product("coins_100", &p.purchase_token).await.1["purchaseState"],
        0
    );
    // Pending, then abandoned: 2 → 1 (canceled).
    let q = c.create_purchase(&pending).await.unwrap();
    assert_eq!(
        c.cancel_pending(&q.purchase_token).await.unwrap().state,
        "canceled"
    );
    assert_eq!(
        e.product("coins_100", &q.purchase_token).await.1["purchaseState"],
        1
    );
    // Voided: listed by Google's voidedpurchases with the reason and source given.
    let token = c.buy("premium_unlock").await.unwrap();
    let voided = c
        .void(
            &token,
            &VoidRequest {
                reason: Some(1),
                source: Some(1),
                quantity: None,
            },
        )
        .await
        .unwrap();
    assert!(voided.voided);
    let (s, list) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!(s, 200, "{list}");
    let entry = list["voidedPurchases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["purchaseToken"] == token.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{token} not voided: {list}"));
    assert_eq!(
        (entry["voidedReason"].clone(), entry["voidedSource"].clone()),
        (json!(1), json!(1))
    );
    // The list and the single view agree with what was created.
    let all = c.purchases().await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], c.purchase(&bought.purchase_token).await.unwrap());
    // Refusals carry the status and the emulator's error code.
    let err = c
        .create_purchase(&CreatePurchase::of("nope"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::NOT_FOUND), Some("unknown_product"))
    );
    let err = c.complete(&token).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::CONFLICT), Some("invalid_state"))
    );
    let err = c.purchase("no-such-token").await.unwrap_err();
    assert_eq!(err.code(), Some("unknown_token"));
}

#[tokio::test]
async fn client_drives_a_subscription_lifecycle() {
    let e = Emu::start().await;
    let c = client(&e);
    let sub = c
        .create_purchase(&CreatePurchase::of("sub_monthly"))
        .await
        .unwrap();
    let t = sub.purchase_token.clone();
    assert_eq!(sub.kind, "subscription");
    assert_eq!(sub.state, "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(google_state(&e, &t).await, sub.state);
    let steps = [
        (SubscriptionAction::Cancel, "SUBSCRIPTION_STATE_CANCELED"),
        (SubscriptionAction::Restart, "SUBSCRIPTION_STATE_ACTIVE"),
        (SubscriptionAction::Renew, "SUBSCRIPTION_STATE_ACTIVE"),
        (
            SubscriptionAction::Grace,
            "SUBSCRIPTION_STATE_IN_GRACE_PERIOD",
        ),
        (SubscriptionAction::Recover, "SUBSCRIPTION_STATE_ACTIVE"),
        (SubscriptionAction::Hold, "SUBSCRIPTION_STATE_ON_HOLD"),
        (SubscriptionAction::Recover, "SUBSCRIPTION_STATE_ACTIVE"),
        (
            SubscriptionAction::Pause {
                seconds: Some(3600),
            },
            "SUBSCRIPTION_STATE_PAUSED",
        ),
        (SubscriptionAction::Resume, "SUBSCRIPTION_STATE_ACTIVE"),
    ];
    for (action, state) in steps {
        let view = c.subscription(&t, action).await.unwrap();
        assert_eq!(view.state, state, "{}", action.name());
        assert_eq!(google_state(&e, &t).await, state, "{}", action.name());
    }
    // Renewals made new orders, which Google reports as the latest.
    let (_, g) = e.subscription(&t).await;
    let latest = c.purchase(&t).await.unwrap().latest_order_id.unwrap();
    assert_ne!(latest, sub.order_id);
    assert_eq!(
        g["lineItems"][0]["latestSuccessfulOrderId"],
        latest.as_str()
    );
    // A paused subscription resumes by itself once the pause's seconds pass on the clock.
    c.subscription(&t, SubscriptionAction::Pause { seconds: Some(600) })
        .await
        .unwrap();
    let before = c.clock().await.unwrap();
    let after = c.advance_clock(601).await.unwrap();
    assert_eq!(after.offset_seconds - before.offset_seconds, 601);
    assert_eq!(google_state(&e, &t).await, "SUBSCRIPTION_STATE_ACTIVE");
    // Replaced: the new token links the old one at Google.
    let replacement = c
        .replace(
            &t,
            &ReplaceRequest {
                product_id: "sub_yearly".into(),
                ..ReplaceRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(replacement.mode, "WITH_TIME_PRORATION");
    let new = replacement.purchase.purchase_token;
    assert_eq!(
        replacement.purchase.linked_purchase_token.as_deref(),
        Some(t.as_str())
    );
    let (_, g) = e.subscription(&new).await;
    assert_eq!(g["linkedPurchaseToken"], t.as_str());
    assert_eq!(
        c.purchase(&t).await.unwrap().replaced_by.as_deref(),
        Some(new.as_str())
    );
    // Revoked and expired: Google says so.
    c.subscription(&new, SubscriptionAction::Revoke)
        .await
        .unwrap();
    assert_eq!(google_state(&e, &new).await, "SUBSCRIPTION_STATE_EXPIRED");
    let other = c.buy("sub_monthly").await.unwrap();
    c.subscription(&other, SubscriptionAction::Expire)
        .await
        .unwrap();
    assert_eq!(google_state(&e, &other).await, "SUBSCRIPTION_STATE_EXPIRED");
    // Refused where the state does not allow it.
    let err = c
        .subscription(&other, SubscriptionAction::Resume)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::CONFLICT), Some("invalid_state"))
    );
    // A canceled subscription lapses when the clock passes its expiry.
    let lapsing = c.buy("sub_monthly").await.unwrap();
    c.subscription(&lapsing, SubscriptionAction::Cancel)
        .await
        .unwrap();
    c.advance_clock(40 * 24 * 3600).await.unwrap();
    assert_eq!(
        google_state(&e, &lapsing).await,
        "SUBSCRIPTION_STATE_EXPIRED"
    );
}

#[tokio::test]
async fn client_sets_faults_quotas_and_reads_calls() {
    let e = Emu::start().await;
    let c = client(&e);
    let t = c.buy("coins_100").await.unwrap();
    // Faults: in force until cleared, counted by kind.
    assert_eq!(c.faults().await.unwrap(), None);
    let faults = Faults::status(1.0, 503)
        .with_retry_after(2)
        .only(&["androidpublisher.purchases.products.get"]);
    assert_eq!(c.set_faults(&faults).await.unwrap(), faults);
    assert_eq!(c.faults().await.unwrap(), Some(faults));
    let (s, b) = e.product("coins_100", &t).await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (503, Some("backendError"))
    );
    assert_eq!(
        c.faults_injected().await.unwrap(),
        BTreeMap::from([("503".into(), 1)])
    );
    c.set_faults(
        &Faults::dropping(1.0, Disconnect::BeforeResponse)
            .only(&["androidpublisher.purchases.products.get"]),
    )
    .await
    .unwrap();
    assert!(e
        .http
        .get(e.url(&format!(
            "/androidpublisher/v3/applications/{}/purchases/products/coins_100/tokens/{t}",
            support::PKG
        )))
        .bearer_auth(&e.token)
        .send()
        .await
        .is_err());
    assert_eq!(c.faults_injected().await.unwrap()["beforeResponse"], 1);
    let slow = Faults::status(0.0, 500).with_latency_ms(200);
    c.set_faults(&slow).await.unwrap();
    let started = Instant::now();
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    assert!(started.elapsed().as_millis() >= 200);
    c.clear_faults().await.unwrap();
    assert_eq!(c.faults().await.unwrap(), None);
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    let err = c.set_faults(&Faults::status(2.0, 500)).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    // Calls: every Google call above, by method id; cleared on demand.
    let calls = c.calls().await.unwrap();
    assert_eq!(calls["androidpublisher.purchases.products.get"], 4);
    assert_eq!(calls, e.emu.calls());
    c.clear_calls().await.unwrap();
    assert!(c.calls().await.unwrap().is_empty());
    // Quotas: a limit of 1 a minute lets one read through, the next is Google's 429.
    let quotas = c
        .set_quotas(&BTreeMap::from([("purchases_per_minute".into(), 1)]))
        .await
        .unwrap();
    assert_eq!(quotas.purchases_per_minute, 1);
    assert_eq!(c.quotas().await.unwrap(), quotas);
    c.advance_clock(60).await.unwrap();
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    assert_eq!(e.product("coins_100", &t).await.0, 429);
    let err = c
        .set_quotas(&BTreeMap::from([("nope".into(), 1)]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn client_pushes_notifications_and_manages_keys_tokens_and_reset() {
    let e = Emu::start().await;
    let c = client(&e);
    // The key file and the JWKS are the emulator's own.
    assert_eq!(
        c.service_account().await.unwrap(),
        e.emu.service_account_key()
    );
    let jwks = c.oidc_certs().await.unwrap();
    assert!(!jwks["keys"].as_array().unwrap().is_empty());
    // Notifications: recorded without a push URL, redelivery refused until one is set.
    let note = c.test_notification().await.unwrap();
    assert!(
        note.data.get("testNotification").is_some(),
        "{:?}",
        note.data
    );
    let token = c.buy("coins_100").await.unwrap();
    let notes = c.notifications().await.unwrap();
    assert_eq!(notes[0].message_id, note.message_id);
    assert_eq!(
        notes[1].data["oneTimeProductNotification"]["purchaseToken"],
        token.as_str()
    );
    let err = c.redeliver(&note.message_id, None).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::CONFLICT), Some("no_push_url"))
    );
    // A push endpoint that counts its deliveries and refuses pushes without a token.
    let pushes = Arc::new(AtomicUsize::new(0));
    let counter = pushes.clone();
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if headers.contains_key("authorization") {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let rtdn = c
        .set_rtdn(&SetRtdn {
            push_url: Some(url.clone()),
            audience: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (rtdn.push_url.as_deref(), rtdn.audience.as_deref()),
        (Some(url.as_str()), Some(url.as_str()))
    );
    assert_eq!(c.rtdn().await.unwrap(), rtdn);
    let again = c.redeliver(&note.message_id, None).await.unwrap();
    assert_eq!(
        (again.message_id.as_str(), again.status),
        (note.message_id.as_str(), None)
    );
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while !c.notifications().await.unwrap()[0].delivered {
        assert!(
            Instant::now() < deadline,
            "the redelivery was not acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let forged = c
        .redeliver(&note.message_id, Some(Forge::NoToken))
        .await
        .unwrap();
    assert_eq!(forged.status, Some(401));
    assert!(pushes.load(Ordering::SeqCst) >= 2);
    // External-transaction tokens: Google accepts one issued for a tester and marks the
    // transaction as a test; the control view lists it.
    let issued = c.external_transaction_token(true).await.unwrap();
    let (s, t) = e
        .google(
            "POST",
            "externalTransactions?externalTransactionId=client-1",
            Some(json!({
                "originalPreTaxAmount": { "priceMicros": "1000000", "currency": "EUR" },
                "originalTaxAmount": { "priceMicros": "0", "currency": "EUR" },
                "transactionTime": c.clock().await.unwrap().now,
                "userTaxAddress": { "regionCode": "DE" },
                "oneTimeTransaction": { "externalTransactionToken": issued["externalTransactionToken"] },
            })),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["testPurchase"], json!({}));
    let listed = c.external_transactions().await.unwrap();
    assert_eq!(
        listed["externalTransactions"][0]["externalTransactionId"],
        "client-1"
    );
    assert_eq!(listed["externalTransactions"][0]["testPurchase"], true);
    // Expired access tokens: Google answers 401 to the old token.
    assert_eq!(e.product("coins_100", &token).await.0, 200);
    c.expire_access_tokens().await.unwrap();
    assert_eq!(e.product("coins_100", &token).await.0, 401);
    // Reset: the purchase and notifications are gone, the key stays.
    c.reset().await.unwrap();
    assert!(c.purchases().await.unwrap().is_empty());
    assert!(c.notifications().await.unwrap().is_empty());
    assert_eq!(
        c.service_account().await.unwrap(),
        e.emu.service_account_key()
    );
}
