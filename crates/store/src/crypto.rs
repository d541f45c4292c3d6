//! Field-level encryption for sensitive data (identity numbers, health, disability, family
//! situation): AES-256-GCM with a random 96-bit nonce per value, the column and row bound in as
//! associated data so a ciphertext cannot be moved to another row or column; plus a keyed
//! blind index (HMAC-SHA256) so equal values (duplicate CCCD) can be found without decrypting.
//! Both keys are derived from one 32-byte master key with HKDF-SHA256.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::Engine;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the data key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the stored value is not a ciphertext of this format")]
    Malformed,
    #[error("the value does not decrypt with this key for this field (wrong key, or moved)")]
    Undecryptable,
}

#[derive(Clone)]
pub struct FieldCipher {
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldCipher(…)")
    }
}

impl FieldCipher {
    pub fn new(master: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"truongso-field-keys"), master);
        let mut enc = [0u8; 32];
        let mut index_key = [0u8; 32];
        hk.expand(b"aes-256-gcm", &mut enc)
            .expect("32 bytes is a valid HKDF length");
        hk.expand(b"blind-index", &mut index_key)
            .expect("32 bytes is a valid HKDF length");
        let aead = Aes256Gcm::new_from_slice(&enc).expect("32-byte key");
        Self { aead, index_key }
    }

    /// From the configured key: base64 (standard or URL-safe) of 32 random bytes.
    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let k = key.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(k)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(k))
            .map_err(|_| CryptoError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::new(&arr))
    }

    /// A fresh random key in the form `from_base64` reads.
    pub fn generate_key() -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// `context` names where the value lives, e.g. `learners.cccd:<row id>`.
    pub fn encrypt(&self, context: &str, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    pub fn decrypt(&self, context: &str, stored: &str) -> Result<String, CryptoError> {
        let b64 = stored.strip_prefix(PREFIX).ok_or(CryptoError::Malformed)?;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = raw.split_at(12);
        let pt = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Undecryptable)
    }

    /// Deterministic keyed digest of a normalised value, for equality lookups. `kind` separates
    /// value families so a phone number never matches an identity number.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.index_key)
            .expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> FieldCipher {
        FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = cipher();
        let a = c.encrypt("learners.cccd:1", "001203012345");
        let b = c.encrypt("learners.cccd:1", "001203012345");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(a.starts_with("v1:") && !a.contains("001203012345"));
        assert_eq!(c.decrypt("learners.cccd:1", &a).unwrap(), "001203012345");
        assert_eq!(
            c.decrypt(
                "learners.cccd:1",
                &c.encrypt("learners.cccd:1", "Dị ứng đậu phộng")
            )
            .unwrap(),
            "Dị ứng đậu phộng"
        );
    }

    #[test]
    fn bound_to_its_place_and_key() {
        let c = cipher();
        let a = c.encrypt("learners.cccd:1", "001203012345");
        assert_eq!(
            c.decrypt("learners.cccd:2", &a),
            Err(CryptoError::Undecryptable),
            "moved to another row"
        );
        assert_eq!(
            cipher().decrypt("learners.cccd:1", &a),
            Err(CryptoError::Undecryptable),
            "another key"
        );
        // Flip one bit of the ciphertext body.
        let mut raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&a[3..])
            .unwrap();
        raw[14] ^= 1;
        let tampered = format!(
            "v1:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
        );
        assert_eq!(
            c.decrypt("learners.cccd:1", &tampered),
            Err(CryptoError::Undecryptable)
        );
        assert_eq!(
            c.decrypt("learners.cccd:1", "001203012345"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn blind_index_is_deterministic_and_keyed() {
        let c = cipher();
        assert_eq!(
            c.blind_index("cccd", "001203012345"),
            c.blind_index("cccd", "001203012345")
        );
        assert_ne!(
            c.blind_index("cccd", "001203012345"),
            c.blind_index("phone", "001203012345")
        );
        assert_ne!(
            c.blind_index("cccd", "001203012345"),
            cipher().blind_index("cccd", "001203012345")
        );
        assert_eq!(
            FieldCipher::from_base64("short").unwrap_err(),
            CryptoError::BadKey
        );
    }
}
