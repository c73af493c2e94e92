//! Writing the API's data objects as plain JS objects.
//!
//! The mirror of [`crate::from_js`]: each object is built with `Reflect.set`, with the keys
//! and shapes serde-wasm-bindgen's `json_compatible()` serializer gives the serde derives on
//! the same types (camelCase keys in declaration order, `None` fields left out, enums as
//! their names), without serde's per-type serializer code and its interned key table.

use js_sys::{Array, Object};
use wasm_bindgen::JsValue;

use crate::sys;
use crate::types::{
    Amount, Diagnosis, Entitlement, ItemDetails, PendingToken, PurchaseDetails, PurchaseResult,
    Verification,
};

/// A Rust value written as plain JS data.
pub trait ToJs {
    /// The JS value.
    fn to_js(&self) -> JsValue;
}

/// A plain JS object being filled in.
#[derive(Debug)]
pub struct Fields(Object);

impl Fields {
    /// An empty object.
    pub fn new() -> Fields {
        Fields(Object::new())
    }

    /// Sets `key` to a JS value.
    #[inline(never)]
    pub fn value(self, key: &str, value: &JsValue) -> Fields {
        sys::set(&self.0, key, value);
        self
    }

    /// Sets `key` to a string.
    pub fn string(self, key: &str, value: &str) -> Fields {
        self.value(key, &JsValue::from_str(value))
    }

    /// Sets `key` to a string, or leaves it out for `None`.
    pub fn opt_string(self, key: &str, value: &Option<String>) -> Fields {
        match value {
            Some(value) => self.string(key, value),
            None => self,
        }
    }

    /// Sets `key` to a boolean.
    pub fn flag(self, key: &str, value: bool) -> Fields {
        self.value(key, &JsValue::from_bool(value))
    }

    /// Sets `key` to a number.
    pub fn number(self, key: &str, value: f64) -> Fields {
        self.value(key, &JsValue::from_f64(value))
    }

    /// The finished object.
    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

impl<T: ToJs> ToJs for [T] {
    fn to_js(&self) -> JsValue {
        self.iter().map(T::to_js).collect::<Array>().into()
    }
}

impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        self.as_slice().to_js()
    }
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for Amount {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .string("currency", &self.currency)
            .string("value", &self.value)
            .done()
    }
}

impl ToJs for ItemDetails {
    fn to_js(&self) -> JsValue {
        let mut fields = Fields::new()
            .string("itemId", &self.item_id)
            .string("title", &self.title)
            .opt_string("description", &self.description)
            .value("price", &self.price.to_js());
        if let Some(item_type) = self.item_type {
            fields = fields.string("type", item_type.as_str());
        }
        fields = fields
            .value("iconURLs", &self.icon_urls.to_js())
            .opt_string("subscriptionPeriod", &self.subscription_period)
            .opt_string("freeTrialPeriod", &self.free_trial_period);
        if let Some(price) = &self.introductory_price {
            fields = fields.value("introductoryPrice", &price.to_js());
        }
        fields = fields.opt_string("introductoryPricePeriod", &self.introductory_price_period);
        if let Some(cycles) = self.introductory_price_cycles {
            fields = fields.number("introductoryPriceCycles", cycles as f64);
        }
        fields
            .string("formattedPrice", &self.formatted_price)
            .opt_string(
                "formattedIntroductoryPrice",
                &self.formatted_introductory_price,
            )
            .done()
    }
}

impl ToJs for PurchaseDetails {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .string("itemId", &self.item_id)
            .string("purchaseToken", &self.purchase_token)
            .done()
    }
}

impl ToJs for Entitlement {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .string("id", &self.id)
            .string("itemId", &self.item_id)
            .string("kind", self.kind.as_str())
            .string("state", self.state.as_str())
            .flag("entitled", self.entitled)
            .number("quantity", self.quantity.into())
            .opt_string("expiresAt", &self.expires_at)
            .flag("test", self.test)
            .string("purchaseToken", &self.purchase_token)
            .done()
    }
}

impl ToJs for Verification {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .value("entitlement", &self.entitlement.to_js())
            .flag("acknowledged", self.acknowledged)
            .done()
    }
}

impl ToJs for PurchaseResult {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .string("itemId", &self.item_id)
            .string("purchaseToken", &self.purchase_token)
            .value("verification", &self.verification.to_js())
            .done()
    }
}

impl ToJs for PendingToken {
    fn to_js(&self) -> JsValue {
        Fields::new()
            .string("itemId", &self.item_id)
            .string("purchaseToken", &self.purchase_token)
            .number("addedAt", self.added_at)
            .number("attempts", self.attempts.into())
            .number("nextAttemptAt", self.next_attempt_at)
            .opt_string("lastError", &self.last_error)
            .done()
    }
}

impl ToJs for Diagnosis {
    fn to_js(&self) -> JsValue {
        let mut fields = Fields::new()
            .flag("supported", self.supported)
            .flag("secureContext", self.secure_context)
            .flag("digitalGoodsApi", self.digital_goods_api)
            .flag("paymentRequestApi", self.payment_request_api)
            .string("serviceProvider", &self.service_provider);
        if let Some(available) = self.provider_available {
            fields = fields.flag("providerAvailable", available);
        }
        fields
            .opt_string("providerError", &self.provider_error)
            .opt_string("apiVersion", &self.api_version)
            .value("problems", &self.problems.to_js())
            .done()
    }
}

/// `JSON.stringify` of a value built here (plain objects, arrays, strings, numbers and
/// booleans: they always stringify).
pub fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}
