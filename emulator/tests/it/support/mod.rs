//! Test support: start an emulator on a free port, get an access token the way a server
//! would (service-account JWT → `/token`), call Google's side with every response checked
//! against the discovery document (see `contract`), and call the control and device APIs.

#![allow(dead_code)]

pub mod contract;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use play_emulator::{Config, RunningEmulator};
use serde_json::{json, Value};

pub const PKG: &str = "com.example.pwa";
pub const SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An HTTP client (reqwest is built without a default TLS crypto provider: install ring's).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A running emulator, an HTTP client and a live access token.
pub struct Emu {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
    /// Method ids whose successful responses this emulator's tests validated.
    pub validated: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// Signs a service-account assertion with the key file's key; `edit` adjusts the claims.
pub fn assertion(key: &Value, edit: impl FnOnce(&mut Value)) -> String {
    let now = now_secs();
    let mut claims = json!({
        "iss": key["client_email"],
        "scope": SCOPE,
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 3600,
    });
    edit(&mut claims);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key["private_key_id"].as_str().map(String::from);
    let k = EncodingKey::from_rsa_pem(key["private_key"].as_str().unwrap().as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &k).unwrap()
}

/// POSTs an assertion to `/token`.
pub async fn exchange(http: &reqwest::Client, token_uri: &str, assertion: &str) -> (u16, Value) {
    let r = http
        .post(token_uri)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

impl Emu {
    pub async fn start() -> Emu {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> Emu {
        let mut config = Config {
            port: 0,
            ..Default::default()
        };
        config.rtdn.min_backoff_ms = 20;
        config.rtdn.max_backoff_ms = 200;
        edit(&mut config);
        let emu = play_emulator::Emulator::bind(config)
            .await
            .expect("emulator starts");
        let http = http_client();
        let key: Value = http
            .get(format!("{}/emulator/v1/service-account.json", emu.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (status, body) = exchange(
            &http,
            key["token_uri"].as_str().unwrap(),
            &assertion(&key, |_| {}),
        )
        .await;
        assert_eq!(status, 200, "token: {body}");
        let token = body["access_token"].as_str().unwrap().to_string();
        Emu {
            emu,
            http,
            token,
            validated: Default::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.url(), path)
    }

    /// Calls Google's side at `androidpublisher/v3/applications/{PKG}/{rest}`, checks the
    /// response against the contract, returns (status, body or Null).
    pub async fn google(&self, method: &str, rest: &str, body: Option<Value>) -> (u16, Value) {
        let path = format!("/androidpublisher/v3/applications/{PKG}/{rest}");
        self.google_path(method, &path, body, Some(&self.token))
            .await
    }

    /// Calls Google's side at an absolute path, with a given bearer token (or none).
    pub async fn google_path(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body: Option<Value> = if text.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
            )
        };
        if let Some(id) = contract::check(method, path, status, body.as_ref()) {
            self.validated.lock().unwrap().insert(id);
        }
        (status, body.unwrap_or(Value::Null))
    }

    /// Calls the control or device API.
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            },
        )
    }

    /// Makes a purchase with the control API; returns its token.
    pub async fn buy(&self, body: Value) -> String {
        let (status, v) = self
            .control("POST", "/emulator/v1/purchases", Some(body))
            .await;
        assert_eq!(status, 201, "{v}");
        v["purchaseToken"].as_str().unwrap().to_string()
    }

    /// A purchase's first order id (control view).
    pub async fn order_id(&self, token: &str) -> String {
        let (status, v) = self
            .control("GET", &format!("/emulator/v1/purchases/{token}"), None)
            .await;
        assert_eq!(status, 200, "{v}");
        v["orderId"].as_str().unwrap().to_string()
    }

    /// A lifecycle action on a purchase.
    pub async fn action(&self, token: &str, action: &str, body: Option<Value>) -> (u16, Value) {
        self.control(
            "POST",
            &format!("/emulator/v1/purchases/{token}:{action}"),
            body,
        )
        .await
    }

    pub async fn advance(&self, seconds: i64) {
        let (s, v) = self
            .control(
                "POST",
                "/emulator/v1/clock:advance",
                Some(json!({ "seconds": seconds })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn product(&self, product_id: &str, token: &str) -> (u16, Value) {
        self.google(
            "GET",
            &format!("purchases/products/{product_id}/tokens/{token}"),
            None,
        )
        .await
    }

    pub async fn subscription(&self, token: &str) -> (u16, Value) {
        self.google(
            "GET",
            &format!("purchases/subscriptionsv2/tokens/{token}"),
            None,
        )
        .await
    }

    pub async fn notifications(&self) -> Vec<Value> {
        let (_, v) = self
            .control("GET", "/emulator/v1/notifications", None)
            .await;
        v["notifications"].as_array().cloned().unwrap_or_default()
    }

    /// The notification types sent for a token, in order (`sub:4`, `one:1`, `voided`).
    pub async fn notified(&self, token: &str) -> Vec<String> {
        self.notifications()
            .await
            .iter()
            .filter_map(|n| {
                let d = &n["data"];
                if d["subscriptionNotification"]["purchaseToken"] == token {
                    Some(format!(
                        "sub:{}",
                        d["subscriptionNotification"]["notificationType"]
                    ))
                } else if d["oneTimeProductNotification"]["purchaseToken"] == token {
                    Some(format!(
                        "one:{}",
                        d["oneTimeProductNotification"]["notificationType"]
                    ))
                } else if d["voidedPurchaseNotification"]["purchaseToken"] == token {
                    Some("voided".to_string())
                } else {
                    None
                }
            })
            .collect()
    }
}
