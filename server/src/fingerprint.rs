//! Log-safe references to secrets: purchase tokens and account ids never go into the log
//! (a token, or even its first characters, is what an attacker replays; an account id is
//! personal data). The log carries their fingerprint instead, the same for the same value,
//! so one purchase or account can still be followed through the log and found from the
//! database (compute the fingerprint of a stored token and search for it).

use sha2::{Digest, Sha256};

/// The first 12 hex digits of the value's SHA-256: stable, short, not reversible.
pub fn fingerprint(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes())[..6])
}

/// The SHA-256 of `bytes` in lowercase hex (64 digits).
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(bytes.as_ref()))
}

/// `bytes` in lowercase hex, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_stable_short_and_reveals_nothing_of_the_value() {
        let token = "opaque-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let print = fingerprint(token);
        assert_eq!(print, fingerprint(token));
        assert_eq!(print.len(), 12);
        assert!(print.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!token.contains(&print) && !print.contains(&token[..4]));
        assert_ne!(print, fingerprint("opaque-token-b"));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sha256_hex(token).starts_with(&print));
    }
}
