//! Every status of the HTTP API against the embedded Play emulator.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn verify_grants_a_non_consumable_once_and_is_idempotent() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = &body["entitlement"];
    assert_eq!(e["itemId"], json!(c.non_consumable));
    assert_eq!(e["kind"], "non_consumable");
    assert_eq!(e["state"], "active");
    assert_eq!(e["entitled"], true);
    assert_eq!(e["quantity"], 1);
    assert_eq!(e["test"], false);
    assert_eq!(e["purchaseToken"], json!(token));
    assert!(e.get("expiresAt").is_none());
    let settled = h
        .wait_acknowledged("alice", &c.non_consumable, &token)
        .await;
    assert_eq!(settled["entitlement"]["id"], e["id"], "the same grant");
    let list = h.entitlements("alice").await;
    assert_eq!(list.len(), 1, "granted once: {list:?}");
    assert!(h.entitlements("bob").await.is_empty());
}

#[tokio::test]
async fn consumable_grants_its_quantity_once_and_is_consumed() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h
        .buy(&c.consumable, json!({"quantity": 3, "test": true}))
        .await;
    let (status, body) = h.verify("alice", &c.consumable, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entitlement"]["quantity"], 3);
    assert_eq!(body["entitlement"]["kind"], "consumable");
    assert_eq!(
        body["entitlement"]["test"], true,
        "test purchases are recorded as such"
    );
    let settled = h.wait_acknowledged("alice", &c.consumable, &token).await;
    assert_eq!(settled["entitlement"]["state"], "consumed");
    assert_eq!(
        settled["entitlement"]["entitled"], true,
        "the credited quantity stays"
    );
    assert_eq!(h.call_count(CONSUME).await, 1);
    assert_eq!(h.call_count(ACK).await, 0, "consume acknowledges too");
    let list = h.entitlements("alice").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["quantity"], 3);
}

#[tokio::test]
async fn subscription_is_verified_with_subscriptionsv2_and_acknowledged() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.subscription, json!({})).await;
    let (status, body) = h.verify("alice", &c.subscription, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = &body["entitlement"];
    assert_eq!(e["kind"], "subscription");
    assert_eq!(e["state"], "active");
    assert_eq!(e["entitled"], true);
    let expires = e["expiresAt"].as_str().expect("subscriptions expire");
    assert!(
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );
    h.wait_acknowledged("alice", &c.subscription, &token).await;
    assert_eq!(h.api_calls().await, set(&[(SUB_GET, 1), (SUB_ACK, 1)]));
}

#[tokio::test]
async fn pending_purchase_answers_202_then_grants_once_completed() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({"state": "pending"})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"status": "pending"}));
    assert!(
        h.entitlements("alice").await.is_empty(),
        "nothing granted while pending"
    );
    assert_eq!(
        h.call_count(ACK).await,
        0,
        "a pending purchase is not acknowledged"
    );
    let (status, _) = h.verify("bob", &c.non_consumable, &token).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a pending token is bound to its first account too"
    );
    h.emulator_action(&token, "complete", json!({})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.wait_acknowledged("alice", &c.non_consumable, &token)
        .await;
    assert_eq!(h.entitlements("alice").await.len(), 1);
}

#[tokio::test]
async fn pending_subscription_answers_202() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.subscription, json!({"state": "pending"})).await;
    let (status, body) = h.verify("alice", &c.subscription, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn token_of_another_account_is_refused_with_409() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    let (status, body) = h.verify("mallory", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "token_already_claimed");
    assert!(h.entitlements("mallory").await.is_empty());
    assert_eq!(
        h.verify("alice", &c.non_consumable, &token).await.0,
        StatusCode::OK,
        "still the owner's"
    );
}

#[tokio::test]
async fn invalid_purchases_answer_422() {
    let h = Harness::new().await;
    let c = catalog();
    let check = |status: StatusCode, body: &Value, what: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(error_code(body), "purchase_invalid", "{what}");
    };

    let (s, b) = h.verify("alice", &c.non_consumable, "no-such-token").await;
    check(s, &b, "unknown token");

    let before = h.calls().await;
    let (s, b) = h.verify("alice", "not_in_config", "some-token").await;
    check(s, &b, "product the configuration does not know");
    assert_eq!(h.calls().await, before, "refused without asking Google");

    let token = h.buy(&c.consumable, json!({})).await;
    let (s, b) = h.verify("alice", &c.non_consumable, &token).await;
    check(s, &b, "product id mismatch");

    let token = h.buy(&c.subscription, json!({})).await;
    let (s, b) = h.verify("alice", &c.other_subscription, &token).await;
    check(s, &b, "subscription product mismatch");

    let token = h.buy(&c.non_consumable, json!({"state": "pending"})).await;
    h.emulator_action(&token, "cancel-pending", json!({})).await;
    let (s, b) = h.verify("alice", &c.non_consumable, &token).await;
    check(s, &b, "canceled pending purchase");

    let token = h.buy(&c.non_consumable, json!({})).await;
    h.emulator_action(&token, "void", json!({})).await;
    let (s, b) = h.verify("alice", &c.non_consumable, &token).await;
    check(s, &b, "voided purchase");

    let token = h.buy(&c.subscription, json!({})).await;
    h.emulator_action(&token, "expire", json!({})).await;
    let (s, b) = h.verify("alice", &c.subscription, &token).await;
    check(s, &b, "expired subscription");
    let (s, b) = h.verify("alice", &c.subscription, &token).await;
    check(s, &b, "expired subscription, known");

    let token = h.verified("alice", &c.non_consumable).await;
    let (s, b) = h.verify("alice", &c.consumable, &token).await;
    check(s, &b, "known token presented for another product");
    let list = h.entitlements("alice").await;
    let entitled: Vec<&Value> = list
        .iter()
        .filter(|e| e["entitled"] == json!(true))
        .collect();
    assert_eq!(entitled.len(), 1, "{list:?}");
    assert_eq!(entitled[0]["itemId"], json!(c.non_consumable));
    assert!(
        list.iter()
            .any(|e| e["state"] == "expired" && e["entitled"] == json!(false)),
        "{list:?}"
    );
}

#[tokio::test]
async fn the_operator_may_refuse_test_purchases() {
    let h = Harness::with(|c| c.accept_test_purchases = false).await;
    let c = catalog();
    let test = h.buy(&c.non_consumable, json!({"test": true})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &test).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "purchase_invalid");
    h.verified("alice", &c.non_consumable).await;
    let sub = h.buy(&c.subscription, json!({"test": true})).await;
    assert_eq!(
        h.verify("alice", &c.subscription, &sub).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn package_mismatch_answers_422() {
    // The server is configured for another app than the emulator's: Google does not know
    // the token for that package.
    let h = Harness::with(|c| c.package_name = "com.example.other".into()).await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "purchase_invalid");
}

#[tokio::test]
async fn bad_requests_answer_400_401_413() {
    let h = Harness::new().await;
    let c = catalog();
    let post = |body: String, auth: Option<String>| {
        let mut r = h
            .http
            .post(h.url("/v1/purchases/verify"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let bearer = Some(format!("Bearer {}", Harness::bearer("alice")));

    let r = post("{not json".into(), bearer.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "invalid_request");

    let r = post(
        json!({"itemId": c.non_consumable}).to_string(),
        bearer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "missing purchaseToken");
    assert_eq!(error_code(&r.json().await.unwrap()), "invalid_request");

    let r = post(
        json!({"itemId": c.non_consumable, "purchaseToken": ""}).to_string(),
        bearer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "empty purchaseToken");

    let long = "x".repeat(3000);
    let r = post(
        json!({"itemId": c.non_consumable, "purchaseToken": long}).to_string(),
        bearer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "oversized purchaseToken"
    );
    assert_eq!(error_code(&r.json().await.unwrap()), "invalid_request");

    let r = h
        .http
        .post(h.url("/v1/purchases/verify"))
        .header("authorization", bearer.clone().unwrap())
        .body(json!({"itemId": c.non_consumable, "purchaseToken": "t"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no JSON content type");

    let huge = json!({"itemId": c.non_consumable, "purchaseToken": "y".repeat(20_000)}).to_string();
    let r = post(huge, bearer.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&r.json().await.unwrap()), "payload_too_large");

    let body = json!({"itemId": c.non_consumable, "purchaseToken": "t"}).to_string();
    let r = post(body.clone(), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&r.json().await.unwrap()), "unauthenticated");
    let r = post(body.clone(), Some("Bearer not.a.jwt".into()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let forged = pwa_billing_server::auth::issue_hs256(
        "another-secret-another-secret-another",
        "alice",
        std::time::Duration::from_secs(60),
    );
    let r = post(body.clone(), Some(format!("Bearer {forged}")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong signature");
    let r = post(body, Some(format!("Basic {}", Harness::bearer("alice"))))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "not a bearer token");
    let r = h.http.get(h.url("/v1/entitlements")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn transient_google_failure_answers_503_with_retry_after_never_422() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    for status in [500, 503, 429] {
        h.set_faults(json!({"rate": 1.0, "status": status})).await;
        let (s, body, headers) = h.verify_full("alice", &c.non_consumable, &token).await;
        assert_eq!(
            s,
            StatusCode::SERVICE_UNAVAILABLE,
            "Google {status}: {body}"
        );
        assert_eq!(error_code(&body), "upstream_unavailable");
        assert_eq!(
            headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("2")
        );
        let (s, body, _) = h
            .verify_full("alice", &c.subscription, "unknown-token")
            .await;
        assert_eq!(
            s,
            StatusCode::SERVICE_UNAVAILABLE,
            "never 422 while Google fails: {body}"
        );
    }
    assert!(h.entitlements("alice").await.is_empty());
    h.clear_faults().await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn transient_failures_are_retried_within_one_request() {
    let h = Harness::with(|c| c.retry.max_attempts = 50.try_into().unwrap()).await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    h.set_faults(json!({"rate": 0.5, "status": 503, "methods": [GET]}))
        .await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    h.clear_faults().await;
}

/// Found by the reliability suite's faults mix (429 with `Retry-After`): Google's
/// `Retry-After` was ignored, a 429 retried at the client's own backoff. A `Retry-After`
/// within `retry.max_delay` is now waited for; a longer one ends the call at once (the
/// request answers 503, nothing is granted, and it succeeds once Google is back).
#[tokio::test]
async fn googles_retry_after_is_waited_for_or_ends_the_call() {
    use std::time::{Duration, Instant};
    let h = Harness::with(|c| {
        c.retry.max_attempts = 3.try_into().unwrap();
        c.retry.base_delay = Duration::from_millis(1);
        c.retry.max_delay = Duration::from_millis(1500);
        // The client's own retry rule: with the quota on, the 60 s Retry-After also holds
        // the bucket (tests/it/quota.rs).
        c.quota.one_time_purchases_per_minute = 0;
    })
    .await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    h.set_faults(json!({"rate": 1.0, "status": 429, "retryAfterSecs": 1, "methods": [GET]}))
        .await;
    let before = h.call_count(GET).await;
    let started = Instant::now();
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(h.call_count(GET).await - before, 3, "every attempt made");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two waits of Google's Retry-After (1 s each), not the 1 ms backoff: {:?}",
        started.elapsed()
    );
    h.set_faults(json!({"rate": 1.0, "status": 429, "retryAfterSecs": 60, "methods": [GET]}))
        .await;
    let before = h.call_count(GET).await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        h.call_count(GET).await - before,
        1,
        "no retry within the call"
    );
    assert!(h.entitlements("alice").await.is_empty());
    h.clear_faults().await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// One retry rule for every Google call (issue 19): a 409 `concurrentUpdate` is retried
/// within the request (the catalog's rule, which the server lacked), and a spent hourly
/// quota (403 `quotaExceeded`) is not retried within seconds (the server used to spend
/// every attempt on it): the request answers 503 at once and succeeds once Google is back.
#[tokio::test]
async fn a_concurrent_update_is_retried_and_a_spent_quota_is_not() {
    use std::time::Duration;
    let h = Harness::with(|c| {
        c.retry.max_attempts = 3.try_into().unwrap();
        c.retry.base_delay = Duration::from_millis(1);
    })
    .await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    for (status, calls) in [(409, 3), (403, 1)] {
        h.set_faults(json!({"rate": 1.0, "status": status, "methods": [GET]}))
            .await;
        let before = h.call_count(GET).await;
        let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{status}: {body}");
        assert_eq!(h.call_count(GET).await - before, calls, "{status}");
    }
    assert!(h.entitlements("alice").await.is_empty());
    h.clear_faults().await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn sync_grants_what_the_device_lists() {
    let h = Harness::new().await;
    let c = catalog();
    let mine = h.buy(&c.non_consumable, json!({})).await;
    let coins = h.buy(&c.consumable, json!({})).await;
    let pending = h.buy(&c.subscription, json!({"state": "pending"})).await;
    let theirs = h.verified("bob", &c.consumable).await;
    let request = json!({"purchases": [
        {"itemId": c.non_consumable, "purchaseToken": mine},
        {"itemId": c.consumable, "purchaseToken": coins},
        {"itemId": c.subscription, "purchaseToken": pending},
        {"itemId": c.consumable, "purchaseToken": theirs},
        {"itemId": c.non_consumable, "purchaseToken": "bogus"},
        {"itemId": c.non_consumable, "purchaseToken": ""},
    ]});
    let r = h
        .http
        .post(h.url("/v1/purchases/sync"))
        .bearer_auth(Harness::bearer("alice"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "granted",
            "granted",
            "pending",
            "token_already_claimed",
            "purchase_invalid",
            "invalid_request"
        ]
    );
    assert_eq!(results[0]["purchaseToken"], json!(mine));
    assert_eq!(results[0]["entitlement"]["itemId"], json!(c.non_consumable));
    assert!(results[2].get("entitlement").is_none());
    h.wait_acknowledged("alice", &c.non_consumable, &mine).await;
    h.wait_acknowledged("alice", &c.consumable, &coins).await;
    assert_eq!(h.entitlements("alice").await.len(), 2);

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"itemId": c.consumable, "purchaseToken": format!("t{i}")}))
        .collect();
    let r = h
        .http
        .post(h.url("/v1/purchases/sync"))
        .bearer_auth(Harness::bearer("alice"))
        .json(&json!({ "purchases": too_many }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = h
        .http
        .post(h.url("/v1/purchases/sync"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn upgrade_replaces_the_linked_subscription() {
    let h = Harness::new().await;
    let c = catalog();
    let old = h.verified("alice", &c.subscription).await;
    let new = h
        .replace(&old, &c.other_subscription, "chargeFullPrice")
        .await;
    let (s, body) = h.verify("alice", &c.other_subscription, &new).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let list = h.entitlements("alice").await;
    let state_of = |token: &str| {
        list.iter()
            .find(|e| e["purchaseToken"] == json!(token))
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&old), "replaced");
    assert_eq!(state_of(&new), "active");
    let (s, _) = h.verify("alice", &c.subscription, &old).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the replaced token entitles nothing"
    );
}

/// Found by the reliability suite: a replacement token is the replaced purchase's owner's,
/// so another account presenting it first (a stolen token) is refused and takes nothing.
#[tokio::test]
async fn a_replacement_of_another_accounts_subscription_is_refused() {
    let h = Harness::new().await;
    let c = catalog();
    let old = h.verified("alice", &c.subscription).await;
    let new = h
        .replace(&old, &c.other_subscription, "chargeFullPrice")
        .await;
    let (s, body) = h.verify("mallory", &c.other_subscription, &new).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "token_already_claimed");
    assert!(h.entitlements("mallory").await.is_empty());
    let (s, body) = h.verify("alice", &c.other_subscription, &new).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn deferred_downgrade_is_granted_and_acknowledged_under_the_held_item() {
    let h = Harness::new().await;
    let c = catalog();
    let old = h.verified("alice", &c.other_subscription).await;
    let new = h.replace(&old, &c.subscription, "deferred").await;
    let (s, body) = h.verify("alice", &c.subscription, &new).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["entitlement"]["itemId"], json!(c.subscription));
    assert_eq!(body["entitlement"]["entitled"], true);
    h.wait_acknowledged("alice", &c.subscription, &new).await;
    assert_eq!(
        h.call_count(SUB_ACK).await,
        2,
        "the old and the new token, each once"
    );
    let list = h.entitlements("alice").await;
    let state_of = |token: &str| {
        list.iter()
            .find(|e| e["purchaseToken"] == json!(token))
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&old), "replaced");
}

#[tokio::test]
async fn canceled_subscription_stays_entitled_until_expiry() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.subscription, json!({})).await;
    h.emulator_action(&token, "cancel", json!({})).await;
    let (s, body) = h.verify("alice", &c.subscription, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["entitlement"]["state"], "canceled");
    assert_eq!(body["entitlement"]["entitled"], true);
}

#[tokio::test]
async fn operations_routes_and_json_errors() {
    let h = Harness::new().await;
    let r = h.http.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));

    let r = h.http.get(h.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r.json().await.unwrap()), "not_found");
    let r = h
        .http
        .get(h.url("/v1/purchases/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every response has a request id"
    );
    assert_eq!(error_code(&r.json().await.unwrap()), "method_not_allowed");

    for path in ["/v1/dev/sandbox"] {
        let r = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} is sandbox-only");
    }
    let r = h
        .http
        .post(h.url("/v1/dev/session"))
        .json(&json!({"accountId": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "sessions are sandbox-only"
    );

    let r = h
        .http
        .get(h.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-request-id"],
        "abc-123",
        "request ids propagate"
    );
}

#[tokio::test]
async fn metrics_expose_requests_outcomes_google_calls_and_outbox() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    assert_eq!(
        h.verify("bob", &c.non_consumable, &token).await.0,
        StatusCode::CONFLICT
    );
    let r = h.http.get(h.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    for line in [
        r#"pwa_billing_http_requests_total{method="POST",route="/v1/purchases/verify",status="200"} 1"#,
        r#"pwa_billing_verifications_total{outcome="granted"} 1"#,
        r#"pwa_billing_verifications_total{outcome="token_already_claimed"} 1"#,
        r#"pwa_billing_google_calls_total{method="androidpublisher.purchases.products.get",status="200"} 1"#,
        "pwa_billing_google_oauth_token_fetches_total 1",
        "pwa_billing_outbox_depth 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    let age = text
        .lines()
        .find_map(|l| l.strip_prefix("pwa_billing_oldest_unacknowledged_age_seconds "))
        .expect("oldest unacknowledged age");
    assert!(age.parse::<f64>().unwrap() >= 0.0);
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let h = Harness::new().await;
    let r = h.http.get(h.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths: std::collections::BTreeSet<String> =
        doc["paths"].as_object().unwrap().keys().cloned().collect();
    let expected: std::collections::BTreeSet<String> = [
        "/v1/purchases/verify",
        "/v1/purchases/sync",
        "/v1/entitlements",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/v1/dev/session",
        "/v1/dev/sandbox",
        "/v1/rtdn",
        "/v1/admin/reports/reconciliation",
        "/v1/external-transactions",
        "/v1/external-transactions/{id}",
        "/v1/external-transactions/{id}/refunds",
        "/v1/admin/console/session",
        "/v1/admin/console/overview",
        "/v1/admin/console/health",
        "/v1/admin/console/lookup",
        "/v1/admin/console/reconciliation",
        "/v1/admin/console/catalog",
        "/v1/admin/console/external-transactions",
        "/v1/accounts/{accountId}/entitlements",
        "/v1/purchases/{purchaseToken}",
        "/v1/events",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, expected);
    let verify = &doc["paths"]["/v1/purchases/verify"]["post"]["responses"];
    for code in ["200", "202", "400", "401", "409", "413", "422", "503"] {
        assert!(verify.get(code).is_some(), "verify documents {code}");
    }
    assert!(doc["components"]["schemas"]["Entitlement"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// Found by the reliability suite's schemathesis run, where the document and the server
/// disagreed: the reconciliation's `month` and `confirm` were documented as required path
/// parameters (they are optional query parameters, refused when malformed); `POST /v1/rtdn`
/// was documented as taking a user's bearer JWT (it takes Pub/Sub's OIDC token and refuses
/// users' JWTs); verify's fields had no bounds although the server refuses empty, oversized
/// and control-character values with 400.
#[tokio::test]
async fn openapi_document_agrees_with_the_server() {
    let h = Harness::new().await;
    let (_, doc) = h
        .request(reqwest::Method::GET, "/openapi.json", ADMIN_KEY, None)
        .await;
    let params = doc["paths"]["/v1/admin/reports/reconciliation"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<(&str, &str, bool)> = params
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["in"].as_str().unwrap(),
                p["required"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("month", "query", false), ("confirm", "query", false)]
    );
    let get = reqwest::Method::GET;
    let path = "/v1/admin/reports/reconciliation";
    assert_eq!(
        h.request(get.clone(), path, ADMIN_KEY, None).await.0,
        StatusCode::OK
    );
    for bad in ["?month=2026-13", "?confirm=maybe"] {
        let (status, _) = h
            .request(get.clone(), &format!("{path}{bad}"), ADMIN_KEY, None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    assert_eq!(
        doc["paths"]["/v1/rtdn"]["post"]["security"],
        json!([{ "pubsub_push": [] }])
    );
    assert!(doc["components"]["securitySchemes"]["pubsub_push"].is_object());
    let (status, _) = h
        .request(
            reqwest::Method::POST,
            "/v1/rtdn",
            &Harness::bearer("user"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let fields = &doc["components"]["schemas"]["VerifyRequest"]["properties"];
    for (field, max) in [("itemId", 256), ("purchaseToken", 2048)] {
        assert_eq!(fields[field]["minLength"], 1, "{field}");
        assert_eq!(fields[field]["maxLength"], max, "{field}");
        assert!(fields[field]["pattern"].is_string(), "{field}");
    }
    let user = Harness::bearer("bounds");
    for body in [
        json!({ "itemId": "", "purchaseToken": "t" }),
        json!({ "itemId": "coins_100", "purchaseToken": "" }),
        json!({ "itemId": "coins_100", "purchaseToken": "x".repeat(2049) }),
        json!({ "itemId": "coins\u{85}", "purchaseToken": "t" }),
    ] {
        let (status, answer) = h
            .request(
                reqwest::Method::POST,
                "/v1/purchases/verify",
                &user,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
    }
    // A sync checks each purchase on its own: its items carry no bounds in the document.
    let sync_item = &doc["components"]["schemas"]["PurchaseRef"]["properties"];
    assert!(sync_item["itemId"]["minLength"].is_null(), "{sync_item}");
}

/// Found by the reliability suite: a connection that sent nothing, or trickled a request
/// head, was held open forever (a task and its buffers each; slowloris). Both are now
/// closed after `limits.header_read_timeout`, and requests are served as before.
#[tokio::test]
async fn idle_and_slow_connections_are_closed_after_the_header_read_timeout() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = Harness::with(|c| c.limits.header_read_timeout = Duration::from_secs(1)).await;
    let addr = h.url("").trim_start_matches("http://").to_string();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    for (name, stream) in [("idle", &mut idle), ("slow", &mut slow)] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest))
            .await
            .is_ok();
        assert!(closed, "the {name} connection is still open");
        assert!(
            !String::from_utf8_lossy(&rest).contains("200 OK"),
            "the {name} connection was answered"
        );
    }
    let answer = h.http.get(h.url("/healthz")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
