//! Data objects across the JS boundary, both ways, through serde-wasm-bindgen and the
//! serde derives on the public types (camelCase keys, `None` fields left out, enums by
//! name); JSON text through `JSON.parse` / `JSON.stringify`, so the bundle has no serde_json.
//!
//! A value that breaks its contract is described by the one [`ShapeError`], which names the
//! key at fault where serde or a field helper does.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use crate::text::{concat, decimal};

/// A Rust value as plain JS data: objects, arrays, strings, numbers and booleans (what
/// `JSON.stringify` writes back unchanged).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Plain data of the library's own types always serializes.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

/// Why a JS value could not be read: the key that is missing or has the wrong type, or
/// serde's own words when no key is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The key at fault (`purchaseToken`, `id`); empty when serde did not name one.
    pub key: String,
    /// serde's message ("invalid type: string \"yes\", expected a boolean").
    pub detail: String,
}

impl ShapeError {
    /// A sentence for error messages, e.g. "purchaseToken is missing or has the wrong type";
    /// `what` names the value when no key is known ("the verification is malformed: …").
    pub fn describe(&self, what: &str) -> String {
        if self.key.is_empty() {
            concat(&[what, " is malformed: ", &self.detail])
        } else {
            concat(&[&self.key, " is missing or has the wrong type"])
        }
    }
}

/// Reads plain JS data into a Rust value (unknown keys ignored, a missing, `undefined` or
/// `null` optional key is `None` or its default).
///
/// serde names a missing key itself ("missing field `purchaseToken`"); a key whose value
/// has the wrong type is named where a field helper says so ([`string_or_integer`]). A full
/// path (serde_path_to_error) would cost 15 KB gzip of wrappers around every visitor.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, ShapeError> {
    serde_wasm_bindgen::from_value(value).map_err(shape_error)
}

/// The one error path of every [`from_js`] (not generic, so not copied per type).
#[inline(never)]
fn shape_error(error: serde_wasm_bindgen::Error) -> ShapeError {
    // serde-wasm-bindgen's errors are JS `Error`s.
    let detail = String::from(
        JsValue::from(error)
            .unchecked_into::<js_sys::Error>()
            .message(),
    );
    let key = named_field(&detail).unwrap_or_default().to_owned();
    ShapeError { key, detail }
}

/// The field a message names: serde's "missing field `name`", or a field helper's
/// "`name` has the wrong type".
fn named_field(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("`"))?;
    // A byte scan: `split('`')` brings core's char searcher (memchr) into the bundle.
    let end = rest
        .bytes()
        .position(|byte| byte == b'`')
        .unwrap_or(rest.len());
    rest.get(..end)
}

/// An object the library reads key by key rather than as a whole: the options of
/// `connect`, `changeSubscription` and `diagnose`, `PaymentResponse.details`, and every
/// object of the backend's answers (the verification, its entitlement, the entitlement
/// list's entries, the error body). Each key is read with js-sys (`Reflect.get`) as its JS
/// value, `undefined` when absent, and checked by name where it is used: no serde visitor
/// in the bundle for these shapes, and a value of the wrong type is reported with its key
/// (serde's own type errors name none).
#[derive(Debug)]
pub struct Keys(JsValue);

impl Keys {
    /// The keys of `value` when it is an object (arrays are not).
    pub fn of(value: JsValue) -> Option<Keys> {
        (value.is_object() && !js_sys::Array::is_array(&value)).then_some(Keys(value))
    }

    /// The value of `key`; `undefined` when absent (or when its getter throws).
    pub fn get(&self, key: &str) -> JsValue {
        crate::sys::get(&self.0, key)
    }

    // The typed reads below fail with the key's name, so that a caller builds its one
    // error in one place.

    /// A string.
    pub fn string(&self, key: &'static str) -> Result<String, &'static str> {
        self.get(key).as_string().ok_or(key)
    }

    /// A string, `None` when absent or `null`.
    pub fn optional_string(&self, key: &'static str) -> Result<Option<String>, &'static str> {
        let value = self.get(key);
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or(key)
    }

    /// A boolean; `default` when absent (required when `None`).
    pub fn flag(&self, key: &'static str, default: Option<bool>) -> Result<bool, &'static str> {
        let value = self.get(key);
        match default {
            Some(default) if value.is_undefined() => Ok(default),
            _ => value.as_bool().ok_or(key),
        }
    }

    /// A number.
    pub fn number(&self, key: &'static str) -> Result<f64, &'static str> {
        self.get(key).as_f64().ok_or(key)
    }

    /// An integer of at most 2^53 in magnitude (never read through a float's digits).
    pub fn integer(&self, key: &'static str) -> Result<i64, &'static str> {
        let number = self.number(key)?;
        let exact = number.fract() == 0.0 && number.abs() <= 9_007_199_254_740_991.0;
        exact.then_some(number as i64).ok_or(key)
    }

    /// A count (`0..=u32::MAX`); `default` when absent (required when `None`).
    pub fn count(&self, key: &'static str, default: Option<u32>) -> Result<u32, &'static str> {
        match default {
            Some(default) if self.get(key).is_undefined() => Ok(default),
            _ => u32::try_from(self.integer(key)?).map_err(|_| key),
        }
    }
}

/// Sets `key` on a fresh object the library builds (cannot throw: plain objects are
/// extensible and have no setters).
pub fn set(object: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), value);
}

/// `JSON.stringify` of plain data (always a string for data built here).
pub fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}

/// `JSON.parse`; `None` when `text` is not JSON.
pub fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// `#[serde(deserialize_with)]` for lists: `null` is the empty list, like a missing key.
pub fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// `#[serde(deserialize_with)]` for ids: a string, or an integer written as its decimal
/// string (never through a float); anything else is "`id` has the wrong type".
pub fn string_or_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = String;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a string or an integer")
        }
        fn visit_str<E>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }
        fn visit_string<E>(self, value: String) -> Result<String, E> {
            Ok(value)
        }
        fn visit_u64<E>(self, value: u64) -> Result<String, E> {
            Ok(decimal(value))
        }
        fn visit_i64<E>(self, value: i64) -> Result<String, E> {
            let digits = decimal(value.unsigned_abs());
            Ok(if value < 0 {
                concat(&["-", &digits])
            } else {
                digits
            })
        }
    }
    deserializer
        .deserialize_any(Id)
        .map_err(|_| serde::de::Error::custom("`id` has the wrong type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        assert_eq!(
            named_field("missing field `purchaseToken`"),
            Some("purchaseToken")
        );
        assert_eq!(named_field("`id` has the wrong type"), Some("id"));
        assert_eq!(
            named_field("invalid type: string \"a\", expected a boolean"),
            None
        );
        let error = ShapeError {
            key: "purchaseToken".into(),
            detail: String::new(),
        };
        assert_eq!(
            error.describe("a purchase"),
            "purchaseToken is missing or has the wrong type"
        );
        let error = ShapeError {
            key: String::new(),
            detail: "invalid type: string \"yes\", expected a boolean".into(),
        };
        assert_eq!(
            error.describe("the verification"),
            "the verification is malformed: invalid type: string \"yes\", expected a boolean"
        );
    }

    /// The `[patch]` of serde-wasm-bindgen (vendor/serde-wasm-bindgen/PATCH.md) is what the
    /// lock file resolves, at the vendored version. This fails as soon as the dependency
    /// moves to an upstream release, where the patch no longer applies: then check whether
    /// upstream's `de::Error` overrides `invalid_type` without `Unexpected`'s `Display`
    /// (the patch is unnecessary: delete vendor/serde-wasm-bindgen and the `[patch]`), or
    /// vendor the new release with the change again.
    #[test]
    fn the_serde_wasm_bindgen_patch_is_in_use() {
        let lock = include_str!("../Cargo.lock");
        let entry = lock
            .split("[[package]]")
            .find(|entry| entry.contains("name = \"serde-wasm-bindgen\""))
            .expect("serde-wasm-bindgen is locked");
        assert!(
            !entry.contains("source ="),
            "serde-wasm-bindgen comes from a registry, not from vendor/: the [patch] is unused"
        );
        let vendored = include_str!("../vendor/serde-wasm-bindgen/Cargo.toml");
        let version = entry
            .lines()
            .find_map(|line| line.strip_prefix("version = "))
            .expect("a version");
        assert!(
            vendored.contains(&format!("\nversion = {version}\n")),
            "the vendored copy is not the locked version {version}"
        );
        let patched = include_str!("../vendor/serde-wasm-bindgen/src/error.rs");
        assert!(patched.contains("fn invalid_type(") && patched.contains("struct JsUnexpected"));
    }

    #[test]
    fn ids_are_strings_or_integers() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(deserialize_with = "string_or_integer")]
            id: String,
        }
        for (json, id) in [
            (r#"{"id":"e-1"}"#, "e-1"),
            (r#"{"id":12}"#, "12"),
            (r#"{"id":-3}"#, "-3"),
        ] {
            assert_eq!(serde_json::from_str::<Row>(json).unwrap().id, id);
        }
        assert!(serde_json::from_str::<Row>(r#"{"id":1.5}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"id":true}"#).is_err());
    }
}
