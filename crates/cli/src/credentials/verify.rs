//! `truongso verify FILE.pdf`: the whole verification of a học bạ số or văn bằng số without the
//! issuing server's database. What is trusted comes only from the command line (root
//! certificates, the log's verifier keys, the witness policy); the proof comes from the holder's
//! `.tlog-proof` file; the document's standing (revoked? replaced?) from a mirror of the log —
//! static tiles in a directory or the same files over HTTP.
//!
//! The mirror is not trusted either: its checkpoint must be signed by a trusted log and cosigned
//! by the witness quorum, and EVERY entry up to that checkpoint is read and hashed back to its
//! root, so an entry left out or altered (a hidden revocation) is detected. When the holder's
//! bundle is older, the mirror must also reproduce the bundle's root at the bundle's size (same
//! history). Anything short of that leaves the standing "unknown" — never "valid" by default.

use crate::credentials::verify::Source::{Dir, Http};
use serde::Serialize;
use std::path::{Path, PathBuf};
use truongso_core::credentials::event::{Event, EventType};
use truongso_core::credentials::record::Record;
use truongso_core::i18n::{Locale, tf};
use truongso_docs::credentials::pdf_verify;
use truongso_docs::credentials::render::parse_qr_payload;
use truongso_docs::credentials::trust::TrustStore;
use truongso_docs::credentials::verify::{LogEvidence, Trust, embedded_record, verify_document};
use truongso_ledger::bundle::{TlogProof, TrustedLog};
use truongso_ledger::checkpoint::{self, Checkpoint};
use truongso_ledger::cosignature::{CosignatureVerifier, KeyRef, WitnessPolicy};
use truongso_ledger::merkle::{self, Hash};
use truongso_ledger::note::{Note, NoteVerifier};
use truongso_ledger::tiles::{self, TilePath};

pub struct VerifyArgs {
    pub file: PathBuf,
    pub bundle: Option<PathBuf>,
    pub tiles: Option<PathBuf>,
    pub url: Option<String>,
    pub trust: Vec<PathBuf>,
    pub log_keys: Vec<String>,
    pub witnesses: Vec<String>,
    pub quorum: Option<usize>,
    pub qr: Option<String>,
    pub json: bool,
    pub lang: Locale,
}

fn msg(locale: Locale, key: &str, params: &[(&str, String)]) -> String {
    tf(locale, &format!("credentials.cli.{key}"), params)
}

/// A usage error: printed, exit code 2.
struct Usage(String);

/// A vkey given inline or as a file holding it.
fn key_arg(value: &str) -> String {
    let p = Path::new(value);
    if !value.contains('+') && p.is_file() {
        return std::fs::read_to_string(p).unwrap_or_default().trim().to_string();
    }
    value.trim().to_string()
}

struct Setup {
    pdf: Vec<u8>,
    roots: TrustStore,
    logs: Vec<TrustedLog>,
    policy: WitnessPolicy,
    qr: Option<(String, String)>,
    bundle: Option<TlogProof>,
}

fn setup(a: &VerifyArgs) -> Result<Setup, Usage> {
    let l = a.lang;
    let unreadable = |p: &Path, e: std::io::Error| {
        Usage(msg(
            l,
            "usage.unreadable",
            &[("path", p.display().to_string()), ("detail", e.to_string())],
        ))
    };
    let pdf = std::fs::read(&a.file).map_err(|e| unreadable(&a.file, e))?;
    let mut roots = TrustStore::new();
    for t in &a.trust {
        let added = if t.is_dir() {
            roots.add_dir(t)
        } else {
            let pem = std::fs::read(t).map_err(|e| unreadable(t, e))?;
            let name = t.file_stem().map(|n| n.to_string_lossy().into_owned());
            roots.add_pem(&name.unwrap_or_else(|| t.display().to_string()), &pem)
        };
        added.map_err(|e| {
            Usage(msg(
                l,
                "usage.trust",
                &[("path", t.display().to_string()), ("detail", e.to_string())],
            ))
        })?;
    }
    let mut logs: Vec<TrustedLog> = vec![];
    for k in &a.log_keys {
        let v = NoteVerifier::from_vkey(&key_arg(k)).map_err(|e| {
            Usage(msg(
                l,
                "usage.log_key",
                &[("value", k.clone()), ("detail", e.to_string())],
            ))
        })?;
        // Our logs name their key after their origin; several keys of one log are one entry.
        let origin = v.name().to_string();
        match logs.iter_mut().find(|t| t.origin == origin) {
            Some(t) => t.keys.push(v),
            None => logs.push(TrustedLog::new(&origin, vec![v])),
        }
    }
    let mut witnesses = vec![];
    for w in &a.witnesses {
        witnesses.push(CosignatureVerifier::from_vkey(&key_arg(w)).map_err(|e| {
            Usage(msg(
                l,
                "usage.witness_key",
                &[("value", w.clone()), ("detail", e.to_string())],
            ))
        })?);
    }
    let quorum = a.quorum.unwrap_or(witnesses.len());
    let policy = if witnesses.is_empty() && quorum == 0 {
        WitnessPolicy::none()
    } else {
        WitnessPolicy::new(witnesses, quorum).map_err(|e| {
            Usage(msg(
                l,
                "usage.quorum",
                &[("quorum", quorum.to_string()), ("detail", e.to_string())],
            ))
        })?
    };
    let qr = match &a.qr {
        None => None,
        Some(q) => Some(parse_qr_payload(q.trim()).ok_or_else(|| Usage(msg(l, "usage.qr", &[])))?),
    };
    let bundle = match &a.bundle {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| unreadable(p, e))?;
            Some(TlogProof::parse(&bytes).map_err(|e| {
                Usage(msg(
                    l,
                    "usage.bundle",
                    &[("path", p.display().to_string()), ("detail", e.to_string())],
                ))
            })?)
        }
    };
    Ok(Setup {
        pdf,
        roots,
        logs,
        policy,
        qr,
        bundle,
    })
}

/// Where the mirror's files come from: `DIR/checkpoint`, `DIR/tile/…`, or
/// `BASE/log/checkpoint`, `BASE/log/tile/…`.
enum Source {
    Dir(PathBuf),
    Http { base: String, client: reqwest::Client },
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Dir(d) => d.display().to_string(),
            Http { base, .. } => format!("{base}/log"),
        }
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        match self {
            Dir(d) => std::fs::read(d.join(path)).map_err(|e| format!("{path}: {e}")),
            Http { base, client } => {
                let url = format!("{base}/log/{path}");
                let r = client.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
                if !r.status().is_success() {
                    return Err(format!("{url}: HTTP {}", r.status().as_u16()));
                }
                Ok(r.bytes().await.map_err(|e| format!("{url}: {e}"))?.to_vec())
            }
        }
    }
}

/// A note about the mirror, beside the verdict lines.
#[derive(Debug, Clone, Serialize)]
struct Remark {
    code: String,
    message: String,
}

/// What was learnt from the mirror.
struct Mirror {
    /// The verified checkpoint note and its tree.
    note: String,
    checkpoint: Checkpoint,
    /// Leaf hash of every entry, in order (32 bytes each: a million entries is 32 MB).
    hashes: Vec<Hash>,
    /// The revocations and corrections (the only events that change a standing), with indexes.
    changes: Vec<(u64, Event)>,
    /// Entries the verification needs by index (the document's), kept verbatim.
    kept: Vec<(u64, Vec<u8>)>,
}

enum MirrorError {
    Unreadable(String),
    Checkpoint(String),
    Quorum { have: usize, need: usize },
    RootMismatch,
}

/// Reads the mirror's checkpoint and every entry under it, keeping the entries `keep` selects.
async fn read_mirror(
    src: &Source,
    logs: &[TrustedLog],
    policy: &WitnessPolicy,
    keep: impl Fn(u64, &[u8], Option<&Event>) -> bool,
) -> Result<Mirror, MirrorError> {
    let raw = src.get("checkpoint").await.map_err(MirrorError::Unreadable)?;
    let note = Note::parse(&raw).map_err(|e| MirrorError::Checkpoint(e.to_string()))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|e| MirrorError::Checkpoint(e.to_string()))?;
    let log = logs
        .iter()
        .find(|l| l.origin == checkpoint.origin)
        .ok_or_else(|| MirrorError::Checkpoint(format!("origin {}", checkpoint.origin)))?;
    note.verify(&log.keys)
        .map_err(|e| MirrorError::Checkpoint(e.to_string()))?;
    let log_keys: Vec<KeyRef> = log
        .keys
        .iter()
        .map(|k| KeyRef {
            name: k.name().to_string(),
            key_id: k.key_id(),
        })
        .collect();
    // A checkpoint the witnesses did not cosign may be a view shown only to us.
    let report = policy.evaluate(&note, &log_keys);
    if !report.quorum_met() {
        return Err(MirrorError::Quorum {
            have: report.cosigned.len(),
            need: report.quorum,
        });
    }
    let size = checkpoint.size;
    let mut hashes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 24));
    let mut changes = vec![];
    let mut kept = vec![];
    for path in tiles::entry_bundles_for_size(size) {
        let bytes = src.get(&path.to_path()).await.map_err(MirrorError::Unreadable)?;
        let entries = tiles::decode_entry_bundle(&bytes)
            .map_err(|e| MirrorError::Unreadable(format!("{}: {e}", path.to_path())))?;
        if entries.len() != usize::from(path.width) {
            return Err(MirrorError::Unreadable(format!(
                "{}: {} entries, expected {}",
                path.to_path(),
                entries.len(),
                path.width
            )));
        }
        let first = first_leaf(&path);
        for (i, data) in entries.into_iter().enumerate() {
            let index = first + i as u64;
            hashes.push(merkle::leaf_hash(&data));
            let event = Event::from_leaf(&data).ok();
            if let Some(e) = &event
                && matches!(e.event_type, EventType::Revoke | EventType::Correct)
                && e.refers_to.is_some()
            {
                changes.push((index, e.clone()));
            }
            if keep(index, &data, event.as_ref()) {
                kept.push((index, data));
            }
        }
    }
    if merkle::root_from_leaf_hashes(&hashes) != checkpoint.root {
        return Err(MirrorError::RootMismatch);
    }
    Ok(Mirror {
        note: String::from_utf8_lossy(&raw).into_owned(),
        checkpoint,
        hashes,
        changes,
        kept,
    })
}

fn first_leaf(path: &TilePath) -> u64 {
    path.index * u64::from(tiles::TILE_WIDTH)
}

/// The document id inside the PDF, if it carries a readable record (to find its event in the
/// mirror when the holder has no bundle).
fn doc_id_of(pdf: &[u8], roots: &TrustStore) -> Option<String> {
    let report = pdf_verify::verify_pdf(pdf, roots, &Default::default()).ok()?;
    let data = &embedded_record(&report)?.data;
    Record::parse(data).ok().map(|r| r.doc_id().to_string())
}

#[derive(Serialize)]
struct JsonLine {
    check: truongso_core::credentials::verdict::Check,
    ok: bool,
    code: String,
    message: String,
}

#[derive(Serialize)]
struct JsonOut {
    file: String,
    valid: bool,
    headline: String,
    doc_id: Option<String>,
    lines: Vec<JsonLine>,
    remarks: Vec<Remark>,
}

/// Runs the command and returns its exit code: 0 valid, 1 not valid, 2 usage error.
pub async fn run(a: VerifyArgs) -> i32 {
    let l = a.lang;
    let s = match setup(&a) {
        Ok(s) => s,
        Err(Usage(m)) => {
            eprintln!("{m}");
            return 2;
        }
    };
    let mut remarks: Vec<Remark> = vec![];
    let mut remark = |code: &str, params: &[(&str, String)]| {
        remarks.push(Remark {
            code: code.to_string(),
            message: msg(l, code, params),
        })
    };

    let source = match (&a.tiles, &a.url) {
        (Some(d), _) => Some(Dir(d.clone())),
        (None, Some(u)) => match reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
        {
            Ok(client) => Some(Http {
                base: u.trim_end_matches('/').to_string(),
                client,
            }),
            Err(e) => {
                eprintln!("{e}");
                return 2;
            }
        },
        (None, None) => None,
    };

    let mut evidence: Option<LogEvidence> = None;
    // The holder's bundle alone: inclusion under a cosigned checkpoint, standing unknown.
    if let Some(b) = &s.bundle {
        match &b.extra {
            Some(leaf) => {
                evidence = Some(LogEvidence {
                    proof: b.clone(),
                    leaf: leaf.clone(),
                    later: vec![],
                    later_complete: false,
                })
            }
            None if source.is_none() => remark("bundle_no_leaf", &[]),
            None => {}
        }
    }

    if let Some(src) = &source {
        let bundle_index = s.bundle.as_ref().map(|b| b.index);
        let doc_id = if s.bundle.is_none() {
            doc_id_of(&s.pdf, &s.roots)
        } else {
            None
        };
        let keep = |index: u64, _: &[u8], e: Option<&Event>| {
            Some(index) == bundle_index
                || e.is_some_and(|e| {
                    doc_id.as_deref() == Some(e.doc_id.as_str())
                        && matches!(e.event_type, EventType::Issue | EventType::Correct)
                })
        };
        match read_mirror(src, &s.logs, &s.policy, keep).await {
            Err(e) => {
                let source = src.describe();
                match e {
                    MirrorError::Unreadable(d) => {
                        remark("mirror_unreadable", &[("source", source), ("detail", d)])
                    }
                    MirrorError::Checkpoint(d) => {
                        remark("mirror_checkpoint_invalid", &[("source", source), ("detail", d)])
                    }
                    MirrorError::Quorum { have, need } => remark(
                        "mirror_quorum",
                        &[("have", have.to_string()), ("need", need.to_string())],
                    ),
                    MirrorError::RootMismatch => remark("mirror_root_mismatch", &[("source", source)]),
                }
            }
            Ok(m) => {
                remark(
                    "mirror_ok",
                    &[
                        ("size", m.checkpoint.size.to_string()),
                        ("source", src.describe()),
                    ],
                );
                evidence = mirror_evidence(&s, &m, doc_id.as_deref(), &mut remark);
            }
        }
    }

    let trust = Trust {
        roots: &s.roots,
        logs: &s.logs,
        witnesses: &s.policy,
        pdf: Default::default(),
    };
    let qr = s.qr.as_ref().map(|(d, h)| (d.as_str(), h.as_str()));
    let outcome = verify_document(&s.pdf, &trust, evidence.as_ref(), qr);
    let v = &outcome.verdict;
    let doc_id = outcome.record.as_ref().map(|r| r.doc_id().to_string());
    if a.json {
        let out = JsonOut {
            file: a.file.display().to_string(),
            valid: v.valid(),
            headline: v.headline(l),
            doc_id,
            lines: v
                .lines
                .iter()
                .map(|x| JsonLine {
                    check: x.check,
                    ok: x.ok,
                    code: x.code.clone(),
                    message: x.message(l),
                })
                .collect(),
            remarks,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("plain data serialises")
        );
    } else {
        println!("{}: {}", msg(l, "file", &[]), a.file.display());
        if let Some(id) = &doc_id {
            println!("{}: {id}", msg(l, "doc_id", &[]));
        }
        for x in &v.lines {
            println!("  {} {}", if x.ok { "✓" } else { "✗" }, x.message(l));
        }
        for r in &remarks {
            println!("  • {}", r.message);
        }
        println!("{}", v.headline(l));
    }
    if v.valid() { 0 } else { 1 }
}

/// The log evidence from a verified, complete mirror: the bundle's proof (checked to be the same
/// history as the mirror) or, without a bundle, a proof computed from the mirror's entries; and
/// every revocation or correction of the document, known to be complete.
fn mirror_evidence(
    s: &Setup,
    m: &Mirror,
    doc_id: Option<&str>,
    remark: &mut impl FnMut(&str, &[(&str, String)]),
) -> Option<LogEvidence> {
    let size = m.checkpoint.size;
    let (proof, index) = match &s.bundle {
        Some(b) => {
            // The bundle's tree must be a prefix of the mirror's: same entries, same root. A
            // checkpoint the log did not sign says nothing about history (its verdict line
            // already fails), and the standing is not vouched for against it.
            let theirs = Note::parse(b.checkpoint.as_bytes())
                .ok()
                .and_then(|n| Checkpoint::parse(&n.text).ok())
                .filter(|cp| {
                    s.logs
                        .iter()
                        .find(|l| l.origin == cp.origin)
                        .is_some_and(|l| checkpoint::open(b.checkpoint.as_bytes(), &l.keys).is_ok())
                });
            let Some(cp) = &theirs else {
                return leaf_only(s, m, false);
            };
            if cp.size > size {
                remark(
                    "mirror_older",
                    &[("size", size.to_string()), ("bundle_size", cp.size.to_string())],
                );
                return leaf_only(s, m, false);
            }
            let prefix = &m.hashes[..cp.size as usize];
            if cp.origin != m.checkpoint.origin || merkle::root_from_leaf_hashes(prefix) != cp.root {
                remark("mirror_fork", &[("size", cp.size.to_string())]);
                return leaf_only(s, m, false);
            }
            (b.clone(), b.index)
        }
        None => {
            let id = doc_id?;
            let Some((index, _)) = m.kept.first() else {
                remark("not_found_in_log", &[("doc_id", id.to_string())]);
                return None;
            };
            let path = merkle::inclusion_proof(&m.hashes, *index).ok()?;
            (
                TlogProof {
                    extra: None,
                    index: *index,
                    path,
                    checkpoint: m.note.clone(),
                },
                *index,
            )
        }
    };
    let leaf = proof
        .extra
        .clone()
        .or_else(|| m.kept.iter().find(|(i, _)| *i == index).map(|(_, d)| d.clone()));
    let Some(leaf) = leaf else {
        remark("bundle_no_leaf", &[]);
        return None;
    };
    let later = m
        .changes
        .iter()
        .filter(|(_, e)| e.refers_to == Some(index))
        .cloned()
        .collect();
    Some(LogEvidence {
        proof,
        leaf,
        later,
        later_complete: true,
    })
}

/// The bundle's own evidence when the mirror cannot vouch for the standing.
fn leaf_only(s: &Setup, m: &Mirror, complete: bool) -> Option<LogEvidence> {
    let b = s.bundle.as_ref()?;
    let leaf = b
        .extra
        .clone()
        .or_else(|| m.kept.iter().find(|(i, _)| *i == b.index).map(|(_, d)| d.clone()))?;
    Some(LogEvidence {
        proof: b.clone(),
        leaf,
        later: vec![],
        later_complete: complete,
    })
}
