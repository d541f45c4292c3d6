//! Checkpoints, cosignatures and the witness policy, with the worked example of the domain
//! reference (credentials.md §3.9) reproduced byte for byte.

use truongso_ledger::checkpoint::{self, Checkpoint, CheckpointError};
use truongso_ledger::cosignature::{
    CosignatureError, CosignatureSigner, CosignatureVerifier, KeyRef, WitnessPolicy, cosigned_message,
};
use truongso_ledger::merkle::{EMPTY_ROOT, leaf_hash, root_from_leaf_hashes};
use truongso_ledger::note::{Note, NoteError, NoteSignature, NoteSigner};

const LOG_VKEY: &str = "hocba.example.vn/log1+1eee233b+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk";
const WITNESS_VKEY: &str = "witness.example.vn/w1+e611b41c+BOfxYqEL7FWa/qGV5NzoS2lWjV0ssJY+tEbAaF4rF/Lw";
const WORKED: &str = "hocba.example.vn/log1
8
XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

\u{2014} hocba.example.vn/log1 Hu4jO2AErwtpLWxSb6U2G3HPKknW+X5dXq0HWeQoZwVrVAKSZH7ydq1Rgswxj4YcRpS4qD3+Ka9Yxfw+tnnz5JCMygs=
\u{2014} witness.example.vn/w1 5hG0HAAAAABpVbkAHqD9bxzLjj4/29iTfKd0ScHNM9E8CVf9N9r6dz2lyf01MWxXNNFVpFdf8r6Ztb6uUk7Nn/aHT6cUTrg6H+96DQ==
";
const TIME: u64 = 1_767_225_600;

fn seed(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

fn log_signer() -> NoteSigner {
    NoteSigner::from_seed("hocba.example.vn/log1", &seed(0x01)).unwrap()
}

fn witness_signer() -> CosignatureSigner {
    CosignatureSigner::from_seed("witness.example.vn/w1", &seed(0x21)).unwrap()
}

fn standard_root() -> [u8; 32] {
    let leaves: Vec<_> = [
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
    .map(|h| leaf_hash(&hex::decode(h).unwrap()))
    .collect();
    root_from_leaf_hashes(&leaves)
}

#[test]
fn worked_example_is_reproduced_byte_exact() {
    let log = log_signer();
    let witness = witness_signer();
    assert_eq!(log.vkey(), LOG_VKEY);
    assert_eq!(witness.vkey(), WITNESS_VKEY);

    let cp = Checkpoint::new("hocba.example.vn/log1", 8, standard_root()).unwrap();
    let signed = cp.sign(&[&log]).unwrap();
    let mut note = Note::parse(signed.as_bytes()).unwrap();
    let cosig = witness.cosign(&note.text, TIME).unwrap();
    assert_eq!(cosig.signature.len(), 72);
    assert_eq!(hex::encode(&cosig.signature[..8]), "000000006955b900");
    note.signatures.push(cosig);
    assert_eq!(note.to_string(), WORKED);

    // And it verifies the other way round: one log signature, one cosignature.
    let opened = checkpoint::open(WORKED.as_bytes(), &[log.verifier()]).unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.verified.verified.len(), 1);
    assert_eq!(opened.verified.unverified.len(), 1);
    let policy = WitnessPolicy::from_vkeys(&[WITNESS_VKEY], 1).unwrap();
    let log_key = KeyRef {
        name: "hocba.example.vn/log1".into(),
        key_id: 0x1eee233b,
    };
    let report = policy.evaluate(&opened.note, &[log_key]);
    assert!(report.quorum_met());
    assert_eq!(report.cosigned.len(), 1);
    assert_eq!(report.cosigned[0].timestamp, TIME);
    assert_eq!(report.cosigned[0].key_id, 0xe611b41c);
    assert!(report.unknown.is_empty() && report.invalid.is_empty());
}

#[test]
fn checkpoint_text_rules() {
    let root_b64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    let cp = Checkpoint::parse(&format!("example.com/log\n8\n{root_b64}\n")).unwrap();
    assert_eq!(
        (cp.origin.as_str(), cp.size, cp.root),
        ("example.com/log", 8, standard_root())
    );
    let with_ext = Checkpoint::parse(&format!("example.com/log\n8\n{root_b64}\nTimestamp: 1\nx\n")).unwrap();
    assert_eq!(with_ext.extensions, ["Timestamp: 1", "x"]);
    assert_eq!(
        with_ext.to_text(),
        format!("example.com/log\n8\n{root_b64}\nTimestamp: 1\nx\n")
    );
    let empty = Checkpoint::new("example.com/log", 0, EMPTY_ROOT).unwrap();
    assert_eq!(
        empty.to_text(),
        "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    );
    assert_eq!(Checkpoint::parse(&empty.to_text()).unwrap(), empty);
    let max = format!("o\n18446744073709551615\n{root_b64}\n");
    assert_eq!(Checkpoint::parse(&max).unwrap().size, u64::MAX);

    let bad = [
        format!("example.com/log\n8\n{root_b64}"),        // no final newline
        format!("\n8\n{root_b64}\n"),                     // empty origin
        "example.com/log\n8\n".to_string(),               // no root
        format!("example.com/log\n08\n{root_b64}\n"),     // leading zero
        format!("example.com/log\n+8\n{root_b64}\n"),     // sign
        format!("example.com/log\n 8\n{root_b64}\n"),     // space
        format!("example.com/log\n\n{root_b64}\n"),       // empty size
        format!("o\n18446744073709551616\n{root_b64}\n"), // overflow
        "example.com/log\n8\nXcnaeacGWamtVZy3Ad7Zoqud\n".to_string(), // 18 bytes
        "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n".to_string(), // non-canonical
        "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n".to_string(), // no padding
        format!("example.com/log\n8\n{root_b64}\n\n"),    // empty extension line
        format!("example.com/log\n8\n{root_b64}\na\tb\n"), // control character
    ];
    for text in &bad {
        assert!(
            matches!(Checkpoint::parse(text), Err(CheckpointError::Malformed(_))),
            "{text:?}"
        );
    }
    assert!(Checkpoint::new("", 1, EMPTY_ROOT).is_err());
}

#[test]
fn checkpoint_open_needs_the_log_key() {
    let log = log_signer();
    let signed = Checkpoint::new("hocba.example.vn/log1", 8, standard_root())
        .unwrap()
        .sign(&[&log])
        .unwrap();
    let other = NoteSigner::from_seed("hocba.example.vn/log1", &seed(0x50)).unwrap();
    assert_eq!(
        checkpoint::open(signed.as_bytes(), &[other.verifier()]).unwrap_err(),
        CheckpointError::Note(NoteError::NoVerifiedSignature)
    );
    let forged = signed.replacen("\n8\n", "\n9\n", 1);
    assert!(matches!(
        checkpoint::open(forged.as_bytes(), &[log.verifier()]),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
}

#[test]
fn cosignature_message_and_verification() {
    let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(
        String::from_utf8(cosigned_message(text, 1679315147)).unwrap(),
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
    let w = witness_signer();
    let v = CosignatureVerifier::from_vkey(WITNESS_VKEY).unwrap();
    let sig = w.cosign(text, 42).unwrap();
    assert_eq!(v.verify(text, &sig), Ok(42));
    // Other text, altered timestamp, altered signature, truncated signature, other key.
    assert_eq!(
        v.verify(&text.replace("163", "164"), &sig),
        Err(CosignatureError::InvalidSignature)
    );
    let mut later = sig.clone();
    later.signature[7] = 43;
    assert_eq!(v.verify(text, &later), Err(CosignatureError::InvalidSignature));
    let mut flipped = sig.clone();
    flipped.signature[40] ^= 1;
    assert_eq!(v.verify(text, &flipped), Err(CosignatureError::InvalidSignature));
    let short = NoteSignature {
        signature: sig.signature[..71].to_vec(),
        ..sig.clone()
    };
    assert_eq!(v.verify(text, &short), Err(CosignatureError::BadLength(71)));
    let mut huge = sig.clone();
    huge.signature[0] = 0x80;
    assert_eq!(
        v.verify(text, &huge),
        Err(CosignatureError::BadTimestamp(0x8000_0000_0000_0000 + 42))
    );
    assert_eq!(
        w.cosign(text, 1 << 63).unwrap_err(),
        CosignatureError::BadTimestamp(1 << 63)
    );
    let other = CosignatureSigner::from_seed("witness.example.vn/w2", &seed(0x60)).unwrap();
    assert_eq!(
        v.verify(text, &other.cosign(text, 42).unwrap()),
        Err(CosignatureError::WrongKey)
    );
    // A note key cannot be used as a cosignature key.
    assert!(CosignatureVerifier::from_vkey(LOG_VKEY).is_err());
}

#[test]
fn witness_policy_counts_only_known_valid_distinct_witnesses() {
    let log = log_signer();
    let text = Checkpoint::new("hocba.example.vn/log1", 8, standard_root())
        .unwrap()
        .to_text();
    let w1 = witness_signer();
    let w2 = CosignatureSigner::from_seed("so-gd.example.vn/w2", &seed(0x61)).unwrap();
    let w3 = CosignatureSigner::from_seed("bo-gd.example.vn/w3", &seed(0x71)).unwrap();
    let stranger = CosignatureSigner::from_seed("stranger.example/w", &seed(0x81)).unwrap();
    let policy = WitnessPolicy::new(vec![w1.verifier(), w2.verifier(), w3.verifier()], 2).unwrap();
    let log_ref = KeyRef {
        name: log.name().into(),
        key_id: log.key_id(),
    };

    let mut w2_bad = w2.cosign(&text, 5).unwrap();
    w2_bad.signature[20] ^= 0xff;
    let note = Note {
        text: text.clone(),
        signatures: vec![
            log.sign(&text).unwrap(),
            w1.cosign(&text, 10).unwrap(),
            w1.cosign(&text, 11).unwrap(),
            w2_bad,
            stranger.cosign(&text, 12).unwrap(),
        ],
    };
    let report = policy.evaluate(&note, std::slice::from_ref(&log_ref));
    assert_eq!(report.cosigned.len(), 1, "w1 twice counts once");
    assert_eq!(report.cosigned[0].name, "witness.example.vn/w1");
    assert_eq!(report.cosigned[0].timestamp, 10);
    assert_eq!(
        report.invalid,
        [KeyRef {
            name: "so-gd.example.vn/w2".into(),
            key_id: w2.key_id()
        }]
    );
    assert_eq!(
        report.unknown,
        [KeyRef {
            name: "stranger.example/w".into(),
            key_id: stranger.key_id()
        }]
    );
    assert!(!report.quorum_met());
    assert_eq!((report.quorum, report.witnesses), (2, 3));

    // Without ignoring the log key, its line shows up as unknown but still never counts.
    let report = policy.evaluate(&note, &[]);
    assert_eq!(report.unknown.len(), 2);
    assert_eq!(report.cosigned.len(), 1);

    let mut good = note.clone();
    good.signatures.push(w3.cosign(&text, 13).unwrap());
    let report = policy.evaluate(&good, &[log_ref]);
    assert!(report.quorum_met());
    assert_eq!(
        report
            .cosigned
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["witness.example.vn/w1", "bo-gd.example.vn/w3"]
    );

    assert!(WitnessPolicy::new(vec![w1.verifier()], 2).is_err());
    assert!(WitnessPolicy::new(vec![w1.verifier(), w1.verifier()], 1).is_err());
    let zero = WitnessPolicy::none();
    assert!(zero.evaluate(&note, &[]).quorum_met());
}
