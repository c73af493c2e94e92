//! Reading the plain JS objects the provider, the backend and the outbox hand us.
//!
//! Small readers over `Reflect.get` instead of serde-wasm-bindgen's `Deserializer`: a
//! serde deserializer is monomorphized per type with serde's error machinery (which formats
//! floats and debug strings), about 40 KB of the bundle for six small objects. These
//! readers follow the serde derives on the same types: unknown keys are ignored, a missing,
//! `undefined` or `null` optional key is `None` (or its default), enums fall back to
//! `Unknown`, and a wrong type names the key that was wrong.

use std::cell::Cell;

use wasm_bindgen::{JsCast, JsValue};

use crate::sys;
use crate::text::{concat, decimal};
use crate::types::{
    Amount, Entitlement, EntitlementKind, EntitlementState, ItemDetails, ItemType, PendingToken,
    PurchaseDetails, Verification,
};

/// Why a value could not be read: the key that is missing or has the wrong type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeError(pub &'static str);

impl ShapeError {
    /// A sentence for error messages, e.g. "itemId is missing or has the wrong type".
    pub fn describe(self) -> String {
        let mut text = String::from(self.0);
        text.push_str(" is missing or has the wrong type");
        text
    }
}

/// A Rust value read from a plain JS value.
pub trait FromJs: Sized {
    /// Reads `value`, or names what is wrong with it.
    fn from_js(value: &JsValue) -> Result<Self, ShapeError>;
}

/// The keys of one JS object, read by name.
///
/// The readers return a value even when the key is wrong (an empty one) and remember the
/// first wrong key; [`Fields::finish`] then fails with it. So a struct is built in one
/// expression without an early return after each field, each of which would need its own
/// code to drop the fields built so far.
#[derive(Debug)]
pub struct Fields<'a> {
    object: &'a JsValue,
    error: Cell<Option<ShapeError>>,
}

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object (`what` names it otherwise).
    pub fn of(value: &'a JsValue, what: &'static str) -> Result<Fields<'a>, ShapeError> {
        if value.is_object() {
            Ok(Fields {
                object: value,
                error: Cell::new(None),
            })
        } else {
            Err(ShapeError(what))
        }
    }

    /// `value`, or the first wrong key.
    pub fn finish<T>(self, value: T) -> Result<T, ShapeError> {
        match self.error.get() {
            None => Ok(value),
            Some(error) => Err(error),
        }
    }

    /// Records a wrong key (the first one is reported).
    #[inline(never)]
    fn wrong<T: Default>(&self, key: &'static str) -> T {
        if self.error.get().is_none() {
            self.error.set(Some(ShapeError(key)));
        }
        T::default()
    }

    /// Records the error of a nested read.
    fn check<T: Default>(&self, result: Result<T, ShapeError>) -> T {
        result.unwrap_or_else(|error| self.wrong(error.0))
    }

    /// The value of `key`; `None` for `undefined` and `null`.
    #[inline(never)]
    pub fn get(&self, key: &str) -> Option<JsValue> {
        let value = sys::get(self.object, key);
        if value.is_undefined() || value.is_null() {
            None
        } else {
            Some(value)
        }
    }

    /// An optional string.
    #[inline(never)]
    pub fn opt_string(&self, key: &'static str) -> Option<String> {
        let value = self.get(key)?;
        value.as_string().or_else(|| self.wrong(key))
    }

    /// A required string.
    #[inline(never)]
    pub fn string(&self, key: &'static str) -> String {
        match self.opt_string(key) {
            Some(value) => value,
            None => self.wrong(key),
        }
    }

    /// A required boolean.
    #[inline(never)]
    pub fn boolean(&self, key: &'static str) -> bool {
        match self.get(key).and_then(|value| value.as_bool()) {
            Some(value) => value,
            None => self.wrong(key),
        }
    }

    /// A boolean, `false` when absent.
    pub fn flag(&self, key: &'static str) -> bool {
        self.get(key).is_some() && self.boolean(key)
    }

    /// An optional number.
    #[inline(never)]
    pub fn opt_number(&self, key: &'static str) -> Option<f64> {
        let value = self.get(key)?;
        value.as_f64().or_else(|| self.wrong(key))
    }

    /// A required number.
    pub fn number(&self, key: &'static str) -> f64 {
        match self.opt_number(key) {
            Some(value) => value,
            None => self.wrong(key),
        }
    }

    /// An optional non-negative integer up to `max` (a JS number without a fraction).
    #[inline(never)]
    pub fn opt_integer(&self, key: &'static str, max: f64) -> Option<u64> {
        match self.opt_number(key)? {
            number if is_integer(number) && (0.0..=max).contains(&number) => Some(number as u64),
            _ => self.wrong(key),
        }
    }

    /// A required nested object (read it before the other fields: it fails at once).
    pub fn object<T: FromJs>(&self, key: &'static str) -> Result<T, ShapeError> {
        T::from_js(&self.get(key).ok_or(ShapeError(key))?)
    }

    /// An optional nested object.
    pub fn opt_object<T: FromJs>(&self, key: &'static str) -> Option<T> {
        let value = self.get(key)?;
        self.check(T::from_js(&value).map(Some))
    }

    /// An array; an absent one is empty.
    pub fn list<T: FromJs>(&self, key: &'static str) -> Vec<T> {
        match self.get(key) {
            None => Vec::new(),
            Some(value) => self.check(list(&value, key)),
        }
    }
}

/// Whether `number` is an integer a JS number holds exactly.
fn is_integer(number: f64) -> bool {
    number.trunc() == number && number.abs() <= 9_007_199_254_740_991.0
}

/// Reads a JS array; `what` names it when `value` is not one.
pub fn list<T: FromJs>(value: &JsValue, what: &'static str) -> Result<Vec<T>, ShapeError> {
    if !js_sys::Array::is_array(value) {
        return Err(ShapeError(what));
    }
    let array: &js_sys::Array = value.unchecked_ref();
    let mut items = Vec::with_capacity(array.length() as usize);
    for item in array.iter() {
        items.push(T::from_js(&item)?);
    }
    Ok(items)
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Result<String, ShapeError> {
        value.as_string().ok_or(ShapeError("a list item"))
    }
}

impl FromJs for Amount {
    fn from_js(value: &JsValue) -> Result<Amount, ShapeError> {
        let fields = Fields::of(value, "price")?;
        let amount = Amount {
            currency: fields.string("currency"),
            value: fields.string("value"),
        };
        fields.finish(amount)
    }
}

impl FromJs for ItemDetails {
    fn from_js(value: &JsValue) -> Result<ItemDetails, ShapeError> {
        let fields = Fields::of(value, "an item")?;
        let price = fields.object("price")?;
        let item = ItemDetails {
            item_id: fields.string("itemId"),
            title: fields.string("title"),
            description: fields.opt_string("description"),
            price,
            item_type: fields.opt_string("type").map(|name| ItemType::parse(&name)),
            icon_urls: fields.list("iconURLs"),
            subscription_period: fields.opt_string("subscriptionPeriod"),
            free_trial_period: fields.opt_string("freeTrialPeriod"),
            introductory_price: fields.opt_object("introductoryPrice"),
            introductory_price_period: fields.opt_string("introductoryPricePeriod"),
            introductory_price_cycles: fields
                .opt_integer("introductoryPriceCycles", 9_007_199_254_740_991.0),
            formatted_price: fields.opt_string("formattedPrice").unwrap_or_default(),
            formatted_introductory_price: fields.opt_string("formattedIntroductoryPrice"),
        };
        fields.finish(item)
    }
}

impl FromJs for PurchaseDetails {
    fn from_js(value: &JsValue) -> Result<PurchaseDetails, ShapeError> {
        let fields = Fields::of(value, "a purchase")?;
        let purchase = PurchaseDetails {
            item_id: fields.string("itemId"),
            purchase_token: fields.string("purchaseToken"),
        };
        fields.finish(purchase)
    }
}

impl FromJs for Entitlement {
    fn from_js(value: &JsValue) -> Result<Entitlement, ShapeError> {
        let fields = Fields::of(value, "an entitlement")?;
        // The backend's id may be a string or an integer; it is a string here.
        let id = fields.get("id").and_then(|id| {
            id.as_string().or_else(|| {
                let number = id.as_f64().filter(|number| is_integer(*number))?;
                let digits = decimal(number.abs() as u64);
                Some(if number < 0.0 {
                    concat(&["-", &digits])
                } else {
                    digits
                })
            })
        });
        let entitlement = Entitlement {
            id: id.unwrap_or_else(|| fields.wrong("id")),
            item_id: fields.string("itemId"),
            kind: EntitlementKind::parse(&fields.string("kind")),
            state: EntitlementState::parse(&fields.string("state")),
            entitled: fields.boolean("entitled"),
            quantity: fields
                .opt_integer("quantity", u32::MAX.into())
                .map_or(1, |q| q as u32),
            expires_at: fields.opt_string("expiresAt"),
            test: fields.flag("test"),
            purchase_token: fields.string("purchaseToken"),
        };
        fields.finish(entitlement)
    }
}

impl FromJs for Verification {
    fn from_js(value: &JsValue) -> Result<Verification, ShapeError> {
        let fields = Fields::of(value, "the verification")?;
        let verification = Verification {
            entitlement: fields.object("entitlement")?,
            acknowledged: fields.flag("acknowledged"),
        };
        fields.finish(verification)
    }
}

impl FromJs for PendingToken {
    fn from_js(value: &JsValue) -> Result<PendingToken, ShapeError> {
        let fields = Fields::of(value, "a pending token")?;
        let attempts = fields.opt_integer("attempts", u32::MAX.into());
        let token = PendingToken {
            item_id: fields.string("itemId"),
            purchase_token: fields.string("purchaseToken"),
            added_at: fields.number("addedAt"),
            attempts: attempts.map_or_else(|| fields.wrong("attempts"), |n| n as u32),
            next_attempt_at: fields.number("nextAttemptAt"),
            last_error: fields.opt_string("lastError"),
        };
        fields.finish(token)
    }
}
