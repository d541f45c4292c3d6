//! RFC 6962 hashing and proofs against the transparency-dev/merkle vectors (vendored under
//! testdata/, see testdata/README.md), the constants of its testonly/constants.go,
//! rfc6962/rfc6962_test.go and proof/verify_test.go, and exhaustive generated proofs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use truongso_ledger::merkle::{
    self, EMPTY_ROOT, Hash, ProofError, consistency_proof, inclusion_proof, leaf_hash, node_hash,
    root_from_leaf_hashes, verify_consistency, verify_inclusion,
};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn h(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str).unwrap()
}

fn h32(hex_str: &str) -> Hash {
    h(hex_str).try_into().unwrap()
}

/// testonly/constants.go LeafInputs.
fn leaf_inputs() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| h(s))
    .collect()
}

/// testonly/constants.go RootHashes, indexed by tree size.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// testonly/constants.go NodeHashes: [level][index] of complete subtrees of the 8 leaves.
fn node_hashes() -> Vec<Vec<Hash>> {
    vec![
        vec![
            h32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h32("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h32("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
            h32("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
            h32("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h32("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
            h32("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h32("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
        ],
        vec![
            h32("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
            h32("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h32("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h32("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        ],
        vec![
            h32("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            h32("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
        vec![h32(
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        )],
    ]
}

fn leaf_hashes(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

#[test]
fn roots_of_sizes_0_to_8() {
    let leaves: Vec<Hash> = leaf_inputs().iter().map(|l| leaf_hash(l)).collect();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            hex::encode(root_from_leaf_hashes(&leaves[..size])),
            *want,
            "size {size}"
        );
        assert_eq!(
            hex::encode(merkle::root_of_entries(&leaf_inputs()[..size])),
            *want,
            "size {size}"
        );
    }
}

#[test]
fn node_hashes_of_constants_go() {
    let leaves: Vec<Hash> = leaf_inputs().iter().map(|l| leaf_hash(l)).collect();
    let nodes = node_hashes();
    assert_eq!(nodes[0], leaves);
    for level in 1..nodes.len() {
        for (i, want) in nodes[level].iter().enumerate() {
            assert_eq!(
                node_hash(&nodes[level - 1][2 * i], &nodes[level - 1][2 * i + 1]),
                *want,
                "{level} {i}"
            );
            let span = 1 << level;
            assert_eq!(root_from_leaf_hashes(&leaves[i * span..(i + 1) * span]), *want);
        }
    }
}

#[test]
fn rfc6962_hasher_vectors() {
    assert_eq!(
        hex::encode(EMPTY_ROOT),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex::encode(leaf_hash(b"")),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    );
    assert_eq!(
        hex::encode(leaf_hash(b"L123456")),
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    );
    // HashChildren("N123", "N456") hashes raw 4-byte strings, not 32-byte hashes.
    let mut node = vec![0x01];
    node.extend_from_slice(b"N123N456");
    assert_eq!(
        hex::encode(merkle::sha256(&node)),
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    );
    // Collisions: leaf vs node domain separation and order.
    let (a, b) = (leaf_hash(b"Hello"), leaf_hash(b"World"));
    assert_ne!(a, b);
    let mut concat = a.to_vec();
    concat.extend_from_slice(&b);
    assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
    assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
}

fn b64_field(v: &Value, key: &str) -> Vec<u8> {
    B64.decode(v[key].as_str().unwrap_or_else(|| panic!("{key} missing")))
        .unwrap()
}

fn b64_list(v: &Value) -> Vec<Vec<u8>> {
    match &v["proof"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|i| B64.decode(i.as_str().unwrap()).unwrap())
            .collect(),
        other => panic!("bad proof {other}"),
    }
}

fn check_vector(path: &Path, v: &Value) -> Result<(), ProofError> {
    if path.components().any(|c| c.as_os_str() == "inclusion") {
        let index = v
            .get("leafIdx")
            .or_else(|| v.get("leafIndex"))
            .and_then(Value::as_u64)
            .unwrap();
        let size = v["treeSize"].as_u64().unwrap();
        verify_inclusion(
            index,
            size,
            &b64_field(v, "leafHash"),
            &b64_list(v),
            &b64_field(v, "root"),
        )
    } else {
        verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &b64_list(v),
            &b64_field(v, "root1"),
            &b64_field(v, "root2"),
        )
    }
}

fn vendored_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["inclusion", "consistency"] {
        for dir in std::fs::read_dir(testdata().join(kind)).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_vendored_vector_has_the_expected_outcome() {
    let files = vendored_files();
    let manifest = std::fs::read_to_string(testdata().join("MANIFEST.tsv")).unwrap();
    let listed: BTreeSet<PathBuf> = manifest
        .lines()
        .map(|l| testdata().join(l.split('\t').next().unwrap()))
        .collect();
    assert_eq!(
        files.iter().cloned().collect::<BTreeSet<_>>(),
        listed,
        "MANIFEST.tsv lists exactly the files"
    );
    assert_eq!(files.len(), 231);

    let (mut valid, mut invalid) = (0, 0);
    for path in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let got = check_vector(path, &v);
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", path.display());
        if want_err { invalid += 1 } else { valid += 1 }
    }
    // One happy path per directory: inclusion 0..=4 and consistency 0..=4.
    assert_eq!(valid, 10);
    assert_eq!(invalid, 221);
}

/// RFC 9162 verification without the policy fixes (any hash length, a consistency proof from
/// size 0 always accepted, no empty-root rule), as older transparency-dev code behaved.
mod naive {
    use super::*;

    fn node(l: &[u8], r: &[u8]) -> Vec<u8> {
        let mut m = vec![1u8];
        m.extend_from_slice(l);
        m.extend_from_slice(r);
        merkle::sha256(&m).to_vec()
    }

    pub fn inclusion(index: u64, size: u64, leaf: &[u8], proof: &[Vec<u8>], root: &[u8]) -> bool {
        if index >= size {
            return false;
        }
        let (mut f, mut s, mut r) = (index, size - 1, leaf.to_vec());
        for p in proof {
            if s == 0 {
                return false;
            }
            if f & 1 == 1 || f == s {
                r = node(p, &r);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                r = node(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        s == 0 && r == root
    }

    pub fn consistency(size1: u64, size2: u64, proof: &[Vec<u8>], root1: &[u8], root2: &[u8]) -> bool {
        if size1 > size2 {
            return false;
        }
        if size1 == size2 {
            return proof.is_empty() && root1 == root2;
        }
        if size1 == 0 {
            return proof.is_empty();
        }
        if proof.is_empty() {
            return false;
        }
        let mut path = proof.to_vec();
        if size1.is_power_of_two() {
            path.insert(0, root1.to_vec());
        }
        let (mut f, mut s) = (size1 - 1, size2 - 1);
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let (mut fr, mut sr) = (path[0].clone(), path[0].clone());
        for c in &path[1..] {
            if s == 0 {
                return false;
            }
            if f & 1 == 1 || f == s {
                fr = node(c, &fr);
                sr = node(c, &sr);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                sr = node(&sr, c);
            }
            f >>= 1;
            s >>= 1;
        }
        s == 0 && fr == root1 && sr == root2
    }
}

#[test]
fn the_four_policy_cases_fail_where_a_naive_verifier_accepts() {
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let none: Vec<Vec<u8>> = Vec::new();

    // 1. Hashes that are not 32 bytes (verify_test.go: a 1-leaf tree with empty hashes).
    assert!(naive::inclusion(0, 1, b"", &none, b""));
    assert_eq!(
        verify_inclusion(0, 1, b"", &none, b""),
        Err(ProofError::BadHashLength(0))
    );
    // 2. Same size, same but short roots ("don't care 2" in verify_test.go).
    assert!(naive::consistency(1, 1, &none, b"don't care 2", b"don't care 2"));
    assert_eq!(
        verify_consistency(1, 1, &none, b"don't care 2", b"don't care 2"),
        Err(ProofError::BadHashLength(12))
    );
    // 3. A consistency proof from the empty tree.
    let one = root_from_leaf_hashes(&[leaf_hash(b"x")]);
    assert!(naive::consistency(0, 1, &none, &EMPTY_ROOT, &one));
    assert_eq!(
        verify_consistency(0, 1, &none, &EMPTY_ROOT, &one),
        Err(ProofError::FromEmptyTree)
    );
    // 4. The empty tree with another root than SHA-256("").
    assert!(naive::consistency(0, 0, &none, &some_hash, &some_hash));
    assert_eq!(
        verify_consistency(0, 0, &none, &some_hash, &some_hash),
        Err(ProofError::EmptyTreeRoot)
    );
    assert_eq!(verify_consistency(0, 0, &none, &EMPTY_ROOT, &EMPTY_ROOT), Ok(()));
}

/// The vendored vectors never rely on the policy fixes: a verifier without them reaches the same
/// verdict on every file, so the four policy cases are covered by the test above.
#[test]
fn naive_and_policy_verifiers_agree_on_every_vendored_vector() {
    let mut differ = Vec::new();
    for path in vendored_files() {
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let ours = check_vector(&path, &v).is_ok();
        let theirs = if path.components().any(|c| c.as_os_str() == "inclusion") {
            let index = v
                .get("leafIdx")
                .or_else(|| v.get("leafIndex"))
                .and_then(Value::as_u64)
                .unwrap();
            naive::inclusion(
                index,
                v["treeSize"].as_u64().unwrap(),
                &b64_field(&v, "leafHash"),
                &b64_list(&v),
                &b64_field(&v, "root"),
            )
        } else {
            naive::consistency(
                v["size1"].as_u64().unwrap(),
                v["size2"].as_u64().unwrap(),
                &b64_list(&v),
                &b64_field(&v, "root1"),
                &b64_field(&v, "root2"),
            )
        };
        if ours != theirs {
            differ.push(path.strip_prefix(testdata()).unwrap().display().to_string());
        }
    }
    assert_eq!(differ, Vec::<String>::new());
}

/// verify_test.go inclusionProofs (1-based leaf numbers) and consistencyProofs.
#[test]
fn verify_test_go_known_proofs_and_their_corruptions() {
    let leaves: Vec<Hash> = leaf_inputs().iter().map(|l| leaf_hash(l)).collect();
    let root = |size: usize| h32(ROOTS[size]);
    let inclusion: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            3,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            2,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (leaf, size, proof) in inclusion {
        let proof: Vec<Hash> = proof.iter().map(|p| h32(p)).collect();
        let index = leaf - 1;
        assert_eq!(
            inclusion_proof(&leaves[..size as usize], index).unwrap(),
            proof,
            "{leaf} {size}"
        );
        let lh = leaves[index as usize];
        let r = root(size as usize);
        verify_inclusion(index, size, &lh, &proof, &r).unwrap();
        // corruptInclusionProof probes.
        let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        let mut probes: Vec<Probe> = vec![
            (index.wrapping_sub(1), size, lh.to_vec(), v(&proof), r.to_vec()),
            (index + 1, size, lh.to_vec(), v(&proof), r.to_vec()),
            (index ^ 2, size, lh.to_vec(), v(&proof), r.to_vec()),
            (index, size * 2, lh.to_vec(), v(&proof), r.to_vec()),
            (index, size / 2, lh.to_vec(), v(&proof), r.to_vec()),
            (index, size, b"WrongLeaf".to_vec(), v(&proof), r.to_vec()),
            (index, size, lh.to_vec(), v(&proof), EMPTY_ROOT.to_vec()),
            (index, size, lh.to_vec(), v(&proof), some.clone()),
            (
                index,
                size,
                lh.to_vec(),
                [v(&proof), vec![vec![]]].concat(),
                r.to_vec(),
            ),
            (
                index,
                size,
                lh.to_vec(),
                [v(&proof), vec![r.to_vec()]].concat(),
                r.to_vec(),
            ),
            (
                index,
                size,
                lh.to_vec(),
                [vec![vec![]], v(&proof)].concat(),
                r.to_vec(),
            ),
            (
                index,
                size,
                lh.to_vec(),
                [vec![r.to_vec()], v(&proof)].concat(),
                r.to_vec(),
            ),
        ];
        for i in 0..proof.len() {
            let mut bad = v(&proof);
            bad[i][0] ^= 8;
            probes.push((index, size, lh.to_vec(), bad, r.to_vec()));
        }
        if !proof.is_empty() {
            probes.push((index, size, lh.to_vec(), v(&proof[..proof.len() - 1]), r.to_vec()));
        }
        if proof.len() > 1 {
            let inserted = [vec![proof[0].to_vec(), some.clone()], v(&proof[1..])].concat();
            probes.push((index, size, lh.to_vec(), inserted, r.to_vec()));
        }
        for (i, (idx, sz, l, p, rt)) in probes.iter().enumerate() {
            assert!(
                verify_inclusion(*idx, *sz, l, p, rt).is_err(),
                "leaf {leaf} size {size} probe {i}"
            );
        }
    }

    let consistency: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (size1, size2, proof) in consistency {
        let proof: Vec<Hash> = proof.iter().map(|p| h32(p)).collect();
        assert_eq!(
            consistency_proof(&leaves[..size2 as usize], size1).unwrap(),
            proof,
            "{size1} {size2}"
        );
        verify_consistency(size1, size2, &proof, &root(size1 as usize), &root(size2 as usize)).unwrap();
    }

    // TestVerifyConsistency table rows that stay refusals under our policy.
    let (r1, r2): (&[u8], &[u8]) = (b"don't care 1", b"don't care 2");
    let none: Vec<Vec<u8>> = Vec::new();
    let one_empty = vec![EMPTY_ROOT.to_vec()];
    assert!(verify_consistency(0, 0, &none, r1, r2).is_err());
    assert!(verify_consistency(1, 1, &none, r1, r2).is_err());
    assert!(verify_consistency(1, 0, &none, r1, r2).is_err());
    assert!(verify_consistency(2, 1, &none, r1, r2).is_err());
    assert!(verify_consistency(1, 2, &none, r1, r2).is_err());
    assert!(verify_consistency(0, 0, &none, &EMPTY_ROOT, r2).is_err());
    assert!(verify_consistency(1, 1, &none, &EMPTY_ROOT, r2).is_err());
    assert!(verify_consistency(0, 0, &one_empty, &EMPTY_ROOT, &EMPTY_ROOT).is_err());
    assert!(verify_consistency(0, 1, &one_empty, &EMPTY_ROOT, &EMPTY_ROOT).is_err());
    assert!(verify_consistency(1, 1, &one_empty, &EMPTY_ROOT, &EMPTY_ROOT).is_err());
}

/// (leaf index, tree size, leaf hash, proof, root), as verify_test.go's inclusionProbe.
type Probe = (u64, u64, Vec<u8>, Vec<Vec<u8>>, Vec<u8>);

fn v(proof: &[Hash]) -> Vec<Vec<u8>> {
    proof.iter().map(|p| p.to_vec()).collect()
}

#[test]
fn generated_inclusion_proofs_up_to_64_verify_and_any_bit_flip_breaks_them() {
    let all = leaf_hashes(64);
    for size in 1..=64u64 {
        let leaves = &all[..size as usize];
        let root = root_from_leaf_hashes(leaves);
        for index in 0..size {
            let proof = inclusion_proof(leaves, index).unwrap();
            let lh = leaves[index as usize];
            verify_inclusion(index, size, &lh, &proof, &root).unwrap();
            assert_eq!(
                merkle::root_from_inclusion_proof(index, size, &lh, &proof).unwrap(),
                root
            );
            for (i, bit) in (0..proof.len()).flat_map(|i| (0..256).map(move |b| (i, b))) {
                let mut bad = proof.clone();
                bad[i][bit / 8] ^= 1 << (bit % 8);
                assert_eq!(
                    verify_inclusion(index, size, &lh, &bad, &root),
                    Err(ProofError::RootMismatch)
                );
            }
            for bit in 0..256 {
                let mut bad_leaf = lh;
                bad_leaf[bit / 8] ^= 1 << (bit % 8);
                assert!(verify_inclusion(index, size, &bad_leaf, &proof, &root).is_err());
            }
        }
        assert_eq!(
            inclusion_proof(leaves, size),
            Err(ProofError::IndexOutOfRange { index: size, size })
        );
    }
}

#[test]
fn generated_consistency_proofs_for_every_pair_up_to_64() {
    let all = leaf_hashes(64);
    let roots: Vec<Hash> = (0..=64).map(|n| root_from_leaf_hashes(&all[..n])).collect();
    for n in 1..=64u64 {
        let leaves = &all[..n as usize];
        for m in 1..=n {
            let proof = consistency_proof(leaves, m).unwrap();
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            verify_consistency(m, n, &proof, &r1, &r2).unwrap();
            if m == n {
                assert!(proof.is_empty());
                continue;
            }
            for i in 0..proof.len() {
                for bit in [0usize, 7, 100, 255] {
                    let mut bad = proof.clone();
                    bad[i][bit / 8] ^= 1 << (bit % 8);
                    assert!(
                        verify_consistency(m, n, &bad, &r1, &r2).is_err(),
                        "{m} {n} {i} {bit}"
                    );
                }
            }
            // Another old root or new root must not verify.
            if m > 1 {
                assert!(verify_consistency(m, n, &proof, &roots[m as usize - 1], &r2).is_err());
            }
            assert!(verify_consistency(m, n, &proof, &r1, &roots[n as usize - 1]).is_err());
            assert!(verify_consistency(m, n, &proof[..proof.len() - 1], &r1, &r2).is_err());
        }
    }
}
