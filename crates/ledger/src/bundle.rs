//! Offline proofs in the c2sp.org/tlog-proof@v1 format (`.tlog-proof` files), handed to
//! holders with their document:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional)
//! index <leaf index>
//! <base64 hash>             (inclusion path, leaf sibling first, 0..n lines)
//!
//! <signed checkpoint, verbatim, with cosignatures>
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

use crate::checkpoint::Checkpoint;
use crate::cosignature::{CosignatureReport, KeyRef, WitnessPolicy};
use crate::merkle::{self, Hash};
use crate::note::{Note, NoteVerifier};

/// First line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Longest inclusion path a proof may carry (a tree of at most 2^64 leaves).
pub const MAX_PATH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BundleError {
    #[error("malformed proof: {0}")]
    Format(String),
    #[error("log origin {0} is not accepted")]
    UnknownOrigin(String),
    #[error("the checkpoint has no valid signature from the log")]
    BadLogSignature,
    #[error("witness quorum not met: {cosigned} of {quorum} required cosignatures")]
    QuorumNotMet { cosigned: usize, quorum: usize },
    #[error("leaf index {index} is outside the checkpointed tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("inclusion proof does not lead to the checkpoint root")]
    InclusionFailed,
}

impl BundleError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::Format(_) => "bundle_format",
            BundleError::UnknownOrigin(_) => "bundle_unknown_origin",
            BundleError::BadLogSignature => "bundle_bad_log_signature",
            BundleError::QuorumNotMet { .. } => "bundle_quorum_not_met",
            BundleError::IndexOutOfRange { .. } => "bundle_index_out_of_range",
            BundleError::InclusionFailed => "bundle_inclusion_failed",
        }
    }
}

/// A log a verifier accepts: its origin line and the keys that may sign its checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedLog {
    pub origin: String,
    pub keys: Vec<NoteVerifier>,
}

impl TrustedLog {
    pub fn new(origin: &str, keys: Vec<NoteVerifier>) -> Self {
        Self {
            origin: origin.to_string(),
            keys,
        }
    }

    /// A log whose origin is its key name, as our logs are set up.
    pub fn from_vkey(vkey: &str) -> Result<Self, crate::note::NoteError> {
        let key = NoteVerifier::from_vkey(vkey)?;
        Ok(Self {
            origin: key.name().to_string(),
            keys: vec![key],
        })
    }
}

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated application data.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub path: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

/// Result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    pub checkpoint: Checkpoint,
    pub index: u64,
    pub leaf_hash: Hash,
    pub cosignatures: CosignatureReport,
}

fn format_err(m: &str) -> BundleError {
    BundleError::Format(m.to_string())
}

fn next_line<'a>(rest: &mut &'a str) -> Result<&'a str, BundleError> {
    let (line, tail) = rest.split_once('\n').ok_or_else(|| format_err("truncated"))?;
    *rest = tail;
    Ok(line)
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

impl TlogProof {
    /// Parses the text of a `.tlog-proof` file.
    pub fn parse(data: &[u8]) -> Result<Self, BundleError> {
        let text = std::str::from_utf8(data).map_err(|_| format_err("not UTF-8"))?;
        let mut rest = text;
        if next_line(&mut rest)? != HEADER {
            return Err(format_err("first line must be c2sp.org/tlog-proof@v1"));
        }
        let mut line = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(B64.decode(b64).map_err(|_| format_err("extra is not base64"))?);
            line = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or_else(|| format_err("expected `index <decimal>`"))?;
        let mut path = Vec::new();
        loop {
            let line = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if path.len() == MAX_PATH {
                return Err(format_err("inclusion path too long"));
            }
            let bytes = B64
                .decode(line)
                .map_err(|_| format_err("path hash is not base64"))?;
            path.push(merkle::hash_from_slice(&bytes).map_err(|e| BundleError::Format(e.to_string()))?);
        }
        if rest.is_empty() {
            return Err(format_err("missing checkpoint"));
        }
        Ok(Self {
            extra,
            index,
            path,
            checkpoint: rest.to_string(),
        })
    }

    /// The file text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Verifies the proof for the application's leaf data: the log is accepted and signed the
    /// checkpoint, the witness quorum cosigned it, and the leaf is included at `index`.
    pub fn verify(
        &self,
        leaf_data: &[u8],
        logs: &[TrustedLog],
        policy: &WitnessPolicy,
    ) -> Result<VerifiedProof, BundleError> {
        let note = Note::parse(self.checkpoint.as_bytes()).map_err(|e| BundleError::Format(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|e| BundleError::Format(e.to_string()))?;
        let log = logs
            .iter()
            .find(|l| l.origin == checkpoint.origin)
            .ok_or_else(|| BundleError::UnknownOrigin(checkpoint.origin.clone()))?;
        note.verify(&log.keys).map_err(|_| BundleError::BadLogSignature)?;
        let log_keys: Vec<KeyRef> = log
            .keys
            .iter()
            .map(|k| KeyRef {
                name: k.name().to_string(),
                key_id: k.key_id(),
            })
            .collect();
        let cosignatures = policy.evaluate(&note, &log_keys);
        if !cosignatures.quorum_met() {
            return Err(BundleError::QuorumNotMet {
                cosigned: cosignatures.cosigned.len(),
                quorum: cosignatures.quorum,
            });
        }
        if self.index >= checkpoint.size {
            return Err(BundleError::IndexOutOfRange {
                index: self.index,
                size: checkpoint.size,
            });
        }
        let leaf_hash = merkle::leaf_hash(leaf_data);
        merkle::verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash,
            &self.path,
            &checkpoint.root,
        )
        .map_err(|_| BundleError::InclusionFailed)?;
        Ok(VerifiedProof {
            checkpoint,
            index: self.index,
            leaf_hash,
            cosignatures,
        })
    }
}
