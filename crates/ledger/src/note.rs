//! C2SP signed notes (c2sp.org/signed-note@v1.0.0) with Ed25519 keys, verifier keys ("vkeys")
//! and the Go private key format an operator keeps the log key in.
//!
//! A note is its text (UTF-8, ending in a newline, no control characters but newlines), a blank
//! line, then signature lines `— <name> base64(key id || signature)`. Verification follows the
//! spec: signatures by unknown (name, key id) pairs are ignored, a failing signature by a known
//! key rejects the note, and a note no known key verifies is rejected.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Signature type byte of Ed25519 note signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of Ed25519 witness cosignatures (c2sp.org/tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Most signature lines a note may carry (Go's limit; the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Key identifier: the first four bytes of SHA-256(name || "\n" || type || public key).
pub type KeyId = u32;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("invalid key name")]
    BadKeyName,
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("key id does not match the key")]
    KeyIdMismatch,
    #[error("unsupported signature type {0:#04x}")]
    UnsupportedKeyType(u8),
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature { name: String, key_id: KeyId },
    #[error("note has no verifiable signatures")]
    NoVerifiedSignature,
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey { name: String, key_id: KeyId },
}

impl NoteError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::Malformed(_) => "note_malformed",
            NoteError::TooManySignatures => "note_too_many_signatures",
            NoteError::BadKeyName => "note_bad_key_name",
            NoteError::MalformedKey(_) => "note_malformed_key",
            NoteError::KeyIdMismatch => "note_key_id_mismatch",
            NoteError::UnsupportedKeyType(_) => "note_unsupported_key_type",
            NoteError::InvalidSignature { .. } => "note_invalid_signature",
            NoteError::NoVerifiedSignature => "note_no_verified_signature",
            NoteError::AmbiguousKey { .. } => "note_ambiguous_key",
        }
    }
}

/// Key names are non-empty and contain neither Unicode spaces nor `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Key id of a key of signature type `alg` with encoded `public_key`.
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> KeyId {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public_key);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A parsed verifier key `<name>+<hex8 key id>+base64(type || public key)`, any supported type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_id: KeyId,
    pub alg: u8,
    pub public_key: Vec<u8>,
}

impl VerifierKey {
    /// Parses and checks a vkey: name rules, 8 hex digits, canonical base64, a known type with
    /// a valid Ed25519 point, and a key id that matches.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hex8), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey("expected name+keyid+key"));
        };
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        let key_id = parse_key_id(hex8)?;
        let key = B64
            .decode(key64)
            .map_err(|_| NoteError::MalformedKey("bad base64"))?;
        let (&alg, public_key) = key.split_first().ok_or(NoteError::MalformedKey("empty key"))?;
        match alg {
            ALG_ED25519 | ALG_COSIGNATURE_V1 => {
                let bytes: [u8; 32] = public_key
                    .try_into()
                    .map_err(|_| NoteError::MalformedKey("Ed25519 key is not 32 bytes"))?;
                VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| NoteError::MalformedKey("not an Ed25519 point"))?;
            }
            other => return Err(NoteError::UnsupportedKeyType(other)),
        }
        if self::key_id(name, alg, public_key) != key_id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(Self {
            name: name.to_string(),
            key_id,
            alg,
            public_key: public_key.to_vec(),
        })
    }

    /// Encodes the vkey string.
    pub fn encode(&self) -> String {
        let mut key = vec![self.alg];
        key.extend_from_slice(&self.public_key);
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(key))
    }

    pub(crate) fn ed25519_key(&self) -> VerifyingKey {
        let bytes: [u8; 32] = self.public_key.as_slice().try_into().expect("checked at parse");
        VerifyingKey::from_bytes(&bytes).expect("checked at parse")
    }
}

fn parse_key_id(hex8: &str) -> Result<KeyId, NoteError> {
    if hex8.len() != 8 || !hex8.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("key id is not 8 hex digits"));
    }
    Ok(u32::from_str_radix(hex8, 16).expect("8 hex digits"))
}

/// A known Ed25519 note key (type 0x01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: KeyId,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        Ok(Self {
            name: name.to_string(),
            key_id: key_id(name, ALG_ED25519, key.as_bytes()),
            key,
        })
    }

    /// Parses a type 0x01 vkey.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let parsed = VerifierKey::parse(vkey)?;
        if parsed.alg != ALG_ED25519 {
            return Err(NoteError::UnsupportedKeyType(parsed.alg));
        }
        Ok(Self {
            key: parsed.ed25519_key(),
            name: parsed.name,
            key_id: parsed.key_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn vkey(&self) -> String {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            alg: ALG_ED25519,
            public_key: self.key.to_bytes().to_vec(),
        }
        .encode()
    }

    /// Whether `signature` (without the key id) is this key's signature of `msg`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match Signature::from_slice(signature) {
            Ok(sig) => self.key.verify_strict(msg, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// An Ed25519 note signing key. Its `Debug` output never shows the secret.
pub struct NoteSigner {
    name: String,
    key_id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// Builds the signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(name, ALG_ED25519, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8>+base64(0x01 || seed)`, checking the key id against
    /// the public key derived from the seed.
    pub fn from_private_key(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(NoteError::MalformedKey("missing PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hex8), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey("expected name+keyid+key"));
        };
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        let key_id = parse_key_id(hex8)?;
        let key = B64
            .decode(key64)
            .map_err(|_| NoteError::MalformedKey("bad base64"))?;
        let (&alg, seed) = key.split_first().ok_or(NoteError::MalformedKey("empty key"))?;
        if alg != ALG_ED25519 {
            return Err(NoteError::UnsupportedKeyType(alg));
        }
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::MalformedKey("seed is not 32 bytes"))?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_id != key_id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The Go private key string. It holds the secret: never log it.
    pub fn private_key(&self) -> String {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(key)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// Signs `text` (which must be valid note text) and returns the signature.
    pub fn sign(&self, text: &str) -> Result<NoteSignature, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: sig.to_bytes().to_vec(),
        })
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: KeyId,
    /// Signature bytes after the 4-byte key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, `— <name> base64(key id || signature)\n`.
    pub fn line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, B64.encode(bytes))
    }

    fn parse_line(line: &str) -> Result<Self, NoteError> {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(NoteError::Malformed("signature line prefix"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line without key"))?;
        if !is_valid_key_name(name) {
            return Err(NoteError::Malformed("bad key name in signature line"));
        }
        let bytes = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("bad base64 signature"))?;
        if bytes.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        let key_id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        Ok(Self {
            name: name.to_string(),
            key_id,
            signature: bytes[4..].to_vec(),
        })
    }
}

/// Checks note text rules: non-empty, ends with a newline, no control characters but newlines.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("text does not end with a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed("control character"));
    }
    Ok(())
}

/// A parsed (not yet verified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note. The text runs to the last blank line.
    pub fn parse(msg: &[u8]) -> Result<Self, NoteError> {
        let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if msg.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("control character"));
        }
        let split = msg
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("signature block must end with a newline"));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse_line)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// The note as sent: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Verifies the signatures against `known` keys. Unknown (name, key id) pairs are ignored
    /// (returned as `unverified`); a known key whose signature fails rejects the note; at least
    /// one known key must verify. Repeated identical signatures count once.
    pub fn verify(&self, known: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        let mut verified: Vec<NoteSignature> = Vec::new();
        let mut unverified: Vec<NoteSignature> = Vec::new();
        for sig in &self.signatures {
            let mut matches = known
                .iter()
                .filter(|k| k.name == sig.name && k.key_id == sig.key_id);
            let Some(key) = matches.next() else {
                if !unverified.contains(sig) {
                    unverified.push(sig.clone());
                }
                continue;
            };
            if matches.next().is_some() {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !key.verify(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !verified
                .iter()
                .any(|v| v.name == sig.name && v.key_id == sig.key_id)
            {
                verified.push(sig.clone());
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature);
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified,
            unverified,
        })
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            f.write_str(&sig.line())?;
        }
        Ok(())
    }
}

/// A note whose signatures were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    pub text: String,
    /// Signatures by known keys, each verified.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys the verifier does not know, not checked.
    pub unverified: Vec<NoteSignature>,
}

/// Parses and verifies a signed note.
pub fn open(msg: &[u8], known: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    Note::parse(msg)?.verify(known)
}

/// Signs `text` with every signer and returns the signed note.
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() || signers.len() > MAX_SIGNATURES {
        return Err(NoteError::Malformed("a note needs 1 to 100 signatures"));
    }
    let signatures = signers.iter().map(|s| s.sign(text)).collect::<Result<_, _>>()?;
    Ok(Note {
        text: text.to_string(),
        signatures,
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert!(is_valid_key_name("example.com/foo"));
        assert!(!is_valid_key_name(""));
        assert!(!is_valid_key_name("a+b"));
        assert!(!is_valid_key_name("Bad Name"));
        assert!(!is_valid_key_name("nb\u{a0}sp"));
        assert!(!is_valid_key_name("ideographic\u{3000}space"));
    }

    #[test]
    fn signer_debug_hides_the_seed() {
        let signer = NoteSigner::from_seed("example.com/log", &[7u8; 32]).unwrap();
        let debug = format!("{signer:?}");
        assert!(debug.contains("example.com/log"));
        assert!(!debug.contains("0707"), "{debug}");
        assert!(!debug.contains(&signer.private_key()));
    }
}
