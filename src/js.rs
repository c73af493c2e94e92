//! The JavaScript API: camelCase exports over the Rust API, with TypeScript types.
//!
//! Plain-data objects cross the boundary as plain JS objects, both ways through
//! serde-wasm-bindgen ([`crate::convert`]); their TypeScript interfaces are written once
//! below and referenced with `typescript_type`, so the generated `.d.ts` has no `any`.

use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::AuthToken;
use crate::billing::{ConnectOptions, PlayBilling, SubscriptionChange, PLAY_BILLING};
use crate::convert::{to_js, Keys};
use crate::replacement::ReplacementMode;
use crate::text::concat;
use crate::Error;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A `PaymentCurrencyAmount`: `value` is a decimal string, never a float. */
export interface Amount { currency: string; value: string; }

/** An item with every Digital Goods v2.1 field, plus prices formatted for the locale. */
export interface ItemDetails {
  itemId: string;
  title: string;
  description?: string;
  price: Amount;
  type?: "product" | "subscription" | "unknown";
  iconURLs: string[];
  subscriptionPeriod?: string;
  freeTrialPeriod?: string;
  introductoryPrice?: Amount;
  introductoryPricePeriod?: string;
  introductoryPriceCycles?: number;
  formattedPrice: string;
  formattedIntroductoryPrice?: string;
}

/** A purchase the device owns (or owned, for the history). */
export interface PurchaseDetails { itemId: string; purchaseToken: string; }

export type EntitlementKind = "consumable" | "non_consumable" | "subscription" | "unknown";
export type EntitlementState =
  | "active" | "grace_period" | "on_hold" | "paused" | "canceled" | "expired"
  | "revoked" | "refunded" | "replaced" | "consumed" | "unknown";

/** One entitlement of the signed-in account; `entitled` says whether it grants access now. */
export interface Entitlement {
  id: string;
  itemId: string;
  kind: EntitlementKind;
  state: EntitlementState;
  entitled: boolean;
  quantity: number;
  expiresAt?: string;
  test: boolean;
  purchaseToken: string;
}

/** The backend's verdict on a purchase. */
export interface Verification { entitlement: Entitlement; acknowledged: boolean; }

/** What `purchase` and `changeSubscription` resolve to. */
export interface PurchaseResult { itemId: string; purchaseToken: string; verification: Verification; }

/** A purchase token waiting in the outbox for the backend's final answer. */
export interface PendingToken {
  itemId: string;
  purchaseToken: string;
  addedAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
}

/** What `diagnose` found; `problems` explains why billing is unavailable. */
export interface Diagnosis {
  supported: boolean;
  secureContext: boolean;
  digitalGoodsApi: boolean;
  paymentRequestApi: boolean;
  serviceProvider: string;
  providerAvailable?: boolean;
  providerError?: string;
  apiVersion?: "1.0" | "2.0" | "2.1";
  problems: string[];
}

export interface DiagnoseOptions { serviceProvider?: string; }

/** Options of `PlayBilling.connect`. */
export interface ConnectOptions {
  /** The backend's API root, e.g. "https://example.com/v1". */
  backendUrl: string;
  /** Defaults to "https://play.google.com/billing". */
  serviceProvider?: string;
  /** Sent as `Authorization: Bearer …`; a function is called before every request. */
  authToken?: string | (() => string | Promise<string>);
  /** BCP 47 locale for formatted prices; the browser's by default. */
  locale?: string;
}

/** `withoutProration` is refused: Play disabled it and the TWA fails the flow. */
export type ReplacementMode =
  | "chargeProratedPrice" | "chargeFullPrice" | "withTimeProration" | "deferred"
  | "immediateAndChargeProratedPrice" | "immediateAndChargeFullPrice" | "immediateWithTimeProration";

export interface SubscriptionChange {
  fromItemId: string;
  fromPurchaseToken: string;
  toItemId: string;
  mode: ReplacementMode;
}

export type BillingErrorName =
  | "BillingUnsupportedError" | "BillingUnavailableError" | "InvalidArgumentError"
  | "PurchaseCanceledError" | "PurchasePendingError" | "ItemAlreadyOwnedError"
  | "ItemNotOwnedError" | "ItemUnavailableError" | "VerificationError" | "NetworkError"
  | "VerificationDeferredError";

/** Every rejection is an `Error` with one of these names and a stable `code`. */
export interface BillingError extends Error { name: BillingErrorName; code: string; }
"#;

#[wasm_bindgen]
extern "C" {
    /// `ConnectOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "ConnectOptions")]
    pub type JsConnectOptions;
    /// `SubscriptionChange` in TypeScript.
    #[wasm_bindgen(typescript_type = "SubscriptionChange")]
    pub type JsSubscriptionChange;
    /// `string[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type JsStringArray;
    /// `PendingToken[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "PendingToken[]")]
    pub type JsPendingTokens;
    /// `Promise<PlayBilling>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<PlayBilling>")]
    pub type PromisePlayBilling;
    /// `Promise<Diagnosis>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<Diagnosis>")]
    pub type PromiseDiagnosis;
    /// `Promise<ItemDetails[]>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<ItemDetails[]>")]
    pub type PromiseItemDetails;
    /// `Promise<PurchaseResult>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<PurchaseResult>")]
    pub type PromisePurchaseResult;
    /// `Promise<PurchaseDetails[]>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<PurchaseDetails[]>")]
    pub type PromisePurchases;
    /// `Promise<Entitlement[]>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<Entitlement[]>")]
    pub type PromiseEntitlements;
    /// `Promise<void>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type PromiseVoid;
}

/// An exported method's work: a boxed future, so every method shares one
/// `future_to_promise` instance (each instance is 1–8 KB of wasm).
type Task = Pin<Box<dyn Future<Output = Result<JsValue, Error>>>>;

/// Runs a task as a promise that rejects with a named `Error`.
fn promise(task: Task) -> js_sys::Promise {
    future_to_promise(async move { task.await.map_err(JsValue::from) })
}

/// Reads an options object; `what` names it when it is not an object.
fn input(value: JsValue, what: &str) -> Result<Keys, Error> {
    Keys::of(value).ok_or_else(|| Error::InvalidArgument(concat(&[what, " must be an object"])))
}

/// An optional string option: `undefined` and `null` are `None`, anything but a string is
/// refused by its name.
fn string_field(value: JsValue, key: &str) -> Result<Option<String>, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| Error::InvalidArgument(concat(&[key, " must be a string"])))
}

/// A required string option: present and not empty.
fn required(value: JsValue, key: &str) -> Result<String, Error> {
    string_field(value, key)?
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Error::InvalidArgument(concat(&[key, " is required"])))
}

fn connect_options(options: JsValue) -> Result<ConnectOptions, Error> {
    let input = input(options, "connect options")?;
    let mut parsed = ConnectOptions::new(required(input.get("backendUrl"), "backendUrl")?);
    if let Some(provider) = string_field(input.get("serviceProvider"), "serviceProvider")? {
        parsed.service_provider = provider;
    }
    parsed.locale = string_field(input.get("locale"), "locale")?;
    let auth = input.get("authToken");
    parsed.auth_token = if let Some(token) = auth.as_string() {
        AuthToken::Static(token)
    } else if let Some(function) = auth.dyn_ref::<js_sys::Function>() {
        AuthToken::Callback(function.clone())
    } else if auth.is_undefined() || auth.is_null() {
        AuthToken::None
    } else {
        return Err(Error::InvalidArgument(
            "authToken must be a string or a function".into(),
        ));
    };
    Ok(parsed)
}

fn subscription_change(change: JsValue) -> Result<SubscriptionChange, Error> {
    let input = input(change, "changeSubscription's argument")?;
    let from_purchase_token =
        string_field(input.get("fromPurchaseToken"), "fromPurchaseToken")?.unwrap_or_default();
    let mode = ReplacementMode::parse(&required(input.get("mode"), "mode")?)?;
    if from_purchase_token.is_empty() {
        return Err(Error::InvalidArgument(
            "fromPurchaseToken is required: without the current purchase token Play never shows \
             its sheet"
                .into(),
        ));
    }
    Ok(SubscriptionChange {
        from_item_id: required(input.get("fromItemId"), "fromItemId")?,
        from_purchase_token,
        to_item_id: required(input.get("toItemId"), "toItemId")?,
        mode,
    })
}

/// A string argument of an export, taken as a JS value (typed `string` in TypeScript): no
/// string-passing shim in the glue and the wasm per export (strings are returned as JS
/// values likewise). Anything but a string is the empty string, which `purchase` and
/// `consume` refuse as a missing argument.
fn text(value: JsValue) -> String {
    value.as_string().unwrap_or_default()
}

/// `itemIds`: an array of strings, read by serde-wasm-bindgen (410 B smaller than a js-sys
/// loop over the array: the `Vec<String>` reader is in the bundle for `iconURLs` anyway).
fn string_list(value: JsValue) -> Result<Vec<String>, Error> {
    if !js_sys::Array::is_array(&value) {
        return Err(Error::InvalidArgument(
            "itemIds must be an array of strings".into(),
        ));
    }
    crate::convert::from_js(value)
        .map_err(|_| Error::InvalidArgument("itemIds must be an array of strings".into()))
}

#[wasm_bindgen]
impl PlayBilling {
    #[doc(hidden)]
    #[wasm_bindgen(js_name = isSupported)]
    pub fn js_is_supported() -> bool {
        PlayBilling::is_supported()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = diagnose)]
    pub fn js_diagnose(
        #[wasm_bindgen(unchecked_optional_param_type = "DiagnoseOptions | null")] options: JsValue,
    ) -> PromiseDiagnosis {
        promise(Box::pin(async move {
            // Anything but an object means no options, as before.
            let provider = match Some(options).filter(JsValue::is_object) {
                Some(options) => string_field(
                    input(options, "diagnose options")?.get("serviceProvider"),
                    "serviceProvider",
                )?,
                None => None,
            };
            let provider = provider.as_deref().unwrap_or(PLAY_BILLING);
            Ok(to_js(&PlayBilling::diagnose(Some(provider)).await))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = manageSubscriptionUrl)]
    #[wasm_bindgen(unchecked_return_type = "string")]
    pub fn js_manage_subscription_url(
        #[wasm_bindgen(unchecked_param_type = "string")] sku: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] package_name: JsValue,
    ) -> JsValue {
        PlayBilling::manage_subscription_url(&text(sku), &text(package_name)).into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = connect)]
    pub fn js_connect(options: JsConnectOptions) -> PromisePlayBilling {
        promise(Box::pin(async move {
            let options = connect_options(options.into())?;
            Ok(PlayBilling::connect(options).await?.into())
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = getDetails)]
    pub fn js_get_details(&self, item_ids: JsStringArray) -> PromiseItemDetails {
        let billing = self.clone();
        promise(Box::pin(async move {
            let ids = string_list(item_ids.into())?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            Ok(to_js(&billing.get_details(&ids).await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = purchase)]
    pub fn js_purchase(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] item_id: JsValue,
    ) -> PromisePurchaseResult {
        let billing = self.clone();
        promise(Box::pin(async move {
            Ok(to_js(&billing.purchase(&text(item_id)).await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = changeSubscription)]
    pub fn js_change_subscription(&self, change: JsSubscriptionChange) -> PromisePurchaseResult {
        let billing = self.clone();
        promise(Box::pin(async move {
            let change = subscription_change(change.into())?;
            Ok(to_js(&billing.change_subscription(&change).await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = consume)]
    pub fn js_consume(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] purchase_token: JsValue,
    ) -> PromiseVoid {
        let billing = self.clone();
        promise(Box::pin(async move {
            billing.consume(&text(purchase_token)).await?;
            Ok(JsValue::UNDEFINED)
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = listPurchases)]
    pub fn js_list_purchases(&self) -> PromisePurchases {
        let billing = self.clone();
        promise(Box::pin(async move {
            Ok(to_js(&billing.list_purchases().await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = listPurchaseHistory)]
    pub fn js_list_purchase_history(&self) -> PromisePurchases {
        let billing = self.clone();
        promise(Box::pin(async move {
            Ok(to_js(&billing.list_purchase_history().await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = restore)]
    pub fn js_restore(&self) -> PromiseEntitlements {
        let billing = self.clone();
        promise(Box::pin(
            async move { Ok(to_js(&billing.restore().await?)) },
        ))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = entitlements)]
    pub fn js_entitlements(&self) -> PromiseEntitlements {
        let billing = self.clone();
        promise(Box::pin(async move {
            Ok(to_js(&billing.entitlements().await?))
        }))
        .unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(js_name = pendingTokens)]
    pub fn js_pending_tokens(&self) -> JsPendingTokens {
        to_js(&self.pending_tokens()).unchecked_into()
    }

    #[doc(hidden)]
    #[wasm_bindgen(getter, js_name = serviceProvider)]
    #[wasm_bindgen(unchecked_return_type = "string")]
    pub fn js_service_provider(&self) -> JsValue {
        self.service_provider().into()
    }
}
