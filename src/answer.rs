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

/// "`path.key` is missing or has the wrong type".
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

/// One entitlement object.
fn entitlement(value: JsValue, path: &str) -> Result<Entitlement, ShapeError> {
    let keys = object(value, path)?;
    let read = || -> Result<Entitlement, &'static str> {
        // An id is a string, or an integer written as its decimal string.
        let id = match keys.string("id") {
            Ok(id) => id,
            Err(_) => {
                let number = keys.integer("id")?;
                let digits = decimal(number.unsigned_abs());
                if number < 0 {
                    concat(&["-", &digits])
                } else {
                    digits
                }
            }
        };
        Ok(Entitlement {
            id,
            item_id: keys.string("itemId")?,
            kind: keys.string("kind")?.into(),
            state: keys.string("state")?.into(),
            entitled: keys.flag("entitled", None)?,
            quantity: keys.count("quantity", Some(1))?,
            expires_at: keys.optional_string("expiresAt")?,
            test: keys.flag("test", Some(false))?,
            purchase_token: keys.string("purchaseToken")?,
        })
    };
    read().map_err(|key| wrong(path, key))
}

/// The `200` body of `POST /purchases/verify`.
pub fn verification(body: JsValue) -> Result<Verification, ShapeError> {
    let keys = object(body, "")?;
    Ok(Verification {
        entitlement: entitlement(keys.get("entitlement"), "entitlement")?,
        acknowledged: keys
            .flag("acknowledged", Some(false))
            .map_err(|key| wrong("", key))?,
    })
}

/// The body of `GET /entitlements`: `{"entitlements": [...]}`.
pub fn entitlements(body: JsValue) -> Result<Vec<Entitlement>, ShapeError> {
    let list = object(body, "")?.get("entitlements");
    if !js_sys::Array::is_array(&list) {
        return Err(wrong("", "entitlements"));
    }
    // A loop rather than `collect::<Result<Vec<_>, _>>()`, whose adapter is one more
    // generic function in the bundle.
    let list = js_sys::Array::from(&list);
    let mut entitlements = Vec::with_capacity(list.length() as usize);
    for index in 0..list.length() {
        let path = concat(&["entitlements[", &decimal(index.into()), "]"]);
        entitlements.push(entitlement(list.get(index), &path)?);
    }
    Ok(entitlements)
}

/// The backend's error body `{"error": {"code", "message"}}`: its code and message.
pub fn error(body: JsValue) -> Option<(String, String)> {
    let error = object(object(body, "").ok()?.get("error"), "error").ok()?;
    let code = error.string("code").ok()?;
    let message = error.optional_string("message").ok()?;
    Some((code, message.unwrap_or_default()))
}
