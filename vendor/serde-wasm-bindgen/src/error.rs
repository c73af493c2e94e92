use wasm_bindgen::prelude::*;

/// A newtype that represents Serde errors as JavaScript exceptions.
#[derive(Debug)]
pub struct Error(JsValue);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        #[wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_name = String)]
            pub fn to_string(value: &JsValue) -> String;
        }

        to_string(&self.0).fmt(f)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Creates a JavaScript `Error` with a given message.
    pub fn new<T: std::fmt::Display>(msg: T) -> Self {
        Error(JsError::new(&msg.to_string()).into())
    }
}

impl serde::ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg)
    }
}

impl serde::de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg)
    }

    // pwa-billing patch (see PATCH.md): serde's default `invalid_type` and `invalid_value`
    // display the `Unexpected` value with its own `Display`, which formats
    // `Unexpected::Float` with Rust's float formatting (about 17 KB of wasm, its tables
    // included) and `Unexpected::Str` with `Debug` escapes. Every type error of every
    // deserializer links them. Here JavaScript writes the number and the string (the
    // values came from JavaScript anyway); the messages are serde's words otherwise.
    #[cold]
    fn invalid_type(unexp: serde::de::Unexpected, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format_args!(
            "invalid type: {}, expected {}",
            JsUnexpected(unexp),
            exp
        ))
    }

    #[cold]
    fn invalid_value(unexp: serde::de::Unexpected, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format_args!(
            "invalid value: {}, expected {}",
            JsUnexpected(unexp),
            exp
        ))
    }
}

#[wasm_bindgen]
extern "C" {
    /// `String(value)` (pwa-billing patch): a number's or a `BigInt`'s digits.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// serde's `Unexpected` as its `Display` writes it, with numbers formatted by JavaScript's
/// `String()` (integers through a `BigInt`, so every digit is exact) and strings quoted by
/// `JSON.stringify` (pwa-billing patch). Written piece by piece: no `{}` of an integer, a
/// `bool` or a `char`, whose `Display` implementations and padding would be bundle bytes.
struct JsUnexpected<'a>(serde::de::Unexpected<'a>);

impl std::fmt::Display for JsUnexpected<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        use serde::de::Unexpected::*;
        let mut char_buffer = [0; 4];
        let (what, value, after) = match self.0 {
            Bool(true) => ("boolean `true`", String::new(), ""),
            Bool(false) => ("boolean `false`", String::new(), ""),
            Unsigned(i) => ("integer `", js_string(&JsValue::from(i)), "`"),
            Signed(i) => ("integer `", js_string(&JsValue::from(i)), "`"),
            Float(f) => {
                let text = js_string(&JsValue::from(f));
                // serde writes a decimal point into integral floats (`5.0`).
                let integral = text.bytes().all(|b| b == b'-' || b.is_ascii_digit());
                ("floating point `", text, if integral { ".0`" } else { "`" })
            }
            Char(c) => ("character `", String::from(&*c.encode_utf8(&mut char_buffer)), "`"),
            Str(s) => {
                let quoted = js_sys::JSON::stringify(&JsValue::from_str(s))
                    .map(String::from)
                    .unwrap_or_default();
                ("string ", quoted, "")
            }
            Bytes(_) => ("byte array", String::new(), ""),
            Unit => ("unit value", String::new(), ""),
            Option => ("Option value", String::new(), ""),
            NewtypeStruct => ("newtype struct", String::new(), ""),
            Seq => ("sequence", String::new(), ""),
            Map => ("map", String::new(), ""),
            Enum => ("enum", String::new(), ""),
            UnitVariant => ("unit variant", String::new(), ""),
            NewtypeVariant => ("newtype variant", String::new(), ""),
            TupleVariant => ("tuple variant", String::new(), ""),
            StructVariant => ("struct variant", String::new(), ""),
            Other(other) => (other, String::new(), ""),
        };
        formatter.write_str(what)?;
        formatter.write_str(&value)?;
        formatter.write_str(after)
    }
}

/// This conversion is needed for `?` to just work when using wasm-bindgen
/// imports that return JavaScript exceptions as `Result<T, JsValue>`.
impl From<JsValue> for Error {
    fn from(error: JsValue) -> Error {
        Error(error)
    }
}

// This conversion is needed for `?` to just work in wasm-bindgen exports
// that return `Result<T, JsValue>` to throw JavaScript exceptions.
impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        error.0
    }
}
