//! [`PlayBilling`]: one connected object over the Digital Goods service, Payment Request
//! and the backend.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use web_sys::{PaymentComplete, PaymentResponse};

use crate::backend::{AuthToken, Backend, VerifyOutcome, BAD_RESPONSE};
use crate::convert;
use crate::outbox::{self, Outbox};
use crate::replacement::ReplacementMode;
use crate::sys::{self, DigitalGoodsService, PaymentRequest};
use crate::text::{concat, contains, decimal, percent_encode};
use crate::types::{
    Diagnosis, Entitlement, ItemDetails, PendingToken, PurchaseDetails, PurchaseResult,
};
use crate::Error;

/// Google Play's Digital Goods service provider.
pub const PLAY_BILLING: &str = "https://play.google.com/billing";

/// How many times [`PlayBilling::connect`] asks the provider when it answers
/// `clientAppUnavailable` (common on the first launch after install).
pub const CONNECT_ATTEMPTS: u32 = 3;
/// The first pause between those attempts; it doubles each time.
pub const CONNECT_RETRY_MS: u32 = 250;

/// What [`PlayBilling::connect`] needs.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The backend's API root, e.g. `https://example.com/v1`.
    pub backend_url: String,
    /// The Digital Goods provider, [`PLAY_BILLING`] by default.
    pub service_provider: String,
    /// The bearer token sent to the backend.
    pub auth_token: AuthToken,
    /// The BCP 47 locale for formatted prices; the browser's when `None`.
    pub locale: Option<String>,
}

impl ConnectOptions {
    /// Options for `backend_url` with every default.
    pub fn new(backend_url: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            backend_url: backend_url.into(),
            service_provider: PLAY_BILLING.to_owned(),
            auth_token: AuthToken::None,
            locale: None,
        }
    }
}

/// An upgrade or downgrade from one subscription to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionChange {
    /// The current subscription's product id.
    pub from_item_id: String,
    /// The current subscription's purchase token (without it Play never shows its sheet).
    pub from_purchase_token: String,
    /// The new subscription's product id.
    pub to_item_id: String,
    /// How Play switches.
    pub mode: ReplacementMode,
}

/// A connection to Play Billing and the backend. Cloning is cheap and shares everything.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct PlayBilling {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    service: DigitalGoodsService,
    provider: String,
    backend: Backend,
    outbox: Outbox,
    locale: Option<String>,
    flushing: Cell<bool>,
    /// When the re-send timer fires, if one is set.
    resend_at: Cell<Option<f64>>,
    online_listener: std::cell::RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = self.online_listener.get_mut().take() {
            let _ = sys::events()
                .remove_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        }
    }
}

impl PlayBilling {
    /// Whether billing can work here: a secure context with `getDigitalGoodsService` and
    /// `PaymentRequest`. Synchronous; [`PlayBilling::diagnose`] says why not.
    pub fn is_supported() -> bool {
        sys::is_secure_context()
            && sys::has_global("getDigitalGoodsService")
            && sys::has_global("PaymentRequest")
    }

    /// Checks everything billing needs, asking `service_provider` for its service, and
    /// reports what is missing. Never fails.
    pub async fn diagnose(service_provider: Option<&str>) -> Diagnosis {
        let provider = service_provider.unwrap_or(PLAY_BILLING).to_owned();
        let mut report = Diagnosis {
            supported: false,
            secure_context: sys::is_secure_context(),
            digital_goods_api: sys::has_global("getDigitalGoodsService"),
            payment_request_api: sys::has_global("PaymentRequest"),
            service_provider: provider.clone(),
            provider_available: None,
            provider_error: None,
            api_version: None,
            problems: Vec::new(),
        };
        if !report.secure_context {
            report
                .problems
                .push("not a secure context: serve the app over https".into());
        }
        if !report.payment_request_api {
            report
                .problems
                .push("the Payment Request API is absent".into());
        }
        if !report.digital_goods_api {
            report.problems.push(
                "getDigitalGoodsService is absent: open the app from its Play-installed Trusted \
                 Web Activity with Play Billing enabled (a plain browser tab has no Play Billing)"
                    .into(),
            );
        } else {
            match request_service(&provider).await {
                Ok((service, version)) => {
                    report.provider_available = Some(true);
                    report.api_version = Some(version.into());
                    drop(service);
                }
                Err(error) => {
                    report.provider_available = Some(false);
                    if let Error::Unavailable(message) = &error {
                        if contains(message, "Digital Goods 1.0") {
                            report.api_version = Some("1.0".into());
                        }
                    }
                    let message = match &error {
                        Error::Unavailable(m) | Error::Unsupported(m) => m.clone(),
                        other => other.message(),
                    };
                    report.problems.push(concat(&[
                        "the provider ",
                        &provider,
                        " refused: ",
                        &message,
                    ]));
                    report.provider_error = Some(message);
                }
            }
        }
        report.supported = report.problems.is_empty();
        report
    }

    /// Play's subscription management page for `sku` of the app `package_name`.
    pub fn manage_subscription_url(sku: &str, package_name: &str) -> String {
        concat(&[
            "https://play.google.com/store/account/subscriptions?sku=",
            &percent_encode(sku),
            "&package=",
            &percent_encode(package_name),
        ])
    }

    /// Connects to the provider (retrying `clientAppUnavailable` a few times) and starts
    /// re-sending the outbox's tokens (now, when each is due while the page is open, and
    /// whenever the browser comes back online).
    pub async fn connect(options: ConnectOptions) -> Result<PlayBilling, Error> {
        if options.backend_url.chars().all(char::is_whitespace) {
            return Err(Error::InvalidArgument("backendUrl is required".into()));
        }
        if options.service_provider.is_empty() {
            return Err(Error::InvalidArgument(
                "serviceProvider must not be empty".into(),
            ));
        }
        let mut attempt = 0;
        let service = loop {
            attempt += 1;
            match request_service(&options.service_provider).await {
                Ok((service, _version)) => break service,
                Err(error) if error.is_client_app_unavailable() && attempt < CONNECT_ATTEMPTS => {
                    sys::sleep(CONNECT_RETRY_MS << (attempt - 1)).await;
                }
                Err(error) => return Err(error),
            }
        };
        let backend = Backend::new(&options.backend_url, options.auth_token);
        let billing = PlayBilling {
            inner: Rc::new(Inner {
                service,
                provider: options.service_provider,
                outbox: Outbox::open(backend.base_url()),
                backend,
                locale: options.locale,
                flushing: Cell::new(false),
                resend_at: Cell::new(None),
                online_listener: std::cell::RefCell::new(None),
            }),
        };
        billing.listen_online();
        billing.flush_in_background(false);
        Ok(billing)
    }

    /// Re-sends the outbox without waiting for it (one task type for every caller).
    fn flush_in_background(&self, force: bool) {
        let billing = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            billing.flush_outbox(force).await;
        });
    }

    /// Sets the re-send timer for the next token due, unless one fires before it: while the
    /// page is open a waiting token is re-sent when due (after the backend's `Retry-After`,
    /// or its backoff) without a reload. The timer holds no strong reference: it stops with
    /// the connection.
    fn schedule_resend(&self) {
        let Some(at) = self.inner.outbox.next_attempt_at() else {
            return;
        };
        if self.inner.resend_at.get().is_some_and(|set| set <= at) {
            return;
        }
        self.inner.resend_at.set(Some(at));
        let weak: Weak<Inner> = Rc::downgrade(&self.inner);
        wasm_bindgen_futures::spawn_local(async move {
            sys::sleep((at - sys::now_ms()).clamp(0.0, outbox::MAX_DELAY_MS) as u32).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if inner.resend_at.get() == Some(at) {
                inner.resend_at.set(None);
            }
            // The flush task every caller uses (one future type in the bundle).
            PlayBilling { inner }.flush_in_background(false);
        });
    }

    fn listen_online(&self) {
        let weak: Weak<Inner> = Rc::downgrade(&self.inner);
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                PlayBilling { inner }.flush_in_background(true);
            }
        });
        let _ = sys::events()
            .add_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        *self.inner.online_listener.borrow_mut() = Some(listener);
    }

    /// The provider this connection uses.
    pub fn service_provider(&self) -> &str {
        &self.inner.provider
    }

    /// Details of `item_ids`, in the order asked, unknown ids left out, prices formatted.
    pub async fn get_details(&self, item_ids: &[&str]) -> Result<Vec<ItemDetails>, Error> {
        if item_ids.is_empty() {
            return Err(Error::InvalidArgument(
                "getDetails needs at least one item id".into(),
            ));
        }
        if item_ids.iter().any(|id| id.is_empty()) {
            return Err(Error::InvalidArgument("item ids must not be empty".into()));
        }
        let ids: js_sys::Array = item_ids.iter().map(|id| JsValue::from_str(id)).collect();
        let mut items: Vec<ItemDetails> = sys::resolve(self.inner.service.get_details(&ids))
            .await
            .map_err(Error::from_js)
            .and_then(decode)?;
        let mut ordered = Vec::with_capacity(item_ids.len());
        for id in item_ids {
            if ordered.iter().any(|item: &ItemDetails| item.item_id == *id) {
                continue;
            }
            if let Some(index) = items.iter().position(|item| item.item_id == *id) {
                let mut item = items.remove(index);
                self.format_prices(&mut item)?;
                ordered.push(item);
            }
        }
        Ok(ordered)
    }

    /// Fills in `formattedPrice` and `formattedIntroductoryPrice`.
    fn format_prices(&self, item: &mut ItemDetails) -> Result<(), Error> {
        let locale = self.inner.locale.as_deref();
        item.formatted_price =
            crate::price::format(locale, &item.price.currency, &item.price.value)?;
        if let Some(price) = &item.introductory_price {
            item.formatted_introductory_price =
                Some(crate::price::format(locale, &price.currency, &price.value)?);
        }
        Ok(())
    }

    /// Buys `item_id`: Play's payment sheet, then backend verification, then the verdict.
    pub async fn purchase(&self, item_id: &str) -> Result<PurchaseResult, Error> {
        if item_id.is_empty() {
            return Err(Error::InvalidArgument("purchase needs an item id".into()));
        }
        let data = PlayMethodData {
            sku: item_id,
            ..PlayMethodData::default()
        };
        self.pay_and_verify(item_id, &data).await
    }

    /// Upgrades or downgrades a subscription. Sends `replacementMode` and the legacy
    /// `prorationMode`, so old and new TWAs both apply the mode.
    pub async fn change_subscription(
        &self,
        change: &SubscriptionChange,
    ) -> Result<PurchaseResult, Error> {
        for (name, value) in [
            ("fromItemId", &change.from_item_id),
            ("fromPurchaseToken", &change.from_purchase_token),
            ("toItemId", &change.to_item_id),
        ] {
            if value.is_empty() {
                return Err(Error::InvalidArgument(concat(&[
                    "changeSubscription needs ",
                    name,
                    " (without the current purchase token Play never shows its sheet)",
                ])));
            }
        }
        let data = PlayMethodData {
            sku: &change.to_item_id,
            old_sku: Some(&change.from_item_id),
            purchase_token: Some(&change.from_purchase_token),
            replacement_mode: Some(change.mode.replacement_mode()),
            proration_mode: Some(change.mode.proration_mode()),
        };
        self.pay_and_verify(&change.to_item_id, &data).await
    }

    async fn pay_and_verify(
        &self,
        item_id: &str,
        data: &PlayMethodData<'_>,
    ) -> Result<PurchaseResult, Error> {
        if !sys::has_global("PaymentRequest") {
            return Err(Error::Unsupported(
                "the Payment Request API is absent".into(),
            ));
        }
        let (methods, details) = payment_request_arguments(&self.inner.provider, data);
        let request = PaymentRequest::new(&methods, &details).map_err(Error::from_js)?;
        let response: PaymentResponse = sys::resolve(request.show())
            .await
            .map_err(Error::from_js)?
            .unchecked_into();
        let result = self
            .verify_payment(item_id, response.details().into())
            .await;
        let completion = match &result {
            Ok(_) => PaymentComplete::Success,
            // Not a failure of the payment, not a success yet: "unknown" shows neither.
            Err(Error::Pending | Error::Network(_) | Error::Deferred(_)) => {
                PaymentComplete::Unknown
            }
            Err(Error::Verification { code, .. }) if code == BAD_RESPONSE => {
                PaymentComplete::Unknown
            }
            Err(_) => PaymentComplete::Fail,
        };
        // A failing complete() changes nothing for the purchase, which is already settled.
        let _ = sys::resolve(Ok(response.complete_with_result(completion))).await;
        result
    }

    /// Takes the token from the payment app's `details`, stores it in the outbox and has
    /// the backend verify it.
    async fn verify_payment(
        &self,
        item_id: &str,
        details: JsValue,
    ) -> Result<PurchaseResult, Error> {
        // Play's payment app puts `purchaseToken` in the details, older TWAs `token`.
        let details = convert::Keys::of(details);
        let token = ["purchaseToken", "token"].into_iter().find_map(|key| {
            let token = details.as_ref()?.get(key).as_string()?;
            (!token.is_empty()).then_some(token)
        });
        let Some(purchase_token) = token else {
            return Err(Error::Unavailable(
                "the payment app returned no purchase token".into(),
            ));
        };
        self.inner.outbox.add(item_id, &purchase_token);
        let outcome = self.inner.backend.verify(item_id, &purchase_token).await;
        self.settle(&purchase_token, &outcome);
        self.schedule_resend();
        match outcome {
            VerifyOutcome::Granted(verification) => Ok(PurchaseResult {
                item_id: item_id.to_owned(),
                purchase_token,
                verification,
            }),
            VerifyOutcome::Pending => Err(Error::Pending),
            VerifyOutcome::Transient(reason) => Err(Error::Network(reason)),
            VerifyOutcome::Deferred {
                reason,
                retry_after_ms,
            } => Err(Error::Deferred(concat(&[
                "re-sent in ",
                &decimal((retry_after_ms / 1000.0) as u64),
                " s: ",
                &reason,
            ]))),
            VerifyOutcome::Malformed(message) => Err(Error::Verification {
                code: BAD_RESPONSE.into(),
                message,
            }),
            VerifyOutcome::Refused { code, message } => Err(Error::Verification { code, message }),
        }
    }

    /// Updates the outbox after the backend answered for a token.
    fn settle(&self, purchase_token: &str, outcome: &VerifyOutcome) {
        match outcome {
            outcome if outcome.is_final() => self.inner.outbox.remove(purchase_token),
            VerifyOutcome::Pending => self.inner.outbox.defer(purchase_token, "pending", None),
            VerifyOutcome::Transient(reason) => {
                self.inner.outbox.defer(purchase_token, reason, None)
            }
            VerifyOutcome::Deferred {
                reason,
                retry_after_ms,
            } => self
                .inner
                .outbox
                .defer(purchase_token, reason, Some(*retry_after_ms)),
            VerifyOutcome::Malformed(message) => {
                let error = Error::Verification {
                    code: BAD_RESPONSE.into(),
                    message: message.clone(),
                };
                self.inner
                    .outbox
                    .defer(purchase_token, &error.message(), None);
            }
            _ => {}
        }
    }

    /// Re-sends waiting tokens (only those due, unless `force`); returns how many the
    /// backend settled. Concurrent calls do not send a token twice.
    pub async fn flush_outbox(&self, force: bool) -> usize {
        if self.inner.flushing.replace(true) {
            return 0;
        }
        let mut settled = 0;
        for token in self.inner.outbox.due(force) {
            let outcome = self
                .inner
                .backend
                .verify(&token.item_id, &token.purchase_token)
                .await;
            settled += usize::from(outcome.is_final());
            self.settle(&token.purchase_token, &outcome);
        }
        self.inner.flushing.set(false);
        self.schedule_resend();
        settled
    }

    /// Tokens waiting in the outbox.
    pub fn pending_tokens(&self) -> Vec<PendingToken> {
        self.inner.outbox.list()
    }

    /// Consumes a purchase so a consumable can be bought again.
    pub async fn consume(&self, purchase_token: &str) -> Result<(), Error> {
        if purchase_token.is_empty() {
            return Err(Error::InvalidArgument(
                "consume needs a purchase token".into(),
            ));
        }
        sys::resolve(self.inner.service.consume(purchase_token))
            .await
            .map_err(Error::from_js)
            .map(drop)
    }

    /// What the device's Play account owns now.
    pub async fn list_purchases(&self) -> Result<Vec<PurchaseDetails>, Error> {
        sys::resolve(self.inner.service.list_purchases())
            .await
            .map_err(Error::from_js)
            .and_then(decode)
    }

    /// The most recent purchase of each item, consumed and expired ones included; empty
    /// where the service has no `listPurchaseHistory` (Digital Goods 2.0).
    pub async fn list_purchase_history(&self) -> Result<Vec<PurchaseDetails>, Error> {
        if !sys::get(&self.inner.service, "listPurchaseHistory").is_function() {
            return Ok(Vec::new());
        }
        sys::resolve(self.inner.service.list_purchase_history())
            .await
            .map_err(Error::from_js)
            .and_then(decode)
    }

    /// At start-up: re-sends the outbox, sends every owned purchase to the backend (which
    /// grants out-of-app purchases and acknowledges leftovers), returns the entitlements.
    pub async fn restore(&self) -> Result<Vec<Entitlement>, Error> {
        self.flush_outbox(true).await;
        let purchases = self.list_purchases().await?;
        if !purchases.is_empty() {
            self.inner.backend.sync(&purchases).await?;
        }
        self.entitlements().await
    }

    /// The signed-in account's entitlements, from the backend.
    pub async fn entitlements(&self) -> Result<Vec<Entitlement>, Error> {
        self.inner.backend.entitlements().await
    }
}

/// Asks the provider for its service; the version is "2.1" or "2.0".
async fn request_service(provider: &str) -> Result<(DigitalGoodsService, &'static str), Error> {
    let Some(promise) = sys::get_digital_goods_service(provider) else {
        return Err(Error::Unsupported(
            "getDigitalGoodsService is absent: not a Trusted Web Activity with Play Billing".into(),
        ));
    };
    let service = sys::resolve(promise).await.map_err(Error::from_js)?;
    if service.is_null() || service.is_undefined() {
        return Err(Error::Unavailable(concat(&[
            "the provider ",
            provider,
            " resolved to null (Digital Goods 1.0 behaviour): unavailable",
        ])));
    }
    let version = if sys::get(&service, "listPurchaseHistory").is_function() {
        "2.1"
    } else {
        "2.0"
    };
    Ok((service.unchecked_into(), version))
}

/// Reads the provider's array of plain objects.
fn decode<T: DeserializeOwned>(value: JsValue) -> Result<Vec<T>, Error> {
    let shape = if js_sys::Array::is_array(&value) {
        convert::from_js(value)
    } else {
        Err(convert::ShapeError {
            key: String::new(),
            detail: "expected an array".into(),
        })
    };
    shape.map_err(|error| {
        Error::Unavailable(concat(&[
            "the provider answered in an unexpected shape: ",
            &error.describe("the list"),
        ]))
    })
}

/// Play's method data: the sku, and for a subscription change the old one with its token
/// and the mode under both its current and its legacy key.
#[derive(Default)]
struct PlayMethodData<'a> {
    sku: &'a str,
    old_sku: Option<&'a str>,
    purchase_token: Option<&'a str>,
    replacement_mode: Option<&'a str>,
    proration_mode: Option<&'a str>,
}

/// `PaymentRequest`'s arguments, built with js-sys (they are the browser's objects, not the
/// library's data: no serde serializer per shape in the bundle). The method data is
/// `[{supportedMethods, data}]` with Play's keys, those that are `None` left out; the
/// details are a zero `total`, which Chrome's constructor wants and Play ignores.
fn payment_request_arguments(provider: &str, data: &PlayMethodData<'_>) -> (JsValue, JsValue) {
    let keys = [
        ("sku", Some(data.sku)),
        ("oldSku", data.old_sku),
        ("purchaseToken", data.purchase_token),
        ("replacementMode", data.replacement_mode),
        ("prorationMode", data.proration_mode),
    ];
    let data = js_sys::Object::new();
    for (key, value) in keys {
        if let Some(value) = value {
            convert::set(&data, key, &JsValue::from_str(value));
        }
    }
    let method = js_sys::Object::new();
    convert::set(&method, "supportedMethods", &JsValue::from_str(provider));
    convert::set(&method, "data", &data);
    let amount = js_sys::Object::new();
    convert::set(&amount, "currency", &JsValue::from_str("USD"));
    convert::set(&amount, "value", &JsValue::from_str("0"));
    let total = js_sys::Object::new();
    convert::set(&total, "label", &JsValue::from_str("Total"));
    convert::set(&total, "amount", &amount);
    let details = js_sys::Object::new();
    convert::set(&details, "total", &total);
    (js_sys::Array::of1(&method).into(), details.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manage_url_encodes_its_parameters() {
        assert_eq!(
            PlayBilling::manage_subscription_url("sub_monthly", "com.example.pwa"),
            "https://play.google.com/store/account/subscriptions?sku=sub_monthly&package=com.example.pwa"
        );
    }
}
