//! Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1`) and the k-of-n
//! witness policy a verifier applies.
//!
//! A cosignature is a note signature line whose bytes are `key id (4) || timestamp (u64 BE) ||
//! Ed25519 signature (64)` over `"cosignature/v1\ntime <t>\n" || checkpoint text`. Its key id
//! uses type byte 0x04. The message does not commit to the witness name, so each witness needs
//! its own key.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::note::{
    ALG_COSIGNATURE_V1, KeyId, Note, NoteError, NoteSignature, VerifierKey, is_valid_key_name, key_id,
};

/// Bytes of an Ed25519 cosignature after the key id: timestamp and signature.
pub const COSIGNATURE_SIZE: usize = 8 + 64;
/// Largest timestamp the spec allows (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CosignatureError {
    #[error("cosignature has {0} bytes, expected 72 after the key id")]
    BadLength(usize),
    #[error("cosignature timestamp {0} exceeds 2^63-1")]
    BadTimestamp(u64),
    #[error("cosignature is not from this witness key")]
    WrongKey,
    #[error("cosignature does not verify")]
    InvalidSignature,
    #[error("witness policy: {0}")]
    BadPolicy(&'static str),
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl CosignatureError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            CosignatureError::BadLength(_) => "cosignature_bad_length",
            CosignatureError::BadTimestamp(_) => "cosignature_bad_timestamp",
            CosignatureError::WrongKey => "cosignature_wrong_key",
            CosignatureError::InvalidSignature => "cosignature_invalid",
            CosignatureError::BadPolicy(_) => "cosignature_bad_policy",
            CosignatureError::Note(e) => e.code(),
        }
    }
}

/// The message a witness signs for `checkpoint_text` at `timestamp`.
pub fn cosigned_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// A witness's Ed25519 cosigning key. `Debug` never shows the secret.
pub struct CosignatureSigner {
    name: String,
    key_id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl CosignatureSigner {
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, CosignatureError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName.into());
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(name, ALG_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// Cosigns checkpoint note text at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> Result<NoteSignature, CosignatureError> {
        crate::note::check_text(checkpoint_text)?;
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::BadTimestamp(timestamp));
        }
        let sig = self.key.sign(&cosigned_message(checkpoint_text, timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: bytes,
        })
    }
}

/// A witness's public cosigning key (vkey type 0x04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: KeyId,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, CosignatureError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName.into());
        }
        Ok(Self {
            name: name.to_string(),
            key_id: key_id(name, ALG_COSIGNATURE_V1, key.as_bytes()),
            key,
        })
    }

    /// Parses a type 0x04 vkey.
    pub fn from_vkey(vkey: &str) -> Result<Self, CosignatureError> {
        let parsed = VerifierKey::parse(vkey)?;
        if parsed.alg != ALG_COSIGNATURE_V1 {
            return Err(NoteError::UnsupportedKeyType(parsed.alg).into());
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

    pub fn vkey(&self) -> String {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            alg: ALG_COSIGNATURE_V1,
            public_key: self.key.to_bytes().to_vec(),
        }
        .encode()
    }

    /// Whether a signature line names this key.
    pub fn matches(&self, sig: &NoteSignature) -> bool {
        sig.name == self.name && sig.key_id == self.key_id
    }

    /// Verifies a cosignature line over checkpoint text; returns its timestamp.
    pub fn verify(&self, checkpoint_text: &str, sig: &NoteSignature) -> Result<u64, CosignatureError> {
        if !self.matches(sig) {
            return Err(CosignatureError::WrongKey);
        }
        if sig.signature.len() != COSIGNATURE_SIZE {
            return Err(CosignatureError::BadLength(sig.signature.len()));
        }
        let (ts, ed) = sig.signature.split_at(8);
        let timestamp = u64::from_be_bytes(ts.try_into().expect("8 bytes"));
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::BadTimestamp(timestamp));
        }
        let ed = Signature::from_slice(ed).map_err(|_| CosignatureError::InvalidSignature)?;
        self.key
            .verify_strict(&cosigned_message(checkpoint_text, timestamp), &ed)
            .map_err(|_| CosignatureError::InvalidSignature)?;
        Ok(timestamp)
    }
}

/// A (name, key id) pair as it appears on a signature line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRef {
    pub name: String,
    pub key_id: KeyId,
}

impl From<&NoteSignature> for KeyRef {
    fn from(sig: &NoteSignature) -> Self {
        Self {
            name: sig.name.clone(),
            key_id: sig.key_id,
        }
    }
}

/// A verified cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigner {
    pub name: String,
    pub key_id: KeyId,
    pub timestamp: u64,
}

/// What a [`WitnessPolicy`] found on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureReport {
    /// Policy witnesses whose cosignature verified (each counted once).
    pub cosigned: Vec<Cosigner>,
    /// Policy witnesses with a cosignature line that does not verify (not counted).
    pub invalid: Vec<KeyRef>,
    /// Signature lines from keys outside the policy (never counted).
    pub unknown: Vec<KeyRef>,
    pub quorum: usize,
    pub witnesses: usize,
}

impl CosignatureReport {
    pub fn quorum_met(&self) -> bool {
        self.cosigned.len() >= self.quorum
    }
}

/// k-of-n witness policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    witnesses: Vec<CosignatureVerifier>,
    quorum: usize,
}

impl WitnessPolicy {
    /// `quorum` cosignatures out of `witnesses` are required. Witness keys must be distinct.
    pub fn new(witnesses: Vec<CosignatureVerifier>, quorum: usize) -> Result<Self, CosignatureError> {
        if quorum > witnesses.len() {
            return Err(CosignatureError::BadPolicy(
                "quorum larger than the number of witnesses",
            ));
        }
        for (i, w) in witnesses.iter().enumerate() {
            if witnesses[..i]
                .iter()
                .any(|o| (o.name == w.name && o.key_id == w.key_id) || o.key == w.key)
            {
                return Err(CosignatureError::BadPolicy("the same witness key appears twice"));
            }
        }
        Ok(Self { witnesses, quorum })
    }

    /// Builds the policy from vkeys.
    pub fn from_vkeys(vkeys: &[&str], quorum: usize) -> Result<Self, CosignatureError> {
        let witnesses = vkeys
            .iter()
            .map(|v| CosignatureVerifier::from_vkey(v))
            .collect::<Result<_, _>>()?;
        Self::new(witnesses, quorum)
    }

    /// A policy that requires no witness.
    pub fn none() -> Self {
        Self {
            witnesses: Vec::new(),
            quorum: 0,
        }
    }

    pub fn witnesses(&self) -> &[CosignatureVerifier] {
        &self.witnesses
    }

    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Checks the cosignatures of a checkpoint note. Lines signed by `ignore` keys (typically
    /// the log's own) are left out of the report.
    pub fn evaluate(&self, note: &Note, ignore: &[KeyRef]) -> CosignatureReport {
        let mut report = CosignatureReport {
            cosigned: Vec::new(),
            invalid: Vec::new(),
            unknown: Vec::new(),
            quorum: self.quorum,
            witnesses: self.witnesses.len(),
        };
        for sig in &note.signatures {
            let key = KeyRef::from(sig);
            if ignore.contains(&key) {
                continue;
            }
            let Some(witness) = self.witnesses.iter().find(|w| w.matches(sig)) else {
                if !report.unknown.contains(&key) {
                    report.unknown.push(key);
                }
                continue;
            };
            match witness.verify(&note.text, sig) {
                Ok(timestamp) => {
                    if !report
                        .cosigned
                        .iter()
                        .any(|c| c.name == key.name && c.key_id == key.key_id)
                    {
                        report.cosigned.push(Cosigner {
                            name: key.name,
                            key_id: key.key_id,
                            timestamp,
                        });
                    }
                }
                Err(_) => {
                    if !report.invalid.contains(&key) {
                        report.invalid.push(key);
                    }
                }
            }
        }
        report
    }
}
