//! The companion server's HTTP API, as the browser calls it.
//!
//! JSON goes through `JSON.stringify` / `JSON.parse` (with the [`ToJs`] writers and the
//! [`FromJs`] readers), so the bundle carries no serde_json.

use gloo_net::http::{Request, RequestBuilder, Response};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::from_js::{self, Fields, FromJs};
use crate::text::{concat, decimal};
use crate::to_js::{self, ToJs};
use crate::types::{Entitlement, PurchaseDetails, Verification};
use crate::Error;

/// Where the bearer token for the backend comes from.
#[derive(Debug, Clone, Default)]
pub enum AuthToken {
    /// No `Authorization` header.
    #[default]
    None,
    /// The same token every time.
    Static(String),
    /// A JS function returning a token or a promise of one, called before every request
    /// (so an app can refresh its session).
    Callback(js_sys::Function),
}

impl AuthToken {
    async fn resolve(&self) -> Result<Option<String>, Error> {
        match self {
            AuthToken::None => Ok(None),
            AuthToken::Static(token) => Ok(Some(token.clone())),
            AuthToken::Callback(function) => {
                let value = function.call0(&JsValue::UNDEFINED).map_err(auth_error)?;
                let value = JsFuture::from(js_sys::Promise::resolve(&value))
                    .await
                    .map_err(auth_error)?;
                match value.as_string() {
                    Some(token) => Ok(Some(token)),
                    None if value.is_null() || value.is_undefined() => Ok(None),
                    None => Err(Error::InvalidArgument(
                        "authToken() must return a string or a promise of one".into(),
                    )),
                }
            }
        }
    }
}

fn auth_error(value: JsValue) -> Error {
    let message = crate::sys::get(&value, "message")
        .as_string()
        .unwrap_or_default();
    Error::Network(concat(&["authToken() failed: ", &message]))
}

/// The backend's answer to one purchase token.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyOutcome {
    /// `200`: granted (or already granted to this account).
    Granted(Verification),
    /// `202`: Play says the payment is pending; ask again later.
    Pending,
    /// A final refusal (`409 token_already_claimed`, `422 purchase_invalid`, `400`, …).
    Refused {
        /// The backend's error code.
        code: String,
        /// The backend's error message.
        message: String,
    },
    /// No final answer: network failure, 5xx, 429, 401 (the session may be renewed).
    Transient(String),
}

impl VerifyOutcome {
    /// Whether the outbox may forget the token.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            VerifyOutcome::Granted(_) | VerifyOutcome::Refused { .. }
        )
    }
}

/// Whether an HTTP status is a final refusal (as opposed to "try again later").
pub fn is_final_refusal(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 408 | 425 | 429)
}

/// A client of one backend (`backendUrl`, e.g. `https://example.com/v1`).
#[derive(Debug, Clone)]
pub struct Backend {
    base_url: String,
    auth: AuthToken,
}

impl Backend {
    /// A client for `base_url` (a trailing `/` is ignored).
    pub fn new(base_url: &str, auth: AuthToken) -> Backend {
        Backend {
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth,
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /purchases/verify`.
    pub async fn verify(&self, item_id: &str, purchase_token: &str) -> VerifyOutcome {
        let body = to_js::Fields::new()
            .string("itemId", item_id)
            .string("purchaseToken", purchase_token)
            .done();
        let response = match self
            .send(Request::post(&self.url("/purchases/verify")), Some(&body))
            .await
        {
            Ok(response) => response,
            Err(error) => return VerifyOutcome::Transient(error.to_string()),
        };
        match response.status() {
            200 => match read_json(&response).await.and_then(|body| decode(&body)) {
                Ok(verification) => VerifyOutcome::Granted(verification),
                Err(error) => VerifyOutcome::Transient(error.to_string()),
            },
            202 => VerifyOutcome::Pending,
            status => {
                let (code, message) = read_error(&response).await;
                if is_final_refusal(status) {
                    VerifyOutcome::Refused { code, message }
                } else {
                    VerifyOutcome::Transient(http_failure(status, &code, &message))
                }
            }
        }
    }

    /// `POST /purchases/sync` with every purchase the device owns.
    pub async fn sync(&self, purchases: &[PurchaseDetails]) -> Result<(), Error> {
        let body = to_js::Fields::new()
            .value("purchases", &purchases.to_js())
            .done();
        let response = self
            .send(Request::post(&self.url("/purchases/sync")), Some(&body))
            .await?;
        expect_ok(&response).await
    }

    /// `GET /entitlements`.
    pub async fn entitlements(&self) -> Result<Vec<Entitlement>, Error> {
        let response = self
            .send(Request::get(&self.url("/entitlements")), None)
            .await?;
        expect_ok(&response).await?;
        let body = read_json(&response).await?;
        let entitlements = Fields::of(&body, "the body")
            .and_then(|fields| {
                from_js::list(
                    &fields.get("entitlements").unwrap_or_default(),
                    "entitlements",
                )
            })
            .map_err(unexpected)?;
        Ok(entitlements)
    }

    fn url(&self, path: &str) -> String {
        concat(&[&self.base_url, path])
    }

    /// Sends a request with the bearer token and, when there is a body, its JSON.
    async fn send(
        &self,
        mut request: RequestBuilder,
        body: Option<&JsValue>,
    ) -> Result<Response, Error> {
        if let Some(token) = self.auth.resolve().await? {
            request = request.header("Authorization", &concat(&["Bearer ", &token]));
        }
        let request = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(to_js::json(body))
                .map_err(network)?,
            None => request.build().map_err(network)?,
        };
        request.send().await.map_err(network)
    }
}

fn network(error: gloo_net::Error) -> Error {
    Error::Network(error.to_string())
}

/// Parses the body with `JSON.parse`.
async fn read_json(response: &Response) -> Result<JsValue, Error> {
    let text = response.text().await.map_err(network)?;
    js_sys::JSON::parse(&text).map_err(|_| {
        let status = decimal(response.status().into());
        Error::Network(concat(&[
            "the backend sent invalid JSON (HTTP ",
            &status,
            ")",
        ]))
    })
}

fn decode<T: FromJs>(body: &JsValue) -> Result<T, Error> {
    T::from_js(body).map_err(unexpected)
}

fn unexpected(error: from_js::ShapeError) -> Error {
    Error::Network(concat(&[
        "unexpected answer from the backend: ",
        &error.describe(),
    ]))
}

/// The backend's `{"error": {"code", "message"}}`, or the HTTP status when it is not that.
async fn read_error(response: &Response) -> (String, String) {
    let detail = read_json(response).await.ok().and_then(|body| {
        let error = Fields::of(&body, "the body").ok()?.get("error")?;
        let fields = Fields::of(&error, "error").ok()?;
        let detail = (
            fields.string("code"),
            fields.opt_string("message").unwrap_or_default(),
        );
        fields.finish(detail).ok()
    });
    detail.unwrap_or_else(|| {
        (
            concat(&["http_", &decimal(response.status().into())]),
            response.status_text(),
        )
    })
}

async fn expect_ok(response: &Response) -> Result<(), Error> {
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let (code, message) = read_error(response).await;
    if is_final_refusal(status) || status == 401 || status == 403 {
        Err(Error::Verification { code, message })
    } else {
        Err(Error::Network(http_failure(status, &code, &message)))
    }
}

/// "HTTP 503 upstream_unavailable: try again".
fn http_failure(status: u16, code: &str, message: &str) -> String {
    concat(&["HTTP ", &decimal(status.into()), " ", code, ": ", message])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_definite_client_errors_are_final() {
        for status in [400, 404, 409, 410, 413, 422] {
            assert!(is_final_refusal(status), "{status}");
        }
        for status in [200, 202, 401, 403, 408, 425, 429, 500, 502, 503, 504] {
            assert!(!is_final_refusal(status), "{status}");
        }
    }

    #[test]
    fn outcomes_that_settle_a_token() {
        assert!(VerifyOutcome::Refused {
            code: "purchase_invalid".into(),
            message: String::new()
        }
        .is_final());
        assert!(!VerifyOutcome::Pending.is_final());
        assert!(!VerifyOutcome::Transient("offline".into()).is_final());
    }
}
