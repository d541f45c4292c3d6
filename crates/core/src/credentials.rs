//! Học bạ số and văn bằng số as data: the canonical record (one per learner × school year, one per
//! diploma), its canonical bytes (NFC strings, RFC 8785 JSON) and hash, the event records the
//! transparency log holds (issue, correct, revoke, copy: hashes and ids only), and the verdicts a
//! verifier gives. Rendering, signing and the log itself live in `truongso-docs` and
//! `truongso-ledger`; nothing here performs I/O.

pub mod canonical;
pub mod event;
pub mod record;
pub mod verdict;

pub use canonical::{CanonicalError, canonical_bytes, canonicalise, sha256_hex};
pub use event::{Event, EventType};
pub use record::{DocKind, HocBa, VanBang};
pub use verdict::Verdict;
