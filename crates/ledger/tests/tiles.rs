//! C2SP tlog-tiles: paths, tile contents, partial tiles, refusals, entry bundles, and inclusion
//! proofs recomputed from fetched tiles alone.

use std::collections::HashMap;

use truongso_ledger::log::{Log, LogError};
use truongso_ledger::merkle::{Hash, leaf_hash, root_from_leaf_hashes};
use truongso_ledger::storage::{self, MemoryStorage};
use truongso_ledger::tiles::{
    self, TileError, TileKind, TilePath, decode_entry_bundle, encode_entry_bundle, encode_tile_index,
    inclusion_proof_from_tiles, parse_tile_index,
};

fn build(n: u64) -> (Log<MemoryStorage>, Vec<Vec<u8>>) {
    let mut log = Log::new("tiles.example/log", MemoryStorage::new());
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}").into_bytes()).collect();
    log.append_all(&entries).unwrap();
    (log, entries)
}

#[test]
fn path_round_trips() {
    let cases = [
        ("tile/0/000", TilePath::hashes(0, 0, 256).unwrap()),
        ("tile/0/001.p/5", TilePath::hashes(0, 1, 5).unwrap()),
        (
            "tile/3/x001/x234/067",
            TilePath::hashes(3, 1_234_067, 256).unwrap(),
        ),
        (
            "tile/63/x001/x234/067.p/255",
            TilePath::hashes(63, 1_234_067, 255).unwrap(),
        ),
        ("tile/entries/x001/000", TilePath::entries(1000, 256).unwrap()),
        ("tile/entries/999.p/1", TilePath::entries(999, 1).unwrap()),
    ];
    for (path, tile) in cases {
        assert_eq!(TilePath::parse(path).unwrap(), tile, "{path}");
        assert_eq!(tile.to_path(), path);
        assert_eq!(tile.to_string(), path);
    }
    assert_eq!(encode_tile_index(1_234_067), "x001/x234/067");
    assert_eq!(parse_tile_index("x001/x234/067").unwrap(), 1_234_067);
    for n in [
        0u64,
        1,
        999,
        1000,
        1001,
        999_999,
        1_000_000,
        123_456_789_012,
        u64::MAX,
    ] {
        assert_eq!(parse_tile_index(&encode_tile_index(n)).unwrap(), n);
    }
    assert_eq!(
        TilePath::parse("tile/entries/000").unwrap().kind,
        TileKind::Entries
    );
}

#[test]
fn malformed_paths_are_refused() {
    let bad = [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "0/000",
        "/tile/0/000",
        "tile/00/000", // level with a leading zero
        "tile/-1/000",
        "tile/a/000",
        "tile/0/0", // not three digits
        "tile/0/0000",
        "tile/0/1234",
        "tile/0/x1/000",
        "tile/0/001/234",   // group without x
        "tile/0/x000/234",  // non-canonical leading zero group
        "tile/0/x001/x234", // last group with x
        "tile/0/x001//234",
        "tile/0/000.p/0",   // width 0
        "tile/0/000.p/256", // a full tile has no .p
        "tile/0/000.p/05",  // width with a leading zero
        "tile/0/000.p/",
        "tile/0/000.p/1/2",
        "tile/0/000.q/1",
        "tile/0/x018/x446/x744/x073/x709/x551/616", // overflows u64
        "tile/entries/000.p/300",
        "tile/entries",
        "tile/data/000",
        "tile/0/000 ",
        "tile/0/+00",
    ];
    for path in bad {
        assert!(TilePath::parse(path).is_err(), "{path:?}");
    }
    assert_eq!(TilePath::parse("tile/64/000"), Err(TileError::LevelTooHigh(64)));
    assert_eq!(TilePath::parse("tile/0/000.p/256"), Err(TileError::BadWidth(256)));
    assert_eq!(TilePath::parse("tile/0/000.p/0"), Err(TileError::BadWidth(0)));
    assert!(TilePath::hashes(64, 0, 1).is_err());
    assert!(TilePath::hashes(0, 0, 257).is_err());
    assert!(TilePath::entries(0, 0).is_err());
}

/// Hash of the complete subtree of `256^level` leaves number `n`, from the leaves.
fn subtree(leaves: &[Hash], level: u32, n: usize) -> Hash {
    let span = 256usize.pow(level);
    root_from_leaf_hashes(&leaves[n * span..(n + 1) * span])
}

#[test]
fn tile_contents_equal_recomputed_subtree_hashes() {
    let n = 70_000u64;
    let (log, entries) = build(n);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let all = tiles::hash_tiles_for_size(n);
    assert_eq!(all.len(), 273 + 1 + 1 + 1 + 1);
    for tile in &all {
        let data = log.tile(tile).unwrap();
        assert_eq!(data.len(), usize::from(tile.width) * 32, "{tile}");
        let level = u32::from(tile.level());
        for (i, chunk) in data.chunks(32).enumerate() {
            let want = subtree(&leaves, level, tile.index as usize * 256 + i);
            assert_eq!(chunk, want, "{tile} hash {i}");
        }
    }
    // Partial tiles: rightmost of each level, widths as the spec example says.
    let level2 = TilePath::parse("tile/2/000.p/1").unwrap();
    assert_eq!(log.tile(&level2).unwrap(), subtree(&leaves, 2, 0).to_vec());
    let level1 = TilePath::parse("tile/1/001.p/17").unwrap();
    assert_eq!(log.tile(&level1).unwrap().len(), 17 * 32);
    // A narrower partial tile is the prefix of the wider one: older checkpoints keep working.
    let narrow = TilePath::parse("tile/0/273.p/50").unwrap();
    let wide = TilePath::parse("tile/0/273.p/112").unwrap();
    assert_eq!(log.tile(&narrow).unwrap(), log.tile(&wide).unwrap()[..50 * 32]);
}

#[test]
fn tiles_beyond_the_tree_are_refused() {
    let (log, _) = build(1000);
    let beyond = [
        "tile/0/003.p/233", // 1001 leaves
        "tile/0/003",       // 1024 leaves
        "tile/0/004.p/1",
        "tile/1/000.p/4", // 1024 leaves
        "tile/1/000",
        "tile/2/000.p/1", // 65536 leaves
        "tile/63/000.p/1",
        "tile/entries/003",
        "tile/entries/003.p/233",
    ];
    for path in beyond {
        let tile = TilePath::parse(path).unwrap();
        let err = log.tile(&tile).unwrap_err();
        assert_eq!(
            err,
            LogError::Tile(TileError::BeyondTree { tree_size: 1000 }),
            "{path}"
        );
        assert_eq!(err.code(), "tile_beyond_tree");
    }
    for path in [
        "tile/0/003.p/232",
        "tile/0/002",
        "tile/1/000.p/3",
        "tile/entries/003.p/232",
        "tile/entries/000",
    ] {
        assert!(log.tile(&TilePath::parse(path).unwrap()).is_ok(), "{path}");
    }
    assert_eq!(
        tiles::tile_for_tree_size(0, 3, 1000).unwrap().to_path(),
        "tile/0/003.p/232"
    );
    assert_eq!(
        tiles::tile_for_tree_size(0, 2, 1000).unwrap().to_path(),
        "tile/0/002"
    );
    assert_eq!(
        tiles::tile_for_tree_size(1, 0, 1000).unwrap().to_path(),
        "tile/1/000.p/3"
    );
    assert_eq!(tiles::tile_for_tree_size(0, 4, 1000), None);
    assert_eq!(tiles::tile_for_tree_size(2, 0, 1000), None);
    assert_eq!(
        tiles::tile_for_tree_size(0, 3, 1024).unwrap().to_path(),
        "tile/0/003"
    );
}

#[test]
fn entry_bundles_encode_decode_and_match_level_0_tiles() {
    let (log, entries) = build(1000);
    let bundles = tiles::entry_bundles_for_size(1000);
    assert_eq!(
        bundles.iter().map(|b| b.to_path()).collect::<Vec<_>>(),
        [
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002",
            "tile/entries/003.p/232"
        ]
    );
    for bundle in bundles {
        let data = log.tile(&bundle).unwrap();
        let decoded = decode_entry_bundle(&data).unwrap();
        let start = bundle.index as usize * 256;
        assert_eq!(decoded, entries[start..start + usize::from(bundle.width)]);
        // Each entry hashes to the matching hash of the level-0 tile.
        let tile = log
            .tile(&TilePath {
                kind: TileKind::Hashes { level: 0 },
                ..bundle
            })
            .unwrap();
        for (i, e) in decoded.iter().enumerate() {
            assert_eq!(leaf_hash(e), tile[i * 32..(i + 1) * 32]);
        }
    }
    let encoded = encode_entry_bundle(&[b"".to_vec(), b"ab".to_vec(), vec![7; 300]]).unwrap();
    assert_eq!(&encoded[..6], &[0, 0, 0, 2, b'a', b'b']);
    assert_eq!(&encoded[6..8], &[0x01, 0x2c]);
    assert_eq!(encoded.len(), 2 + 4 + 302);
    assert_eq!(
        decode_entry_bundle(&encoded).unwrap(),
        [b"".to_vec(), b"ab".to_vec(), vec![7; 300]]
    );
    assert_eq!(
        encode_entry_bundle(&[vec![0; 65_536]]),
        Err(TileError::EntryTooLarge(65_536))
    );
    assert_eq!(encode_entry_bundle(&[vec![1; 65_535]]).unwrap().len(), 65_537);
    assert!(decode_entry_bundle(&[0]).is_err());
    assert!(decode_entry_bundle(&[0, 3, 1, 2]).is_err());
    assert_eq!(decode_entry_bundle(&[]).unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn inclusion_proofs_from_tiles_equal_direct_proofs() {
    for n in [1u64, 2, 255, 256, 257, 1000, 65_536, 70_000] {
        let (log, _) = build(n);
        let published: HashMap<String, Vec<u8>> = tiles::hash_tiles_for_size(n)
            .iter()
            .map(|t| (t.to_path(), log.tile(t).unwrap()))
            .collect();
        let mut fetched = Vec::new();
        let mut indexes = vec![0, n / 2, n - 1];
        indexes.extend([255, 256, 65_535, 65_536, 69_999].iter().filter(|&&i| i < n));
        for index in indexes {
            fetched.clear();
            let from_tiles = inclusion_proof_from_tiles(n, index, |path: &TilePath| {
                fetched.push(path.to_path());
                published.get(&path.to_path()).cloned().ok_or("404")
            })
            .unwrap();
            assert_eq!(
                from_tiles,
                log.inclusion_proof(n, index).unwrap(),
                "{index} of {n}"
            );
            // Each tile is fetched once, at most two per tile level (the leaf's own and the
            // right edge).
            let levels = tiles::hash_tiles_for_size(n)
                .iter()
                .map(|t| t.level())
                .max()
                .unwrap() as usize
                + 1;
            let unique: std::collections::BTreeSet<_> = fetched.iter().collect();
            assert_eq!(unique.len(), fetched.len(), "{fetched:?}");
            assert!(fetched.len() <= 2 * levels, "{fetched:?}");
        }
    }
}

#[test]
fn tile_client_reports_missing_short_and_tampered_tiles() {
    let (log, entries) = build(1000);
    let root = log.root(1000).unwrap();
    let published: HashMap<String, Vec<u8>> = tiles::hash_tiles_for_size(1000)
        .iter()
        .map(|t| (t.to_path(), log.tile(t).unwrap()))
        .collect();

    let missing = inclusion_proof_from_tiles(1000, 5, |p: &TilePath| {
        if p.level() == 1 {
            Err("404 Not Found".to_string())
        } else {
            Ok(published[&p.to_path()].clone())
        }
    });
    assert_eq!(
        missing,
        Err(TileError::Fetch {
            path: "tile/1/000.p/3".into(),
            reason: "404 Not Found".into()
        })
    );
    assert_eq!(missing.unwrap_err().code(), "tile_fetch_failed");

    let short = inclusion_proof_from_tiles(1000, 5, |p: &TilePath| {
        let mut data = published[&p.to_path()].clone();
        data.pop();
        Ok::<_, String>(data)
    });
    assert_eq!(
        short,
        Err(TileError::WrongTileSize {
            path: "tile/0/000".into(),
            expected: 8192,
            got: 8191
        })
    );

    // A tampered tile still yields a proof, but it no longer leads to the signed root.
    let tampered = inclusion_proof_from_tiles(1000, 5, |p: &TilePath| {
        let mut data = published[&p.to_path()].clone();
        if p.to_path() == "tile/0/000" {
            data[4 * 32] ^= 1; // leaf 4 is leaf 5's sibling
        }
        Ok::<_, String>(data)
    })
    .unwrap();
    assert!(storage::check_record(&tampered, 1000, &root, 5, &leaf_hash(&entries[5])).is_err());
    let good = inclusion_proof_from_tiles(1000, 5, |p: &TilePath| {
        Ok::<_, String>(published[&p.to_path()].clone())
    })
    .unwrap();
    storage::check_record(&good, 1000, &root, 5, &leaf_hash(&entries[5])).unwrap();
    assert!(
        inclusion_proof_from_tiles(1000, 1000, |p: &TilePath| Ok::<_, String>(
            published[&p.to_path()].clone()
        ))
        .is_err()
    );
}
