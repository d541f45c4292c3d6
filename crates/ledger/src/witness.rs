//! The tlog-witness protocol (c2sp.org/tlog-witness) as pure logic, without HTTP.
//!
//! The request body of `POST <prefix>/add-checkpoint` is `old <size>\n`, up to 63 base64
//! consistency proof lines, a blank line, then the signed checkpoint. The witness remembers,
//! per origin, the latest (size, root) it cosigned; the caller stores it. Checking `old`
//! against that state and storing the new state must be one atomic step, so [`Witness::cosign`]
//! returns a [`StateUpdate`] meant to be written with a compare-and-swap on
//! (origin, `expected_old_size`); when the swap fails the caller answers 409 with the size it
//! finds, and must not release the cosignature.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

use crate::checkpoint::Checkpoint;
use crate::cosignature::{CosignatureError, CosignatureSigner};
use crate::merkle::{self, EMPTY_ROOT, Hash, ProofError};
use crate::note::{Note, NoteVerifier};

/// Most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// Content type of the 409 response body.
pub const CONFLICT_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why the witness refuses to cosign; each maps to the protocol's HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WitnessError {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("unknown log origin {0}")]
    UnknownOrigin(String),
    #[error("no valid signature from the log")]
    BadLogSignature,
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldSizeTooLarge { old: u64, size: u64 },
    #[error("the witness's latest size for this log is {latest_size}")]
    Conflict { latest_size: u64 },
    #[error("checkpoint has the cosigned size {latest_size} but another root")]
    RootMismatch { latest_size: u64 },
    #[error("checkpoint of size 0 does not carry the empty tree root")]
    BadEmptyTreeRoot,
    #[error("consistency proof does not verify: {0}")]
    InconsistentProof(ProofError),
    #[error(transparent)]
    Cosign(#[from] CosignatureError),
}

impl WitnessError {
    /// HTTP status the protocol prescribes.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_) | WitnessError::OldSizeTooLarge { .. } => 400,
            WitnessError::BadLogSignature => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::Conflict { .. } | WitnessError::RootMismatch { .. } => 409,
            WitnessError::BadEmptyTreeRoot | WitnessError::InconsistentProof(_) => 422,
            WitnessError::Cosign(_) => 500,
        }
    }

    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessError::Malformed(_) => "witness_malformed",
            WitnessError::UnknownOrigin(_) => "witness_unknown_origin",
            WitnessError::BadLogSignature => "witness_bad_log_signature",
            WitnessError::OldSizeTooLarge { .. } => "witness_old_size_too_large",
            WitnessError::Conflict { .. } => "witness_conflict",
            WitnessError::RootMismatch { .. } => "witness_root_mismatch",
            WitnessError::BadEmptyTreeRoot => "witness_bad_empty_tree_root",
            WitnessError::InconsistentProof(_) => "witness_inconsistent_proof",
            WitnessError::Cosign(e) => e.code(),
        }
    }

    /// Body of a 409 response (`<size>\n`, content type [`CONFLICT_CONTENT_TYPE`]).
    pub fn conflict_body(&self) -> Option<String> {
        match self {
            WitnessError::Conflict { latest_size } | WitnessError::RootMismatch { latest_size } => {
                Some(format!("{latest_size}\n"))
            }
            _ => None,
        }
    }
}

/// A parsed add-checkpoint request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub signed_checkpoint: String,
    pub note: Note,
    pub checkpoint: Checkpoint,
}

impl AddCheckpointRequest {
    /// Builds a request (as a log would) from the witness's old size, the proof and the signed
    /// checkpoint.
    pub fn new(old_size: u64, proof: Vec<Hash>, signed_checkpoint: &str) -> Result<Self, WitnessError> {
        let req = Self::parse(&Self::encode(old_size, &proof, signed_checkpoint))?;
        Ok(req)
    }

    fn encode(old_size: u64, proof: &[Hash], signed_checkpoint: &str) -> Vec<u8> {
        let mut body = format!("old {old_size}\n");
        for h in proof {
            body.push_str(&B64.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(signed_checkpoint);
        body.into_bytes()
    }

    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        Self::encode(self.old_size, &self.proof, &self.signed_checkpoint)
    }

    /// Parses a request body; any syntax error is a 400.
    pub fn parse(body: &[u8]) -> Result<Self, WitnessError> {
        let malformed = |m: &str| WitnessError::Malformed(m.to_string());
        let body = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or_else(|| malformed("missing old size line"))?;
        let old = first
            .strip_prefix("old ")
            .ok_or_else(|| malformed("first line must be `old <size>`"))?;
        if old.is_empty()
            || !old.bytes().all(|b| b.is_ascii_digit())
            || (old.len() > 1 && old.starts_with('0'))
        {
            return Err(malformed("old size is not a canonical decimal"));
        }
        let old_size: u64 = old.parse().map_err(|_| malformed("old size overflows"))?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or_else(|| malformed("missing blank line"))?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(malformed("more than 63 proof lines"));
            }
            let bytes = B64
                .decode(line)
                .map_err(|_| malformed("proof line is not base64"))?;
            proof.push(merkle::hash_from_slice(&bytes).map_err(|e| WitnessError::Malformed(e.to_string()))?);
        }
        let note = Note::parse(rest.as_bytes()).map_err(|e| WitnessError::Malformed(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|e| WitnessError::Malformed(e.to_string()))?;
        Ok(Self {
            old_size,
            proof,
            signed_checkpoint: rest.to_string(),
            note,
            checkpoint,
        })
    }

    /// The log the request is about; the caller loads the witness state for it.
    pub fn origin(&self) -> &str {
        &self.checkpoint.origin
    }
}

/// The latest tree the witness cosigned for a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeState {
    pub size: u64,
    pub root: Hash,
}

/// What the caller must persist before returning the cosignature: set the state of `origin` to
/// `new_state` if and only if its stored size is still `expected_old_size` (no stored state
/// counts as size 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateUpdate {
    pub origin: String,
    pub expected_old_size: u64,
    pub new_state: TreeState,
}

/// A successful add-checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    pub update: StateUpdate,
    /// 200 response body: the cosignature line(s).
    pub response_body: String,
}

/// A witness: its cosigning key and the logs it follows, each with its accepted keys.
#[derive(Debug)]
pub struct Witness {
    signer: CosignatureSigner,
    logs: HashMap<String, Vec<NoteVerifier>>,
}

impl Witness {
    pub fn new(signer: CosignatureSigner) -> Self {
        Self {
            signer,
            logs: HashMap::new(),
        }
    }

    /// Follows the log `origin`, accepting checkpoints signed by any of `keys`.
    pub fn add_log(&mut self, origin: &str, keys: Vec<NoteVerifier>) {
        self.logs.insert(origin.to_string(), keys);
    }

    pub fn signer(&self) -> &CosignatureSigner {
        &self.signer
    }

    /// Applies the protocol's checks to `req` against the stored state of its origin (`None`
    /// if the witness never cosigned for it) and, if they pass, cosigns at `now` (POSIX
    /// seconds).
    pub fn cosign(
        &self,
        req: &AddCheckpointRequest,
        stored: Option<&TreeState>,
        now: u64,
    ) -> Result<Cosigned, WitnessError> {
        let cp = &req.checkpoint;
        let keys = self
            .logs
            .get(&cp.origin)
            .ok_or_else(|| WitnessError::UnknownOrigin(cp.origin.clone()))?;
        // Unknown keys are ignored and a bad signature by a known key is a failure, so any
        // verification error means "no valid log signature".
        req.note.verify(keys).map_err(|_| WitnessError::BadLogSignature)?;
        if req.old_size > cp.size {
            return Err(WitnessError::OldSizeTooLarge {
                old: req.old_size,
                size: cp.size,
            });
        }
        let latest_size = stored.map_or(0, |s| s.size);
        if req.old_size != latest_size {
            return Err(WitnessError::Conflict { latest_size });
        }
        if cp.size == 0 && cp.root != EMPTY_ROOT {
            return Err(WitnessError::BadEmptyTreeRoot);
        }
        if req.old_size == 0 {
            if !req.proof.is_empty() {
                return Err(WitnessError::InconsistentProof(ProofError::ProofTooLong));
            }
        } else {
            let old = stored.expect("old size > 0 equals the stored size");
            if req.old_size == cp.size && old.root != cp.root {
                return Err(WitnessError::RootMismatch { latest_size });
            }
            merkle::verify_consistency(old.size, cp.size, &req.proof, &old.root, &cp.root)
                .map_err(WitnessError::InconsistentProof)?;
        }
        let line = self.signer.cosign(&req.note.text, now)?.line();
        Ok(Cosigned {
            update: StateUpdate {
                origin: cp.origin.clone(),
                expected_old_size: req.old_size,
                new_state: TreeState {
                    size: cp.size,
                    root: cp.root,
                },
            },
            response_body: line,
        })
    }

    /// Parses the body and cosigns; `load_state` is called with the origin once the body parsed.
    pub fn add_checkpoint<F>(&self, body: &[u8], load_state: F, now: u64) -> Result<Cosigned, WitnessError>
    where
        F: FnOnce(&str) -> Option<TreeState>,
    {
        let req = AddCheckpointRequest::parse(body)?;
        let stored = load_state(req.origin());
        self.cosign(&req, stored.as_ref(), now)
    }
}
