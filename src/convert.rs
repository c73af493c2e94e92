//! Data objects across the JS boundary, both ways, through serde-wasm-bindgen and the
//! serde derives on the public types (camelCase keys, `None` fields left out, enums by
//! name); JSON text through `JSON.parse` / `JSON.stringify`, so the bundle has no serde_json.
//!
//! A value that breaks its contract is named by its path (`[1].purchaseToken`,
//! `entitlement.id`) with serde_path_to_error, in the one [`ShapeError`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_path_to_error::Segment;
use wasm_bindgen::JsValue;

use crate::text::{concat, decimal};

/// A Rust value as plain JS data: objects, arrays, strings, numbers and booleans (what
/// `JSON.stringify` writes back unchanged).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Plain data of the library's own types always serializes.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

/// Why a JS value could not be read: the path of the key that is missing or has the wrong
/// type (empty for the value itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl ShapeError {
    /// A sentence for error messages, e.g. "[1].purchaseToken is missing or has the wrong
    /// type"; `what` names the value itself when the path is empty.
    pub fn describe(&self, what: &str) -> String {
        let subject = if self.0.is_empty() { what } else { &self.0 };
        concat(&[subject, " is missing or has the wrong type"])
    }
}

/// Reads plain JS data into a Rust value (unknown keys ignored, a missing, `undefined` or
/// `null` optional key is `None` or its default).
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, ShapeError> {
    let deserializer = serde_wasm_bindgen::Deserializer::from(value);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let mut path = String::new();
        for segment in error.path().iter() {
            match segment {
                Segment::Seq { index } => {
                    path = concat(&[&path, "[", &decimal(*index as u64), "]"]);
                }
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    let dot = if path.is_empty() { "" } else { "." };
                    path = concat(&[&path, dot, key]);
                }
                Segment::Unknown => {}
            }
        }
        // A missing field is reported on its object: serde names it in the message.
        let message = crate::sys::get(&error.into_inner().into(), "message")
            .as_string()
            .unwrap_or_default();
        if let Some(field) = missing_field(&message) {
            let dot = if path.is_empty() { "" } else { "." };
            path = concat(&[&path, dot, field]);
        }
        ShapeError(path)
    })
}

/// The field of serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
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
/// string (never through a float).
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
    deserializer.deserialize_any(Id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_the_missing_field() {
        assert_eq!(
            missing_field("missing field `purchaseToken`"),
            Some("purchaseToken")
        );
        assert_eq!(missing_field("invalid type: string \"a\""), None);
        let error = ShapeError("[1].purchaseToken".into());
        assert_eq!(
            error.describe("a purchase"),
            "[1].purchaseToken is missing or has the wrong type"
        );
        assert_eq!(
            ShapeError(String::new()).describe("the list"),
            "the list is missing or has the wrong type"
        );
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
