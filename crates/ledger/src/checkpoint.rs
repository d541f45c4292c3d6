//! C2SP checkpoints (c2sp.org/tlog-checkpoint@v1.0.0): the note text
//! `<origin>\n<size>\n<base64 root>\n[<extension>\n]*`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

use crate::merkle::Hash;
use crate::note::{self, Note, NoteError, NoteSigner, NoteVerifier, VerifiedNote};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl CheckpointError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::Malformed(_) => "checkpoint_malformed",
            CheckpointError::Note(e) => e.code(),
        }
    }
}

/// A log's signed tree head, without its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Opaque extension lines (discouraged: monitors cannot audit them).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        let cp = Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: Vec::new(),
        };
        cp.check()?;
        Ok(cp)
    }

    fn check(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::Malformed("empty origin"));
        }
        for line in std::iter::once(&self.origin).chain(&self.extensions) {
            if line.is_empty() {
                return Err(CheckpointError::Malformed("empty line"));
            }
            if line.chars().any(|c| c < ' ') {
                return Err(CheckpointError::Malformed("control character"));
            }
        }
        Ok(())
    }

    /// Parses checkpoint note text.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing tree size"))?;
        let root = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing root hash"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(CheckpointError::Malformed("tree size is not a canonical decimal"));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| CheckpointError::Malformed("tree size overflows"))?;
        let root_bytes = B64
            .decode(root)
            .map_err(|_| CheckpointError::Malformed("root hash is not base64"))?;
        let root: Hash = root_bytes
            .try_into()
            .map_err(|_| CheckpointError::Malformed("root hash is not 32 bytes"))?;
        let cp = Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        };
        cp.check()?;
        Ok(cp)
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        text
    }

    /// Signs the checkpoint with the log key(s) and returns the signed note.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<String, CheckpointError> {
        self.check()?;
        Ok(note::sign(&self.to_text(), signers)?)
    }
}

/// A checkpoint whose log signature was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The whole note, cosignatures included.
    pub note: Note,
    pub verified: VerifiedNote,
}

/// Parses a signed checkpoint and verifies it with the log's keys.
pub fn open(signed: &[u8], log_keys: &[NoteVerifier]) -> Result<OpenedCheckpoint, CheckpointError> {
    let note = Note::parse(signed)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    let verified = note.verify(log_keys)?;
    Ok(OpenedCheckpoint {
        checkpoint,
        note,
        verified,
    })
}
