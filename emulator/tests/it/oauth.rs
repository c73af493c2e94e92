//! OAuth: the service-account key, the JWT-bearer grant and its refusals, 401 bodies.

use crate::support;

use serde_json::{json, Value};
use support::{assertion, exchange, now_secs, Emu, PKG};

async fn key(e: &Emu) -> Value {
    let (s, key) = e
        .control("GET", "/emulator/v1/service-account.json", None)
        .await;
    assert_eq!(s, 200);
    key
}

#[tokio::test]
async fn service_account_key_shape() {
    let e = Emu::start().await;
    let key = key(&e).await;
    assert_eq!(key["type"], "service_account");
    assert!(key["private_key"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(key["token_uri"], format!("{}/token", e.emu.url()));
    assert!(key["client_email"]
        .as_str()
        .unwrap()
        .ends_with(".iam.gserviceaccount.com"));
    assert_eq!(key["private_key_id"].as_str().unwrap().len(), 40);
    assert_eq!(e.emu.service_account_key(), key);
}

#[tokio::test]
async fn token_grant() {
    let e = Emu::start().await;
    let key = key(&e).await;
    let uri = key["token_uri"].as_str().unwrap();
    let (s, t) = exchange(&e.http, uri, &assertion(&key, |_| {})).await;
    assert_eq!(s, 200);
    assert_eq!(t["expires_in"], 3599);
    assert_eq!(t["token_type"], "Bearer");
    let tok = t["access_token"].as_str().unwrap();
    assert!(tok.len() > 100);
    let (s, _) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!(s, 200);
    // Scope lists may hold several scopes.
    let (s, _) = exchange(
        &e.http,
        uri,
        &assertion(&key, |c| {
            c["scope"] = json!(format!("openid {}", support::SCOPE))
        }),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn token_refusals() {
    let e = Emu::start().await;
    let key = key(&e).await;
    let uri = key["token_uri"].as_str().unwrap();
    let refused = |(s, b): (u16, Value)| {
        assert_eq!(s, 400, "{b}");
        b["error"].as_str().unwrap().to_string()
    };
    let now = now_secs();
    // (what is wrong with the assertion, how its claims are spoiled, the OAuth error)
    type Spoil = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Spoil, &str)> = vec![
        (
            "Google's audience, not this emulator's",
            Box::new(|c| c["aud"] = json!("https://oauth2.googleapis.com/token")),
            "invalid_grant",
        ),
        (
            "another scope",
            Box::new(|c| c["scope"] = json!("https://www.googleapis.com/auth/cloud-platform")),
            "invalid_scope",
        ),
        (
            "expired",
            Box::new(move |c| {
                c["iat"] = json!(now - 7200);
                c["exp"] = json!(now - 3600);
            }),
            "invalid_grant",
        ),
        (
            "valid for more than an hour",
            Box::new(move |c| c["exp"] = json!(now + 7200)),
            "invalid_grant",
        ),
        (
            "another issuer",
            Box::new(|c| c["iss"] = json!("someone@else.iam.gserviceaccount.com")),
            "invalid_grant",
        ),
    ];
    for (what, spoil, error) in cases {
        let answer = exchange(&e.http, uri, &assertion(&key, |c| spoil(c))).await;
        assert_eq!(refused(answer), error, "{what}");
    }

    // A key this emulator did not issue (another emulator's).
    let other = Emu::start_with(|c| c.share_keys = false).await;
    assert_ne!(
        other.emu.service_account_key()["private_key"],
        key["private_key"]
    );
    let foreign = other.emu.service_account_key();
    let mut forged = foreign.clone();
    forged["client_email"] = key["client_email"].clone();
    forged["token_uri"] = key["token_uri"].clone();
    forged["private_key_id"] = key["private_key_id"].clone();
    assert_eq!(
        refused(exchange(&e.http, uri, &assertion(&forged, |_| {})).await),
        "invalid_grant"
    );

    // Not a JWT, wrong grant type.
    assert_eq!(
        refused(exchange(&e.http, uri, "garbage").await),
        "invalid_grant"
    );
    let r = e
        .http
        .post(uri)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    assert_eq!(e.emu.calls()["oauth2.token"], 9);
}

#[tokio::test]
async fn api_needs_a_live_token() {
    let e = Emu::start().await;
    let path = format!("/androidpublisher/v3/applications/{PKG}/purchases/voidedpurchases");
    let (s, b) = e.google_path("GET", &path, None, None).await;
    assert_eq!(s, 401);
    assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(b["error"]["errors"][0]["reason"], "required");
    let (s, b) = e.google_path("GET", &path, None, Some("ya29.forged")).await;
    assert_eq!(s, 401);
    assert_eq!(b["error"]["errors"][0]["reason"], "authError");
    let r = e.http.get(e.url(&path)).send().await.unwrap();
    assert!(r.headers().get("www-authenticate").is_some());

    // Expired tokens (the control API expires them all at once).
    let (s, _) = e.google_path("GET", &path, None, Some(&e.token)).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .control("POST", "/emulator/v1/access-tokens:expire", None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = e.google_path("GET", &path, None, Some(&e.token)).await;
    assert_eq!(s, 401);
    // Refused calls are still counted.
    assert_eq!(
        e.emu.calls()["androidpublisher.purchases.voidedpurchases.list"],
        5
    );
}
