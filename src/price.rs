//! Locale-formatted prices from Digital Goods' decimal strings, without float round trips.
//!
//! `PaymentCurrencyAmount.value` is a decimal *string* ("0.10", "1234.5"). Turning it into an
//! `f64` first can print `0.30000000000000004`-style noise for some currencies and amounts,
//! so the validated string itself goes to `Intl.NumberFormat.prototype.format`, which formats
//! decimal strings exactly (ECMA-402 NumberFormat v3, every Chromium that has Digital Goods
//! 2.1). Older engines convert the string to a number themselves; a canonical string keeps
//! that conversion exact for every price with up to 15 significant digits.

use crate::text::concat;
use crate::Error;

/// Checks a `PaymentCurrencyAmount.value` ("-"? digits ("." digits)?) and returns it in
/// canonical form: no leading zeros in the integer part, no sign on zero; the fraction is
/// kept as written ("1.50" stays "1.50").
pub fn canonical_decimal(value: &str) -> Result<String, Error> {
    // Bytes rather than `str` patterns: `split_once`/`trim_start_matches` bring a memchr and
    // char-boundary checks (~1 KB of wasm) that ASCII digits do not need.
    let bytes = value.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let unsigned = &bytes[usize::from(negative)..];
    let (integer, fraction) = match unsigned.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&unsigned[..dot], Some(&unsigned[dot + 1..])),
        None => (unsigned, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(integer) || fraction.is_some_and(|part| !digits(part)) {
        return Err(Error::InvalidArgument(concat(&[
            "'",
            value,
            "' is not a decimal amount",
        ])));
    }
    // Leading zeros go, but one digit stays ("007" is "7", "000" is "0").
    let zeros = integer.iter().take_while(|&&byte| byte == b'0').count();
    let integer = &integer[zeros.min(integer.len() - 1)..];
    let is_zero = integer == b"0" && fraction.is_none_or(|part| part.iter().all(|&b| b == b'0'));
    let mut out = String::with_capacity(value.len());
    if negative && !is_zero {
        out.push('-');
    }
    out.extend(integer.iter().map(|&byte| char::from(byte)));
    if let Some(fraction) = fraction {
        out.push('.');
        out.extend(fraction.iter().map(|&byte| char::from(byte)));
    }
    Ok(out)
}

/// Checks an ISO 4217 currency code (three ASCII letters), upper-cased.
pub fn currency_code(currency: &str) -> Result<String, Error> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(currency.to_ascii_uppercase())
    } else {
        Err(Error::InvalidArgument(concat(&[
            "'",
            currency,
            "' is not an ISO 4217 currency code",
        ])))
    }
}

/// Formats an amount for `locale` (a BCP 47 tag; `None` = the browser's) with
/// `new Intl.NumberFormat(locale, {style: "currency", currency}).format(value)`.
///
/// The constructor is called through `Reflect.construct`, which catches (a malformed locale
/// throws a `RangeError`; js-sys's `NumberFormat::new` does not catch). The constructor, the
/// options and `format` are reached with `Reflect` (js-sys) rather than js-sys's typed
/// `Intl` bindings: one shared import instead of six of the JS glue's (-60 B gzip).
pub fn format(locale: Option<&str>, currency: &str, value: &str) -> Result<String, Error> {
    use wasm_bindgen::{JsCast, JsValue};
    let value = canonical_decimal(value)?;
    let currency = currency_code(currency)?;
    let options = js_sys::Object::new();
    crate::convert::set(&options, "style", &JsValue::from_str("currency"));
    crate::convert::set(&options, "currency", &JsValue::from_str(&currency));
    let locales = js_sys::Array::new();
    if let Some(locale) = locale {
        locales.push(&JsValue::from_str(locale));
    }
    let constructor = crate::sys::get(&crate::sys::get(&js_sys::global(), "Intl"), "NumberFormat");
    let Some(constructor) = constructor.dyn_ref::<js_sys::Function>() else {
        return Err(Error::Unavailable("Intl.NumberFormat is absent".into()));
    };
    let formatter =
        js_sys::Reflect::construct(constructor, &js_sys::Array::of2(&locales, &options))
            .map_err(Error::from_js)?;
    // `format` with the decimal *string*: exact, no float round trip.
    crate::sys::get(&formatter, "format")
        .unchecked_into::<js_sys::Function>()
        .call1(&formatter, &JsValue::from_str(&value))
        .map_err(Error::from_js)?
        .as_string()
        .ok_or_else(|| Error::Unavailable("Intl.NumberFormat returned no string".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimals_keep_every_digit() {
        assert_eq!(canonical_decimal("1.99").unwrap(), "1.99");
        assert_eq!(canonical_decimal("0.10").unwrap(), "0.10");
        assert_eq!(canonical_decimal("007.5").unwrap(), "7.5");
        assert_eq!(
            canonical_decimal("12345678901234567.89").unwrap(),
            "12345678901234567.89"
        );
        assert_eq!(canonical_decimal("-3.00").unwrap(), "-3.00");
        assert_eq!(canonical_decimal("-0.00").unwrap(), "0.00");
        assert_eq!(canonical_decimal("0").unwrap(), "0");
    }

    #[test]
    fn malformed_decimals_are_invalid_arguments() {
        for bad in [
            "", "-", ".5", "5.", "1,99", "1.9.9", "1e3", "NaN", " 1", "+1", "٣",
        ] {
            let error = canonical_decimal(bad).unwrap_err();
            assert_eq!(error.name(), "InvalidArgumentError", "{bad:?}");
        }
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(currency_code("eur").unwrap(), "EUR");
        assert!(currency_code("EURO").is_err());
        assert!(currency_code("E1R").is_err());
    }
}
