//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, one per secret (space-separated) during a rotation. The
//! server signs with [`header`]; a receiver checks with [`verify`] (the sandbox's example
//! backend does): one rule for both sides.

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

    /// The HMAC of `{id}.{timestamp}.{body}`, not yet finalized.
    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<signature>` of one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, timestamp, body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Whether `signature` (one `v1,…` entry of the header) is this secret's signature of
    /// the message; compared in constant time.
    fn signed(&self, id: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
        let Some(Ok(claimed)) = signature.strip_prefix("v1,").map(|s| STANDARD.decode(s)) else {
            return false;
        };
        self.mac(id, timestamp, body).verify_slice(&claimed).is_ok()
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

/// How far a `webhook-timestamp` may be from the receiver's clock (Standard Webhooks'
/// tolerance): an older delivery is a replay.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a receiver refused a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-timestamp` is not a whole number of seconds.
    #[error("webhook-timestamp is not a number of seconds")]
    Timestamp,
    /// The timestamp is further than [`TOLERANCE_SECS`] from now (a replay, or a wrong clock).
    #[error("webhook-timestamp is more than 5 minutes away from now")]
    Stale,
    /// No `v1,` entry of `webhook-signature` is a signature by one of the secrets.
    #[error("no signature in webhook-signature matches")]
    Signature,
}

/// Checks one delivery as a receiver must: its `timestamp` (the `webhook-timestamp`
/// header) within [`TOLERANCE_SECS`] of `now_secs`, and one entry of `signatures` (the
/// `webhook-signature` header, space-separated) signed by one of `secrets` over
/// `{id}.{timestamp}.{body}`, with `body` exactly as received.
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), VerifyError> {
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    if (now_secs - timestamp).abs() > TOLERANCE_SECS {
        return Err(VerifyError::Stale);
    }
    let signed = signatures.split_whitespace().any(|signature| {
        secrets
            .iter()
            .any(|secret| secret.signed(id, timestamp, body, signature))
    });
    if signed {
        Ok(())
    } else {
        Err(VerifyError::Signature)
    }
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

    /// What [`header`] signs, [`verify`] accepts, with any of the secrets of a rotation;
    /// a changed byte, another secret, an old timestamp or a bad header is refused.
    #[test]
    fn verifies_what_it_signs_and_nothing_else() {
        let (a, b) = (
            Secret::parse(&Secret::generate()).unwrap(),
            Secret::parse(&Secret::generate()).unwrap(),
        );
        let now = 1_765_000_000;
        let signed = header(&[a.clone(), b.clone()], "evt_1", now, b"{\"a\":1}");
        let ts = now.to_string();
        for secrets in [vec![a.clone()], vec![b.clone()], vec![b.clone(), a.clone()]] {
            assert_eq!(
                verify(&secrets, "evt_1", &ts, &signed, b"{\"a\":1}", now + 10),
                Ok(())
            );
        }
        let other = Secret::parse(&Secret::generate()).unwrap();
        let only_a = std::slice::from_ref(&a);
        let body = &br#"{"a":1}"#[..];
        for (secrets, id, signature, body) in [
            (std::slice::from_ref(&other), "evt_1", signed.as_str(), body),
            (only_a, "evt_1", &signed, br#"{"a":2}"#),
            (only_a, "evt_2", &signed, body),
            (only_a, "evt_1", "v1,bm90IGl0", body),
            (only_a, "evt_1", "", body),
        ] {
            assert_eq!(
                verify(secrets, id, &ts, signature, body, now),
                Err(VerifyError::Signature),
                "{id} {signature}"
            );
        }
        let late = now + TOLERANCE_SECS + 1;
        assert_eq!(
            verify(only_a, "evt_1", &ts, &signed, body, late),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(only_a, "evt_1", "soon", &signed, body, now),
            Err(VerifyError::Timestamp)
        );
        // The specification's own vector.
        let spec = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            verify(
                &[spec],
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                br#"{"test": 2432232314}"#,
                1614265330
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_is_not_a_secret() {
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(Secret::parse("whsec_not base64!").is_err());
        assert!(Secret::parse("whsec_c2hvcnQ=").is_err(), "too short");
    }
}
