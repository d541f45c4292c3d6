//! The transparency log on SQLite and PostgreSQL: appends in batches and from concurrent writers
//! give consecutive indexes and the RFC 6962 root of the leaves in order; proofs read back from
//! the stored hashes verify; tiles match the tree; a witness head moves only by compare-and-swap.

use truongso_ledger::merkle::{leaf_hash, root_of_entries, verify_consistency, verify_inclusion};
use truongso_ledger::tiles::{TileError, TilePath};
use truongso_store::ledger::NewLeaf;
use truongso_store::{Store, both_backends, ledger};

fn entry(i: u64) -> NewLeaf {
    NewLeaf {
        data: format!("{{\"n\":{i}}}").into_bytes(),
        doc_id: format!("HB-{i:016}"),
        refers_to: (i % 7 == 3).then(|| i - 1),
    }
}

both_backends!(appends_proofs_and_tiles_follow_rfc6962, |s: Store| async move {
    assert_eq!(ledger::size(&s.db).await.unwrap(), 0);
    let mut all = vec![];
    // Uneven batches cross tile and subtree boundaries.
    for batch in [1u64, 2, 5, 120, 300, 2] {
        let start = all.len() as u64;
        let leaves: Vec<_> = (start..start + batch).map(entry).collect();
        let idx = ledger::append(&s.db, &leaves).await.unwrap();
        assert_eq!(idx, (start..start + batch).collect::<Vec<_>>());
        all.extend(leaves.into_iter().map(|l| l.data));
        let size = all.len() as u64;
        assert_eq!(ledger::size(&s.db).await.unwrap(), size);
        assert_eq!(ledger::root_at(&s.db, size).await.unwrap(), root_of_entries(&all));
    }
    let size = all.len() as u64;
    let root = ledger::root_at(&s.db, size).await.unwrap();
    for index in [0, 1, 7, 128, 255, 256, 300, size - 1] {
        let proof = ledger::inclusion_proof(&s.db, size, index).await.unwrap();
        verify_inclusion(index, size, &leaf_hash(&all[index as usize]), &proof, &root).unwrap();
        // The proof for another leaf does not fit this one.
        let other = leaf_hash(&all[((index + 1) % size) as usize]);
        assert!(verify_inclusion(index, size, &other, &proof, &root).is_err());
    }
    for old in [1, 3, 8, 128, 256, 427] {
        let old_root = ledger::root_at(&s.db, old).await.unwrap();
        let proof = ledger::consistency_proof(&s.db, size, old).await.unwrap();
        verify_consistency(old, size, &proof, &old_root, &root).unwrap();
    }
    // The level-0 full tile holds the first 256 leaf hashes; the partial one the rest.
    let full = ledger::tile(&s.db, &TilePath::parse("tile/0/000").unwrap(), size)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(full.len(), 256 * 32);
    assert_eq!(&full[..32], &leaf_hash(&all[0]));
    let w = size - 256;
    let part = ledger::tile(
        &s.db,
        &TilePath::parse(&format!("tile/0/001.p/{w}")).unwrap(),
        size,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&part[part.len() - 32..], &leaf_hash(&all[size as usize - 1]));
    let bundle = ledger::tile(&s.db, &TilePath::parse("tile/entries/000").unwrap(), size)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&bundle[..2], &(all[0].len() as u16).to_be_bytes());
    // Beyond the tree: refused, not served.
    let beyond = ledger::tile(&s.db, &TilePath::parse("tile/0/002").unwrap(), size)
        .await
        .unwrap();
    assert!(matches!(beyond, Err(TileError::BeyondTree { .. })));
    // Leaves by document.
    assert_eq!(
        ledger::leaves_of(&s.db, "HB-0000000000000007").await.unwrap(),
        vec![(7, all[7].clone())]
    );
});

both_backends!(concurrent_appends_never_share_an_index, |s: Store| async move {
    ledger::append(&s.db, &[entry(0)]).await.unwrap();
    let mut tasks = vec![];
    for w in 0..4u64 {
        let db = s.db.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = vec![];
            for k in 0..5u64 {
                let e = entry(1000 + w * 100 + k);
                loop {
                    match ledger::append(&db, std::slice::from_ref(&e)).await {
                        Ok(i) => {
                            got.extend(i);
                            break;
                        }
                        // SQLite answers a busy writer with an error: try again.
                        Err(err)
                            if err.to_string().contains("locked") || err.to_string().contains("busy") =>
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await
                        }
                        Err(err) => panic!("{err}"),
                    }
                }
            }
            got
        }));
    }
    let mut indexes = vec![];
    for t in tasks {
        indexes.extend(t.await.unwrap());
    }
    indexes.sort();
    assert_eq!(indexes, (1..21).collect::<Vec<u64>>());
    // The root is that of the leaves in their assigned order.
    let mut leaves = vec![];
    for i in 0..21 {
        leaves.push(ledger::leaf(&s.db, i).await.unwrap().unwrap());
    }
    assert_eq!(
        ledger::root_at(&s.db, 21).await.unwrap(),
        root_of_entries(&leaves)
    );
});

both_backends!(checkpoints_and_witness_heads, |s: Store| async move {
    assert_eq!(ledger::latest_checkpoint(&s.db).await.unwrap(), None);
    ledger::save_checkpoint(&s.db, 3, &[1; 32], "log\n3\nAQ==\n\n— log sig\n")
        .await
        .unwrap();
    ledger::save_checkpoint(&s.db, 5, &[2; 32], "log\n5\nAg==\n\n— log sig\n")
        .await
        .unwrap();
    ledger::set_cosigned(&s.db, 5, "log\n5\nAg==\n\n— log sig\n— w1 sig\n", 1)
        .await
        .unwrap();
    let (size, note) = ledger::latest_checkpoint(&s.db).await.unwrap().unwrap();
    assert_eq!(size, 5);
    assert!(note.ends_with("— w1 sig\n"));
    assert!(ledger::checkpoint_at(&s.db, 3).await.unwrap().is_some());
    // A witness head moves by compare-and-swap on the size it last saw.
    assert!(
        ledger::advance_witness_head(&s.db, "log", None, 3, &[1; 32])
            .await
            .unwrap()
    );
    assert!(
        !ledger::advance_witness_head(&s.db, "log", None, 4, &[1; 32])
            .await
            .unwrap()
    );
    assert!(
        !ledger::advance_witness_head(&s.db, "log", Some(2), 4, &[1; 32])
            .await
            .unwrap()
    );
    assert!(
        ledger::advance_witness_head(&s.db, "log", Some(3), 5, &[2; 32])
            .await
            .unwrap()
    );
    assert_eq!(
        ledger::witness_head(&s.db, "log").await.unwrap(),
        Some((5, [2; 32]))
    );
});
