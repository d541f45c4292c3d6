//! The transparency log in the database: leaves (event records), the stored Merkle hashes in the
//! tlog numbering (each append writes O(log n) hashes), signed checkpoints with the witnesses'
//! cosignatures, and what a witness remembers of the logs it cosigns. The Merkle arithmetic is
//! `truongso-ledger`'s; this module only reads and writes rows.
//!
//! Appends are serialised: PostgreSQL locks the one `ledger_state` row, SQLite takes its write
//! lock, so indexes are consecutive and two appends never compute from the same tree.

use crate::entity::{ledger_checkpoint, ledger_hash, ledger_leaf, ledger_state, witness_head};
use crate::error::{Error, Result};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use std::collections::BTreeMap;
use truongso_ledger::merkle::{Hash, leaf_hash};
use truongso_ledger::storage::{self, PrefetchedHashes};
use truongso_ledger::tiles::{self, TileKind, TilePath};

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// Reads stored hashes by index, in the order asked.
pub async fn read_hashes<C: ConnectionTrait>(db: &C, indexes: &[u64]) -> Result<Vec<Hash>> {
    let mut found: BTreeMap<u64, Hash> = BTreeMap::new();
    for chunk in indexes.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|i| *i as i64).collect();
        for m in ledger_hash::Entity::find()
            .filter(ledger_hash::Column::Idx.is_in(ids))
            .all(db)
            .await?
        {
            let h: Hash = m.hash.as_slice().try_into().map_err(internal)?;
            found.insert(m.idx as u64, h);
        }
    }
    indexes
        .iter()
        .map(|i| {
            found
                .get(i)
                .copied()
                .ok_or_else(|| internal(format!("ledger hash {i} missing")))
        })
        .collect()
}

async fn prefetch<C: ConnectionTrait>(db: &C, indexes: &[u64]) -> Result<PrefetchedHashes> {
    let hashes = read_hashes(db, indexes).await?;
    PrefetchedHashes::new(indexes, &hashes).map_err(internal)
}

/// The size of the tree (number of leaves).
pub async fn size<C: ConnectionTrait>(db: &C) -> Result<u64> {
    Ok(ledger_state::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|m| m.size as u64)
        .unwrap_or(0))
}

/// A leaf to append: the event's bytes, the document it concerns and the leaf it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeaf {
    pub data: Vec<u8>,
    pub doc_id: String,
    pub refers_to: Option<u64>,
}

/// Appends leaves and returns their indexes.
pub async fn append<C: ConnectionTrait + TransactionTrait>(db: &C, leaves: &[NewLeaf]) -> Result<Vec<u64>> {
    let txn = db.begin().await?;
    let n0 = lock_size(&txn).await?;
    // Hashes written by this batch, so later leaves of the batch read them without a query.
    let mut fresh: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut hash_rows = vec![];
    let mut leaf_rows = vec![];
    let now = crate::now();
    for (i, leaf) in leaves.iter().enumerate() {
        let n = n0 + i as u64;
        let wanted = storage::append_read_indexes(n);
        let missing: Vec<u64> = wanted
            .iter()
            .copied()
            .filter(|w| !fresh.contains_key(w))
            .collect();
        if !missing.is_empty() {
            for (idx, h) in missing.iter().zip(read_hashes(&txn, &missing).await?) {
                fresh.insert(*idx, h);
            }
        }
        let siblings: Vec<Hash> = wanted.iter().map(|w| fresh[w]).collect();
        let hashes = storage::hashes_to_store_from(n, leaf_hash(&leaf.data), &siblings).map_err(internal)?;
        let first = storage::stored_hash_count(n);
        for (k, h) in hashes.into_iter().enumerate() {
            let idx = first + k as u64;
            fresh.insert(idx, h);
            hash_rows.push(ledger_hash::ActiveModel {
                idx: Set(idx as i64),
                hash: Set(h.to_vec()),
            });
        }
        leaf_rows.push(ledger_leaf::ActiveModel {
            idx: Set(n as i64),
            data: Set(leaf.data.clone()),
            doc_id: Set(leaf.doc_id.clone()),
            refers_to: Set(leaf.refers_to.map(|r| r as i64)),
            created_at: Set(now),
        });
    }
    for chunk in hash_rows.chunks(1000) {
        ledger_hash::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in leaf_rows.chunks(200) {
        ledger_leaf::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let new_size = n0 + leaves.len() as u64;
    ledger_state::ActiveModel {
        id: Set(1),
        size: Set(new_size as i64),
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok((n0..new_size).collect())
}

/// Locks the state row and returns the size.
async fn lock_size<C: ConnectionTrait>(txn: &C) -> Result<u64> {
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        // Take SQLite's write lock now, before reading the size.
        txn.execute_unprepared("UPDATE ledger_state SET size = size WHERE 0 = 1")
            .await?;
    }
    let mut q = ledger_state::Entity::find_by_id(1);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    let state = q
        .one(txn)
        .await?
        .ok_or_else(|| internal("ledger_state row missing (migration m0008 creates it)"))?;
    Ok(state.size as u64)
}

/// The root of the tree of `size` leaves.
pub async fn root_at<C: ConnectionTrait>(db: &C, size: u64) -> Result<Hash> {
    let indexes = storage::tree_hash_indexes(size);
    let r = prefetch(db, &indexes).await?;
    storage::tree_hash(size, &r).map_err(internal)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub async fn inclusion_proof<C: ConnectionTrait>(db: &C, size: u64, index: u64) -> Result<Vec<Hash>> {
    let indexes = storage::record_proof_indexes(size, index).map_err(internal)?;
    let r = prefetch(db, &indexes).await?;
    storage::prove_record(size, index, &r).map_err(internal)
}

/// The consistency proof from `old` to `new` leaves.
pub async fn consistency_proof<C: ConnectionTrait>(db: &C, new: u64, old: u64) -> Result<Vec<Hash>> {
    let indexes = storage::tree_proof_indexes(new, old).map_err(internal)?;
    let r = prefetch(db, &indexes).await?;
    storage::prove_tree(new, old, &r).map_err(internal)
}

/// A leaf's data.
pub async fn leaf<C: ConnectionTrait>(db: &C, index: u64) -> Result<Option<Vec<u8>>> {
    Ok(ledger_leaf::Entity::find_by_id(index as i64)
        .one(db)
        .await?
        .map(|m| m.data))
}

/// Every leaf about a document, in log order: (index, data).
pub async fn leaves_of<C: ConnectionTrait>(db: &C, doc_id: &str) -> Result<Vec<(u64, Vec<u8>)>> {
    Ok(ledger_leaf::Entity::find()
        .filter(ledger_leaf::Column::DocId.eq(doc_id))
        .order_by_asc(ledger_leaf::Column::Idx)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.idx as u64, m.data))
        .collect())
}

/// Every leaf that refers to `leaf` (its corrections, revocations and copies), in log order.
pub async fn referring_to<C: ConnectionTrait>(db: &C, leaf: u64) -> Result<Vec<(u64, Vec<u8>)>> {
    Ok(ledger_leaf::Entity::find()
        .filter(ledger_leaf::Column::RefersTo.eq(leaf as i64))
        .order_by_asc(ledger_leaf::Column::Idx)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.idx as u64, m.data))
        .collect())
}

/// A published tile (`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`) of the tree of
/// `tree_size` leaves; a tile beyond the tree is refused with the ledger's error.
pub async fn tile<C: ConnectionTrait>(
    db: &C,
    path: &TilePath,
    tree_size: u64,
) -> Result<std::result::Result<Vec<u8>, tiles::TileError>> {
    match path.kind {
        TileKind::Hashes { .. } => {
            let indexes = match tiles::hash_tile_indexes(path, tree_size) {
                Ok(i) => i,
                Err(e) => return Ok(Err(e)),
            };
            let r = prefetch(db, &indexes).await?;
            Ok(tiles::read_hash_tile(&r, tree_size, path))
        }
        TileKind::Entries => {
            let range = match tiles::entry_bundle_range(path, tree_size) {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            let rows = ledger_leaf::Entity::find()
                .filter(ledger_leaf::Column::Idx.gte(range.start as i64))
                .filter(ledger_leaf::Column::Idx.lt(range.end as i64))
                .order_by_asc(ledger_leaf::Column::Idx)
                .all(db)
                .await?;
            let entries: Vec<Vec<u8>> = rows.into_iter().map(|m| m.data).collect();
            Ok(tiles::encode_entry_bundle(&entries))
        }
    }
}

/// Stores a signed checkpoint (the log's own signature only, at first).
pub async fn save_checkpoint<C: ConnectionTrait>(db: &C, size: u64, root: &Hash, note: &str) -> Result<()> {
    if ledger_checkpoint::Entity::find_by_id(size as i64)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    ledger_checkpoint::ActiveModel {
        size: Set(size as i64),
        root: Set(hex::encode(root)),
        note: Set(note.to_string()),
        cosignatures: Set(0),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Replaces a checkpoint's note with one carrying more cosignature lines.
pub async fn set_cosigned<C: ConnectionTrait>(
    db: &C,
    size: u64,
    note: &str,
    cosignatures: i32,
) -> Result<()> {
    let m = ledger_checkpoint::Entity::find_by_id(size as i64)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_checkpoint"))?;
    let mut a: ledger_checkpoint::ActiveModel = m.into();
    a.note = Set(note.to_string());
    a.cosignatures = Set(cosignatures);
    a.update(db).await?;
    Ok(())
}

/// The newest checkpoint, if any: (size, note).
pub async fn latest_checkpoint<C: ConnectionTrait>(db: &C) -> Result<Option<(u64, String)>> {
    Ok(ledger_checkpoint::Entity::find()
        .order_by_desc(ledger_checkpoint::Column::Size)
        .one(db)
        .await?
        .map(|m| (m.size as u64, m.note)))
}

/// The checkpoint of exactly `size` leaves.
pub async fn checkpoint_at<C: ConnectionTrait>(db: &C, size: u64) -> Result<Option<String>> {
    Ok(ledger_checkpoint::Entity::find_by_id(size as i64)
        .one(db)
        .await?
        .map(|m| m.note))
}

/// What a witness last cosigned for a log: (size, root).
pub async fn witness_head<C: ConnectionTrait>(db: &C, origin: &str) -> Result<Option<(u64, Hash)>> {
    let Some(m) = witness_head::Entity::find_by_id(origin.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let root: Hash = hex::decode(&m.root)
        .map_err(internal)?
        .as_slice()
        .try_into()
        .map_err(internal)?;
    Ok(Some((m.size as u64, root)))
}

/// Moves a witness's head from `old` to (`size`, `root`) only if nobody moved it in between
/// (compare-and-swap on the size); false when the stored size is no longer `old`.
pub async fn advance_witness_head<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    origin: &str,
    old: Option<u64>,
    size: u64,
    root: &Hash,
) -> Result<bool> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE witness_heads SET size = size WHERE 0 = 1")
            .await?;
    }
    let mut q = witness_head::Entity::find_by_id(origin.to_string());
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    let current = q.one(&txn).await?;
    if current.as_ref().map(|m| m.size as u64) != old {
        return Ok(false);
    }
    let row = witness_head::ActiveModel {
        origin: Set(origin.to_string()),
        size: Set(size as i64),
        root: Set(hex::encode(root)),
        updated_at: Set(crate::now()),
    };
    if current.is_some() {
        row.update(&txn).await?;
    } else {
        row.insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(true)
}
