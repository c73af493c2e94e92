//! `POST /v1/rtdn`: push authentication (forged tokens refused with 401 and nothing
//! changed), storage once per message id, malformed bodies, other packages, key rotation.

use crate::common;
use crate::rtdn_support;

use std::sync::{Arc, Mutex};

use base64::Engine;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pwa_billing_server::config::RtdnConfig;
use pwa_billing_server::db::rtdn_messages::deliveries;
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rtdn_support::*;
use serde_json::{json, Value};

const EMAIL: &str = "push@test-project.iam.gserviceaccount.com";

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A push signer with its own RSA key, published by a JWKS server of the test.
struct Signer {
    key: EncodingKey,
    kid: String,
    jwk: Value,
}

fn signer(kid: &str) -> Signer {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let pem = private.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    Signer {
        key: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        kid: kid.into(),
        jwk: json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": b64url(&private.n().to_bytes_be()), "e": b64url(&private.e().to_bytes_be())}),
    }
}

impl Signer {
    fn token(&self, claims: Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    fn good_token(&self) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.token(
            json!({"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": EMAIL,
            "email_verified": true, "sub": "1", "iat": now, "exp": now + 600}),
        )
    }
}

/// Serves a JWKS the test can change; returns its URL.
async fn jwks_server(keys: Arc<Mutex<Vec<Value>>>) -> url::Url {
    let app = axum::Router::new().route(
        "/certs",
        axum::routing::get(move || {
            let keys = keys.clone();
            async move { axum::Json(json!({ "keys": keys.lock().unwrap().clone() })) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    url::Url::parse(&format!("http://{addr}/certs")).unwrap()
}

fn envelope(message_id: &str, notification: &Value) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(notification.to_string());
    json!({"message": {"data": data, "messageId": message_id, "message_id": message_id,
        "publishTime": "2026-01-01T00:00:00Z", "attributes": {}},
        "subscription": "projects/test/subscriptions/rtdn"})
}

async fn push(h: &Harness, bearer: Option<&str>, body: String) -> (StatusCode, Value) {
    let mut request = h
        .http
        .post(h.url("/v1/rtdn"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn own_keys_harness(keys: Arc<Mutex<Vec<Value>>>) -> Harness {
    let jwks_url = jwks_server(keys).await;
    Harness::with(|c| {
        c.rtdn = RtdnConfig {
            jwks_url,
            audience: Some(AUDIENCE.into()),
            service_account_email: Some(EMAIL.into()),
        }
    })
    .await
}

#[tokio::test]
async fn forged_pushes_are_refused_with_401_and_change_nothing() {
    let h = pushed().await;
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    wait_processed(&h, &token).await;
    push_off(&h);
    h.emulator_action(&token, "revoke", json!({})).await;
    push_on(&h);
    let revoked = messages_about(&h, &token)
        .into_iter()
        .find(|(_, d)| d["subscriptionNotification"]["notificationType"] == json!(12))
        .expect("a SUBSCRIPTION_REVOKED notification")
        .0;
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
        let (status, body) = redeliver(&h, &revoked, Some(forge)).await;
        assert_eq!(status, StatusCode::OK, "{forge}: {body}");
        assert_eq!(body["status"], 401, "{forge} refused: {body}");
    }
    assert_eq!(
        deliveries(&h.state.db, &revoked).await.unwrap(),
        None,
        "nothing stored"
    );
    let e = entitlement(&h, "alice", &token).await.unwrap();
    assert_eq!(e["state"], "active", "nothing changed");
    // The genuine push goes through.
    assert_eq!(redeliver(&h, &revoked, None).await.0, StatusCode::ACCEPTED);
    wait_state(&h, "alice", &token, "revoked").await;
}

#[tokio::test]
async fn a_server_without_rtdn_configuration_refuses_every_push() {
    let h = Harness::new().await;
    let (status, body) = push(&h, Some("a.b.c"), envelope("1", &json!({})).to_string()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn bodies_are_checked_and_other_packages_are_acknowledged_without_storing() {
    let a = signer("key-a");
    let keys = Arc::new(Mutex::new(vec![a.jwk.clone()]));
    let h = own_keys_harness(keys).await;
    let bearer = a.good_token();
    let package = h.config.package_name.clone();
    for bad in [
        "not json".to_string(),
        json!({"message": {"data": "***", "messageId": "1"}}).to_string(),
        envelope("", &json!({"packageName": package, "testNotification": {}})).to_string(),
        envelope("2", &json!({"packageName": package})).to_string(),
    ] {
        let (status, body) = push(&h, Some(&bearer), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    let other = envelope(
        "3",
        &json!({"packageName": "com.other.app", "testNotification": {"version": "1.0"}}),
    );
    assert_eq!(
        push(&h, Some(&bearer), other.to_string()).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(deliveries(&h.state.db, "3").await.unwrap(), None);
    let test = envelope(
        "4",
        &json!({"version": "1.0", "packageName": package, "eventTimeMillis": "1",
        "testNotification": {"version": "1.0"}}),
    );
    for _ in 0..2 {
        assert_eq!(
            push(&h, Some(&bearer), test.to_string()).await.0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(deliveries(&h.state.db, "4").await.unwrap(), Some(2));
    let attempts = h.wait_job_done("rtdn:4").await;
    assert_eq!(attempts, 1, "processed once");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_with_its_first_token_and_other_algorithms_are_refused() {
    let a = signer("key-a");
    let b = signer("key-b");
    let keys = Arc::new(Mutex::new(vec![a.jwk.clone()]));
    let h = own_keys_harness(keys.clone()).await;
    let package = h.config.package_name.clone();
    let body = |id: &str| {
        envelope(id, &json!({"packageName": package, "testNotification": {}})).to_string()
    };
    assert_eq!(
        push(&h, Some(&a.good_token()), body("1")).await.0,
        StatusCode::NO_CONTENT
    );
    keys.lock().unwrap().push(b.jwk.clone());
    assert_eq!(
        push(&h, Some(&b.good_token()), body("2")).await.0,
        StatusCode::NO_CONTENT
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "accounts.google.com", "aud": AUDIENCE, "email": EMAIL, "email_verified": true, "exp": now + 600}),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    assert_eq!(
        push(&h, Some(&hs), body("3")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let short_issuer = a.token(
        json!({"iss": "accounts.google.com", "aud": AUDIENCE, "email": EMAIL,
        "email_verified": true, "exp": now + 600}),
    );
    assert_eq!(
        push(&h, Some(&short_issuer), body("4")).await.0,
        StatusCode::NO_CONTENT,
        "both of Google's issuer spellings"
    );
    let no_exp = a.token(json!({"iss": "accounts.google.com", "aud": AUDIENCE, "email": EMAIL, "email_verified": true}));
    assert_eq!(
        push(&h, Some(&no_exp), body("5")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(deliveries(&h.state.db, "5").await.unwrap(), None);
}
