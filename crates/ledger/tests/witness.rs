//! The tlog-witness add-checkpoint protocol: happy path, every refusal status, forged and
//! inconsistent checkpoints, and persistence as a compare-and-swap.

use std::collections::HashMap;

use truongso_ledger::checkpoint::Checkpoint;
use truongso_ledger::cosignature::{CosignatureSigner, KeyRef, WitnessPolicy};
use truongso_ledger::log::Log;
use truongso_ledger::merkle::{EMPTY_ROOT, Hash};
use truongso_ledger::note::{Note, NoteSigner};
use truongso_ledger::storage::MemoryStorage;
use truongso_ledger::witness::{
    AddCheckpointRequest, CONFLICT_CONTENT_TYPE, StateUpdate, TreeState, Witness, WitnessError,
};

const ORIGIN: &str = "hocba.example.vn/log1";
const NOW: u64 = 1_767_225_600;

fn log_key() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, &[1; 32]).unwrap()
}

fn witness() -> Witness {
    let mut w = Witness::new(CosignatureSigner::from_seed("so-gd-hn.example.vn/w", &[2; 32]).unwrap());
    w.add_log(ORIGIN, vec![log_key().verifier()]);
    w
}

fn log_with(entries: u64, prefix: &str) -> Log<MemoryStorage> {
    let mut log = Log::new(ORIGIN, MemoryStorage::new());
    for i in 0..entries {
        log.append(format!("{prefix}{i}").as_bytes()).unwrap();
    }
    log
}

fn body(old: u64, proof: &[Hash], signed: &str) -> Vec<u8> {
    AddCheckpointRequest::new(old, proof.to_vec(), signed)
        .unwrap()
        .to_bytes()
}

/// A witness state store whose only write is a compare-and-swap, as the database will be.
#[derive(Default)]
struct Store(HashMap<String, TreeState>);

impl Store {
    fn load(&self, origin: &str) -> Option<TreeState> {
        self.0.get(origin).copied()
    }

    fn compare_and_swap(&mut self, update: &StateUpdate) -> Result<(), u64> {
        let current = self.0.get(&update.origin).map_or(0, |s| s.size);
        if current != update.expected_old_size {
            return Err(current);
        }
        self.0.insert(update.origin.clone(), update.new_state);
        Ok(())
    }
}

#[test]
fn happy_path_cosigns_consistent_checkpoints() {
    let w = witness();
    let key = log_key();
    let log = log_with(20, "e");
    let mut store = Store::default();

    // First contact: old 0, no proof.
    let cp5 = log.sign_checkpoint(5, &[&key]).unwrap();
    let done = w
        .add_checkpoint(&body(0, &[], &cp5), |o| store.load(o), NOW)
        .unwrap();
    assert_eq!(done.update.expected_old_size, 0);
    assert_eq!(
        done.update.new_state,
        TreeState {
            size: 5,
            root: log.root(5).unwrap()
        }
    );
    store.compare_and_swap(&done.update).unwrap();

    // The response is a cosignature line that a client verifies with the witness key.
    assert!(done.response_body.starts_with("\u{2014} so-gd-hn.example.vn/w "));
    assert!(done.response_body.ends_with('\n') && done.response_body.matches('\n').count() == 1);
    let cosigned = format!("{cp5}{}", done.response_body);
    let policy = WitnessPolicy::new(vec![w.signer().verifier()], 1).unwrap();
    let note = Note::parse(cosigned.as_bytes()).unwrap();
    let report = policy.evaluate(
        &note,
        &[KeyRef {
            name: ORIGIN.into(),
            key_id: key.key_id(),
        }],
    );
    assert!(report.quorum_met());
    assert_eq!(report.cosigned[0].timestamp, NOW);

    // Growth with a consistency proof.
    let cp12 = log.sign_checkpoint(12, &[&key]).unwrap();
    let proof = log.consistency_proof(5, 12).unwrap();
    let done = w
        .add_checkpoint(&body(5, &proof, &cp12), |o| store.load(o), NOW + 60)
        .unwrap();
    assert_eq!(done.update.expected_old_size, 5);
    store.compare_and_swap(&done.update).unwrap();
    assert_eq!(store.load(ORIGIN).unwrap().size, 12);

    // Same checkpoint again: no proof, same root, cosigned again with the new time.
    let done = w
        .add_checkpoint(&body(12, &[], &cp12), |o| store.load(o), NOW + 120)
        .unwrap();
    assert_eq!(done.update.new_state.size, 12);
    store.compare_and_swap(&done.update).unwrap();

    // The empty tree is fine too.
    let empty = Checkpoint::new(ORIGIN, 0, EMPTY_ROOT)
        .unwrap()
        .sign(&[&key])
        .unwrap();
    assert!(w.add_checkpoint(&body(0, &[], &empty), |_| None, NOW).is_ok());
}

#[test]
fn every_refusal_has_its_status() {
    let w = witness();
    let key = log_key();
    let log = log_with(20, "e");
    let cp12 = log.sign_checkpoint(12, &[&key]).unwrap();
    let cp20 = log.sign_checkpoint(20, &[&key]).unwrap();
    let at12 = TreeState {
        size: 12,
        root: log.root(12).unwrap(),
    };
    let proof12_20 = log.consistency_proof(12, 20).unwrap();

    let status = |r: Result<_, WitnessError>| r.map(|_| 200).unwrap_or_else(|e| e.status());

    // 404: a log the witness does not follow.
    let other_key = NoteSigner::from_seed("other.example/log", &[3; 32]).unwrap();
    let other = Checkpoint::new("other.example/log", 1, [9; 32])
        .unwrap()
        .sign(&[&other_key])
        .unwrap();
    let err = w
        .add_checkpoint(&body(0, &[], &other), |_| None, NOW)
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (404, "witness_unknown_origin"));

    // 403: signed by a key that claims the origin but is not the log's.
    let impostor = NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap();
    let forged = log.sign_checkpoint(20, &[&impostor]).unwrap();
    let err = w
        .add_checkpoint(&body(12, &proof12_20, &forged), |_| Some(at12), NOW)
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (403, "witness_bad_log_signature"));
    // 403: the log's signature over other text (size changed after signing).
    let altered = cp20.replacen("\n20\n", "\n21\n", 1);
    assert_eq!(
        status(w.add_checkpoint(&body(12, &proof12_20, &altered), |_| Some(at12), NOW)),
        403
    );
    // 403: only an unknown witness's cosignature, no log signature.
    let stranger = CosignatureSigner::from_seed("stranger.example/w", &[5; 32]).unwrap();
    let text = log.checkpoint(20).unwrap().to_text();
    let only_cosig = format!("{text}\n{}", stranger.cosign(&text, NOW).unwrap().line());
    assert_eq!(
        status(w.add_checkpoint(&body(12, &proof12_20, &only_cosig), |_| Some(at12), NOW)),
        403
    );

    // 400: old larger than the checkpoint.
    let err = w
        .add_checkpoint(&body(20, &[], &cp12), |_| Some(at12), NOW)
        .unwrap_err();
    assert_eq!(err, WitnessError::OldSizeTooLarge { old: 20, size: 12 });
    assert_eq!(err.status(), 400);

    // 409: the client's old size is not the witness's latest; the body tells the size.
    let err = w
        .add_checkpoint(
            &body(5, &log.consistency_proof(5, 20).unwrap(), &cp20),
            |_| Some(at12),
            NOW,
        )
        .unwrap_err();
    assert_eq!(err, WitnessError::Conflict { latest_size: 12 });
    assert_eq!(
        (err.status(), err.conflict_body().as_deref()),
        (409, Some("12\n"))
    );
    assert_eq!(CONFLICT_CONTENT_TYPE, "text/x.tlog.size");
    let err = w
        .add_checkpoint(&body(12, &proof12_20, &cp20), |_| None, NOW)
        .unwrap_err();
    assert_eq!(err.conflict_body().as_deref(), Some("0\n"));
    // 409: same size as the stored checkpoint but another root.
    let fork = log_with(20, "fork");
    let fork12 = fork.sign_checkpoint(12, &[&key]).unwrap();
    let err = w
        .add_checkpoint(&body(12, &[], &fork12), |_| Some(at12), NOW)
        .unwrap_err();
    assert_eq!(err, WitnessError::RootMismatch { latest_size: 12 });
    assert_eq!(
        (err.status(), err.conflict_body().as_deref()),
        (409, Some("12\n"))
    );

    // 422: size 0 with a root that is not the empty tree's.
    let bad_empty = Checkpoint::new(ORIGIN, 0, [7; 32])
        .unwrap()
        .sign(&[&key])
        .unwrap();
    let err = w
        .add_checkpoint(&body(0, &[], &bad_empty), |_| None, NOW)
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "witness_bad_empty_tree_root"));
    // 422: a proof where none is allowed (old size 0, or same size).
    let p = log.consistency_proof(5, 20).unwrap();
    assert_eq!(status(w.add_checkpoint(&body(0, &p, &cp20), |_| None, NOW)), 422);
    assert_eq!(
        status(w.add_checkpoint(&body(12, &p, &cp12), |_| Some(at12), NOW)),
        422
    );
    // 422: the log signed a fork of what the witness saw: the proof cannot be consistent.
    let fork20 = fork.sign_checkpoint(20, &[&key]).unwrap();
    let err = w
        .add_checkpoint(
            &body(12, &fork.consistency_proof(12, 20).unwrap(), &fork20),
            |_| Some(at12),
            NOW,
        )
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "witness_inconsistent_proof"));
    // 422: a proof for other sizes.
    let wrong = log.consistency_proof(11, 20).unwrap();
    assert_eq!(
        status(w.add_checkpoint(&body(12, &wrong, &cp20), |_| Some(at12), NOW)),
        422
    );
    // And the correct one passes.
    assert_eq!(
        status(w.add_checkpoint(&body(12, &proof12_20, &cp20), |_| Some(at12), NOW)),
        200
    );
}

#[test]
fn malformed_bodies_are_400() {
    let w = witness();
    let key = log_key();
    let log = log_with(3, "e");
    let cp = log.sign_checkpoint(3, &[&key]).unwrap();
    let h = "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=";
    let bad: Vec<String> = vec![
        String::new(),
        cp.clone(),
        format!("old 0\n{cp}"), // no blank line before the checkpoint
        format!("old 00\n\n{cp}"),
        format!("old -1\n\n{cp}"),
        format!("old\n\n{cp}"),
        format!("new 0\n\n{cp}"),
        format!("old 0 \n\n{cp}"),
        format!("old 18446744073709551616\n\n{cp}"),
        format!("old 0\nnot base64!\n\n{cp}"),
        format!("old 0\nAAAA\n\n{cp}"), // 3-byte hash
        format!("old 0\n{}\n{cp}", format!("{h}\n").repeat(64)),
        format!("old 0\n\nexample.com/log\n3\n"), // checkpoint without signatures
        format!("old 0\n\n{}", cp.replacen("\n3\n", "\n03\n", 1)),
    ];
    for b in &bad {
        let err = w.add_checkpoint(b.as_bytes(), |_| None, NOW).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "witness_malformed"), "{b:?}");
    }
    let sixty_three = format!("old 0\n{}\n{cp}", format!("{h}\n").repeat(63));
    let parsed = AddCheckpointRequest::parse(sixty_three.as_bytes()).unwrap();
    assert_eq!(parsed.proof.len(), 63);
    assert_eq!(parsed.to_bytes(), sixty_three.as_bytes());
}

#[test]
fn the_spec_example_body_round_trips() {
    let spec = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";
    let req = AddCheckpointRequest::parse(spec.as_bytes()).unwrap();
    assert_eq!(req.old_size, 20_852_014);
    assert_eq!(req.proof.len(), 4);
    assert_eq!(req.origin(), "example.com/behind-the-sofa");
    assert_eq!(req.checkpoint.size, 20_852_163);
    assert_eq!(req.note.signatures.len(), 2);
    assert_eq!(req.to_bytes(), spec.as_bytes());
    // Its origin is not one this witness follows.
    assert_eq!(witness().cosign(&req, None, NOW).unwrap_err().status(), 404);
}

#[test]
fn unknown_cosignatures_are_ignored_and_never_counted() {
    let w = witness();
    let key = log_key();
    let log = log_with(8, "e");
    let stranger = CosignatureSigner::from_seed("stranger.example/w", &[5; 32]).unwrap();
    let signed = log.sign_checkpoint(8, &[&key]).unwrap();
    let text = log.checkpoint(8).unwrap().to_text();
    let with_stranger = format!("{signed}{}", stranger.cosign(&text, NOW).unwrap().line());
    let done = w
        .add_checkpoint(&body(0, &[], &with_stranger), |_| None, NOW)
        .unwrap();
    let full = format!("{with_stranger}{}", done.response_body);
    let note = Note::parse(full.as_bytes()).unwrap();
    let policy = WitnessPolicy::new(vec![w.signer().verifier()], 1).unwrap();
    let report = policy.evaluate(
        &note,
        &[KeyRef {
            name: ORIGIN.into(),
            key_id: key.key_id(),
        }],
    );
    assert_eq!(report.cosigned.len(), 1);
    assert_eq!(
        report.unknown,
        [KeyRef {
            name: "stranger.example/w".into(),
            key_id: stranger.key_id()
        }]
    );
    // A policy needing two cosignatures is not met by the stranger's.
    let two = WitnessPolicy::new(
        vec![
            w.signer().verifier(),
            CosignatureSigner::from_seed("so-gd-hcm.example.vn/w", &[6; 32])
                .unwrap()
                .verifier(),
        ],
        2,
    )
    .unwrap();
    assert!(!two.evaluate(&note, &[]).quorum_met());
}

#[test]
fn concurrent_requests_persist_through_compare_and_swap() {
    let w = witness();
    let key = log_key();
    let log = log_with(30, "e");
    let mut store = Store::default();
    let cp10 = log.sign_checkpoint(10, &[&key]).unwrap();
    store
        .compare_and_swap(
            &w.add_checkpoint(&body(0, &[], &cp10), |o| store.load(o), NOW)
                .unwrap()
                .update,
        )
        .unwrap();

    // A (10 -> 20) and B (10 -> 30) are both checked against size 10.
    let cp20 = log.sign_checkpoint(20, &[&key]).unwrap();
    let cp30 = log.sign_checkpoint(30, &[&key]).unwrap();
    let a = w
        .add_checkpoint(
            &body(10, &log.consistency_proof(10, 20).unwrap(), &cp20),
            |o| store.load(o),
            NOW,
        )
        .unwrap();
    let b = w
        .add_checkpoint(
            &body(10, &log.consistency_proof(10, 30).unwrap(), &cp30),
            |o| store.load(o),
            NOW,
        )
        .unwrap();
    // B commits first; A's swap fails, so A must answer 409 with 30 and drop its cosignature
    // instead of rolling the witness back to 20.
    store.compare_and_swap(&b.update).unwrap();
    assert_eq!(store.compare_and_swap(&a.update), Err(30));
    assert_eq!(store.load(ORIGIN).unwrap().size, 30);
    // A retried with the right old size is refused: 20 is behind what the witness cosigned.
    let err = w
        .add_checkpoint(&body(30, &[], &cp20), |o| store.load(o), NOW)
        .unwrap_err();
    assert_eq!(err, WitnessError::OldSizeTooLarge { old: 30, size: 20 });
}
