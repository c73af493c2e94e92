//! The library's one error type, with stable names for JavaScript.

use wasm_bindgen::prelude::*;

use crate::text::{concat, contains};

/// Everything that can go wrong, each variant with a stable JS `name` and `code`.
///
/// Provider failures keep the DOMException's message (Chromium's words such as
/// `clientAppUnavailable`), so nothing the browser said is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `getDigitalGoodsService` or `PaymentRequest` is absent: not a TWA with Play Billing.
    Unsupported(String),
    /// The API exists but the provider refused (wrong context, Play app unavailable, …).
    Unavailable(String),
    /// The caller passed something the library or the provider cannot accept.
    InvalidArgument(String),
    /// The payment sheet was closed without a purchase. A Trusted Web Activity reports a
    /// user's cancel and a failed payment alike (`RESULT_CANCELED`), so this can be either.
    Canceled(String),
    /// Play accepted the order but the payment is pending (backend answered 202); nothing is
    /// granted yet and the token stays in the outbox until the purchase settles.
    Pending,
    /// The item is already owned (and, for a one-time product, not consumed yet).
    ItemAlreadyOwned(String),
    /// The purchase to consume or replace is not owned.
    ItemNotOwned(String),
    /// The item is not available for purchase (unknown to Play, inactive, wrong country).
    ItemUnavailable(String),
    /// The backend refused the purchase; `code` is its error code (`token_already_claimed`,
    /// `purchase_invalid`, …).
    Verification {
        /// The backend's error code.
        code: String,
        /// The backend's message.
        message: String,
    },
    /// The backend could not be reached or failed transiently; purchase tokens stay in the
    /// outbox and are re-sent later.
    Network(String),
    /// The backend cannot verify now and said when to ask again (`503` with `Retry-After`:
    /// Google's quota is spent during a burst). Nothing is granted yet; the token stays in
    /// the outbox and is re-sent on a timer after that delay while the page is open.
    Deferred(String),
}

impl Error {
    /// The message: the `Display` text and the JS `Error`'s `message`, e.g.
    /// "network error: TypeError: Failed to fetch".
    ///
    /// Concatenated rather than derived with thiserror: its `Display` goes through
    /// `to_string()` and `core::fmt`'s argument machinery wherever an error is thrown to
    /// JavaScript or kept in the outbox (-250 B gzip).
    pub(crate) fn message(&self) -> String {
        let (prefix, detail) = match self {
            Error::Unsupported(detail) => ("Play Billing is not supported here: ", detail),
            Error::Unavailable(detail) => ("Play Billing is unavailable: ", detail),
            Error::InvalidArgument(detail) => ("invalid argument: ", detail),
            Error::Canceled(detail) => (
                "the purchase was canceled or failed (Play reports both alike): ",
                detail,
            ),
            Error::Pending => {
                return "the purchase is pending; it is granted once the payment completes".into()
            }
            Error::ItemAlreadyOwned(detail) => ("the item is already owned: ", detail),
            Error::ItemNotOwned(detail) => ("the item is not owned: ", detail),
            Error::ItemUnavailable(detail) => ("the item is unavailable: ", detail),
            Error::Verification { code, message } => {
                return concat(&["verification failed (", code, "): ", message])
            }
            Error::Network(detail) => ("network error: ", detail),
            Error::Deferred(detail) => ("verification deferred, the token is kept and ", detail),
        };
        concat(&[prefix, detail])
    }

    /// The stable JS error name, e.g. `"PurchaseCanceledError"`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Unsupported(_) => "BillingUnsupportedError",
            Error::Unavailable(_) => "BillingUnavailableError",
            Error::InvalidArgument(_) => "InvalidArgumentError",
            Error::Canceled(_) => "PurchaseCanceledError",
            Error::Pending => "PurchasePendingError",
            Error::ItemAlreadyOwned(_) => "ItemAlreadyOwnedError",
            Error::ItemNotOwned(_) => "ItemNotOwnedError",
            Error::ItemUnavailable(_) => "ItemUnavailableError",
            Error::Verification { .. } => "VerificationError",
            Error::Network(_) => "NetworkError",
            Error::Deferred(_) => "VerificationDeferredError",
        }
    }

    /// A stable machine-readable code; for [`Error::Verification`] the backend's own code.
    pub fn code(&self) -> &str {
        match self {
            Error::Unsupported(_) => "unsupported",
            Error::Unavailable(_) => "unavailable",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Canceled(_) => "canceled",
            Error::Pending => "pending",
            Error::ItemAlreadyOwned(_) => "item_already_owned",
            Error::ItemNotOwned(_) => "item_not_owned",
            Error::ItemUnavailable(_) => "item_unavailable",
            Error::Verification { code, .. } => code,
            Error::Network(_) => "network",
            Error::Deferred(_) => "verification_deferred",
        }
    }

    /// Maps a provider failure (a DOMException's `name` and `message`) to a typed error.
    pub fn from_dom(name: &str, message: &str) -> Error {
        let message = message.to_owned();
        // Chromium's provider messages (see the Digital Goods reference) decide first.
        if contains(&message, "itemAlreadyOwned") {
            return Error::ItemAlreadyOwned(message);
        }
        if contains(&message, "itemNotOwned") {
            return Error::ItemNotOwned(message);
        }
        if contains(&message, "itemUnavailable") {
            return Error::ItemUnavailable(message);
        }
        match name {
            "AbortError" => Error::Canceled(message),
            "TypeError" => Error::InvalidArgument(message),
            "NotSupportedError" => Error::Unsupported(message),
            _ => Error::Unavailable(message),
        }
    }

    /// Maps a thrown JS value (a DOMException, an `Error`, anything) to a typed error.
    pub fn from_js(value: JsValue) -> Error {
        let name = crate::sys::get(&value, "name").as_string();
        let message = crate::sys::get(&value, "message").as_string();
        match (name, message) {
            (Some(name), Some(message)) => Error::from_dom(&name, &message),
            _ => Error::Unavailable(
                value
                    .as_string()
                    .unwrap_or_else(|| "the provider threw a non-Error value".into()),
            ),
        }
    }

    /// Whether the provider said `clientAppUnavailable`, which often clears on a retry
    /// (first launch after install).
    pub fn is_client_app_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(m) if contains(m, "clientAppUnavailable"))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl From<Error> for JsValue {
    /// A real JS `Error` with a stable `name` and a `code` property.
    fn from(error: Error) -> JsValue {
        let js = js_sys::Error::new(&error.message());
        js.set_name(error.name());
        // A fresh Error is extensible: setting `code` cannot fail.
        let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
        js.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_messages_win_over_exception_names() {
        assert_eq!(
            Error::from_dom("OperationError", "itemAlreadyOwned"),
            Error::ItemAlreadyOwned("itemAlreadyOwned".into())
        );
        assert_eq!(
            Error::from_dom("OperationError", "itemNotOwned").name(),
            "ItemNotOwnedError"
        );
        assert_eq!(
            Error::from_dom("AbortError", "itemUnavailable").name(),
            "ItemUnavailableError"
        );
    }

    #[test]
    fn exception_names_map_to_typed_errors() {
        let canceled = Error::from_dom("AbortError", "Payment app returned RESULT_CANCELED code");
        assert_eq!(canceled.name(), "PurchaseCanceledError");
        assert!(canceled.to_string().contains("RESULT_CANCELED"));
        assert_eq!(
            Error::from_dom("TypeError", "empty").name(),
            "InvalidArgumentError"
        );
        assert_eq!(
            Error::from_dom("NotAllowedError", "frame").name(),
            "BillingUnavailableError"
        );
        assert_eq!(
            Error::from_dom("OperationError", "clientAppUnavailable").code(),
            "unavailable"
        );
    }

    #[test]
    fn client_app_unavailable_is_detected_for_retry() {
        assert!(
            Error::from_dom("OperationError", "clientAppUnavailable").is_client_app_unavailable()
        );
        assert!(
            !Error::from_dom("OperationError", "unsupported context").is_client_app_unavailable()
        );
        assert!(!Error::Network("clientAppUnavailable".into()).is_client_app_unavailable());
    }

    #[test]
    fn verification_errors_carry_the_backend_code() {
        let error = Error::Verification {
            code: "token_already_claimed".into(),
            message: "m".into(),
        };
        assert_eq!(error.code(), "token_already_claimed");
        assert_eq!(error.name(), "VerificationError");
    }

    /// The messages thiserror's `#[error]` attributes gave before.
    #[test]
    fn messages_say_what_happened() {
        let cases = [
            (
                Error::Unsupported("x".into()),
                "Play Billing is not supported here: x",
            ),
            (
                Error::Unavailable("x".into()),
                "Play Billing is unavailable: x",
            ),
            (Error::InvalidArgument("x".into()), "invalid argument: x"),
            (
                Error::Canceled("x".into()),
                "the purchase was canceled or failed (Play reports both alike): x",
            ),
            (
                Error::Pending,
                "the purchase is pending; it is granted once the payment completes",
            ),
            (
                Error::ItemAlreadyOwned("x".into()),
                "the item is already owned: x",
            ),
            (Error::ItemNotOwned("x".into()), "the item is not owned: x"),
            (
                Error::ItemUnavailable("x".into()),
                "the item is unavailable: x",
            ),
            (
                Error::Verification {
                    code: "c".into(),
                    message: "m".into(),
                },
                "verification failed (c): m",
            ),
            (Error::Network("x".into()), "network error: x"),
            (
                Error::Deferred("re-sent in 1 s: x".into()),
                "verification deferred, the token is kept and re-sent in 1 s: x",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        let error: &dyn std::error::Error = &Error::Pending;
        assert!(error.source().is_none());
    }

    #[test]
    fn every_variant_has_a_distinct_name() {
        let all = [
            Error::Unsupported(String::new()),
            Error::Unavailable(String::new()),
            Error::InvalidArgument(String::new()),
            Error::Canceled(String::new()),
            Error::Pending,
            Error::ItemAlreadyOwned(String::new()),
            Error::ItemNotOwned(String::new()),
            Error::ItemUnavailable(String::new()),
            Error::Verification {
                code: "c".into(),
                message: String::new(),
            },
            Error::Network(String::new()),
            Error::Deferred(String::new()),
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(Error::name).collect();
        assert_eq!(names.len(), all.len());
    }
}
