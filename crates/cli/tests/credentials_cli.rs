//! Học bạ số on the command line, with the real `truongso` binary: `pki` makes certificates
//! OpenSSL accepts; the demo issues a class on a fresh SQLite database and writes a PDF that
//! `truongso verify` (offline, against an exported tile mirror) and poppler's pdfsig find valid;
//! every kind of bad input gets its precise verdict and exit code; `truongso witness` cosigns the
//! demo log's next checkpoint (with a consistency proof) and refuses a forged one; a revocation
//! made after the holder's bundle is found through the mirror.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("truongso-cred-{tag}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary in `cwd` (a fresh directory: no `truongso.toml`), with no settings from outside.
fn cmd(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_truongso"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("TRUONGSO_DATABASE_URL")
        .env_remove("TRUONGSO_DATA_KEY")
        .env_remove("TRUONGSO_FONTS_DIR");
    c
}

fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = cmd(cwd, args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn pki_makes_certificates_openssl_accepts_and_never_overwrites() {
    let cwd = temp("pki");
    let dir = cwd.join("pki");
    let (code, out, err) = run(
        &cwd,
        &[
            "pki",
            "--dir",
            &s(&dir),
            "--school",
            "Trường THCS Kiểm Thử",
            "--gvcn",
            "Nguyễn Thị Chủ Nhiệm",
            "--principal",
            "Trần Văn Hiệu Trưởng",
            "--password",
            "mat-khau-1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for f in [
        "ca.pem",
        "gvcn.p12",
        "hieutruong.p12",
        "condau.p12",
        "gvcn.pem",
        "condau.key.pem",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing: {out}");
    }
    assert!(out.contains("pdfsig -nssdir"), "{out}");
    assert!(out.contains("pyhanko sign validate --trust"), "{out}");
    assert!(out.contains("mat-khau-1"), "{out}");
    for leaf in ["gvcn.pem", "hieutruong.pem", "condau.pem"] {
        let o = Command::new("openssl")
            .args(["verify", "-CAfile", "ca.pem", leaf])
            .current_dir(&dir)
            .output()
            .expect("openssl");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            format!("{leaf}: OK"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The certificate names the people and the school given.
    let o = Command::new("openssl")
        .args([
            "x509",
            "-in",
            "gvcn.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "utf8,sep_comma_plus",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&o.stdout);
    assert!(
        subject.contains("CN=Nguyễn Thị Chủ Nhiệm") && subject.contains("O=Trường THCS Kiểm Thử"),
        "{subject}"
    );
    // The .p12 opens with the password given, and not with another.
    let p12 = |pass: &str| {
        Command::new("openssl")
            .args(["pkcs12", "-in", "hieutruong.p12", "-nokeys", "-passin"])
            .arg(format!("pass:{pass}"))
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let good = p12("mat-khau-1");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("-----BEGIN CERTIFICATE-----"));
    assert!(!p12("sai").status.success());

    // A directory with files in it is never overwritten.
    let before = std::fs::read(dir.join("ca.pem")).unwrap();
    let (code, _, err) = run(&cwd, &["pki", "--dir", &s(&dir)]);
    assert_eq!(code, 2);
    assert!(err.contains("không ghi đè"), "{err}");
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), before);
    let _ = std::fs::remove_dir_all(&cwd);
}

/// A `truongso witness` child and the address it listens on.
struct WitnessProcess {
    child: Child,
    url: String,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_witness(cwd: &Path, key: &Path, db: &Path, log_vkey: &str) -> WitnessProcess {
    let mut child = cmd(
        cwd,
        &[
            "witness",
            "--bind",
            "127.0.0.1:0",
            "--db",
            &format!("sqlite://{}?mode=rwc", db.display()),
            "--key",
            &s(key),
            "--log",
            log_vkey,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("spawns");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the witness prints its address").unwrap();
        if let Some(i) = line.find("http://") {
            break line[i..].trim_end_matches("/add-checkpoint").trim().to_string();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    WitnessProcess { child, url }
}

/// Paths of the demo's outputs.
struct Demo {
    cwd: PathBuf,
    db_url: String,
    bundle: PathBuf,
    root: PathBuf,
    log_vkey: PathBuf,
    witness_vkey: PathBuf,
}

impl Demo {
    fn trust(&self) -> Vec<String> {
        vec![
            "--trust".into(),
            s(&self.root),
            "--log-key".into(),
            s(&self.log_vkey),
            "--witness".into(),
            s(&self.witness_vkey),
            "--quorum".into(),
            "1".into(),
        ]
    }

    /// `truongso verify FILE [extra…]` with the demo's trust; (exit code, JSON output).
    fn verify(&self, file: &Path, extra: &[&str]) -> (i32, Value) {
        let mut args: Vec<String> = vec!["verify".into(), s(file), "--json".into()];
        args.extend(self.trust());
        args.extend(extra.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&self.cwd, &refs);
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, json)
    }

    fn export(&self, dir: &Path) -> String {
        let (code, out, err) = run(
            &self.cwd,
            &["--database-url", &self.db_url, "ledger", "export-tiles", &s(dir)],
        );
        assert_eq!(code, 0, "{out}{err}");
        out
    }
}

fn codes(v: &Value) -> Vec<(String, bool)> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["ok"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn failed(v: &Value) -> Vec<String> {
    codes(v)
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(c, _)| c)
        .collect()
}

fn remarks(v: &Value) -> Vec<String> {
    v["remarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

fn pdfsig_valid(pdf: &Path, ca: &Path, nss: &Path) -> String {
    std::fs::create_dir_all(nss).unwrap();
    let db = format!("sql:{}", nss.display());
    if !nss.join("cert9.db").exists() {
        assert!(
            Command::new("certutil")
                .args(["-N", "-d", &db, "--empty-password"])
                .status()
                .expect("certutil (libnss3-tools)")
                .success()
        );
        assert!(
            Command::new("certutil")
                .args(["-A", "-d", &db, "-n", "demo-root", "-t", "CT,C,C", "-i"])
                .arg(ca)
                .status()
                .unwrap()
                .success()
        );
    }
    let out = Command::new("pdfsig")
        .args(["-nssdir", &db])
        .arg(pdf)
        .output()
        .expect("pdfsig (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_issues_and_verify_works_offline() {
    let cwd = temp("demo");
    let data = cwd.join("data");
    let db_file = data.join("demo.db");
    let t0 = std::time::Instant::now();
    let (code, out, err) = run(
        &cwd,
        &["demo", "--no-serve", "--learners", "400", "--db", &s(&db_file)],
    );
    let first_run = t0.elapsed();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Học bạ số mẫu (đã phát hành"), "{out}");
    assert!(out.contains("đã ký đủ 3 chữ ký"), "{out}");
    assert!(out.contains("có chữ ký xác nhận của đơn vị chứng kiến"), "{out}");
    assert!(out.contains("truongso verify "), "{out}");
    assert!(
        out.contains("hieutruong.thcs"),
        "the logins are printed too: {out}"
    );
    // The second class waits for the demo's homeroom-teacher login, its teacher of record.
    assert!(
        out.contains("học bạ đang chờ ký trên trang /hoc-ba (waiting to be signed): GVCN gvcn.thcs →"),
        "{out}"
    );
    let out_dir = data.join("demo-hocba");
    let pdfs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    let pdf = pdfs[0].clone();
    let creds = data.join("demo-credentials");
    let demo = Demo {
        cwd: cwd.clone(),
        db_url: format!("sqlite://{}?mode=rwc", db_file.display()),
        bundle: pdf.with_extension("tlog-proof"),
        root: creds.join("trust/demo-root.pem"),
        log_vkey: creds.join("log.vkey"),
        witness_vkey: creds.join("witness.vkey"),
    };
    assert!(demo.bundle.is_file());
    let bundle_text = std::fs::read_to_string(&demo.bundle).unwrap();
    assert!(
        bundle_text.starts_with("c2sp.org/tlog-proof@v1\nextra "),
        "{bundle_text}"
    );
    let doc_id = pdf.file_stem().unwrap().to_string_lossy().into_owned();
    assert!(doc_id.starts_with("HB-") && doc_id.len() == 19, "{doc_id}");

    // The printed command is the one that works (the server part aside).
    let printed = out
        .lines()
        .find(|l| l.trim_start().starts_with("truongso verify "))
        .unwrap();
    assert!(
        printed.contains(&format!("--bundle {}", demo.bundle.display())),
        "{printed}"
    );
    assert!(printed.contains("--url http://127.0.0.1:8080"), "{printed}");

    // A static mirror of the log, then the whole verification offline.
    let mirror = cwd.join("mirror");
    let exported = demo.export(&mirror);
    assert!(exported.contains("Đã ghi bản sao sổ cái"), "{exported}");
    assert!(mirror.join("checkpoint").is_file());
    assert!(mirror.join("tile/entries").is_dir());
    let tiles = ["--bundle", &s(&demo.bundle), "--tiles", &s(&mirror)];
    let (code, v) = demo.verify(&pdf, &tiles);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["valid"], true);
    assert_eq!(v["headline"], "Văn bản hợp lệ");
    assert_eq!(v["doc_id"], doc_id.as_str());
    assert_eq!(
        codes(&v),
        [
            "file_ok",
            "record_ok",
            "signatures_ok",
            "certificates_ok",
            "unchanged_ok",
            "checkpoint_ok",
            "witnesses_ok",
            "inclusion_ok",
            "status_current"
        ]
        .iter()
        .map(|c| (c.to_string(), true))
        .collect::<Vec<_>>()
    );
    assert_eq!(remarks(&v), ["mirror_ok"]);
    // The text form: each line with its mark, the headline last.
    let mut args = vec!["verify".to_string(), s(&pdf)];
    args.extend(demo.trust());
    args.extend(tiles.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, text, _) = run(&cwd, &refs);
    assert_eq!(code, 0);
    assert_eq!(text.matches("  ✓ ").count(), 9, "{text}");
    assert!(!text.contains('✗'), "{text}");
    assert!(text.contains("Cả 3 chữ ký số đều đúng"), "{text}");
    assert_eq!(text.lines().last(), Some("Văn bản hợp lệ"));
    // English on request.
    let (code, v) = demo.verify(&pdf, &[&tiles[..], &["--lang", "en"]].concat());
    assert_eq!(code, 0);
    assert_eq!(v["headline"], "Document is valid");

    // Without a bundle, the proof is computed from the mirror's entries.
    let (code, v) = demo.verify(&pdf, &["--tiles", &s(&mirror)]);
    assert_eq!(code, 0, "{v:#}");

    // poppler agrees: three valid signatures from trusted certificates.
    let sig = pdfsig_valid(&pdf, &demo.root, &cwd.join("nss"));
    assert_eq!(sig.matches("Signature is Valid.").count(), 3, "{sig}");
    assert_eq!(sig.matches("Certificate is Trusted.").count(), 3, "{sig}");

    let bytes = std::fs::read(&pdf).unwrap();
    // Content changed inside what the first signature covers.
    let mut edited = bytes.clone();
    // A letter of a font name in the first revision: the file still parses, only the signed
    // bytes differ.
    let at = bytes.windows(10).position(|w| w == b"/BaseFont/").unwrap() + 10;
    assert!(edited[at].is_ascii_uppercase());
    edited[at] = if edited[at] == b'Z' { b'A' } else { edited[at] + 1 };
    let edited_path = cwd.join("edited.pdf");
    std::fs::write(&edited_path, &edited).unwrap();
    let (code, v) = demo.verify(&edited_path, &tiles);
    assert_eq!(code, 1);
    assert_eq!(v["valid"], false);
    assert!(failed(&v).contains(&"digest_mismatch".to_string()), "{v:#}");
    assert_eq!(v["headline"], "Văn bản KHÔNG hợp lệ");
    let sig = pdfsig_valid(&edited_path, &demo.root, &cwd.join("nss"));
    assert_eq!(sig.matches("Signature is Valid.").count(), 0, "{sig}");
    // Bytes appended after the last signature.
    let mut appended = bytes.clone();
    appended.extend_from_slice(b"\n% them sau khi ky\n");
    let appended_path = cwd.join("appended.pdf");
    std::fs::write(&appended_path, &appended).unwrap();
    let (code, v) = demo.verify(&appended_path, &tiles);
    assert_eq!(code, 1);
    assert!(
        failed(&v).contains(&"modified_after_signing".to_string()),
        "{v:#}"
    );

    // A bundle whose inclusion path was altered.
    let mut lines: Vec<String> = bundle_text.lines().map(str::to_string).collect();
    let path_line = lines.iter().position(|l| l.starts_with("index ")).unwrap() + 1;
    let mut h = B64.decode(&lines[path_line]).unwrap();
    assert_eq!(h.len(), 32, "the demo's bundle has a path");
    h[0] ^= 0x80;
    lines[path_line] = B64.encode(&h);
    let flipped = cwd.join("flipped.tlog-proof");
    std::fs::write(&flipped, format!("{}\n", lines.join("\n"))).unwrap();
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&flipped)]);
    assert_eq!(code, 1);
    assert!(failed(&v).contains(&"proof_invalid".to_string()), "{v:#}");

    // A forged checkpoint: the size edited after the log signed it.
    let size_line = bundle_text
        .lines()
        .skip_while(|l| !l.starts_with("demo.truongso.local/"))
        .nth(1)
        .unwrap()
        .to_string();
    let size: u64 = size_line.parse().unwrap();
    let forged_text = bundle_text.replacen(
        &format!("\ndemo.truongso.local/hoc-ba\n{size}\n"),
        &format!("\ndemo.truongso.local/hoc-ba\n{}\n", size + 1),
        1,
    );
    assert_ne!(forged_text, bundle_text);
    let forged = cwd.join("forged.tlog-proof");
    std::fs::write(&forged, &forged_text).unwrap();
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&forged), "--tiles", &s(&mirror)]);
    assert_eq!(code, 1);
    assert!(failed(&v).contains(&"checkpoint_invalid".to_string()), "{v:#}");
    assert!(failed(&v).contains(&"status_unknown".to_string()), "{v:#}");

    // A witness whose key never cosigned this checkpoint, required by the policy.
    let other_key = cwd.join("other-witness.key");
    let (code, out, err) = run(
        &cwd,
        &[
            "witness",
            "--init",
            "--name",
            "witness.khac.test",
            "--key",
            &s(&other_key),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let other_vkey = out.lines().last().unwrap().trim().to_string();
    assert!(other_vkey.starts_with("witness.khac.test+"), "{out}");
    let args = vec![
        "verify".to_string(),
        s(&pdf),
        "--json".into(),
        "--trust".into(),
        s(&demo.root),
        "--log-key".into(),
        s(&demo.log_vkey),
        "--witness".into(),
        other_vkey.clone(),
        "--quorum".into(),
        "1".into(),
        "--bundle".into(),
        s(&demo.bundle),
    ];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = run(&cwd, &refs);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(failed(&v).contains(&"witness_quorum".to_string()), "{v:#}");
    let line = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "witness_quorum")
        .unwrap();
    assert_eq!(
        line["message"],
        "Chỉ có 0 trên 1 chữ ký xác nhận cần thiết của các đơn vị chứng kiến."
    );
    // The witness key file is refused if it already exists.
    let (code, _, err) = run(
        &cwd,
        &["witness", "--init", "--name", "x.test", "--key", &s(&other_key)],
    );
    assert_eq!(code, 2, "{err}");

    // Without the log's tiles the standing cannot be vouched for: never "valid".
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&demo.bundle)]);
    assert_eq!(code, 1);
    assert_eq!(failed(&v), ["status_unknown"], "{v:#}");

    // Not a PDF; a truncated PDF at several lengths.
    let junk = cwd.join("junk.pdf");
    std::fs::write(&junk, b"Day khong phai PDF").unwrap();
    let (code, v) = demo.verify(&junk, &tiles);
    assert_eq!(code, 1);
    assert_eq!(failed(&v)[0], "not_pdf");
    for cut in [100usize, bytes.len() / 3, bytes.len() - 2000, bytes.len() - 10] {
        let t = cwd.join("truncated.pdf");
        std::fs::write(&t, &bytes[..cut]).unwrap();
        let (code, v) = demo.verify(&t, &tiles);
        assert_eq!(code, 1, "cut at {cut}: {v:#}");
        assert_eq!(v["valid"], false);
        assert!(!failed(&v).is_empty());
    }

    // Usage errors: exit 2 with a precise message.
    let (code, _, err) = run(&cwd, &["verify", &s(&cwd.join("khong-co.pdf"))]);
    assert_eq!(code, 2);
    assert!(err.contains("Không đọc được tệp"), "{err}");
    let (code, _, err) = run(&cwd, &["verify", &s(&pdf), "--log-key", "khong-phai-khoa"]);
    assert_eq!(code, 2);
    assert!(err.contains("Khóa xác minh của sổ cái không hợp lệ"), "{err}");
    let (code, _, err) = run(&cwd, &["verify", &s(&pdf), "--qr", "https://x/xac-minh?doc=1"]);
    assert_eq!(code, 2);
    assert!(err.contains("mã QR"), "{err}");
    let (code, _, err) = run(
        &cwd,
        &[
            "verify",
            &s(&pdf),
            "--witness",
            &s(&demo.witness_vkey),
            "--quorum",
            "2",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("Số chữ ký chứng kiến yêu cầu (2) không hợp lệ"),
        "{err}"
    );
    let (code, _, err) = run(&cwd, &["verify", &s(&pdf), "--bundle", &s(&pdf)]);
    assert_eq!(code, 2);
    assert!(err.contains("c2sp.org/tlog-proof@v1"), "{err}");

    // A mirror with one entry altered is caught by the recomputed root.
    let bad_mirror = cwd.join("bad-mirror");
    demo.export(&bad_mirror);
    let entries = std::fs::read_dir(bad_mirror.join("tile/entries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".p"))
        .map(|d| std::fs::read_dir(d).unwrap().next().unwrap().unwrap().path())
        .unwrap();
    let mut e = std::fs::read(&entries).unwrap();
    let last = e.len() - 3;
    e[last] ^= 0x01;
    std::fs::write(&entries, &e).unwrap();
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&demo.bundle), "--tiles", &s(&bad_mirror)]);
    assert_eq!(code, 1);
    assert_eq!(failed(&v), ["status_unknown"], "{v:#}");
    assert_eq!(remarks(&v), ["mirror_root_mismatch"]);

    // Again on the same files: everything is reused, nothing issued twice.
    let cp_before = std::fs::read_to_string(mirror.join("checkpoint")).unwrap();
    let t1 = std::time::Instant::now();
    let (code, out, err) = run(
        &cwd,
        &["demo", "--no-serve", "--learners", "400", "--db", &s(&db_file)],
    );
    let second_run = t1.elapsed();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Dùng lại tỉnh mẫu") && out.contains("Học bạ số mẫu (dùng lại"),
        "{out}"
    );
    assert!(pdf.is_file());
    assert_eq!(std::fs::read(&pdf).unwrap(), bytes, "the same document");
    let again = cwd.join("mirror-again");
    demo.export(&again);
    assert_eq!(
        std::fs::read_to_string(again.join("checkpoint"))
            .unwrap()
            .lines()
            .nth(1),
        cp_before.lines().nth(1),
        "the log did not grow"
    );
    eprintln!(
        "demo with 400 learners: first run {:.1}s, second {:.1}s",
        first_run.as_secs_f64(),
        second_run.as_secs_f64()
    );

    // `truongso witness`, run by "another office" on the demo witness's key and memory, cosigns
    // the log's next checkpoint — with a consistency proof from the size it saw — after the
    // document is revoked; the holder's old bundle plus the new mirror then show the revocation.
    let witness = spawn_witness(
        &cwd,
        &creds.join("witness.key"),
        &data.join("demo-witness.db"),
        std::fs::read_to_string(&demo.log_vkey).unwrap().trim(),
    );
    revoke_through_service(&cwd, &db_file, &creds, &doc_id, &witness.url, &demo).await;
    let newer = cwd.join("mirror-revoked");
    demo.export(&newer);
    let note = std::fs::read_to_string(newer.join("checkpoint")).unwrap();
    assert_eq!(note.lines().nth(1).unwrap(), (size + 1).to_string(), "{note}");
    assert!(
        note.contains("\n— witness.demo.truongso.local "),
        "cosigned by the witness: {note}"
    );
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&demo.bundle), "--tiles", &s(&newer)]);
    assert_eq!(code, 1);
    assert_eq!(failed(&v), ["revoked"], "{v:#}");
    let line = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "revoked")
        .unwrap();
    assert_eq!(line["message"], "Văn bản đã bị THU HỒI (lý do: cấp nhầm).");
    // The old mirror predates the revocation: it still says current (a mirror is as fresh as
    // its checkpoint), and the bundle alone says nothing about standing.
    let (code, _) = demo.verify(&pdf, &tiles);
    assert_eq!(code, 0);

    // The same over HTTP from the real server (`serve` on the demo's database, its log key and
    // origin from the configuration): /log/checkpoint and /log/tile/… read in full.
    let mut server = cmd(&cwd, &["serve", "--bind", "127.0.0.1:0"])
        .env("TRUONGSO_DATABASE_URL", &demo.db_url)
        .env("TRUONGSO_CREDENTIALS_DIR", &creds)
        .env("TRUONGSO_LEDGER_ORIGIN", "demo.truongso.local/hoc-ba")
        .env("TRUONGSO_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .find_map(|l| l.find("http://").map(|i| l[i..].trim().to_string()))
        .expect("the server prints its address");
    let (code, v) = demo.verify(&pdf, &["--bundle", &s(&demo.bundle), "--url", &base]);
    let (code2, v2) = demo.verify(&pdf, &["--url", &base]);
    let (code3, v3) = demo.verify(
        &pdf,
        &["--bundle", &s(&demo.bundle), "--url", "http://127.0.0.1:9"],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 1);
    assert_eq!(failed(&v), ["revoked"], "{v:#}");
    assert_eq!(remarks(&v), ["mirror_ok"]);
    assert!(
        v["remarks"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{base}/log")),
        "{v:#}"
    );
    // Without the holder's bundle the proof comes from the log itself.
    assert_eq!(code2, 1);
    assert_eq!(failed(&v2), ["revoked"], "{v2:#}");
    // Nobody answering: the standing is unknown, said so.
    assert_eq!(code3, 1);
    assert_eq!(failed(&v3), ["status_unknown"], "{v3:#}");
    assert_eq!(remarks(&v3), ["mirror_unreadable"]);

    // The witness refuses a forged checkpoint (size edited: the log's signature fails).
    let forged_note = note.replacen(&format!("\n{}\n", size + 1), &format!("\n{}\n", size + 2), 1);
    let r = reqwest::Client::new()
        .post(format!("{}/add-checkpoint", witness.url))
        .body(format!("old {}\n\n{forged_note}", size + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Resending what it already cosigned is answered again (idempotent), with a fresh line.
    let r = reqwest::Client::new()
        .post(format!("{}/add-checkpoint", witness.url))
        .body(format!("old {}\n\n{}", size + 1, strip_cosignatures(&note)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .starts_with("— witness.demo.truongso.local ")
    );
    drop(witness);
    let _ = std::fs::remove_dir_all(&cwd);
}

/// The note with only the log's own signature line.
fn strip_cosignatures(note: &str) -> String {
    let (text, sigs) = note.split_once("\n\n").unwrap();
    let first = sigs.lines().next().unwrap();
    format!("{text}\n\n{first}\n")
}

/// Revokes the demo document through the service, as the school's pages would, with the log
/// asking the spawned `truongso witness` to cosign.
async fn revoke_through_service(
    cwd: &Path,
    db_file: &Path,
    creds: &Path,
    doc_id: &str,
    witness_url: &str,
    demo: &Demo,
) {
    use truongso_web::credentials::{self, Credentials, CredentialsSetup, WitnessEndpoint};
    let key = std::fs::read_to_string(cwd.join("data/data.key")).unwrap();
    let cipher = truongso_store::crypto::FieldCipher::from_base64(key.trim()).unwrap();
    let store = truongso_store::Store::connect(&format!("sqlite://{}?mode=rwc", db_file.display()))
        .await
        .unwrap();
    let c = Credentials::load(CredentialsSetup {
        dir: creds.to_path_buf(),
        origin: "demo.truongso.local/hoc-ba".into(),
        verify_url: "http://127.0.0.1:8080/xac-minh".into(),
        fonts_dir: "/usr/share/fonts/truetype/dejavu".into(),
        witnesses: vec![WitnessEndpoint {
            url: witness_url.to_string(),
            vkey: std::fs::read_to_string(&demo.witness_vkey)
                .unwrap()
                .trim()
                .to_string(),
        }],
        quorum: 1,
    })
    .unwrap();
    let state = truongso_web::AppState::new(store.clone(), Default::default(), cipher).with_credentials(c);
    let doc = truongso_store::credentials::by_doc_id(&store.db, doc_id)
        .await
        .unwrap()
        .unwrap();
    let revoked = credentials::revoke(
        &state,
        &truongso_store::ActorRef::system("test"),
        &doc,
        "issued_in_error",
    )
    .await
    .unwrap();
    assert_eq!(revoked.status, "revoked");
    let cp = truongso_store::ledger::latest_checkpoint(&store.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        cp.1.matches("\n— ").count() >= 2,
        "the spawned witness cosigned: {}",
        cp.1
    );
}

#[test]
fn serve_starts_without_fonts_and_says_how_to_install_them() {
    let cwd = temp("serve");
    let mut child = cmd(&cwd, &["serve", "--bind", "127.0.0.1:0"])
        .env("TRUONGSO_FONTS_DIR", cwd.join("no-fonts"))
        .env(
            "TRUONGSO_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", cwd.join("t.db").display()),
        )
        .env("TRUONGSO_LOG_FORMAT", "text")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The logs go to stdout before the banner; the server starts all the same.
    let stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("Trường Số đang chạy tại http://") {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(seen.contains("Trường Số đang chạy tại http://"), "{seen}");
    assert!(seen.contains("apt-get install fonts-dejavu-core"), "{seen}");
    assert!(!cwd.join("data/credentials/log.key").exists());

    // With the fonts, the log key is made on first start and its public half written beside it.
    let mut child = cmd(&cwd, &["serve", "--bind", "127.0.0.1:0"])
        .env(
            "TRUONGSO_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", cwd.join("t.db").display()),
        )
        .env("TRUONGSO_LEDGER_ORIGIN", "hocba.kiemthu.vn/log")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = BufReader::new(stdout)
        .lines()
        .map(|l| l.unwrap())
        .find(|l| l.contains("Trường Số đang chạy tại http://"));
    assert!(banner.is_some());
    let _ = child.kill();
    let _ = child.wait();
    let vkey = std::fs::read_to_string(cwd.join("data/credentials/log.vkey")).unwrap();
    assert!(vkey.starts_with("hocba.kiemthu.vn/log+"), "{vkey}");
    assert!(cwd.join("data/credentials/log.key").is_file());
    let _ = std::fs::remove_dir_all(&cwd);
}
