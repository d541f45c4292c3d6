//! `truongso bench credentials`: what issuing học bạ số costs on this machine, with every
//! component real — the raw key operations (Ed25519 for the log, RSA-2048 and ECDSA P-256 for
//! the PAdES signatures) as the ceiling; the whole pipeline (render, three PAdES signatures, log
//! append) over N documents built from the demo's last-year records on two worker threads;
//! log append throughput on SQLite and PostgreSQL; inclusion proofs from the database and their
//! verification under a 2-witness policy at growing tree sizes; the whole verification of a
//! signed học bạ; and the PDF's size before and after signing.
//!
//! Everything runs in a throwaway directory (test PKI, a seeded SQLite demo) and throwaway
//! databases (`truongso_store::testing::fresh`: PostgreSQL on `TRUONGSO_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), removed at the end.

use anyhow::{Context, bail};
use der::Encode;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use truongso_core::credentials::event::{EVENT_SCHEMA, Event, EventType};
use truongso_core::credentials::record;
use truongso_core::credentials::{DocKind, HocBa, sha256_hex};
use truongso_docs::credentials::pades::{self, SignatureField};
use truongso_docs::credentials::pdf_verify;
use truongso_docs::credentials::pki::{PkiSpec, TestPki};
use truongso_docs::credentials::render::{Fonts, RenderOptions, render_hoc_ba};
use truongso_docs::credentials::signer::{Pkcs12Signer, Signer, verify_digest_signature};
use truongso_docs::credentials::trust::TrustStore;
use truongso_docs::credentials::verify::{LogEvidence, Trust, verify_document};
use truongso_ledger::bundle::{TlogProof, TrustedLog};
use truongso_ledger::checkpoint::Checkpoint;
use truongso_ledger::cosignature::{CosignatureSigner, WitnessPolicy};
use truongso_ledger::merkle::Hash;
use truongso_ledger::note::NoteSigner;
use truongso_store::ledger::{self, NewLeaf};
use truongso_store::testing::{self, Backend};

const ORIGIN: &str = "bench.truongso.local/hoc-ba";
const P12_PASSWORD: &str = "bench";

pub struct CredOpts {
    /// Documents through the whole pipeline.
    pub docs: usize,
    /// Worker threads for render + sign.
    pub workers: usize,
    /// Learners of the seeded demo the records come from.
    pub demo_learners: u64,
    /// The school year whose records are issued.
    pub school_year: String,
    /// Seconds per raw key operation and per append batch size.
    pub seconds: f64,
    /// Tree sizes for proof generation and verification, ascending.
    pub proof_sizes: Vec<u64>,
    /// Timed repetitions for proofs and whole-document verification.
    pub samples: usize,
    /// Databases for the append and proof benchmarks.
    pub backends: Vec<String>,
    pub fonts_dir: PathBuf,
    /// `SignatureField::contents_reserve` (None: the default the service signs with).
    pub contents_reserve: Option<usize>,
    /// How long the appender gathers leaves before one transaction (0: none).
    pub append_window_ms: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Milliseconds, sorted.
fn sorted_ms(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).expect("durations are finite"));
    v
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU time of the calling thread (Linux `schedstat`, nanoseconds): other processes on the two
/// cores slow the wall clock down, not this.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// CPU time of the whole process, every thread including those that ended (user + system,
/// `/proc/self/stat` in clock ticks of 1/100 s).
fn process_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Runs `op` for about `seconds` on this thread; returns (operations, wall seconds, CPU seconds
/// of this thread).
fn rate(seconds: f64, mut op: impl FnMut()) -> (u64, f64, f64) {
    // Warm up caches and lazily built tables (the RSA blinding, P-256 tables).
    for _ in 0..3 {
        op();
    }
    let t0 = Instant::now();
    let c0 = thread_cpu();
    let mut n = 0u64;
    while t0.elapsed().as_secs_f64() < seconds {
        for _ in 0..8 {
            op();
        }
        n += 8;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = thread_cpu().zip(c0).map_or(wall, |(b, a)| b - a);
    (n, wall, cpu)
}

fn backend_of(name: &str) -> anyhow::Result<Backend> {
    match name {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
        other => bail!("unknown backend {other:?} (sqlite, postgres)"),
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    let build = if cfg!(debug_assertions) { "dev" } else { "release" };
    format!("{cpu}, {cores} cores, {build} build, load average {load}")
}

/// A realistic issue event for a document (hashes and ids only, as the service logs them).
fn issue_event(doc_id: &str, sha256_data: String, sha256_pdf: String, certs: &[String]) -> Event {
    Event {
        schema: EVENT_SCHEMA.into(),
        event_type: EventType::Issue,
        doc_id: doc_id.to_string(),
        doc_kind: DocKind::HocBa,
        sha256_data: Some(sha256_data),
        sha256_pdf: Some(sha256_pdf),
        signer_certs: certs.to_vec(),
        refers_to: None,
        reason: None,
        time: chrono::Utc::now().timestamp(),
    }
}

/// A document id from a run-unique prefix and a counter (random ids are the service's job).
fn bench_doc_id(run: &[u8; 4], i: u64) -> String {
    let mut r = [0u8; 10];
    r[..2].copy_from_slice(&run[..2]);
    r[2..].copy_from_slice(&i.to_be_bytes());
    record::doc_id(DocKind::HocBa, r)
}

fn synthetic_leaf(run: &[u8; 4], i: u64) -> anyhow::Result<NewLeaf> {
    let doc_id = bench_doc_id(run, i);
    let h = |s: &str| sha256_hex(format!("{s}{i}").as_bytes());
    let certs = [h("gvcn"), h("hieutruong"), h("condau")];
    let event = issue_event(&doc_id, h("data"), h("pdf"), &certs);
    Ok(NewLeaf {
        data: event.leaf_bytes()?,
        doc_id,
        refers_to: None,
    })
}

/// The log's checkpoint of `size` leaves, signed by the log and cosigned by every witness.
fn cosigned_checkpoint(
    size: u64,
    root: Hash,
    log: &NoteSigner,
    witnesses: &[CosignatureSigner],
) -> anyhow::Result<String> {
    let cp = Checkpoint::new(ORIGIN, size, root)?;
    let mut note = cp.sign(&[log])?;
    let now = chrono::Utc::now().timestamp() as u64;
    for w in witnesses {
        note.push_str(&w.cosign(&cp.to_text(), now)?.line());
    }
    Ok(note)
}

struct Keys {
    log: NoteSigner,
    witnesses: Vec<CosignatureSigner>,
    trusted: Vec<TrustedLog>,
    policy: WitnessPolicy,
}

fn keys() -> anyhow::Result<Keys> {
    let log = NoteSigner::from_seed(ORIGIN, &[11u8; 32])?;
    let witnesses = vec![
        CosignatureSigner::from_seed("witness-a.bench.truongso.local", &[21u8; 32])?,
        CosignatureSigner::from_seed("witness-b.bench.truongso.local", &[22u8; 32])?,
    ];
    let trusted = vec![TrustedLog::new(ORIGIN, vec![log.verifier()])];
    let policy = WitnessPolicy::new(witnesses.iter().map(|w| w.verifier()).collect(), 2)?;
    Ok(Keys {
        log,
        witnesses,
        trusted,
        policy,
    })
}

/// Per-document times of one worker, in milliseconds.
#[derive(Default, Clone)]
struct Split {
    docs: usize,
    render: f64,
    sign: [f64; 3],
    /// Of `sign`: `pades::prepare` (parse, incremental update, digest), the key operation,
    /// `Prepared::finish` (check of the value, CMS, splice).
    prepare: [f64; 3],
    key: [f64; 3],
    finish: [f64; 3],
    event: f64,
    /// Seconds of the worker thread: CPU time, wall time.
    cpu: f64,
    wall: f64,
    unsigned_bytes: Vec<usize>,
    signed_bytes: Vec<usize>,
}

pub async fn credentials(o: CredOpts) -> anyhow::Result<()> {
    anyhow::ensure!(
        o.docs > 0 && o.workers > 0,
        "--docs and --workers must be positive"
    );
    let backends = o
        .backends
        .iter()
        .map(|b| backend_of(b))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dir = std::env::temp_dir().join(format!("truongso-bench-cred-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&o, &backends, &dir).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn run(o: &CredOpts, backends: &[Backend], dir: &std::path::Path) -> anyhow::Result<()> {
    println!("machine: {}", machine());
    let t0 = Instant::now();
    let mut spec = PkiSpec::school(
        "Trường THCS Đống Đa",
        "Nguyễn Thị Lan",
        "Trần Văn Hùng",
        P12_PASSWORD,
    );
    (spec.tls_server, spec.expired, spec.untrusted) = (false, false, false);
    let pki = TestPki::generate(&dir.join("pki"), &spec)?;
    let fonts = Fonts::load_dir(&o.fonts_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "test PKI (RSA-2048 root; gvcn P-256, hieutruong RSA-2048, condau P-256) and fonts: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let p12 = |name: &str| -> anyhow::Result<PathBuf> {
        Ok(pki
            .identity(name)
            .with_context(|| format!("test PKI without {name}"))?
            .p12
            .clone())
    };
    let keys = keys()?;

    // 1. Raw key operations on one core.
    println!("\n## Raw key operations, one thread\n");
    println!("| operation | ops | wall s | CPU s | ops per CPU second | µs/op (CPU) | µs/op (wall) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let row = |name: &str, (n, wall, cpu): (u64, f64, f64)| {
        println!(
            "| {name} | {n} | {wall:.2} | {cpu:.2} | {:.0} | {:.1} | {:.1} |",
            n as f64 / cpu,
            cpu * 1e6 / n as f64,
            wall * 1e6 / n as f64
        );
        cpu / n as f64
    };
    let text = format!("{ORIGIN}\n1000000\n{}\n", "A".repeat(43) + "=");
    let sig = keys.log.sign(&text)?;
    let verifier = keys.log.verifier();
    assert!(verifier.verify(text.as_bytes(), &sig.signature));
    let ed_sign = row(
        "Ed25519 sign (checkpoint note, ed25519-dalek)",
        rate(o.seconds, || {
            std::hint::black_box(keys.log.sign(&text).expect("sign"));
        }),
    );
    row(
        "Ed25519 verify",
        rate(o.seconds, || {
            assert!(std::hint::black_box(
                verifier.verify(text.as_bytes(), &sig.signature)
            ));
        }),
    );
    let digest = [7u8; 32];
    let t = Instant::now();
    let rsa = Pkcs12Signer::open(p12("hieutruong")?, P12_PASSWORD)?;
    let p12_open_rsa = ms(t.elapsed());
    let t = Instant::now();
    let ec = Pkcs12Signer::open(p12("gvcn")?, P12_PASSWORD)?;
    let p12_open_ec = ms(t.elapsed());
    let mut raw = vec![];
    for (name, s) in [
        ("RSA-2048 PKCS#1 v1.5 sign (rsa 0.9)", &rsa),
        ("ECDSA P-256 sign (p256 0.13)", &ec),
    ] {
        let value = s.sign_digest(&digest)?;
        verify_digest_signature(&s.chain()[0], s.algorithm(), &digest, &value)?;
        let per = row(
            name,
            rate(o.seconds, || {
                std::hint::black_box(s.sign_digest(&digest).expect("sign"));
            }),
        );
        row(
            &format!("{} verify", &name[..name.find(' ').unwrap_or(name.len())]),
            rate(o.seconds, || {
                verify_digest_signature(&s.chain()[0], s.algorithm(), &digest, &value).expect("verify");
            }),
        );
        raw.push(per);
    }
    let (rsa_sign, ec_sign) = (raw[0], raw[1]);
    println!("\nopening a .p12 (PBES2 key decryption): RSA {p12_open_rsa:.1} ms, P-256 {p12_open_ec:.1} ms");
    let per_doc_keys = rsa_sign + 2.0 * ec_sign;
    println!(
        "key operations of one học bạ (1 RSA + 2 P-256 signatures): {:.2} ms → ceiling {:.0} docs/s per core, {:.0} on {} workers (Ed25519 log signatures are per checkpoint, {:.0} µs each)",
        per_doc_keys * 1000.0,
        1.0 / per_doc_keys,
        o.workers as f64 / per_doc_keys,
        o.workers,
        ed_sign * 1e6
    );

    // 2. The pipeline over realistic records.
    let (records, distinct, db_store) = demo_records(o, dir).await?;
    let PipelineOut {
        split,
        wall,
        cpu,
        appended,
        append_secs,
        batches,
        first,
    } = pipeline(o, &records, &fonts, &pki, &db_store).await?;
    println!(
        "\n## Pipeline: render + 3 PAdES signatures + log append, {} documents ({distinct} distinct demo records), {} workers, {} bytes reserved per signature, appends {}\n",
        records.len(),
        o.workers,
        o.contents_reserve.unwrap_or(pades::DEFAULT_CONTENTS_RESERVE),
        if o.append_window_ms == 0 {
            "as the documents arrive".to_string()
        } else {
            format!("gathered for {} ms", o.append_window_ms)
        }
    );
    let n = split.docs as f64;
    println!(
        "**{:.1} docs/s** measured ({} documents in {:.2} s wall; {appended} leaves appended in {batches} transactions taking {:.2} s in total on SQLite)",
        n / wall,
        split.docs,
        wall,
        append_secs
    );
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    println!(
        "process CPU {cpu:.2} s = {:.2} ms per document (render, signatures, appends, everything) → **{:.1} docs/s** on {cores} cores with nothing else running; the workers got {:.0} % of a core each while they ran\n",
        cpu * 1000.0 / n,
        cores * n / cpu,
        100.0 * split.cpu / split.wall
    );
    // Other processes on the cores stretch every step alike; scaled by the workers' CPU share,
    // the wall times estimate CPU time.
    let on_cpu = split.cpu / split.wall;
    println!("| step | mean ms per document (worker thread wall time) | ≈ CPU ms | share |");
    println!("|---|---:|---:|---:|");
    let total = split.render + split.sign.iter().sum::<f64>() + split.event;
    for (name, v) in [
        (
            "render_hoc_ba (canonical JSON, layout, PDF/A-3b with fonts, QR)",
            split.render,
        ),
        ("PAdES signature 1: GVCN (P-256)", split.sign[0]),
        ("PAdES signature 2: Hiệu trưởng (RSA-2048)", split.sign[1]),
        ("PAdES signature 3: con dấu (P-256)", split.sign[2]),
        (
            "event (SHA-256 of PDF and certificates, canonical leaf)",
            split.event,
        ),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.0} % |",
            v / n,
            on_cpu * v / n,
            100.0 * v / total
        );
    }
    println!(
        "| **total per document** | **{:.2}** | **{:.2}** | |",
        total / n,
        on_cpu * total / n
    );
    println!(
        "| log append (SQLite, in its own task, batched as the workers deliver) | {:.3} | | |",
        append_secs * 1000.0 / appended.max(1) as f64
    );
    println!(
        "\n| PAdES signature | `pades::prepare` (parse, incremental update, digest) | key operation | `Prepared::finish` (check of the value, CMS, splice) | total ms |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (k, name) in ["GVCN (P-256)", "Hiệu trưởng (RSA-2048)", "con dấu (P-256)"]
        .iter()
        .enumerate()
    {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} |",
            split.prepare[k] / n,
            split.key[k] / n,
            split.finish[k] / n,
            split.sign[k] / n
        );
    }

    // 6. Sizes.
    let stats = |v: &[usize]| {
        let mean = v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
        (
            v.iter().min().copied().unwrap_or(0),
            mean,
            v.iter().max().copied().unwrap_or(0),
        )
    };
    let (umin, umean, umax) = stats(&split.unsigned_bytes);
    let (smin, smean, smax) = stats(&split.signed_bytes);
    println!("\n## PDF size of a học bạ year\n");
    println!("| | min bytes | mean bytes | max bytes |");
    println!("|---|---:|---:|---:|");
    println!("| rendered (PDF/A-3b, unsigned) | {umin} | {umean:.0} | {umax} |");
    println!("| after 3 signatures | {smin} | {smean:.0} | {smax} |");
    println!("| added by the signatures | | {:.0} | |", smean - umean);

    // 5. Whole-document verification of the first document.
    let (pdf, leaf_data) = first.context("no document was produced")?;
    verify_whole(o, &db_store, &keys, &pki.ca_pem, &pdf, &leaf_data).await?;
    drop(db_store);

    // 3. Log append throughput.
    println!("\n## Log append (`store::ledger::append`)\n");
    println!("| database | batch | leaves | seconds | leaves/s | ms per batch p50 | p95 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let run_id: [u8; 4] = uuid::Uuid::now_v7().as_bytes()[12..16].try_into()?;
    for b in backends {
        let db = testing::fresh(*b).await;
        let mut next = 0u64;
        for batch in [1usize, 100, 1000] {
            let mut lat = vec![];
            let t0 = Instant::now();
            let mut leaves = 0;
            while t0.elapsed().as_secs_f64() < o.seconds || lat.is_empty() {
                let chunk = (0..batch)
                    .map(|k| synthetic_leaf(&run_id, next + k as u64))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let t = Instant::now();
                ledger::append(&db.store.db, &chunk).await?;
                lat.push(ms(t.elapsed()));
                next += batch as u64;
                leaves += batch;
            }
            let secs = t0.elapsed().as_secs_f64();
            let lat = sorted_ms(lat);
            println!(
                "| {b:?} | {batch} | {leaves} | {secs:.1} | {:.0} | {:.2} | {:.2} |",
                leaves as f64 / lat.iter().sum::<f64>() * 1000.0,
                percentile(&lat, 50.0),
                percentile(&lat, 95.0)
            );
        }
        db.cleanup().await;
    }

    // 4. Proofs.
    println!(
        "\n## Inclusion proofs: generation from the database, verification of the .tlog-proof (log signature, 2-of-2 witness cosignatures, RFC 6962 path)\n"
    );
    println!(
        "| database | tree size | built in s (batches of 1000) | proof hashes | generate p50 ms | p95 | verify p50 ms | p95 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for b in backends {
        proofs(o, *b, &keys, &run_id).await?;
    }
    Ok(())
}

/// Seeds a demo in `dir` and reads the year's học bạ records of every class that has results,
/// then takes `o.docs` of them evenly, or repeats them under new document ids when the demo has
/// fewer.
async fn demo_records(
    o: &CredOpts,
    dir: &std::path::Path,
) -> anyhow::Result<(Vec<HocBa>, usize, truongso_store::Store)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use truongso_store::entity::{class, school_year as sy};
    let t0 = Instant::now();
    let url = truongso_store::sqlite_url(dir.join("demo.db").to_str().context("utf-8 path")?);
    let store = truongso_store::Store::connect(&url).await?;
    store.migrate().await?;
    let cipher = testing::cipher();
    truongso_store::demo::seed(
        &store,
        &cipher,
        truongso_store::demo::DemoOptions {
            seed: 1,
            learners: o.demo_learners,
        },
    )
    .await?;
    let seeded = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let years: Vec<uuid::Uuid> = sy::Entity::find()
        .filter(sy::Column::Name.eq(&o.school_year))
        .all(&store.db)
        .await?
        .into_iter()
        .map(|y| y.id)
        .collect();
    let classes = class::Entity::find()
        .filter(class::Column::SchoolYearId.is_in(years))
        .filter(class::Column::Grade.between(1, 12))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(&store.db)
        .await?;
    let on = chrono::NaiveDate::from_ymd_opt(2026, 5, 31).context("date")?;
    let mut records = vec![];
    let mut k = 0u64;
    for c in classes {
        let got = truongso_store::credentials::hoc_ba_records(&store.db, &cipher, c.id, on, || {
            k += 1;
            bench_doc_id(b"demo", k)
        })
        .await?;
        records.extend(got.into_iter().map(|(_, r)| r));
    }
    anyhow::ensure!(
        !records.is_empty(),
        "the demo has no results in {}",
        o.school_year
    );
    // Evenly over the whole province, so that primary (TT 27) and secondary (TT 22) records
    // come in the demo's proportions.
    let read = records.len();
    if records.len() > o.docs {
        let step = records.len() as f64 / o.docs as f64;
        records = (0..o.docs)
            .map(|i| records[(i as f64 * step) as usize].clone())
            .collect();
    }
    let distinct = records.len();
    let (primary, secondary) = (
        records.iter().filter(|r| r.grade <= 5).count(),
        records.iter().filter(|r| r.grade > 5).count(),
    );
    let mut i = 0;
    while records.len() < o.docs {
        let mut r = records[i % distinct].clone();
        k += 1;
        r.doc_id = bench_doc_id(b"copy", k);
        records.push(r);
        i += 1;
    }
    println!(
        "demo of {} learners seeded in {seeded:.1} s; {read} records of {} read in {:.1} s, {distinct} taken ({primary} primary TT 27, {secondary} secondary TT 22)",
        o.demo_learners,
        o.school_year,
        t0.elapsed().as_secs_f64()
    );
    Ok((records, distinct, store))
}

struct PipelineOut {
    split: Split,
    /// Seconds from the first document started to the last leaf committed.
    wall: f64,
    /// CPU seconds of the whole process over the same span (workers, appender, SQLite).
    cpu: f64,
    appended: usize,
    append_secs: f64,
    batches: usize,
    /// The first document, signed, and its log leaf.
    first: Option<(Vec<u8>, Vec<u8>)>,
}

/// Render + three signatures on `o.workers` threads; an async task appends the events as they
/// arrive, each time everything queued in one transaction (as a batch issue job would).
async fn pipeline(
    o: &CredOpts,
    records: &[HocBa],
    fonts: &Fonts,
    pki: &TestPki,
    store: &truongso_store::Store,
) -> anyhow::Result<PipelineOut> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<NewLeaf>();
    let db = store.db.clone();
    let window = Duration::from_millis(o.append_window_ms);
    let appender = tokio::spawn(async move {
        let (mut leaves, mut batches, mut busy) = (0usize, 0usize, Duration::ZERO);
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            let until = tokio::time::Instant::now() + window;
            while batch.len() < 1000 {
                match rx.try_recv() {
                    Ok(l) => batch.push(l),
                    Err(_) if window.is_zero() => break,
                    Err(_) => match tokio::time::timeout_at(until, rx.recv()).await {
                        Ok(Some(l)) => batch.push(l),
                        // The window closed, or the workers are done.
                        Ok(None) | Err(_) => break,
                    },
                }
            }
            let t = Instant::now();
            ledger::append(&db, &batch).await?;
            busy += t.elapsed();
            leaves += batch.len();
            batches += 1;
        }
        Ok::<_, anyhow::Error>((leaves, busy.as_secs_f64(), batches))
    });
    let next = AtomicUsize::new(0);
    let splits = Mutex::new(vec![]);
    let first = Mutex::new(None);
    let created = chrono::Utc::now().fixed_offset();
    let opts = RenderOptions::new("https://truongso.example/xac-minh", created);
    let identity = |name: &str| pki.identity(name).map(|i| i.p12.clone());
    let files = [identity("gvcn"), identity("hieutruong"), identity("condau")];
    let fields = [
        ("GVCN", "Giáo viên chủ nhiệm xác nhận học bạ"),
        ("HieuTruong", "Hiệu trưởng phê duyệt học bạ"),
        ("ConDau", "Đơn vị ký số (con dấu)"),
    ];
    let (t0, cpu0) = (Instant::now(), process_cpu());
    let work = |tx: tokio::sync::mpsc::UnboundedSender<NewLeaf>| -> anyhow::Result<()> {
        // A batch job opens each identity once, not once per document.
        let mut signers = vec![];
        for f in &files {
            signers.push(Pkcs12Signer::open(f.as_ref().context("p12")?, P12_PASSWORD)?);
        }
        let certs = signers
            .iter()
            .map(|s| Ok(sha256_hex(&s.chain()[0].to_der()?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut sp = Split::default();
        let (w0, c0) = (Instant::now(), thread_cpu());
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(rec) = records.get(i) else { break };
            let t = Instant::now();
            let canonical = rec.canonical()?;
            let mut pdf = render_hoc_ba(rec, &canonical, &opts, fonts)?;
            sp.render += ms(t.elapsed());
            sp.unsigned_bytes.push(pdf.len());
            for (k, s) in signers.iter().enumerate() {
                // `pades::sign` step by step, to see where its time goes.
                let t = Instant::now();
                let mut field = SignatureField::new(fields[k].0, chrono::Utc::now()).with_reason(fields[k].1);
                if let Some(r) = o.contents_reserve {
                    field = field.with_contents_reserve(r);
                }
                let prepared = pades::prepare(&pdf, &field, s.chain(), s.algorithm())?;
                let t1 = Instant::now();
                let value = s.sign_digest(&prepared.digest_to_sign())?;
                let t2 = Instant::now();
                pdf = prepared.finish(&value)?;
                sp.prepare[k] += ms(t1 - t);
                sp.key[k] += ms(t2 - t1);
                sp.finish[k] += ms(t2.elapsed());
                sp.sign[k] += ms(t.elapsed());
            }
            sp.signed_bytes.push(pdf.len());
            let t = Instant::now();
            let event = issue_event(&rec.doc_id, sha256_hex(&canonical), sha256_hex(&pdf), &certs);
            let data = event.leaf_bytes()?;
            sp.event += ms(t.elapsed());
            if i == 0 {
                *first.lock().expect("lock") = Some((pdf, data.clone()));
            }
            tx.send(NewLeaf {
                data,
                doc_id: rec.doc_id.clone(),
                refers_to: None,
            })
            .map_err(|_| anyhow::anyhow!("the appender stopped"))?;
            sp.docs += 1;
        }
        sp.wall = w0.elapsed().as_secs_f64();
        sp.cpu = thread_cpu().zip(c0).map_or(sp.wall, |(b, a)| b - a);
        splits.lock().expect("lock").push(sp);
        Ok(())
    };
    // The scope blocks this runtime thread; the appender runs on the other.
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            // Named, so that a profiler can be pointed at them (`perf report --comm hocba-worker`).
            let handles = (0..o.workers)
                .map(|_| {
                    let tx = tx.clone();
                    std::thread::Builder::new()
                        .name("hocba-worker".into())
                        .spawn_scoped(s, || work(tx))
                })
                .collect::<std::io::Result<Vec<_>>>()?;
            handles
                .into_iter()
                .map(|h| h.join().expect("worker panicked"))
                .collect::<anyhow::Result<Vec<()>>>()
        })
    })?;
    drop(tx);
    let (appended, append_secs, batches) = appender.await??;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = process_cpu().zip(cpu0).map_or(f64::NAN, |(b, a)| b - a);
    let mut total = Split::default();
    for sp in splits.into_inner().expect("lock") {
        total.docs += sp.docs;
        total.render += sp.render;
        for k in 0..3 {
            total.sign[k] += sp.sign[k];
            total.prepare[k] += sp.prepare[k];
            total.key[k] += sp.key[k];
            total.finish[k] += sp.finish[k];
        }
        total.event += sp.event;
        total.cpu += sp.cpu;
        total.wall += sp.wall;
        total.unsigned_bytes.extend(sp.unsigned_bytes);
        total.signed_bytes.extend(sp.signed_bytes);
    }
    anyhow::ensure!(
        appended == records.len(),
        "appended {appended} of {}",
        records.len()
    );
    Ok(PipelineOut {
        split: total,
        wall,
        cpu,
        appended,
        append_secs,
        batches,
        first: first.into_inner().expect("lock"),
    })
}

/// `verify_document` of a signed học bạ from the pipeline, with its log evidence under a
/// checkpoint cosigned by two witnesses; and `verify_pdf` alone for the share of the PDF checks.
async fn verify_whole(
    o: &CredOpts,
    store: &truongso_store::Store,
    keys: &Keys,
    ca_pem: &std::path::Path,
    pdf: &[u8],
    leaf_data: &[u8],
) -> anyhow::Result<()> {
    let db = &store.db;
    let event = Event::from_leaf(leaf_data)?;
    let index = ledger::leaves_of(db, &event.doc_id)
        .await?
        .first()
        .map(|(i, _)| *i)
        .context("the first document is not in the log")?;
    let size = ledger::size(db).await?;
    let root = ledger::root_at(db, size).await?;
    let note = cosigned_checkpoint(size, root, &keys.log, &keys.witnesses)?;
    let evidence = LogEvidence {
        proof: TlogProof {
            extra: None,
            index,
            path: ledger::inclusion_proof(db, size, index).await?,
            checkpoint: note,
        },
        leaf: leaf_data.to_vec(),
        later: vec![],
        later_complete: true,
    };
    let roots = TrustStore::from_pem("bench-root", &std::fs::read(ca_pem)?)?;
    let trust = Trust {
        roots: &roots,
        logs: &keys.trusted,
        witnesses: &keys.policy,
        pdf: Default::default(),
    };
    let outcome = verify_document(pdf, &trust, Some(&evidence), None);
    if !outcome.verdict.valid() {
        let failures: Vec<_> = outcome.verdict.failures().map(|l| l.code.clone()).collect();
        bail!("the pipeline's document does not verify: {failures:?}");
    }
    let (mut whole, mut pdf_only) = (vec![], vec![]);
    for _ in 0..o.samples.max(1) {
        let t = Instant::now();
        let out = verify_document(pdf, &trust, Some(&evidence), None);
        whole.push(ms(t.elapsed()));
        std::hint::black_box(out);
        let t = Instant::now();
        let r = pdf_verify::verify_pdf(pdf, &roots, &Default::default())?;
        pdf_only.push(ms(t.elapsed()));
        std::hint::black_box(r);
    }
    let (whole, pdf_only) = (sorted_ms(whole), sorted_ms(pdf_only));
    println!(
        "\n## Whole-document verification (3-signature học bạ, {} bytes, leaf {index} of {size}, 2-of-2 witnesses; verdict: valid)\n",
        pdf.len()
    );
    println!("| | runs | p50 ms | p95 ms |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `verify_document` (PDF, chains, record, log proof, witnesses, standing) | {} | {:.2} | {:.2} |",
        whole.len(),
        percentile(&whole, 50.0),
        percentile(&whole, 95.0)
    );
    println!(
        "| of which `verify_pdf` alone | {} | {:.2} | {:.2} |",
        pdf_only.len(),
        percentile(&pdf_only, 50.0),
        percentile(&pdf_only, 95.0)
    );
    Ok(())
}

/// Grows a fresh log to each size in `o.proof_sizes` and times inclusion proofs of random
/// leaves at that size and the verification of each as a .tlog-proof.
async fn proofs(o: &CredOpts, backend: Backend, keys: &Keys, run: &[u8; 4]) -> anyhow::Result<()> {
    let tdb = testing::fresh(backend).await;
    let db = &tdb.store.db;
    let mut size = 0u64;
    // xorshift: reproducible "random" leaf choices without a dependency.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for &target in &o.proof_sizes {
        let t0 = Instant::now();
        while size < target {
            let n = (target - size).min(1000);
            let chunk = (0..n)
                .map(|k| synthetic_leaf(run, size + k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            ledger::append(db, &chunk).await?;
            size += n;
        }
        let built = t0.elapsed().as_secs_f64();
        let root = ledger::root_at(db, size).await?;
        let note = cosigned_checkpoint(size, root, &keys.log, &keys.witnesses)?;
        let (mut gen_ms, mut ver_ms) = (vec![], vec![]);
        let mut hashes = 0;
        for _ in 0..o.samples.max(1) {
            let index = rnd(size);
            let leaf = ledger::leaf(db, index).await?.context("leaf missing")?;
            let t = Instant::now();
            let path = ledger::inclusion_proof(db, size, index).await?;
            gen_ms.push(ms(t.elapsed()));
            hashes = path.len();
            let proof = TlogProof {
                extra: None,
                index,
                path,
                checkpoint: note.clone(),
            };
            // What a holder's verifier does: parse the file, then verify it.
            let text = proof.to_text();
            let t = Instant::now();
            let parsed = TlogProof::parse(text.as_bytes())?;
            let ok = parsed.verify(&leaf, &keys.trusted, &keys.policy)?;
            ver_ms.push(ms(t.elapsed()));
            anyhow::ensure!(ok.index == index && ok.cosignatures.quorum_met());
        }
        let (g, v) = (sorted_ms(gen_ms), sorted_ms(ver_ms));
        println!(
            "| {backend:?} | {size} | {built:.1} | {hashes} | {:.3} | {:.3} | {:.3} | {:.3} |",
            percentile(&g, 50.0),
            percentile(&g, 95.0),
            percentile(&v, 50.0),
            percentile(&v, 95.0)
        );
    }
    tdb.cleanup().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn bench_ids_are_valid_and_distinct() {
        let a = bench_doc_id(b"demo", 1);
        let b = bench_doc_id(b"demo", 2);
        let c = bench_doc_id(b"copy", 1);
        for id in [&a, &b, &c] {
            assert!(record::valid_doc_id(id), "{id}");
            assert!(id.starts_with("HB-"), "{id}");
        }
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn synthetic_leaves_are_issue_events_of_the_real_shape() {
        let leaf = synthetic_leaf(b"test", 7).unwrap();
        let event = Event::from_leaf(&leaf.data).unwrap();
        assert_eq!(event.event_type, EventType::Issue);
        assert_eq!(event.doc_id, leaf.doc_id);
        assert_eq!(event.signer_certs.len(), 3);
        assert_eq!(event.sha256_pdf.as_deref().map(str::len), Some(64));
        assert_eq!(leaf.refers_to, None);
    }

    #[test]
    fn the_checkpoint_meets_the_two_witness_policy() {
        let keys = keys().unwrap();
        let leaves: Vec<Vec<u8>> = (0..5).map(|i| synthetic_leaf(b"test", i).unwrap().data).collect();
        let hashes: Vec<Hash> = leaves
            .iter()
            .map(|l| truongso_ledger::merkle::leaf_hash(l))
            .collect();
        let root = truongso_ledger::merkle::root_from_leaf_hashes(&hashes);
        let note = cosigned_checkpoint(5, root, &keys.log, &keys.witnesses).unwrap();
        let proof = TlogProof {
            extra: None,
            index: 3,
            path: truongso_ledger::merkle::inclusion_proof(&hashes, 3).unwrap(),
            checkpoint: note.clone(),
        };
        let ok = proof.verify(&leaves[3], &keys.trusted, &keys.policy).unwrap();
        assert_eq!(ok.cosignatures.cosigned.len(), 2);
        // One witness short of the quorum: refused.
        let one = note
            .lines()
            .filter(|l| !l.contains("witness-b"))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        let short = TlogProof {
            checkpoint: one,
            ..proof
        };
        assert!(matches!(
            short.verify(&leaves[3], &keys.trusted, &keys.policy),
            Err(truongso_ledger::bundle::BundleError::QuorumNotMet {
                cosigned: 1,
                quorum: 2
            })
        ));
    }

    #[test]
    fn cpu_clocks_are_read_on_linux() {
        let t = thread_cpu().expect("schedstat");
        let p = process_cpu().expect("stat");
        assert!(t >= 0.0 && p >= 0.0);
        // Burn a little CPU: the thread clock moves.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu().unwrap() > t);
    }
}
