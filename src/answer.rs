//! The companion server's JSON answers, read into the library's types: every object of
//! them (the verification, its entitlement, each entry of the entitlement list, the error
//! body) is read key by key ([`Keys`], js-sys) and each key checked by name. No serde
//! visitor per shape in the bundle, and a key of the wrong type (a number where a string
//! is expected, or the reverse) is reported with its path (`entitlement.purchaseToken`),
//! which serde's own type errors do not give.

use wasm_bindgen::JsValue;

use crate::convert::{Keys, ShapeError};
use crate::text::{concat, decimal};
use crate::types::{Entitlement, Verification};

/// `path.key`, or `key` at the top.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        concat(&[path, ".", key])
    }
}

/// "`path` is missing or has the wrong type".
fn wrong(path: &str, key: &str) -> ShapeError {
    ShapeError {
        key: join(path, key),
        detail: String::new(),
    }
}

/// An object's keys (`path` names it in errors; "" is the body itself).
fn object(value: JsValue, path: &str) -> Result<Keys, ShapeError> {
    Keys::of(value).ok_or_else(|| ShapeError {
        key: path.to_owned(),
        detail: "expected an object".into(),
    })
}

/// A required string.
fn string(value: &JsValue, path: &str, key: &str) -> Result<String, ShapeError> {
    value.as_string().ok_or_else(|| wrong(path, key))
}

/// An optional string: absent or `null` is `None`.
fn optional_string(value: &JsValue, path: &str, key: &str) -> Result<Option<String>, ShapeError> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        string(value, path, key).map(Some)
    }
}

/// A boolean, `false` when absent.
fn flag(value: &JsValue, path: &str, key: &str) -> Result<bool, ShapeError> {
    if value.is_undefined() {
        Ok(false)
    } else {
        value.as_bool().ok_or_else(|| wrong(path, key))
    }
}

/// A JS number that is an integer of at most 2^53 (never read through a float's digits).
fn safe_integer(value: &JsValue) -> Option<i64> {
    let number = value.as_f64()?;
    let exact = number.fract() == 0.0 && number.abs() <= 9_007_199_254_740_991.0;
    exact.then_some(number as i64)
}

/// An id: a string, or an integer written as its decimal string.
fn id(value: &JsValue, path: &str) -> Result<String, ShapeError> {
    if let Some(id) = value.as_string() {
        return Ok(id);
    }
    let number = safe_integer(value).ok_or_else(|| wrong(path, "id"))?;
    let digits = decimal(number.unsigned_abs());
    Ok(if number < 0 {
        concat(&["-", &digits])
    } else {
        digits
    })
}

/// A count, 1 when absent.
fn quantity(value: &JsValue, path: &str) -> Result<u32, ShapeError> {
    if value.is_undefined() {
        return Ok(1);
    }
    safe_integer(value)
        .and_then(|number| u32::try_from(number).ok())
        .ok_or_else(|| wrong(path, "quantity"))
}

/// One entitlement object.
fn entitlement(value: JsValue, path: &str) -> Result<Entitlement, ShapeError> {
    let keys = object(value, path)?;
    Ok(Entitlement {
        id: id(&keys.get("id"), path)?,
        item_id: string(&keys.get("itemId"), path, "itemId")?,
        kind: string(&keys.get("kind"), path, "kind")?.into(),
        state: string(&keys.get("state"), path, "state")?.into(),
        entitled: keys
            .get("entitled")
            .as_bool()
            .ok_or_else(|| wrong(path, "entitled"))?,
        quantity: quantity(&keys.get("quantity"), path)?,
        expires_at: optional_string(&keys.get("expiresAt"), path, "expiresAt")?,
        test: flag(&keys.get("test"), path, "test")?,
        purchase_token: string(&keys.get("purchaseToken"), path, "purchaseToken")?,
    })
}

/// The `200` body of `POST /purchases/verify`.
pub fn verification(body: JsValue) -> Result<Verification, ShapeError> {
    let keys = object(body, "")?;
    Ok(Verification {
        entitlement: entitlement(keys.get("entitlement"), "entitlement")?,
        acknowledged: flag(&keys.get("acknowledged"), "", "acknowledged")?,
    })
}

/// The body of `GET /entitlements`: `{"entitlements": [...]}`.
pub fn entitlements(body: JsValue) -> Result<Vec<Entitlement>, ShapeError> {
    let list = object(body, "")?.get("entitlements");
    if !js_sys::Array::is_array(&list) {
        return Err(wrong("", "entitlements"));
    }
    js_sys::Array::from(&list)
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let path = concat(&["entitlements[", &decimal(index as u64), "]"]);
            entitlement(entry, &path)
        })
        .collect()
}

/// The backend's error body `{"error": {"code", "message"}}`: its code and message.
pub fn error(body: JsValue) -> Option<(String, String)> {
    let error = object(object(body, "").ok()?.get("error"), "error").ok()?;
    let code = error.get("code").as_string()?;
    let message = optional_string(&error.get("message"), "error", "message").ok()?;
    Some((code, message.unwrap_or_default()))
}
