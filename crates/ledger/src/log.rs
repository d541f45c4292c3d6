//! An append-only log over a [`LogStorage`]: append entries, read the tree head, sign
//! checkpoints, serve proofs, tiles and entry bundles.

use std::ops::Range;

use thiserror::Error;

use crate::bundle::TlogProof;
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::merkle::{Hash, ProofError, leaf_hash};
use crate::note::NoteSigner;
use crate::storage::{self, LogStorage, StorageError, TreeError};
use crate::tiles::{self, MAX_ENTRY_SIZE, TileError, TileKind, TilePath};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LogError {
    #[error("entry of {0} bytes is larger than 65535")]
    EntryTooLarge(usize),
    #[error("tree size {requested} is larger than the log ({size})")]
    BeyondLog { requested: u64, size: u64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

impl LogError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            LogError::EntryTooLarge(_) => "log_entry_too_large",
            LogError::BeyondLog { .. } => "log_beyond_size",
            LogError::Storage(e) => e.code(),
            LogError::Proof(e) => e.code(),
            LogError::Tile(e) => e.code(),
            LogError::Checkpoint(e) => e.code(),
        }
    }
}

impl From<TreeError> for LogError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Storage(e) => LogError::Storage(e),
            TreeError::Proof(e) => LogError::Proof(e),
        }
    }
}

/// A transparency log with origin `origin` kept in `storage`.
#[derive(Debug)]
pub struct Log<S> {
    origin: String,
    storage: S,
}

impl<S: LogStorage> Log<S> {
    pub fn new(origin: &str, storage: S) -> Self {
        Self {
            origin: origin.to_string(),
            storage,
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn into_storage(self) -> S {
        self.storage
    }

    pub fn size(&self) -> Result<u64, LogError> {
        Ok(self.storage.tree_size()?)
    }

    /// Appends one entry and returns its index. Writes O(log n) hashes.
    pub fn append(&mut self, entry: &[u8]) -> Result<u64, LogError> {
        if entry.len() > MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge(entry.len()));
        }
        let index = self.storage.tree_size()?;
        let hashes = storage::hashes_to_store(index, leaf_hash(entry), &self.storage)?;
        self.storage.append(index, entry, &hashes)?;
        Ok(index)
    }

    /// Appends entries in order and returns their index range.
    pub fn append_all<T: AsRef<[u8]>>(&mut self, entries: &[T]) -> Result<Range<u64>, LogError> {
        let start = self.size()?;
        for entry in entries {
            self.append(entry.as_ref())?;
        }
        Ok(start..start + entries.len() as u64)
    }

    fn check_size(&self, requested: u64) -> Result<u64, LogError> {
        let size = self.size()?;
        if requested > size {
            return Err(LogError::BeyondLog { requested, size });
        }
        Ok(size)
    }

    /// Root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        Ok(storage::tree_hash(size, &self.storage)?)
    }

    /// The checkpoint for tree size `size`.
    pub fn checkpoint(&self, size: u64) -> Result<Checkpoint, LogError> {
        Ok(Checkpoint::new(&self.origin, size, self.root(size)?)?)
    }

    /// Signs the checkpoint for `size` and returns the signed note.
    pub fn sign_checkpoint(&self, size: u64, signers: &[&NoteSigner]) -> Result<String, LogError> {
        Ok(self.checkpoint(size)?.sign(signers)?)
    }

    pub fn inclusion_proof(&self, size: u64, index: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        Ok(storage::prove_record(size, index, &self.storage)?)
    }

    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(new_size)?;
        Ok(storage::prove_tree(new_size, old_size, &self.storage)?)
    }

    /// A hash tile or entry bundle as the current tree determines it.
    pub fn tile(&self, path: &TilePath) -> Result<Vec<u8>, LogError> {
        let size = self.size()?;
        match path.kind {
            TileKind::Hashes { .. } => Ok(tiles::read_hash_tile(&self.storage, size, path)?),
            TileKind::Entries => {
                let range = tiles::entry_bundle_range(path, size)?;
                let entries = self.storage.read_entries(range.start, range.end)?;
                Ok(tiles::encode_entry_bundle(&entries)?)
            }
        }
    }

    /// A tlog-proof for entry `index` against an already signed (and possibly cosigned)
    /// checkpoint of this log.
    pub fn proof_bundle(
        &self,
        index: u64,
        signed_checkpoint: &str,
        extra: Option<Vec<u8>>,
    ) -> Result<TlogProof, LogError> {
        let note = crate::note::Note::parse(signed_checkpoint.as_bytes()).map_err(CheckpointError::from)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        Ok(TlogProof {
            extra,
            index,
            path: self.inclusion_proof(checkpoint.size, index)?,
            checkpoint: signed_checkpoint.to_string(),
        })
    }
}
