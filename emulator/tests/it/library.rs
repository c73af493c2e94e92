//! The library without a socket: `Emulator::new` + `router()`, driven with `oneshot`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use play_emulator::{control::CreatePurchase, Config, Emulator};
use serde_json::Value;
use tower::ServiceExt;

async fn get(emulator: &Emulator, path: &str) -> (StatusCode, Value) {
    let response = emulator
        .router()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn embedded_without_a_socket() {
    let emulator = Emulator::new(Config {
        base_url: Some("http://play.test:9999/".into()),
        share_keys: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(emulator.base_url(), "http://play.test:9999");
    let (status, key) = get(&emulator, "/emulator/v1/service-account.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(key["token_uri"], "http://play.test:9999/token");

    let (token, order) = emulator
        .create_purchase(CreatePurchase {
            product_id: "premium_unlock".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(order.starts_with("GPA."));
    let (_, view) = get(&emulator, &format!("/emulator/v1/purchases/{token}")).await;
    assert_eq!(view["state"], "purchased");
    assert_eq!(emulator.notifications().len(), 1);
    emulator.advance_clock(4 * 24 * 3600);
    let (_, view) = get(&emulator, &format!("/emulator/v1/purchases/{token}")).await;
    assert_eq!(
        (view["state"].as_str(), view["voided"].as_bool()),
        (Some("canceled"), Some(true))
    );
    assert!(emulator
        .create_purchase(CreatePurchase {
            product_id: "nope".into(),
            ..Default::default()
        })
        .is_err());

    // Without a token, Google's side refuses.
    let (status, body) = get(
        &emulator,
        "/androidpublisher/v3/applications/com.example.pwa/purchases/voidedpurchases",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], 401);
    emulator.reset();
    assert!(emulator.notifications().is_empty());
    assert_eq!(emulator.jwks()["keys"][0]["kty"], "RSA");
}

#[test]
fn new_needs_a_runtime() {
    let err = Emulator::new(Config {
        share_keys: true,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("Tokio runtime"));
}
