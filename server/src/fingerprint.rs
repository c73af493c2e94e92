//! Log-safe references to secrets: purchase tokens and account ids never go into the log
//! (a token, or even its first characters, is what an attacker replays; an account id is
//! personal data). The log carries their fingerprint instead, the same for the same value,
//! so one purchase or account can still be followed through the log and found from the
//! database (compute the fingerprint of a stored token and search for it).

use sha2::{Digest, Sha256};

/// The first 12 hex digits of the value's SHA-256: stable, short, not reversible.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
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
    }
}
