//! Money, exactly: integer micros (millionths of a currency unit) everywhere, parsed from and
//! written as decimal strings without floats, and converted to and from Google's two money
//! shapes, `Money` (`{currencyCode, units, nanos}`) and `Price` (`{priceMicros, currency}`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use serde_with::{serde_as, DisplayFromStr, PickFirst};

/// Micros in one currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Not `[-]digits[.digits]` (no exponent, no grouping, nothing empty).
    #[error("not a decimal like \"9.99\"")]
    NotDecimal,
    /// A non-zero digit below the micro (more than 6 significant decimals).
    #[error("more than 6 decimals")]
    TooManyDecimals,
    /// Beyond `i64` micros.
    #[error("too large")]
    TooLarge,
}

/// Parses an exact decimal (`"4.99"`, `"-0.30"`, `"19"`, `"007.50"`) into micros: an
/// optional `-`, digits, and optionally a point followed by digits. Trailing zeros past the
/// sixth decimal are fine (`"1.50000000"`); any other digit there is refused, never rounded.
pub fn parse_decimal(s: &str) -> Result<i64, DecimalError> {
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(DecimalError::NotDecimal);
    }
    let frac = frac.unwrap_or_default().trim_end_matches('0');
    if frac.len() > 6 {
        return Err(DecimalError::TooManyDecimals);
    }
    let int = int.trim_start_matches('0');
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| DecimalError::TooLarge)?
    };
    let frac_micros: i64 = format!("{frac:0<6}")
        .parse()
        .map_err(|_| DecimalError::NotDecimal)?;
    let micros = whole
        .checked_mul(MICROS_PER_UNIT)
        .and_then(|m| m.checked_add(frac_micros))
        .ok_or(DecimalError::TooLarge)?;
    Ok(if negative { -micros } else { micros })
}

/// [`parse_decimal`] of the trimmed text, `None` when it is no amount.
pub fn decimal_to_micros(s: &str) -> Option<i64> {
    parse_decimal(s.trim()).ok()
}

/// Micros as a decimal to the cent at least, finer digits kept: `4_990_000` → `"4.99"`,
/// `19_000_000` → `"19.00"`, `1_234_500` → `"1.2345"`, `-4_500` → `"-0.0045"`.
pub fn micros_to_decimal(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let fraction = format!("{:06}", abs % MICROS_PER_UNIT as u64);
    let trimmed = fraction.trim_end_matches('0');
    let shown = if trimmed.len() < 2 {
        &fraction[..2]
    } else {
        trimmed
    };
    format!("{sign}{}.{shown}", abs / MICROS_PER_UNIT as u64)
}

/// Micros as a decimal of exactly `places` decimals (at most 6), digits beyond them cut:
/// `9_990_000`, 2 → `"9.99"`; `750_000_000`, 0 → `"750"`.
pub fn micros_to_places(micros: i64, places: u16) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let int = abs / MICROS_PER_UNIT as u64;
    if places == 0 {
        return format!("{sign}{int}");
    }
    let fraction = format!("{:06}", abs % MICROS_PER_UNIT as u64);
    format!("{sign}{int}.{}", &fraction[..usize::from(places).min(6)])
}

/// Whether `micros` is a whole number of the smallest unit of a currency of `places`
/// decimals (no fraction of a yen, of a cent).
pub fn fits_places(micros: i64, places: u16) -> bool {
    let step = 10i64.pow(6u32.saturating_sub(u32::from(places)));
    micros % step == 0
}

/// The number of decimals of an ISO 4217 currency (`USD` 2, `JPY` 0), `None` for a code
/// ISO 4217 does not have.
pub fn currency_decimals(code: &str) -> Option<u16> {
    let currency = iso_currency::Currency::from_code(code)?;
    Some(currency.exponent().unwrap_or(0))
}

/// An amount of money: micros and an ISO 4217 code. Written `"4.99 USD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    /// Millionths of the currency unit.
    pub micros: i64,
    /// ISO 4217 code.
    pub currency: [u8; 3],
}

impl Amount {
    /// An amount of `micros` in `currency` (`None` unless the code is 3 upper-case letters).
    pub fn new(micros: i64, currency: &str) -> Option<Amount> {
        match currency.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Some(Amount {
                micros,
                currency: [a, b, c],
            }),
            _ => None,
        }
    }

    /// Parses `"4.99 USD"`: a non-negative decimal with at most 6 decimals, one space, an
    /// upper-case ISO 4217 code. Floats and bare numbers are refused.
    pub fn parse(s: &str) -> Result<Amount, String> {
        let (num, cur) = s
            .split_once(' ')
            .ok_or_else(|| format!("{s:?} is not \"<decimal> <CURRENCY>\" (e.g. \"4.99 USD\")"))?;
        let micros = parse_decimal(num)
            .ok()
            .filter(|m| *m >= 0 && !num.starts_with('-'))
            .ok_or_else(|| {
                format!("{s:?}: {num:?} is not a non-negative decimal with ≤ 6 decimals")
            })?;
        Amount::new(micros, cur)
            .ok_or_else(|| format!("{s:?}: {cur:?} is not an ISO 4217 currency code"))
    }

    /// The currency code.
    pub fn currency(&self) -> &str {
        std::str::from_utf8(&self.currency).unwrap_or("XXX")
    }

    /// Google's `Money` as JSON.
    pub fn money(&self) -> Value {
        money_from_micros(self.micros, self.currency())
    }

    /// From Google's `Money` JSON.
    pub fn from_money(v: &Value) -> Option<Amount> {
        Amount::new(money_to_micros(v)?, v["currencyCode"].as_str()?)
    }

    /// Google's `Money`.
    pub fn to_money(&self) -> Money {
        Money::from_micros(self.micros, self.currency())
    }

    /// From Google's `Money` (`None` for an amount beyond micros or a bad code).
    pub fn of_money(m: &Money) -> Option<Amount> {
        Amount::new(m.micros()?, &m.currency_code)
    }

    /// Google's `Price`.
    pub fn price(&self) -> Price {
        Price {
            currency: self.currency().to_string(),
            price_micros: self.micros,
        }
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", micros_to_decimal(self.micros), self.currency())
    }
}

/// Google's `Money` (`units` an int64 string on the wire; `nanos` of the same sign).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// ISO 4217 code.
    pub currency_code: String,
    /// Whole units: an int64 string, written so; read from a JSON number too, as Google's
    /// parser reads a request.
    #[serde_as(as = "PickFirst<(DisplayFromStr, _)>")]
    #[serde(default)]
    pub units: i64,
    /// Billionths of a unit.
    #[serde(default)]
    pub nanos: i32,
}

impl Money {
    /// `micros` of `currency` (a micro is 1,000 nanos).
    pub fn from_micros(micros: i64, currency: &str) -> Money {
        Money {
            currency_code: currency.to_string(),
            units: micros / MICROS_PER_UNIT,
            nanos: ((micros % MICROS_PER_UNIT) * 1000) as i32,
        }
    }

    /// The amount in micros (nanos below a micro cut).
    pub fn micros(&self) -> Option<i64> {
        self.units
            .checked_mul(MICROS_PER_UNIT)?
            .checked_add(i64::from(self.nanos) / 1000)
    }
}

/// Google's `Money` JSON of `micros` in `currency`.
pub fn money_from_micros(micros: i64, currency: &str) -> Value {
    json!({
        "currencyCode": currency,
        "units": (micros / MICROS_PER_UNIT).to_string(),
        "nanos": (micros % MICROS_PER_UNIT) * 1000,
    })
}

/// Micros of Google's `Money` JSON (`units` a string or a number, either may be absent).
pub fn money_to_micros(money: &Value) -> Option<i64> {
    let units: i64 = match &money["units"] {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        Value::Null => 0,
        _ => return None,
    };
    let nanos = money["nanos"].as_i64().unwrap_or(0);
    units
        .checked_mul(MICROS_PER_UNIT)?
        .checked_add(nanos / 1000)
}

/// Google's `Price` (`priceMicros` an int64 string on the wire).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: String,
    /// Micros.
    #[serde_as(as = "DisplayFromStr")]
    pub price_micros: i64,
}

impl Price {
    /// `micros` of `currency`.
    pub fn new(micros: i64, currency: &str) -> Price {
        Price {
            currency: currency.to_string(),
            price_micros: micros,
        }
    }

    /// As JSON.
    pub fn to_value(&self) -> Value {
        json!({ "priceMicros": self.price_micros.to_string(), "currency": self.currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        for (text, micros) in [
            ("4.99", 4_990_000),
            ("19", 19_000_000),
            ("0.000001", 1),
            ("-0.30", -300_000),
            ("007.50", 7_500_000),
            ("1.50000000", 1_500_000),
            ("9223372036854.775807", i64::MAX),
        ] {
            assert_eq!(parse_decimal(text), Ok(micros), "{text}");
        }
        for (text, error) in [
            ("1.2345678", DecimalError::TooManyDecimals),
            ("abc", DecimalError::NotDecimal),
            ("", DecimalError::NotDecimal),
            (".5", DecimalError::NotDecimal),
            ("5.", DecimalError::NotDecimal),
            ("1e3", DecimalError::NotDecimal),
            ("+1", DecimalError::NotDecimal),
            ("1,000", DecimalError::NotDecimal),
            ("9223372036855", DecimalError::TooLarge),
            ("99999999999999999999", DecimalError::TooLarge),
        ] {
            assert_eq!(parse_decimal(text), Err(error), "{text}");
        }
        assert_eq!(decimal_to_micros(" 4.99 "), Some(4_990_000));
    }

    #[test]
    fn decimals_format_exactly() {
        assert_eq!(micros_to_decimal(4_990_000), "4.99");
        assert_eq!(micros_to_decimal(19_000_000), "19.00");
        assert_eq!(micros_to_decimal(1_234_500), "1.2345");
        assert_eq!(micros_to_decimal(-4_500), "-0.0045");
        assert_eq!(micros_to_decimal(0), "0.00");
        assert_eq!(micros_to_decimal(1_234_567), "1.234567");
        assert_eq!(micros_to_places(9_990_000, 2), "9.99");
        assert_eq!(micros_to_places(750_000_000, 0), "750");
        assert_eq!(micros_to_places(-1_234_567, 3), "-1.234");
        assert!(fits_places(9_990_000, 2));
        assert!(!fits_places(9_995_000, 2));
        assert!(!fits_places(500_000, 0));
        assert_eq!(currency_decimals("JPY"), Some(0));
        assert_eq!(currency_decimals("EUR"), Some(2));
        assert_eq!(currency_decimals("XYZ"), None);
    }

    #[test]
    fn amounts_and_googles_shapes() {
        let a = Amount::parse("4.99 USD").unwrap();
        assert_eq!((a.micros, a.currency()), (4_990_000, "USD"));
        assert_eq!(a.to_string(), "4.99 USD");
        assert_eq!(Amount::from_money(&a.money()), Some(a));
        for bad in [
            "4.99",
            "4.99 usd",
            "-1 USD",
            "1e3 USD",
            "4.9999999 USD",
            "4,99 EUR",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
        let money = Money::from_micros(-1_500_000, "EUR");
        assert_eq!((money.units, money.nanos), (-1, -500_000_000));
        assert_eq!(money.micros(), Some(-1_500_000));
        let json = serde_json::to_value(&money).unwrap();
        assert_eq!(json, money_from_micros(-1_500_000, "EUR"));
        assert_eq!(money_to_micros(&json), Some(-1_500_000));
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), money);
        assert_eq!(
            money_to_micros(&json!({ "currencyCode": "USD", "units": 2 })),
            Some(2_000_000)
        );
        let price = Price::new(990_000, "USD");
        assert_eq!(serde_json::to_value(&price).unwrap(), price.to_value());
        assert_eq!(a.price(), Price::new(4_990_000, "USD"));
    }
}
