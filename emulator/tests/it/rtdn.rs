//! RTDN push: Pub/Sub envelopes received by a test server, signed with an OIDC JWT verified
//! against the published JWKS, retried until 2xx.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};
use support::Emu;
use tokio::sync::mpsc;

struct Push {
    authorization: String,
    body: Value,
}

/// A push endpoint that fails its first `failures` requests with 503.
async fn push_server(failures: usize) -> (String, mpsc::UnboundedReceiver<Push>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = Router::new().route(
        "/rtdn",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < failures {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let authorization = headers
                    .get("authorization")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(Push {
                    authorization,
                    body: serde_json::from_str(&body).unwrap(),
                });
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rtdn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx, seen)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Push>) -> Push {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a push within 10 s")
        .expect("open")
}

fn decode_data(push: &Push) -> Value {
    let data = push.body["message"]["data"].as_str().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

async fn verify(e: &Emu, push: &Push, audience: &str) -> Value {
    let (_, jwks) = e.control("GET", "/emulator/v1/oidc/certs", None).await;
    let token = push.authorization.strip_prefix("Bearer ").expect("bearer");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let jwk = jwks.find(&kid).expect("kid in the JWKS");
    let mut v = Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[audience]);
    v.set_issuer(&["https://accounts.google.com"]);
    let data = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("valid OIDC token");
    assert_eq!(data.claims["email_verified"], true);
    assert_eq!(data.claims["email"], e.emu.rtdn_service_account_email());
    assert!(data.claims["exp"].as_i64().unwrap() > support::now_secs());
    data.claims
}

#[tokio::test]
async fn pushes_are_signed_envelopes() {
    let (url, mut rx, _) = push_server(0).await;
    let push_url = url.clone();
    let e = Emu::start_with(move |c| c.rtdn.push_url = Some(push_url)).await;
    let token = e.buy(json!({ "productId": "sub_monthly" })).await;
    let push = next(&mut rx).await;
    let claims = verify(&e, &push, &url).await;
    assert_eq!(claims["iss"], "https://accounts.google.com");
    let msg = &push.body["message"];
    assert!(msg["messageId"].is_string() && msg["publishTime"].is_string());
    assert_eq!(msg["messageId"], msg["message_id"]);
    assert_eq!(
        push.body["subscription"],
        "projects/play-emulator/subscriptions/play-rtdn"
    );
    let data = decode_data(&push);
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["packageName"], support::PKG);
    assert!(data["eventTimeMillis"].is_string());
    assert_eq!(
        data["subscriptionNotification"],
        json!({ "version": "1.0", "notificationType": 4, "purchaseToken": token })
    );

    // A test notification, a one-time purchase, a void.
    let (s, _) = e
        .control("POST", "/emulator/v1/notifications:test", None)
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        decode_data(&next(&mut rx).await)["testNotification"],
        json!({ "version": "1.0" })
    );
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    let d = decode_data(&next(&mut rx).await);
    assert_eq!(
        d["oneTimeProductNotification"],
        json!({ "version": "1.0", "notificationType": 1, "purchaseToken": t, "sku": "coins_100" })
    );
    e.action(&t, "void", Some(json!({ "reason": 7 }))).await;
    let d = decode_data(&next(&mut rx).await);
    assert_eq!(d["voidedPurchaseNotification"]["productType"], 2);
    assert_eq!(d["voidedPurchaseNotification"]["refundType"], 1);
    assert_eq!(d["voidedPurchaseNotification"]["purchaseToken"], t.as_str());
}

#[tokio::test]
async fn audience_is_configurable_and_pushes_retry_until_2xx() {
    let (url, mut rx, seen) = push_server(3).await;
    let push_url = url.clone();
    let e = Emu::start_with(move |c| {
        c.rtdn.push_url = Some(push_url);
        c.rtdn.audience = Some("https://billing.example.com/v1/rtdn".into());
    })
    .await;
    e.control("POST", "/emulator/v1/notifications:test", None)
        .await;
    let push = next(&mut rx).await;
    verify(&e, &push, "https://billing.example.com/v1/rtdn").await;
    assert_eq!(seen.load(Ordering::SeqCst), 4, "three 503s, then delivered");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let n = e.notifications().await;
    assert_eq!(n[0]["attempts"], 4);
    assert_eq!(n[0]["delivered"], true);
    assert_eq!(n[0]["lastStatus"], 204);
}

#[tokio::test]
async fn push_target_can_change_at_run_time() {
    let e = Emu::start().await;
    e.control("POST", "/emulator/v1/notifications:test", None)
        .await;
    let n = e.notifications().await;
    assert_eq!((n.len(), n[0]["delivered"].as_bool()), (1, Some(false)));
    let (url, mut rx, _) = push_server(0).await;
    let (s, v) = e
        .control("PUT", "/emulator/v1/rtdn", Some(json!({ "pushUrl": url })))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["audience"], url.as_str());
    assert!(v["jwksUrl"]
        .as_str()
        .unwrap()
        .ends_with("/emulator/v1/oidc/certs"));
    e.control("POST", "/emulator/v1/notifications:test", None)
        .await;
    let push = next(&mut rx).await;
    verify(&e, &push, &url).await;
}

/// A push endpoint that checks the OIDC token as a careful server does: 401 unless valid.
async fn verifying_server(
    jwks: Value,
    audience: String,
    email: String,
) -> (String, mpsc::UnboundedReceiver<Push>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let app = Router::new().route(
        "/rtdn",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let jwks = jwks.clone();
            let (audience, email) = (audience.clone(), email.clone());
            async move {
                let authorization = headers
                    .get("authorization")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let Some(token) = authorization.strip_prefix("Bearer ") else {
                    return StatusCode::UNAUTHORIZED;
                };
                let Ok(header) = jsonwebtoken::decode_header(token) else {
                    return StatusCode::UNAUTHORIZED;
                };
                let Some(jwk) = header.kid.as_deref().and_then(|k| jwks.find(k)) else {
                    return StatusCode::UNAUTHORIZED;
                };
                let mut v = Validation::new(jsonwebtoken::Algorithm::RS256);
                v.set_audience(&[audience]);
                v.set_issuer(&["https://accounts.google.com", "accounts.google.com"]);
                let Ok(data) =
                    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
                else {
                    return StatusCode::UNAUTHORIZED;
                };
                if data.claims["email"] != email.as_str() || data.claims["email_verified"] != true {
                    return StatusCode::UNAUTHORIZED;
                }
                let _ = tx.send(Push {
                    authorization,
                    body: serde_json::from_str(&body).unwrap(),
                });
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rtdn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn redelivery_and_forged_pushes() {
    let e = Emu::start().await;
    let (url, mut rx) = verifying_server(
        e.emu.jwks(),
        "aud-x".into(),
        e.emu.rtdn_service_account_email(),
    )
    .await;
    e.control(
        "PUT",
        "/emulator/v1/rtdn",
        Some(json!({ "pushUrl": url, "audience": "aud-x" })),
    )
    .await;
    e.control("POST", "/emulator/v1/notifications:test", None)
        .await;
    let first = next(&mut rx).await;
    let id = first.body["message"]["messageId"]
        .as_str()
        .unwrap()
        .to_string();

    // A duplicate: same messageId, same data.
    let (s, _) = e
        .control(
            "POST",
            &format!("/emulator/v1/notifications/{id}:redeliver"),
            None,
        )
        .await;
    assert_eq!(s, 202);
    let dup = next(&mut rx).await;
    assert_eq!(dup.body["message"], first.body["message"]);

    // Every forgery is refused by a verifying endpoint.
    for forge in [
        "audience",
        "issuer",
        "expired",
        "email",
        "unverified",
        "signature",
        "unknown-key",
        "no-token",
    ] {
        let (s, v) = e
            .control(
                "POST",
                &format!("/emulator/v1/notifications/{id}:redeliver"),
                Some(json!({ "forge": forge })),
            )
            .await;
        assert_eq!((s, v["status"].as_u64()), (200, Some(401)), "{forge}: {v}");
    }
    assert!(rx.try_recv().is_err(), "nothing forged got through");
    let (s, _) = e
        .control(
            "POST",
            &format!("/emulator/v1/notifications/{id}:redeliver"),
            Some(json!({ "forge": "nonsense" })),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = e
        .control("POST", "/emulator/v1/notifications/123:redeliver", None)
        .await;
    assert_eq!(s, 404);
}
