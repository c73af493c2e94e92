//! The companion server's HTTP API, as the browser calls it: requests built with gloo-net,
//! JSON bodies read and written by [`crate::convert`] (serde-wasm-bindgen over
//! `JSON.parse` / `JSON.stringify`, so the bundle carries no serde_json).

use gloo_net::http::{Method, RequestBuilder};
use wasm_bindgen::prelude::*;

use crate::answer;
use crate::convert::{self, ShapeError};
use crate::text::{concat, decimal};
use crate::types::{Entitlement, PurchaseDetails, Verification};
use crate::{sys, Error};

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
                let value = sys::resolve(Ok(js_sys::Promise::resolve(&value)))
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
    /// A `200` whose body breaks the contract (the message names the field): not a network
    /// failure, and not final either (the purchase is real), so the token stays in the
    /// outbox for a capped number of attempts ([`crate::outbox::BAD_RESPONSE_ATTEMPTS`]).
    Malformed(String),
    /// No final answer: network failure, 5xx, 429, 401 (the session may be renewed).
    Transient(String),
    /// No final answer yet, and the backend said when to ask again (a `503` or `429` with
    /// `Retry-After`: Google's quota is spent for now).
    Deferred {
        /// What the backend answered.
        reason: String,
        /// Its `Retry-After`, in ms.
        retry_after_ms: f64,
    },
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

/// The code of [`Error::Verification`] for a `200` whose body breaks the contract.
pub const BAD_RESPONSE: &str = "bad_response";

/// `url` without its trailing `/`s (a byte scan: `trim_end_matches` brings UTF-8 decoding
/// from the end).
fn without_trailing_slashes(url: &str) -> &str {
    let end = url
        .bytes()
        .rposition(|byte| byte != b'/')
        .map_or(0, |last| last + 1);
    url.get(..end).unwrap_or(url)
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
            base_url: without_trailing_slashes(base_url).to_owned(),
            auth,
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /purchases/verify`.
    pub async fn verify(&self, item_id: &str, purchase_token: &str) -> VerifyOutcome {
        // The body has the shape of a PurchaseDetails: its serializer serves both.
        let body = convert::to_js(&PurchaseDetails {
            item_id: item_id.to_owned(),
            purchase_token: purchase_token.to_owned(),
        });
        let reply = match self
            .request(Method::POST, "/purchases/verify", Some(&body))
            .await
        {
            Ok(reply) => reply,
            Err(error) => return VerifyOutcome::Transient(error.message()),
        };
        match reply.status {
            200 => match reply.json().map(answer::verification) {
                Ok(Ok(verification)) => VerifyOutcome::Granted(verification),
                Ok(Err(shape)) => VerifyOutcome::Malformed(concat(&[
                    "the backend's 200 answer breaks the contract: ",
                    &shape.describe("the verification"),
                ])),
                Err(error) => VerifyOutcome::Transient(error.message()),
            },
            202 => VerifyOutcome::Pending,
            status => {
                let (code, message) = reply.error();
                let reason = http_failure(status, &code, &message);
                match reply.retry_after_ms {
                    _ if is_final_refusal(status) => VerifyOutcome::Refused { code, message },
                    Some(retry_after_ms) => VerifyOutcome::Deferred {
                        reason,
                        retry_after_ms,
                    },
                    None => VerifyOutcome::Transient(reason),
                }
            }
        }
    }

    /// `POST /purchases/sync` with every purchase the device owns.
    pub async fn sync(&self, purchases: &[PurchaseDetails]) -> Result<(), Error> {
        // `{"purchases": [...]}`: the list's serializer is the one `listPurchases` uses.
        let body = js_sys::Object::new();
        convert::set(&body, "purchases", &convert::to_js(purchases));
        let body = JsValue::from(body);
        self.request(Method::POST, "/purchases/sync", Some(&body))
            .await?
            .expect_ok()
    }

    /// `GET /entitlements`.
    pub async fn entitlements(&self) -> Result<Vec<Entitlement>, Error> {
        let reply = self.request(Method::GET, "/entitlements", None).await?;
        reply.expect_ok()?;
        answer::entitlements(reply.json()?).map_err(unexpected)
    }

    /// Sends a request with the bearer token and, when there is one, a JSON body; reads
    /// the whole answer.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&JsValue>,
    ) -> Result<Reply, Error> {
        let url = concat(&[&self.base_url, path]);
        let mut request = RequestBuilder::new(&url).method(method);
        if let Some(token) = self.auth.resolve().await? {
            request = request.header("Authorization", &concat(&["Bearer ", &token]));
        }
        let request = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(convert::json(body)),
            None => request.build(),
        }
        .map_err(|error| match error {
            gloo_net::Error::JsError(error) => {
                Error::Network(concat(&[&error.name, ": ", &error.message]))
            }
            gloo_net::Error::GlooError(message) => Error::Network(message),
        })?;
        let response = sys::fetch(&request.into()).await.map_err(network)?;
        // A body that cannot be read or parsed is no JSON: the status still counts. Read
        // with web-sys's `text()` rather than gloo-net's `Response::text`, which unwraps
        // `text()`'s `Result` and so links `JsValue`'s `Debug` (and its JS `debugString`).
        let text = sys::resolve(response.text()).await.ok();
        Ok(Reply {
            status: response.status(),
            status_text: response.status_text(),
            // Whole seconds (the server sends no HTTP dates), read by JS's `parseInt` (Rust's
            // number parsing would be bundle bytes).
            retry_after_ms: response
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .map(|value| js_sys::Number::parse_int(&value, 10) * 1000.0)
                .filter(|ms| *ms >= 0.0),
            body: text
                .and_then(|text| text.as_string())
                .as_deref()
                .and_then(convert::parse),
        })
    }
}

/// A failed `fetch` (`TypeError: Failed to fetch`) as a network error.
fn network(error: JsValue) -> Error {
    let text = match (
        sys::get(&error, "name").as_string(),
        sys::get(&error, "message").as_string(),
    ) {
        (Some(name), Some(message)) => concat(&[&name, ": ", &message]),
        _ => error
            .as_string()
            .unwrap_or_else(|| "the request failed".into()),
    };
    Error::Network(text)
}

/// One answer of the backend, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    status_text: String,
    /// The `Retry-After` header, in ms.
    retry_after_ms: Option<f64>,
    /// The body parsed as JSON; `None` when it is not JSON.
    body: Option<JsValue>,
}

impl Reply {
    /// The JSON body.
    fn json(&self) -> Result<JsValue, Error> {
        self.body.clone().ok_or_else(|| {
            let status = decimal(self.status.into());
            Error::Network(concat(&[
                "the backend sent invalid JSON (HTTP ",
                &status,
                ")",
            ]))
        })
    }

    /// The backend's `{"error": {"code", "message"}}`, or the HTTP status when it is not
    /// that.
    fn error(&self) -> (String, String) {
        match self.body.clone().and_then(answer::error) {
            Some(error) => error,
            None => (
                concat(&["http_", &decimal(self.status.into())]),
                self.status_text.clone(),
            ),
        }
    }

    /// `Ok` for a 2xx status; otherwise the backend's refusal (final, or 401/403) or a
    /// network error (try again later).
    fn expect_ok(&self) -> Result<(), Error> {
        let status = self.status;
        if (200..300).contains(&status) {
            return Ok(());
        }
        let (code, message) = self.error();
        if is_final_refusal(status) || status == 401 || status == 403 {
            Err(Error::Verification { code, message })
        } else {
            Err(Error::Network(http_failure(status, &code, &message)))
        }
    }
}

fn unexpected(error: ShapeError) -> Error {
    Error::Network(concat(&[
        "unexpected answer from the backend: ",
        &error.describe("the body"),
    ]))
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
    fn trailing_slashes_are_ignored() {
        for (url, base) in [
            ("https://example.com/v1/", "https://example.com/v1"),
            ("https://example.com/v1//", "https://example.com/v1"),
            ("https://example.com/v1", "https://example.com/v1"),
            ("/", ""),
            ("", ""),
        ] {
            assert_eq!(without_trailing_slashes(url), base);
            assert_eq!(url.trim_end_matches('/'), base);
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
        assert!(!VerifyOutcome::Deferred {
            reason: "HTTP 503 upstream_unavailable: later".into(),
            retry_after_ms: 1000.0,
        }
        .is_final());
        assert!(!VerifyOutcome::Malformed("id".into()).is_final());
    }
}
