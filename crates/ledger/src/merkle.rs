//! RFC 6962 Merkle tree hashing, proof generation and proof verification.
//!
//! Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 with three policy fixes taken from the
//! transparency-dev implementation: every hash must be exactly 32 bytes, a consistency proof
//! from the empty tree is refused (it proves nothing and hides bugs), and the root of the empty
//! tree must be SHA-256 of the empty string.
//!
//! Proof generation here works on an in-memory slice of leaf hashes and follows the recursive
//! definitions of RFC 6962 §2.1.1/§2.1.2 literally; the storage-backed equivalent for logs too
//! large for memory lives in [`crate::storage`].

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// Size of every hash in the tree.
pub const HASH_SIZE: usize = 32;

/// Root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27,
    0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Why a proof was refused or could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    #[error("hash has {0} bytes, expected 32")]
    BadHashLength(usize),
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizeOrder { old: u64, new: u64 },
    #[error("a consistency proof from the empty tree is not accepted")]
    FromEmptyTree,
    #[error("the root of the empty tree must be SHA-256 of the empty string")]
    EmptyTreeRoot,
    #[error("proof has too many hashes")]
    ProofTooLong,
    #[error("proof has too few hashes")]
    ProofTooShort,
    #[error("recomputed root does not match")]
    RootMismatch,
}

impl ProofError {
    /// Stable machine code for the web layer.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::BadHashLength(_) => "proof_bad_hash_length",
            ProofError::IndexOutOfRange { .. } => "proof_index_out_of_range",
            ProofError::SizeOrder { .. } => "proof_size_order",
            ProofError::FromEmptyTree => "proof_from_empty_tree",
            ProofError::EmptyTreeRoot => "proof_empty_tree_root",
            ProofError::ProofTooLong => "proof_too_long",
            ProofError::ProofTooShort => "proof_too_short",
            ProofError::RootMismatch => "proof_root_mismatch",
        }
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// RFC 6962 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Converts a byte slice to a hash, refusing any other length than 32.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes
        .try_into()
        .map_err(|_| ProofError::BadHashLength(bytes.len()))
}

/// Largest power of two strictly smaller than `n` (n >= 2): the RFC 6962 split point.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH over leaf hashes (RFC 6962 §2.1).
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaves[..k]),
                &root_from_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// MTH over the entries themselves.
pub fn root_of_entries<T: AsRef<[u8]>>(entries: &[T]) -> Hash {
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e.as_ref())).collect();
    root_from_leaf_hashes(&leaves)
}

/// Inclusion proof (RFC 6962 PATH) for leaf `index` in the tree made of `leaves`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::new();
    path(index as usize, leaves, &mut proof);
    Ok(proof)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    let n = d.len();
    if n == 1 {
        return;
    }
    let k = split_point(n as u64) as usize;
    if m < k {
        path(m, &d[..k], out);
        out.push(root_from_leaf_hashes(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(root_from_leaf_hashes(&d[..k]));
    }
}

/// Consistency proof (RFC 6962 PROOF) from the tree of the first `old_size` leaves to the tree
/// made of all `leaves`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if old_size > size {
        return Err(ProofError::SizeOrder {
            old: old_size,
            new: size,
        });
    }
    if old_size == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    let mut proof = Vec::new();
    subproof(old_size as usize, leaves, true, &mut proof);
    Ok(proof)
}

fn subproof(m: usize, d: &[Hash], whole_old_tree: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !whole_old_tree {
            out.push(root_from_leaf_hashes(d));
        }
        return;
    }
    let k = split_point(n as u64) as usize;
    if m <= k {
        subproof(m, &d[..k], whole_old_tree, out);
        out.push(root_from_leaf_hashes(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, out);
        out.push(root_from_leaf_hashes(&d[..k]));
    }
}

fn hashes_from_slices<T: AsRef<[u8]>>(proof: &[T]) -> Result<Vec<Hash>, ProofError> {
    proof.iter().map(|p| hash_from_slice(p.as_ref())).collect()
}

/// Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof<T: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[T],
) -> Result<Hash, ProofError> {
    let mut r = hash_from_slice(leaf_hash)?;
    let path = hashes_from_slices(proof)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut f = index;
    let mut s = size - 1;
    for p in &path {
        if s == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::ProofTooShort);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size` with root `root`.
pub fn verify_inclusion<T: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[T],
    root: &[u8],
) -> Result<(), ProofError> {
    let root = hash_from_slice(root)?;
    if root_from_inclusion_proof(index, size, leaf_hash, proof)? != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size2` with root `root2` extends the tree of `size1` with root
/// `root1` (RFC 9162 §2.1.4.2).
pub fn verify_consistency<T: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[T],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    let root1 = hash_from_slice(root1)?;
    let root2 = hash_from_slice(root2)?;
    let mut path = hashes_from_slices(proof)?;
    if size1 > size2 {
        return Err(ProofError::SizeOrder {
            old: size1,
            new: size2,
        });
    }
    if size1 == size2 {
        if !path.is_empty() {
            return Err(ProofError::ProofTooLong);
        }
        if size1 == 0 && root1 != EMPTY_ROOT {
            return Err(ProofError::EmptyTreeRoot);
        }
        if root1 != root2 {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if path.is_empty() {
        return Err(ProofError::ProofTooShort);
    }
    if size1.is_power_of_two() {
        path.insert(0, root1);
    }
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != root1 || sr != root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, sha256(b""));
        assert_eq!(root_from_leaf_hashes(&[]), EMPTY_ROOT);
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn consistency_from_empty_tree_is_refused_both_ways() {
        let leaves = [leaf_hash(b"a")];
        assert_eq!(consistency_proof(&leaves, 0), Err(ProofError::FromEmptyTree));
        let root = root_from_leaf_hashes(&leaves);
        let empty: [Hash; 0] = [];
        assert_eq!(
            verify_consistency(0, 1, &empty, &EMPTY_ROOT, &root),
            Err(ProofError::FromEmptyTree)
        );
    }

    #[test]
    fn error_codes_are_distinct() {
        let all = [
            ProofError::BadHashLength(0),
            ProofError::IndexOutOfRange { index: 0, size: 0 },
            ProofError::SizeOrder { old: 1, new: 0 },
            ProofError::FromEmptyTree,
            ProofError::EmptyTreeRoot,
            ProofError::ProofTooLong,
            ProofError::ProofTooShort,
            ProofError::RootMismatch,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
    }
}
