//! Building messages without `format!`: each `format!` call site costs wasm for its
//! argument tables and formatter calls, while concatenation is one small function.

/// Joins `parts` into one string.
#[inline(never)]
pub fn concat(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    text
}

/// The decimal digits of `number`.
pub fn decimal(number: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits[start..]
        .iter()
        .map(|&digit| char::from(digit))
        .collect()
}

/// Whether `haystack` contains `needle` (a plain scan: the messages searched are short, and
/// `str::contains` brings a two-way searcher of about 2 KB).
pub fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_and_decimal() {
        assert_eq!(concat(&["HTTP ", &decimal(503), " x"]), "HTTP 503 x");
        assert_eq!(concat(&[]), "");
        for number in [0, 7, 10, 409, 65_535, 9_007_199_254_740_991, u64::MAX] {
            assert_eq!(decimal(number), number.to_string());
        }
    }

    #[test]
    fn contains_finds_substrings() {
        assert!(contains(
            "OperationError: clientAppUnavailable",
            "clientAppUnavailable"
        ));
        assert!(contains("abc", ""));
        assert!(!contains("itemNotOwne", "itemNotOwned"));
        assert!(contains("é itemUnavailable", "itemUnavailable"));
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_encode("com.example-pwa_1~"), "com.example-pwa_1~");
    }
}
