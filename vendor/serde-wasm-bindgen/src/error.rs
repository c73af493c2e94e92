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
    /// `String(number)` (pwa-billing patch).
    #[wasm_bindgen(js_name = String)]
    fn number_to_string(value: f64) -> String;
}

/// serde's `Unexpected` as its `Display` writes it, with numbers formatted by JavaScript's
/// `String(number)` and strings quoted by `JSON.stringify` (pwa-billing patch).
struct JsUnexpected<'a>(serde::de::Unexpected<'a>);

impl std::fmt::Display for JsUnexpected<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        use serde::de::Unexpected::*;
        match self.0 {
            Bool(b) => write!(formatter, "boolean `{}`", b),
            Unsigned(i) => write!(formatter, "integer `{}`", i),
            Signed(i) => write!(formatter, "integer `{}`", i),
            Float(f) => {
                let text = number_to_string(f);
                // serde writes a decimal point into integral floats (`5.0`).
                let integral = text.bytes().all(|b| b == b'-' || b.is_ascii_digit());
                let point = if integral { ".0" } else { "" };
                write!(formatter, "floating point `{}{}`", text, point)
            }
            Char(c) => write!(formatter, "character `{}`", c),
            Str(s) => {
                let quoted = js_sys::JSON::stringify(&JsValue::from_str(s))
                    .map(String::from)
                    .unwrap_or_default();
                write!(formatter, "string {}", quoted)
            }
            Bytes(_) => formatter.write_str("byte array"),
            Unit => formatter.write_str("unit value"),
            Option => formatter.write_str("Option value"),
            NewtypeStruct => formatter.write_str("newtype struct"),
            Seq => formatter.write_str("sequence"),
            Map => formatter.write_str("map"),
            Enum => formatter.write_str("enum"),
            UnitVariant => formatter.write_str("unit variant"),
            NewtypeVariant => formatter.write_str("newtype variant"),
            TupleVariant => formatter.write_str("tuple variant"),
            StructVariant => formatter.write_str("struct variant"),
            Other(other) => formatter.write_str(other),
        }
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
