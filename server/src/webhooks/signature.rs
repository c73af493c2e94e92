//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, one per secret (space-separated) during a rotation.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A `whsec_…` secret, decoded.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// Parses `whsec_` + base64 of 24 to 64 random bytes (Standard Webhooks' format).
    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text
            .strip_prefix("whsec_")
            .ok_or("a secret starts with `whsec_` (e.g. `whsec_$(openssl rand -base64 32)`)")?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| "a secret is `whsec_` followed by base64")?;
        if !(24..=64).contains(&bytes.len()) {
            return Err("a secret holds 24 to 64 bytes (base64 after `whsec_`)".into());
        }
        Ok(Self(bytes))
    }

    /// A new random secret, `whsec_…` (for `webhooks send-test` and docs).
    pub fn generate() -> String {
        let bytes: [u8; 32] = rand::random();
        format!("whsec_{}", STANDARD.encode(bytes))
    }

    /// `v1,<signature>` of one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: every secret's signature, space-separated.
pub fn header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries.
    #[test]
    fn signs_like_the_specification() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let a = Secret::parse(&Secret::generate()).unwrap();
        let b = Secret::parse(&Secret::generate()).unwrap();
        let h = header(&[a.clone(), b.clone()], "evt_1", 5, b"{}");
        assert_eq!(
            h,
            format!(
                "{} {}",
                a.sign("evt_1", 5, b"{}"),
                b.sign("evt_1", 5, b"{}")
            )
        );
    }

    #[test]
    fn refuses_what_is_not_a_secret() {
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(Secret::parse("whsec_not base64!").is_err());
        assert!(Secret::parse("whsec_c2hvcnQ=").is_err(), "too short");
    }
}
