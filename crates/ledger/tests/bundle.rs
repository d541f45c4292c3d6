//! c2sp.org/tlog-proof@v1 bundles: format, parse, and verification with a precise error for
//! every kind of failure.

use truongso_ledger::bundle::{BundleError, HEADER, TlogProof, TrustedLog};
use truongso_ledger::cosignature::{CosignatureSigner, WitnessPolicy};
use truongso_ledger::log::Log;
use truongso_ledger::merkle::leaf_hash;
use truongso_ledger::note::{Note, NoteSigner};
use truongso_ledger::storage::MemoryStorage;

const ORIGIN: &str = "hocba.example.vn/log1";

struct Setup {
    log: Log<MemoryStorage>,
    key: NoteSigner,
    witnesses: Vec<CosignatureSigner>,
    /// Checkpoint of size 100 with the log signature and cosignatures of witnesses 0 and 1.
    signed: String,
}

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"v\":\"hbs-event/v1\",\"type\":\"issue\",\"doc_id\":\"HB-{i:05}\"}}").into_bytes()
}

fn setup() -> Setup {
    let key = NoteSigner::from_seed(ORIGIN, &[1; 32]).unwrap();
    let witnesses: Vec<CosignatureSigner> = (0..3u8)
        .map(|i| CosignatureSigner::from_seed(&format!("witness{i}.example.vn/w"), &[0x20 + i; 32]).unwrap())
        .collect();
    let mut log = Log::new(ORIGIN, MemoryStorage::new());
    for i in 0..100 {
        log.append(&entry(i)).unwrap();
    }
    let mut note = Note::parse(log.sign_checkpoint(100, &[&key]).unwrap().as_bytes()).unwrap();
    let text = note.text.clone();
    for w in &witnesses[..2] {
        note.signatures.push(w.cosign(&text, 1_767_225_600).unwrap());
    }
    Setup {
        log,
        key,
        witnesses,
        signed: note.to_string(),
    }
}

fn policy(s: &Setup, quorum: usize) -> WitnessPolicy {
    WitnessPolicy::new(s.witnesses.iter().map(|w| w.verifier()).collect(), quorum).unwrap()
}

fn trusted(s: &Setup) -> Vec<TrustedLog> {
    vec![TrustedLog::from_vkey(&s.key.vkey()).unwrap()]
}

#[test]
fn proof_formats_parses_and_verifies() {
    let s = setup();
    let proof = s
        .log
        .proof_bundle(42, &s.signed, Some(b"doc HB-00042".to_vec()))
        .unwrap();
    let text = proof.to_text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    assert_eq!(lines.next(), Some("extra ZG9jIEhCLTAwMDQy"));
    assert_eq!(lines.next(), Some("index 42"));
    assert_eq!(proof.path.len(), 7);
    assert!(text.ends_with(&s.signed));
    assert!(text.contains(&format!("\n\n{ORIGIN}\n100\n")));
    let parsed = TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed, proof);

    let verified = parsed.verify(&entry(42), &trusted(&s), &policy(&s, 2)).unwrap();
    assert_eq!(verified.index, 42);
    assert_eq!(verified.leaf_hash, leaf_hash(&entry(42)));
    assert_eq!(verified.checkpoint.size, 100);
    assert_eq!(verified.cosignatures.cosigned.len(), 2);
    assert!(
        verified.cosignatures.unknown.is_empty(),
        "the log's own line is not reported"
    );

    // No extra line, and a one-leaf tree with an empty path.
    let mut one = Log::new(ORIGIN, MemoryStorage::new());
    one.append(b"only").unwrap();
    let signed = one.sign_checkpoint(1, &[&s.key]).unwrap();
    let p = one.proof_bundle(0, &signed, None).unwrap();
    assert_eq!(p.to_text(), format!("{HEADER}\nindex 0\n\n{signed}"));
    p.verify(b"only", &trusted(&s), &WitnessPolicy::none()).unwrap();
}

#[test]
fn each_failure_is_named() {
    let s = setup();
    let proof = s.log.proof_bundle(42, &s.signed, None).unwrap();
    let logs = trusted(&s);

    // Wrong leaf data, or a proof for another index.
    assert_eq!(
        proof.verify(&entry(43), &logs, &policy(&s, 2)).unwrap_err(),
        BundleError::InclusionFailed
    );
    let moved = TlogProof {
        index: 43,
        ..proof.clone()
    };
    assert_eq!(
        moved.verify(&entry(42), &logs, &policy(&s, 2)).unwrap_err(),
        BundleError::InclusionFailed
    );
    let mut flipped = proof.clone();
    flipped.path[3][0] ^= 1;
    assert_eq!(
        flipped.verify(&entry(42), &logs, &policy(&s, 2)).unwrap_err(),
        BundleError::InclusionFailed
    );

    // Index beyond the checkpoint.
    let beyond = TlogProof {
        index: 100,
        ..proof.clone()
    };
    let err = beyond.verify(&entry(42), &logs, &policy(&s, 2)).unwrap_err();
    assert_eq!(
        err,
        BundleError::IndexOutOfRange {
            index: 100,
            size: 100
        }
    );
    assert_eq!(err.code(), "bundle_index_out_of_range");

    // Quorum: 2 of 3 cosigned, so a quorum of 3 fails and says how far it got.
    let err = proof.verify(&entry(42), &logs, &policy(&s, 3)).unwrap_err();
    assert_eq!(
        err,
        BundleError::QuorumNotMet {
            cosigned: 2,
            quorum: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "witness quorum not met: 2 of 3 required cosignatures"
    );
    // Cosignatures from keys outside the policy never count.
    let strangers = WitnessPolicy::new(
        vec![
            CosignatureSigner::from_seed("other.example/w", &[9; 32])
                .unwrap()
                .verifier(),
        ],
        1,
    )
    .unwrap();
    assert_eq!(
        proof.verify(&entry(42), &logs, &strangers).unwrap_err(),
        BundleError::QuorumNotMet {
            cosigned: 0,
            quorum: 1
        }
    );

    // Another log key, or a log the verifier does not accept.
    let impostor = NoteSigner::from_seed(ORIGIN, &[2; 32]).unwrap();
    let wrong_key = vec![TrustedLog::new(ORIGIN, vec![impostor.verifier()])];
    assert_eq!(
        proof.verify(&entry(42), &wrong_key, &policy(&s, 2)).unwrap_err(),
        BundleError::BadLogSignature
    );
    let other_origin = vec![TrustedLog::new("other.example/log", vec![s.key.verifier()])];
    assert_eq!(
        proof
            .verify(&entry(42), &other_origin, &policy(&s, 2))
            .unwrap_err(),
        BundleError::UnknownOrigin(ORIGIN.into())
    );
    // A checkpoint edited after signing.
    let edited = TlogProof {
        checkpoint: s.signed.replacen("\n100\n", "\n101\n", 1),
        ..proof.clone()
    };
    assert_eq!(
        edited.verify(&entry(42), &logs, &policy(&s, 2)).unwrap_err(),
        BundleError::BadLogSignature
    );
}

#[test]
fn malformed_proofs_are_format_errors() {
    let s = setup();
    let good = s.log.proof_bundle(42, &s.signed, None).unwrap().to_text();
    let path_line = good.lines().nth(2).unwrap().to_string();
    let bad = [
        String::new(),
        good.replacen(HEADER, "c2sp.org/tlog-proof@v2", 1),
        good.replacen("index 42", "index 042", 1),
        good.replacen("index 42", "index", 1),
        good.replacen("index 42", "extra !!\nindex 42", 1),
        good.replacen(&path_line, "AAAA", 1),
        good.replacen(&path_line, "not base64", 1),
        good.replacen(&format!("\n\n{ORIGIN}"), &format!("\n{ORIGIN}"), 1),
        format!(
            "{HEADER}\nindex 1\n{}\n{}",
            format!("{path_line}\n").repeat(65),
            s.signed
        ),
        format!("{HEADER}\nindex 1\n\n"),
        good.replacen(&format!("{ORIGIN}\n100\n"), &format!("{ORIGIN}\nabc\n"), 1),
    ];
    for text in &bad {
        let err = TlogProof::parse(text.as_bytes())
            .and_then(|p| p.verify(&entry(42), &trusted(&s), &policy(&s, 2)))
            .unwrap_err();
        assert!(matches!(err, BundleError::Format(_)), "{text:?}: {err:?}");
        assert_eq!(err.code(), "bundle_format");
    }
}
