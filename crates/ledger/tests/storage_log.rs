//! The stored-hash model against the naive in-memory tree, and the `Log` helper.

use std::cell::Cell;

use truongso_ledger::log::{Log, LogError};
use truongso_ledger::merkle::{self, EMPTY_ROOT, Hash, ProofError, leaf_hash, root_from_leaf_hashes};
use truongso_ledger::storage::{
    self, HashReader, MemoryStorage, PrefetchedHashes, StorageError, TreeError, stored_hash_count,
};

/// splitmix64: deterministic test sizes without a rand dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"v\":\"hbs-event/v1\",\"n\":{i}}}").into_bytes()
}

fn build(n: u64) -> (Log<MemoryStorage>, Vec<Hash>) {
    let mut log = Log::new("test.example/log", MemoryStorage::new());
    let mut leaves = Vec::new();
    for i in 0..n {
        assert_eq!(log.append(&entry(i)).unwrap(), i);
        leaves.push(leaf_hash(&entry(i)));
    }
    (log, leaves)
}

/// Counts reads, to check the O(log n) bounds.
struct Counting<'a> {
    inner: &'a MemoryStorage,
    hashes_read: Cell<usize>,
    calls: Cell<usize>,
}

impl HashReader for Counting<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
        self.calls.set(self.calls.get() + 1);
        self.hashes_read.set(self.hashes_read.get() + indexes.len());
        self.inner.read_hashes(indexes)
    }
}

#[test]
fn stored_roots_equal_naive_roots_for_random_sizes() {
    let (log, leaves) = build(3000);
    assert_eq!(log.root(0).unwrap(), EMPTY_ROOT);
    let mut rng = Rng(7);
    let mut sizes: Vec<u64> = (0..80).map(|_| 1 + rng.below(3000)).collect();
    sizes.extend([1, 2, 3, 255, 256, 257, 1023, 1024, 1025, 2048, 2999, 3000]);
    for size in sizes {
        let naive = root_from_leaf_hashes(&leaves[..size as usize]);
        assert_eq!(log.root(size).unwrap(), naive, "size {size}");
        assert_eq!(storage::tree_hash(size, log.storage()).unwrap(), naive);
        let counting = Counting {
            inner: log.storage(),
            hashes_read: Cell::new(0),
            calls: Cell::new(0),
        };
        storage::tree_hash(size, &counting).unwrap();
        assert_eq!(counting.calls.get(), 1);
        assert_eq!(counting.hashes_read.get() as u32, size.count_ones());
    }
    assert_eq!(
        log.storage().stored_hashes().len() as u64,
        stored_hash_count(3000)
    );
    assert_eq!(
        log.root(3001),
        Err(LogError::BeyondLog {
            requested: 3001,
            size: 3000
        })
    );
}

#[test]
fn appends_write_few_hashes_and_read_at_most_log_n() {
    let mut storage = MemoryStorage::new();
    let mut total_written = 0usize;
    for n in 0..4096u64 {
        let counting = Counting {
            inner: &storage,
            hashes_read: Cell::new(0),
            calls: Cell::new(0),
        };
        let hashes = storage::hashes_to_store(n, leaf_hash(&entry(n)), &counting).unwrap();
        let log2 = 64 - n.leading_zeros() as usize;
        assert!(counting.hashes_read.get() <= log2, "{n}");
        assert!(counting.calls.get() <= 1);
        assert_eq!(hashes.len(), counting.hashes_read.get() + 1);
        total_written += hashes.len();
        use truongso_ledger::storage::LogStorage;
        storage.append(n, &entry(n), &hashes).unwrap();
    }
    // Just under two hashes per leaf on average.
    assert_eq!(total_written, 2 * 4096 - 1);
}

#[test]
fn stored_proofs_equal_in_memory_proofs() {
    let (log, leaves) = build(600);
    let mut rng = Rng(11);
    for _ in 0..300 {
        let size = 1 + rng.below(600);
        let index = rng.below(size);
        let stored = log.inclusion_proof(size, index).unwrap();
        let naive = merkle::inclusion_proof(&leaves[..size as usize], index).unwrap();
        assert_eq!(stored, naive, "inclusion {index} in {size}");
        let root = log.root(size).unwrap();
        storage::check_record(&stored, size, &root, index, &leaves[index as usize]).unwrap();

        let old = 1 + rng.below(size);
        let stored = log.consistency_proof(old, size).unwrap();
        let naive = merkle::consistency_proof(&leaves[..size as usize], old).unwrap();
        assert_eq!(stored, naive, "consistency {old} -> {size}");
        storage::check_tree(&stored, size, &root, old, &log.root(old).unwrap()).unwrap();
    }
    assert_eq!(
        log.inclusion_proof(10, 10),
        Err(LogError::Proof(ProofError::IndexOutOfRange {
            index: 10,
            size: 10
        }))
    );
    assert_eq!(
        log.consistency_proof(0, 10),
        Err(LogError::Proof(ProofError::FromEmptyTree))
    );
    assert_eq!(
        log.consistency_proof(11, 10),
        Err(LogError::Proof(ProofError::SizeOrder { old: 11, new: 10 }))
    );
    assert_eq!(
        log.consistency_proof(5, 601),
        Err(LogError::BeyondLog {
            requested: 601,
            size: 600
        })
    );
}

#[test]
fn prefetched_hashes_serve_an_async_caller() {
    let (log, leaves) = build(1000);
    let (size, index, old) = (999u64, 517u64, 300u64);
    let mut indexes = storage::tree_hash_indexes(size);
    indexes.extend(storage::record_proof_indexes(size, index).unwrap());
    indexes.extend(storage::tree_proof_indexes(size, old).unwrap());
    indexes.extend(storage::tree_hash_indexes(old));
    // This is what a database layer would fetch in one query.
    let fetched = log.storage().read_hashes(&indexes).unwrap();
    let pre = PrefetchedHashes::new(&indexes, &fetched).unwrap();
    let root = storage::tree_hash(size, &pre).unwrap();
    assert_eq!(root, root_from_leaf_hashes(&leaves[..999]));
    let proof = storage::prove_record(size, index, &pre).unwrap();
    storage::check_record(&proof, size, &root, index, &leaves[517]).unwrap();
    let cproof = storage::prove_tree(size, old, &pre).unwrap();
    storage::check_tree(&cproof, size, &root, old, &storage::tree_hash(old, &pre).unwrap()).unwrap();
    // Anything not prefetched is reported, not invented.
    let missing = storage::prove_record(size, 3, &pre).unwrap_err();
    assert!(
        matches!(missing, TreeError::Storage(StorageError::MissingHash(_))),
        "{missing:?}"
    );
    assert_eq!(
        PrefetchedHashes::new(&[1, 2], &fetched[..1]).unwrap_err(),
        StorageError::ShortRead { wanted: 2, got: 1 }
    );
}

#[test]
fn corrupted_storage_breaks_the_proofs_it_touches() {
    let (mut log_parts, leaves) = {
        let (log, leaves) = build(64);
        (log.into_storage(), leaves)
    };
    let good_root = root_from_leaf_hashes(&leaves);
    // Overwrite the stored hash of the complete subtree of leaves 16..32 (level 4, index 1).
    let index = storage::stored_hash_index(4, 1);
    log_parts.overwrite_hash(index, [0xaa; 32]).unwrap();
    let log = Log::new("test.example/log", log_parts);
    // Roots of 64 and 48 leaves read the level-6 and level-5 hashes, never the corrupted one.
    assert_eq!(log.root(64).unwrap(), good_root);
    assert_eq!(log.root(48).unwrap(), root_from_leaf_hashes(&leaves[..48]));
    // A proof for a leaf of 0..16 carries it as a sibling and fails against the true root.
    let proof = log.inclusion_proof(64, 3).unwrap();
    assert_eq!(proof[4], [0xaa; 32]);
    assert_eq!(
        storage::check_record(&proof, 64, &good_root, 3, &leaves[3]),
        Err(ProofError::RootMismatch)
    );
    // A proof on the other side does not use it.
    let proof = log.inclusion_proof(64, 40).unwrap();
    storage::check_record(&proof, 64, &good_root, 40, &leaves[40]).unwrap();
}

#[test]
fn log_refuses_oversized_entries_and_out_of_order_appends() {
    let mut log = Log::new("test.example/log", MemoryStorage::new());
    assert_eq!(log.append(&vec![0; 65_536]), Err(LogError::EntryTooLarge(65_536)));
    assert_eq!(log.append(&vec![0; 65_535]).unwrap(), 0);
    assert_eq!(log.append_all(&[b"a".to_vec(), b"b".to_vec()]).unwrap(), 1..3);
    let mut storage = log.into_storage();
    use truongso_ledger::storage::LogStorage;
    assert_eq!(
        storage.append(5, b"x", &[[0; 32]]),
        Err(StorageError::OutOfOrder { expected: 3, got: 5 })
    );
    assert_eq!(storage.tree_size().unwrap(), 3);
}
