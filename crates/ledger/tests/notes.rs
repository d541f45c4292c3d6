//! Signed notes against the C2SP signed-note example and the Go golang.org/x/mod/sumdb/note
//! vectors (note_test.go), byte for byte.

use truongso_ledger::note::{self, Note, NoteError, NoteSigner, NoteVerifier, VerifierKey};

const C2SP_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const C2SP_TEXT: &str = "This is an example message.\n";
const C2SP_SIG: &str = "\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> NoteVerifier {
    NoteVerifier::from_vkey(PETER_VKEY).unwrap()
}

fn enoch() -> NoteVerifier {
    NoteVerifier::from_vkey(ENOCH_VKEY).unwrap()
}

/// Inserts "ABCD" at byte 60 of a signature line, as note_test.go does.
fn corrupt(sig: &str) -> String {
    format!("{}ABCD{}", &sig[..60], &sig[60..])
}

#[test]
fn c2sp_example_verifies_and_round_trips() {
    let key = NoteVerifier::from_vkey(C2SP_VKEY).unwrap();
    assert_eq!(key.name(), "example.com/foo");
    assert_eq!(key.key_id(), 0x530d903a);
    assert_eq!(key.vkey(), C2SP_VKEY);
    let msg = format!("{C2SP_TEXT}\n{C2SP_SIG}");
    let verified = note::open(msg.as_bytes(), &[key]).unwrap();
    assert_eq!(verified.text, C2SP_TEXT);
    assert_eq!(verified.verified.len(), 1);
    assert_eq!(verified.verified[0].key_id, 0x530d903a);
    assert!(verified.unverified.is_empty());
    assert_eq!(Note::parse(msg.as_bytes()).unwrap().to_string(), msg);
}

#[test]
fn go_sign_is_byte_exact() {
    let signer = NoteSigner::from_private_key(PETER_SKEY).unwrap();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.vkey(), PETER_VKEY);
    assert_eq!(signer.private_key(), PETER_SKEY);
    assert_eq!(
        note::sign(TEXT, &[&signer]).unwrap(),
        format!("{TEXT}\n{PETER_SIG}")
    );
    assert_eq!(signer.sign(TEXT).unwrap().line(), PETER_SIG);
    // Text without a final newline is not a note.
    assert_eq!(
        note::sign("abc", &[&signer]),
        Err(NoteError::Malformed("text does not end with a newline"))
    );
    assert!(note::sign("a\u{1}b\n", &[&signer]).is_err());
}

#[test]
fn go_open_known_and_unknown_keys() {
    let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    // One known key: one verified, one ignored.
    let n = note::open(msg.as_bytes(), &[peter()]).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified.len(), 1);
    assert_eq!(
        (n.verified[0].name.as_str(), n.verified[0].key_id),
        ("PeterNeumann", 0xc74f20a3)
    );
    assert_eq!(n.unverified.len(), 1);
    assert_eq!(
        (n.unverified[0].name.as_str(), n.unverified[0].key_id),
        ("EnochRoot", 0xaf0cfe78)
    );
    // Both known: both verified.
    let n = note::open(msg.as_bytes(), &[peter(), enoch()]).unwrap();
    assert_eq!(
        n.verified.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["PeterNeumann", "EnochRoot"]
    );
    assert!(n.unverified.is_empty());
    // No known key: rejected.
    assert_eq!(
        note::open(msg.as_bytes(), &[]),
        Err(NoteError::NoVerifiedSignature)
    );
    // Same name, other key id: still unknown, so ignored.
    let other_peter = NoteSigner::from_seed("PeterNeumann", &[9; 32])
        .unwrap()
        .verifier();
    assert_eq!(
        note::open(msg.as_bytes(), &[other_peter]),
        Err(NoteError::NoVerifiedSignature)
    );
}

#[test]
fn go_open_duplicates_ambiguity_and_bad_signatures() {
    // A key listed twice is ambiguous only when a signature uses it.
    let enoch_only = format!("{TEXT}\n{ENOCH_SIG}");
    assert_eq!(
        note::open(enoch_only.as_bytes(), &[enoch(), peter(), enoch()]),
        Err(NoteError::AmbiguousKey {
            name: "EnochRoot".into(),
            key_id: 0xaf0cfe78
        })
    );
    let peter_only = format!("{TEXT}\n{PETER_SIG}");
    assert!(note::open(peter_only.as_bytes(), &[enoch(), peter(), enoch()]).is_ok());

    // A known key whose signature fails rejects the note.
    let bad = format!("{TEXT}\n{}", corrupt(PETER_SIG));
    assert_eq!(
        note::open(bad.as_bytes(), &[peter()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        })
    );

    // Repeated signatures count once; a corrupted unknown one is listed, not checked.
    let msg = format!(
        "{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{}",
        corrupt(ENOCH_SIG)
    );
    let n = note::open(msg.as_bytes(), &[peter()]).unwrap();
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 2);
    assert_ne!(n.unverified[0].signature, n.unverified[1].signature);
    assert!(
        n.unverified
            .iter()
            .all(|s| s.name == "EnochRoot" && s.key_id == 0xaf0cfe78)
    );
}

#[test]
fn go_open_limits_and_malformed_notes() {
    let ok = format!("{TEXT}\n{}", PETER_SIG.repeat(100));
    assert_eq!(note::open(ok.as_bytes(), &[peter()]).unwrap().verified.len(), 1);
    let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
    assert_eq!(
        note::open(too_many.as_bytes(), &[peter()]),
        Err(NoteError::TooManySignatures)
    );
    assert_eq!(
        note::open(too_many.as_bytes(), &[]),
        Err(NoteError::TooManySignatures)
    );

    let bad_name = "\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
    let mut bad_msgs: Vec<Vec<u8>> = vec![
        TEXT.into(),
        format!("{TEXT}\n").into(),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]).into(),
        format!("\u{1}{TEXT}\n{PETER_SIG}").into(),
        format!("{TEXT}\n{bad_name}").into(),
        format!("{TEXT}\n{bad_name}\n").into(),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n").into(),
        format!("{TEXT}\n\u{2014} PeterNeumann not*base64\n").into(),
        format!("{TEXT}\n\u{2014} PeterNeumann AAAA\n").into(),
        format!("{TEXT}\n\u{2014} PeterNeumann \n").into(),
        format!("{TEXT}\n-- PeterNeumann x08go\n").into(),
    ];
    let mut invalid_utf8 = vec![0xff];
    invalid_utf8.extend_from_slice(format!("{TEXT}\n{PETER_SIG}").as_bytes());
    bad_msgs.push(invalid_utf8);
    for msg in &bad_msgs {
        let err = note::open(msg, &[peter()]).unwrap_err();
        assert!(
            matches!(err, NoteError::Malformed(_)),
            "{:?}: {err:?}",
            String::from_utf8_lossy(msg)
        );
        assert_eq!(err.code(), "note_malformed");
    }
}

#[test]
fn vkey_manglings_are_refused() {
    assert_eq!(VerifierKey::parse(PETER_VKEY).unwrap().encode(), PETER_VKEY);
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(NoteVerifier::from_vkey(s).is_err(), "{s}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let s = String::from_utf8(m).unwrap();
        assert!(NoteVerifier::from_vkey(&s).is_err(), "{s}");
    }
    // Wrong key length and unknown algorithm, each with a matching key id.
    assert!(matches!(
        NoteVerifier::from_vkey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="),
        Err(NoteError::MalformedKey(_))
    ));
    assert_eq!(
        NoteVerifier::from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::UnsupportedKeyType(0x65))
    );
    // A cosignature key (type 0x04) is not a note signing key.
    assert_eq!(
        NoteVerifier::from_vkey(
            "witness.example.vn/w1+e611b41c+BOfxYqEL7FWa/qGV5NzoS2lWjV0ssJY+tEbAaF4rF/Lw"
        ),
        Err(NoteError::UnsupportedKeyType(0x04))
    );
}

#[test]
fn private_key_manglings_are_refused() {
    let b = PETER_SKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(NoteSigner::from_private_key(s).is_err(), "{s}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let s = String::from_utf8(m).unwrap();
        assert!(NoteSigner::from_private_key(&s).is_err(), "{s}");
    }
}

#[test]
fn key_from_seed_signs_what_its_vkey_verifies() {
    let signer = NoteSigner::from_seed("EnochRoot", &[0x42; 32]).unwrap();
    let verifier = NoteVerifier::from_vkey(&signer.vkey()).unwrap();
    assert_eq!(verifier, signer.verifier());
    let signed = note::sign("hi\n", &[&signer]).unwrap();
    assert!(note::open(signed.as_bytes(), std::slice::from_ref(&verifier)).is_ok());
    let tampered = signed.replacen("hi", "ho", 1);
    assert!(matches!(
        note::open(tampered.as_bytes(), &[verifier]),
        Err(NoteError::InvalidSignature { .. })
    ));
    assert!(NoteSigner::from_seed("bad name", &[0; 32]).is_err());
    assert!(NoteSigner::from_seed("a+b", &[0; 32]).is_err());
    assert_eq!(
        NoteSigner::from_private_key(&signer.private_key())
            .unwrap()
            .vkey(),
        signer.vkey()
    );
}
