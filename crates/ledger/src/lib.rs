//! The transparency log of Trường Số.
//!
//! Every issue, correction, revocation or copy of a học bạ số or diploma is appended as a leaf
//! to an RFC 6962 Merkle tree. The log signs C2SP checkpoints (signed notes, Ed25519), other
//! education offices cosign them as witnesses, the tree is published as static C2SP tiles and
//! holders receive offline `c2sp.org/tlog-proof@v1` bundles.
//!
//! The crate is pure: no I/O, no database, no async. Storage is reached through the
//! [`storage::HashReader`] and [`storage::LogStorage`] traits.
//!
//! * [`merkle`]: hashing, in-memory proofs, proof verification.
//! * [`storage`]: the stored-hash layout for logs too large for memory; roots and proofs from it.
//! * [`tiles`]: tile paths, hash tiles, entry bundles, proofs recomputed from fetched tiles.
//! * [`note`]: signed notes, vkeys, Ed25519 note keys.
//! * [`checkpoint`]: the checkpoint note text.
//! * [`cosignature`]: witness cosignatures and the k-of-n witness policy.
//! * [`witness`]: the add-checkpoint protocol as pure logic.
//! * [`bundle`]: tlog-proof files.
//! * [`log`]: an append-only log over a storage.

pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod log;
pub mod merkle;
pub mod note;
pub mod storage;
pub mod tiles;
pub mod witness;

pub use bundle::{BundleError, TlogProof, TrustedLog, VerifiedProof};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use cosignature::{
    CosignatureError, CosignatureReport, CosignatureSigner, CosignatureVerifier, WitnessPolicy,
};
pub use log::{Log, LogError};
pub use merkle::{EMPTY_ROOT, Hash, ProofError};
pub use note::{Note, NoteError, NoteSigner, NoteVerifier};
pub use storage::{HashReader, LogStorage, MemoryStorage, StorageError, TreeError};
pub use tiles::{TileError, TilePath};
pub use witness::{AddCheckpointRequest, Cosigned, StateUpdate, TreeState, Witness, WitnessError};
