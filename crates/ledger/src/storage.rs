//! Storage model for a log too large for memory, after Go's golang.org/x/mod/sumdb/tlog.
//!
//! Every complete subtree hash is written once, in a dense linear order ("stored hash index"):
//! appending leaf `n` writes its leaf hash followed by the hashes of the subtrees it completes,
//! so the storage grows by about two hashes per leaf and an append reads at most log₂ n earlier
//! hashes. Roots and proofs for any tree size are then folded from at most 2·log₂ n stored
//! hashes fetched in one `read_hashes` call, which suits a database round trip.
//!
//! The functions that need hashes come in pairs: `*_indexes` says which stored hashes a
//! computation needs, and the computation itself reads them through a [`HashReader`]. A caller
//! whose storage is asynchronous can prefetch the indexes into a [`PrefetchedHashes`] map first.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::merkle::{self, Hash, ProofError, node_hash, split_point};

/// Errors from the storage behind a [`HashReader`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    #[error("stored hash {0} is missing")]
    MissingHash(u64),
    #[error("log entry {0} is missing")]
    MissingEntry(u64),
    #[error("storage returned {got} hashes for {wanted} indexes")]
    ShortRead { wanted: usize, got: usize },
    #[error("append of leaf {got} out of order, the log has {expected} leaves")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("storage backend: {0}")]
    Backend(String),
}

impl StorageError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::MissingHash(_) => "storage_missing_hash",
            StorageError::MissingEntry(_) => "storage_missing_entry",
            StorageError::ShortRead { .. } => "storage_short_read",
            StorageError::OutOfOrder { .. } => "storage_out_of_order",
            StorageError::Backend(_) => "storage_backend",
        }
    }
}

/// Errors of tree computations over stored hashes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TreeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl TreeError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            TreeError::Storage(e) => e.code(),
            TreeError::Proof(e) => e.code(),
        }
    }
}

/// Reads stored hashes by their [`stored_hash_index`]. The database layer implements this.
pub trait HashReader {
    /// Returns one hash per index, in the order of `indexes`, or an error.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
        (**self).read_hashes(indexes)
    }
}

/// Storage of a whole log: its hashes, its entries and its size.
pub trait LogStorage: HashReader {
    /// Number of leaves appended so far.
    fn tree_size(&self) -> Result<u64, StorageError>;
    /// Records leaf `index` (which must equal the current size) with its entry and the hashes
    /// to store from `stored_hash_index(0, index)` on. Must be atomic.
    fn append(&mut self, index: u64, entry: &[u8], hashes: &[Hash]) -> Result<(), StorageError>;
    /// Entries `start..end`.
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError>;
}

/// Position of the hash of the complete subtree at `level` (0 = leaves) and index `n` within
/// that level, in the linear storage order.
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // A subtree hash is written right after the last leaf it covers, so find that leaf first.
    let last_leaf = ((n + 1) << level) - 1;
    let mut index = 0u64;
    let mut m = last_leaf;
    // Each leaf i < last_leaf was written with 1 + trailing_ones(i) hashes; their total is
    // last_leaf + last_leaf/2 + last_leaf/4 + ...
    while m > 0 {
        index += m;
        m >>= 1;
    }
    index + u64::from(level)
}

/// Inverse of [`stored_hash_index`]: the (level, n) stored at `index`.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_index(0, n) < 2n, so the leaf written last before `index` is near index/2.
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    debug_assert!(index_n <= index);
    loop {
        let next = index_n + 1 + u64::from((n + 1).trailing_zeros());
        if next > index {
            break;
        }
        n += 1;
        index_n = next;
    }
    let level = (index - index_n) as u32;
    (level, n >> level)
}

/// Number of stored hashes of a log with `size` leaves.
pub fn stored_hash_count(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let last = size - 1;
    stored_hash_index(0, last) + 1 + u64::from(last.trailing_ones())
}

/// Stored hashes to read before appending leaf `n`: the left siblings of the subtrees it
/// completes, lowest level last (so the list is in increasing storage order).
pub fn append_read_indexes(n: u64) -> Vec<u64> {
    let completed = n.trailing_ones();
    (0..completed)
        .rev()
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect()
}

/// Hashes to store when appending leaf `n`, given the hashes read at
/// [`append_read_indexes`]`(n)`: the leaf hash then one hash per completed subtree.
pub fn hashes_to_store_from(n: u64, leaf_hash: Hash, siblings: &[Hash]) -> Result<Vec<Hash>, StorageError> {
    let completed = n.trailing_ones() as usize;
    if siblings.len() != completed {
        return Err(StorageError::ShortRead {
            wanted: completed,
            got: siblings.len(),
        });
    }
    let mut out = Vec::with_capacity(completed + 1);
    let mut h = leaf_hash;
    out.push(h);
    for sibling in siblings.iter().rev() {
        h = node_hash(sibling, &h);
        out.push(h);
    }
    Ok(out)
}

/// Hashes to store when appending leaf `n` with `leaf_hash`, reading what is needed.
pub fn hashes_to_store<R: HashReader>(
    n: u64,
    leaf_hash: Hash,
    reader: &R,
) -> Result<Vec<Hash>, StorageError> {
    let indexes = append_read_indexes(n);
    let siblings = read_exact(reader, &indexes)?;
    hashes_to_store_from(n, leaf_hash, &siblings)
}

fn read_exact<R: HashReader>(reader: &R, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(StorageError::ShortRead {
            wanted: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// Complete subtrees (level, n) covering leaves `lo..hi`, left to right. Every range that RFC
/// 6962's recursive split produces decomposes this way.
pub(crate) fn complete_subtrees(mut lo: u64, hi: u64) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    while lo < hi {
        let k = 1u64 << (63 - (hi - lo).leading_zeros());
        let level = k.trailing_zeros();
        debug_assert_eq!(lo % k, 0, "range not aligned");
        out.push((level, lo >> level));
        lo += k;
    }
    out
}

/// Folds complete-subtree hashes (left to right) into the hash of the range they cover.
fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let (last, rest) = hashes.split_last().expect("a range covers at least one subtree");
    rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
}

/// Ranges whose hashes form the inclusion proof of `index` in a tree of `size`, sibling first.
pub(crate) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    fn walk(lo: u64, hi: u64, m: u64, out: &mut Vec<(u64, u64)>) {
        if hi - lo == 1 {
            return;
        }
        let k = split_point(hi - lo);
        if m < lo + k {
            walk(lo, lo + k, m, out);
            out.push((lo + k, hi));
        } else {
            walk(lo + k, hi, m, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    walk(0, size, index, &mut out);
    out
}

/// Ranges whose hashes form the consistency proof from `old_size` to `new_size`.
pub(crate) fn consistency_ranges(old_size: u64, new_size: u64) -> Vec<(u64, u64)> {
    fn walk(lo: u64, hi: u64, m: u64, whole_old_tree: bool, out: &mut Vec<(u64, u64)>) {
        if m == hi {
            if !whole_old_tree {
                out.push((lo, hi));
            }
            return;
        }
        let k = split_point(hi - lo);
        if m <= lo + k {
            walk(lo, lo + k, m, whole_old_tree, out);
            out.push((lo + k, hi));
        } else {
            walk(lo + k, hi, m, false, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    walk(0, new_size, old_size, true, &mut out);
    out
}

fn range_indexes(ranges: &[(u64, u64)]) -> Vec<u64> {
    ranges
        .iter()
        .flat_map(|&(lo, hi)| complete_subtrees(lo, hi))
        .map(|(level, n)| stored_hash_index(level, n))
        .collect()
}

fn fold_ranges<R: HashReader>(ranges: &[(u64, u64)], reader: &R) -> Result<Vec<Hash>, StorageError> {
    let hashes = read_exact(reader, &range_indexes(ranges))?;
    let mut rest = &hashes[..];
    let mut out = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let count = complete_subtrees(lo, hi).len();
        let (these, tail) = rest.split_at(count);
        out.push(fold_subtrees(these));
        rest = tail;
    }
    Ok(out)
}

/// Stored hashes needed by [`tree_hash`].
pub fn tree_hash_indexes(size: u64) -> Vec<u64> {
    if size == 0 {
        Vec::new()
    } else {
        range_indexes(&[(0, size)])
    }
}

/// Root of the tree of the first `size` leaves.
pub fn tree_hash<R: HashReader>(size: u64, reader: &R) -> Result<Hash, StorageError> {
    if size == 0 {
        return Ok(merkle::EMPTY_ROOT);
    }
    Ok(fold_ranges(&[(0, size)], reader)?[0])
}

/// Stored hashes needed by [`prove_record`].
pub fn record_proof_indexes(size: u64, index: u64) -> Result<Vec<u64>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    Ok(range_indexes(&inclusion_ranges(index, size)))
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn prove_record<R: HashReader>(size: u64, index: u64, reader: &R) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    Ok(fold_ranges(&inclusion_ranges(index, size), reader)?)
}

/// Checks an inclusion proof against a tree root.
pub fn check_record(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    leaf_hash: &Hash,
) -> Result<(), ProofError> {
    merkle::verify_inclusion(index, size, leaf_hash, proof, root)
}

/// Stored hashes needed by [`prove_tree`].
pub fn tree_proof_indexes(new_size: u64, old_size: u64) -> Result<Vec<u64>, ProofError> {
    check_tree_sizes(new_size, old_size)?;
    Ok(range_indexes(&consistency_ranges(old_size, new_size)))
}

fn check_tree_sizes(new_size: u64, old_size: u64) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    Ok(())
}

/// Consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves.
pub fn prove_tree<R: HashReader>(new_size: u64, old_size: u64, reader: &R) -> Result<Vec<Hash>, TreeError> {
    check_tree_sizes(new_size, old_size)?;
    Ok(fold_ranges(&consistency_ranges(old_size, new_size), reader)?)
}

/// Checks a consistency proof between two tree roots.
pub fn check_tree(
    proof: &[Hash],
    new_size: u64,
    new_root: &Hash,
    old_size: u64,
    old_root: &Hash,
) -> Result<(), ProofError> {
    merkle::verify_consistency(old_size, new_size, proof, old_root, new_root)
}

/// Hashes fetched ahead of time, for callers whose storage cannot be read synchronously.
#[derive(Debug, Clone, Default)]
pub struct PrefetchedHashes(pub BTreeMap<u64, Hash>);

impl PrefetchedHashes {
    /// Pairs `indexes` with the `hashes` read for them.
    pub fn new(indexes: &[u64], hashes: &[Hash]) -> Result<Self, StorageError> {
        if indexes.len() != hashes.len() {
            return Err(StorageError::ShortRead {
                wanted: indexes.len(),
                got: hashes.len(),
            });
        }
        Ok(Self(
            indexes.iter().copied().zip(hashes.iter().copied()).collect(),
        ))
    }
}

impl HashReader for PrefetchedHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
        indexes
            .iter()
            .map(|i| self.0.get(i).copied().ok_or(StorageError::MissingHash(*i)))
            .collect()
    }
}

/// A whole log in memory, for tests and small tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    hashes: Vec<Hash>,
    entries: Vec<Vec<u8>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// All stored hashes in storage order.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Replaces one stored hash; tests use it to simulate corrupted storage.
    pub fn overwrite_hash(&mut self, index: u64, hash: Hash) -> Result<(), StorageError> {
        let slot = self
            .hashes
            .get_mut(index as usize)
            .ok_or(StorageError::MissingHash(index))?;
        *slot = hash;
        Ok(())
    }
}

impl HashReader for MemoryStorage {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
        indexes
            .iter()
            .map(|&i| {
                self.hashes
                    .get(i as usize)
                    .copied()
                    .ok_or(StorageError::MissingHash(i))
            })
            .collect()
    }
}

impl LogStorage for MemoryStorage {
    fn tree_size(&self) -> Result<u64, StorageError> {
        Ok(self.entries.len() as u64)
    }

    fn append(&mut self, index: u64, entry: &[u8], hashes: &[Hash]) -> Result<(), StorageError> {
        let expected = self.entries.len() as u64;
        if index != expected || self.hashes.len() as u64 != stored_hash_index(0, index) {
            return Err(StorageError::OutOfOrder { expected, got: index });
        }
        self.hashes.extend_from_slice(hashes);
        self.entries.push(entry.to_vec());
        Ok(())
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        (start..end)
            .map(|i| {
                self.entries
                    .get(i as usize)
                    .cloned()
                    .ok_or(StorageError::MissingEntry(i))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_index_matches_the_write_order() {
        // Leaves 0..4 write: L0(0); L0(1) L1(0); L0(2); L0(3) L1(1) L2(0).
        let order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)];
        for (i, &(level, n)) in order.iter().enumerate() {
            assert_eq!(stored_hash_index(level, n), i as u64, "({level}, {n})");
            assert_eq!(split_stored_hash_index(i as u64), (level, n));
        }
        assert_eq!(stored_hash_count(4), 7);
        assert_eq!(stored_hash_count(5), 8);
    }

    #[test]
    fn leaf_n_is_stored_right_after_the_hashes_of_n_leaves() {
        for n in 0..10_000u64 {
            assert_eq!(stored_hash_count(n), stored_hash_index(0, n), "{n}");
        }
    }

    #[test]
    fn split_inverts_index_over_a_long_range() {
        for index in 0..20_000u64 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index);
        }
    }

    #[test]
    fn append_reads_at_most_log_n_hashes() {
        assert_eq!(append_read_indexes(0), Vec::<u64>::new());
        assert_eq!(append_read_indexes(1), vec![0]);
        assert_eq!(append_read_indexes(3), vec![2, 3]);
        for n in 0..5000u64 {
            let reads = append_read_indexes(n).len() as u32;
            assert!(reads <= 64 - n.leading_zeros(), "{n}");
            assert_eq!(
                stored_hash_count(n + 1) - stored_hash_count(n),
                u64::from(reads) + 1
            );
        }
    }
}
