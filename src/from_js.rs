//! Reading the plain JS objects the provider, the backend and the outbox hand us.
//!
//! Small readers over `Reflect.get` instead of serde-wasm-bindgen's `Deserializer`: a
//! serde deserializer is monomorphized per type with serde's error machinery (which formats
//! floats and debug strings), about 40 KB of the bundle for six small objects. These
//! readers follow the serde derives on the same types: unknown keys are ignored, a missing,
//! `undefined` or `null` optional key is `None` (or its default), enums fall back to
//! `Unknown`, and a wrong type names the key that was wrong.

use wasm_bindgen::JsValue;

use crate::sys;
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
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object (`what` names it otherwise).
    pub fn of(value: &'a JsValue, what: &'static str) -> Result<Fields<'a>, ShapeError> {
        if value.is_object() {
            Ok(Fields(value))
        } else {
            Err(ShapeError(what))
        }
    }

    /// The value of `key`; `None` for `undefined` and `null`.
    #[inline(never)]
    pub fn get(self, key: &str) -> Option<JsValue> {
        let value = sys::get(self.0, key);
        if value.is_undefined() || value.is_null() {
            None
        } else {
            Some(value)
        }
    }

    /// An optional string.
    #[inline(never)]
    pub fn opt_string(self, key: &'static str) -> Result<Option<String>, ShapeError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value.as_string().map(Some).ok_or(ShapeError(key)),
        }
    }

    /// A required string.
    pub fn string(self, key: &'static str) -> Result<String, ShapeError> {
        self.opt_string(key)?.ok_or(ShapeError(key))
    }

    /// A boolean, `false` when absent.
    #[inline(never)]
    pub fn flag(self, key: &'static str) -> Result<bool, ShapeError> {
        match self.get(key) {
            None => Ok(false),
            Some(value) => value.as_bool().ok_or(ShapeError(key)),
        }
    }

    /// An optional number.
    #[inline(never)]
    pub fn opt_number(self, key: &'static str) -> Result<Option<f64>, ShapeError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value.as_f64().map(Some).ok_or(ShapeError(key)),
        }
    }

    /// A required number.
    pub fn number(self, key: &'static str) -> Result<f64, ShapeError> {
        self.opt_number(key)?.ok_or(ShapeError(key))
    }

    /// An optional non-negative integer up to `max` (a JS number without a fraction).
    #[inline(never)]
    pub fn opt_integer(self, key: &'static str, max: f64) -> Result<Option<u64>, ShapeError> {
        match self.opt_number(key)? {
            None => Ok(None),
            Some(number) if is_integer(number) && (0.0..=max).contains(&number) => {
                Ok(Some(number as u64))
            }
            Some(_) => Err(ShapeError(key)),
        }
    }

    /// A nested object.
    pub fn object<T: FromJs>(self, key: &'static str) -> Result<T, ShapeError> {
        T::from_js(&self.get(key).ok_or(ShapeError(key))?)
    }

    /// An optional nested object.
    pub fn opt_object<T: FromJs>(self, key: &'static str) -> Result<Option<T>, ShapeError> {
        self.get(key).map(|value| T::from_js(&value)).transpose()
    }

    /// An array (`what` names it when it is something else); an absent one is empty.
    pub fn list<T: FromJs>(self, key: &'static str) -> Result<Vec<T>, ShapeError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(value) => list(&value, key),
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
    let array = js_sys::Array::from(value);
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
        Ok(Amount {
            currency: fields.string("currency")?,
            value: fields.string("value")?,
        })
    }
}

impl FromJs for ItemDetails {
    fn from_js(value: &JsValue) -> Result<ItemDetails, ShapeError> {
        let fields = Fields::of(value, "an item")?;
        Ok(ItemDetails {
            item_id: fields.string("itemId")?,
            title: fields.string("title")?,
            description: fields.opt_string("description")?,
            price: fields.object("price")?,
            item_type: fields
                .opt_string("type")?
                .map(|name| ItemType::parse(&name)),
            icon_urls: fields.list("iconURLs")?,
            subscription_period: fields.opt_string("subscriptionPeriod")?,
            free_trial_period: fields.opt_string("freeTrialPeriod")?,
            introductory_price: fields.opt_object("introductoryPrice")?,
            introductory_price_period: fields.opt_string("introductoryPricePeriod")?,
            introductory_price_cycles: fields
                .opt_integer("introductoryPriceCycles", 9_007_199_254_740_991.0)?,
            formatted_price: fields.opt_string("formattedPrice")?.unwrap_or_default(),
            formatted_introductory_price: fields.opt_string("formattedIntroductoryPrice")?,
        })
    }
}

impl FromJs for PurchaseDetails {
    fn from_js(value: &JsValue) -> Result<PurchaseDetails, ShapeError> {
        let fields = Fields::of(value, "a purchase")?;
        Ok(PurchaseDetails {
            item_id: fields.string("itemId")?,
            purchase_token: fields.string("purchaseToken")?,
        })
    }
}

impl FromJs for Entitlement {
    fn from_js(value: &JsValue) -> Result<Entitlement, ShapeError> {
        let fields = Fields::of(value, "an entitlement")?;
        // The backend's id may be a string or an integer; it is a string here.
        let id = fields.get("id").and_then(|id| {
            id.as_string().or_else(|| {
                let number = id.as_f64().filter(|number| is_integer(*number))?;
                js_sys::Number::from(number)
                    .to_string_with_radix(10)
                    .ok()
                    .map(String::from)
            })
        });
        Ok(Entitlement {
            id: id.ok_or(ShapeError("id"))?,
            item_id: fields.string("itemId")?,
            kind: EntitlementKind::parse(&fields.string("kind")?),
            state: EntitlementState::parse(&fields.string("state")?),
            entitled: fields
                .get("entitled")
                .and_then(|v| v.as_bool())
                .ok_or(ShapeError("entitled"))?,
            quantity: fields
                .opt_integer("quantity", u32::MAX.into())?
                .map_or(1, |q| q as u32),
            expires_at: fields.opt_string("expiresAt")?,
            test: fields.flag("test")?,
            purchase_token: fields.string("purchaseToken")?,
        })
    }
}

impl FromJs for Verification {
    fn from_js(value: &JsValue) -> Result<Verification, ShapeError> {
        let fields = Fields::of(value, "the verification")?;
        Ok(Verification {
            entitlement: fields.object("entitlement")?,
            acknowledged: fields.flag("acknowledged")?,
        })
    }
}

impl FromJs for PendingToken {
    fn from_js(value: &JsValue) -> Result<PendingToken, ShapeError> {
        let fields = Fields::of(value, "a pending token")?;
        Ok(PendingToken {
            item_id: fields.string("itemId")?,
            purchase_token: fields.string("purchaseToken")?,
            added_at: fields.number("addedAt")?,
            attempts: fields
                .opt_integer("attempts", u32::MAX.into())?
                .ok_or(ShapeError("attempts"))? as u32,
            next_attempt_at: fields.number("nextAttemptAt")?,
            last_error: fields.opt_string("lastError")?,
        })
    }
}
