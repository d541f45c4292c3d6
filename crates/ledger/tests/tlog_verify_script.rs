//! End to end with the independent Python verifier (scripts/tlog_verify.py): a log of 1000
//! entries is published as static files (checkpoint, every full and partial tile, entry
//! bundles), served by `python3 -m http.server`, and checked by the script, which shares no
//! code with this crate. Missing python3 or `cryptography` fails the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use truongso_ledger::cosignature::CosignatureSigner;
use truongso_ledger::log::Log;
use truongso_ledger::note::{Note, NoteSigner};
use truongso_ledger::storage::MemoryStorage;
use truongso_ledger::tiles;

const ORIGIN: &str = "log.hocba.so-gd-hn.example.vn/v1";
const SIZE: u64 = 1000;

fn entry(i: u64) -> Vec<u8> {
    format!(
        "{{\"doc_id\":\"HB-{i:06}\",\"doc_kind\":\"hocba\",\"sha256_data\":\"{}\",\"type\":\"issue\",\"v\":\"hbs-event/v1\"}}",
        hex::encode(truongso_ledger::merkle::sha256(&i.to_be_bytes()))
    )
    .into_bytes()
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("truongso-tlog-verify-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The HTTP server process, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get_status(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_string)
}

fn serve(dir: &Path) -> Server {
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 must be installed");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = http_get_status(port, "/good/checkpoint") {
                assert!(status.contains("200"), "{status}");
                return server;
            }
            if server.child.try_wait().unwrap().is_some() {
                break; // port taken in the meantime: try another one
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.child.kill();
    }
    panic!("python3 -m http.server did not start");
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

fn publish(log: &Log<MemoryStorage>, signed_checkpoint: &str, prefix: &Path) -> usize {
    write(&prefix.join("checkpoint"), signed_checkpoint.as_bytes());
    let mut files = 0;
    for tile in tiles::hash_tiles_for_size(SIZE)
        .into_iter()
        .chain(tiles::entry_bundles_for_size(SIZE))
    {
        write(&prefix.join(tile.to_path()), &log.tile(&tile).unwrap());
        files += 1;
    }
    files
}

struct Run {
    ok: bool,
    exit_ok: bool,
    json: Value,
}

fn run_script(
    port: u16,
    prefix: &str,
    vkey: &str,
    witnesses: &[String],
    quorum: Option<usize>,
    index: u64,
    leaf: &[u8],
) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tlog_verify.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .args(["--url", &format!("http://127.0.0.1:{port}/{prefix}")])
        .args(["--vkey", vkey])
        .args(["--leaf-index", &index.to_string()])
        .args(["--leaf-hex", &hex::encode(leaf)]);
    for w in witnesses {
        cmd.args(["--witness", w]);
    }
    if let Some(q) = quorum {
        cmd.args(["--quorum", &q.to_string()]);
    }
    let out = cmd.output().expect("python3 must be installed");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "one line of JSON: {stdout:?} / {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    Run {
        ok: json["ok"].as_bool().unwrap(),
        exit_ok: out.status.success(),
        json,
    }
}

#[test]
fn python_verifier_checks_entries_from_static_tiles() {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import sys, cryptography; assert sys.version_info >= (3, 11); print(cryptography.__version__)",
        ])
        .output()
        .expect("python3 must be installed");
    assert!(
        probe.status.success(),
        "python3 >= 3.11 with `cryptography` is required: {}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let key = NoteSigner::from_seed(ORIGIN, &[0x11; 32]).unwrap();
    let witnesses: Vec<CosignatureSigner> = [
        "so-gd-hcm.example.vn/w",
        "bo-gd.example.vn/w",
        "dh-bk.example.vn/w",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| CosignatureSigner::from_seed(name, &[0x30 + i as u8; 32]).unwrap())
    .collect();
    let witness_vkeys: Vec<String> = witnesses.iter().map(|w| w.vkey()).collect();

    let mut log = Log::new(ORIGIN, MemoryStorage::new());
    for i in 0..SIZE {
        log.append(&entry(i)).unwrap();
    }
    // Log signature plus the cosignatures of the first two witnesses; the third never signed.
    let mut note = Note::parse(log.sign_checkpoint(SIZE, &[&key]).unwrap().as_bytes()).unwrap();
    let text = note.text.clone();
    for w in &witnesses[..2] {
        note.signatures.push(w.cosign(&text, 1_767_225_600).unwrap());
    }
    let signed = note.to_string();

    let dir = TempDir::new();
    let files = publish(&log, &signed, &dir.0.join("good"));
    // 3 full + 1 partial level-0 tiles, 1 partial level-1 tile, 4 entry bundles.
    assert_eq!(files, 9);
    assert!(dir.0.join("good/tile/0/003.p/232").is_file());
    assert!(dir.0.join("good/tile/1/000.p/3").is_file());
    assert!(dir.0.join("good/tile/entries/003.p/232").is_file());

    // A copy with one hash changed in the level-1 partial tile (the subtree of leaves 512..768).
    publish(&log, &signed, &dir.0.join("tampered"));
    let tampered_tile = dir.0.join("tampered/tile/1/000.p/3");
    let mut data = std::fs::read(&tampered_tile).unwrap();
    data[2 * 32] ^= 0x01;
    std::fs::write(&tampered_tile, data).unwrap();

    let server = serve(&dir.0);
    let root_b64 = B64.encode(log.root(SIZE).unwrap());

    for index in [0u64, 1, 255, 256, 511, 512, 767, 768, 900, 999] {
        let run = run_script(
            server.port,
            "good",
            &key.vkey(),
            &witness_vkeys,
            Some(2),
            index,
            &entry(index),
        );
        assert!(run.ok && run.exit_ok, "leaf {index}: {}", run.json);
        assert_eq!(run.json["tree_size"], SIZE);
        assert_eq!(run.json["origin"], ORIGIN);
        assert_eq!(run.json["root"], root_b64.as_str());
        assert_eq!(run.json["leaf_index"], index);
        assert_eq!(
            run.json["proof_length"],
            log.inclusion_proof(SIZE, index).unwrap().len()
        );
        assert_eq!(
            run.json["cosigners"],
            serde_json::json!(["so-gd-hcm.example.vn/w", "bo-gd.example.vn/w"])
        );
    }
    // Without witnesses the log signature alone suffices.
    let run = run_script(server.port, "good", &key.vkey(), &[], None, 42, &entry(42));
    assert!(run.ok && run.exit_ok, "{}", run.json);

    let refusals: Vec<(&str, Run, &str)> = vec![
        (
            "tampered tile",
            run_script(
                server.port,
                "tampered",
                &key.vkey(),
                &witness_vkeys,
                Some(2),
                3,
                &entry(3),
            ),
            "does not match",
        ),
        (
            "wrong log key",
            run_script(
                server.port,
                "good",
                &NoteSigner::from_seed(ORIGIN, &[0x12; 32]).unwrap().vkey(),
                &witness_vkeys,
                Some(2),
                3,
                &entry(3),
            ),
            "no signature from the log key",
        ),
        (
            "quorum of three",
            run_script(
                server.port,
                "good",
                &key.vkey(),
                &witness_vkeys,
                Some(3),
                3,
                &entry(3),
            ),
            "quorum not met: 2 of 3",
        ),
        (
            "only the absent witness",
            run_script(
                server.port,
                "good",
                &key.vkey(),
                &witness_vkeys[2..],
                None,
                3,
                &entry(3),
            ),
            "quorum not met: 0 of 1",
        ),
        (
            "other leaf data",
            run_script(
                server.port,
                "good",
                &key.vkey(),
                &witness_vkeys,
                Some(2),
                3,
                &entry(4),
            ),
            "does not match",
        ),
        (
            "index beyond the tree",
            run_script(
                server.port,
                "good",
                &key.vkey(),
                &witness_vkeys,
                Some(2),
                SIZE,
                &entry(3),
            ),
            "outside the tree",
        ),
        (
            "missing prefix",
            run_script(
                server.port,
                "nothing-here",
                &key.vkey(),
                &witness_vkeys,
                Some(2),
                3,
                &entry(3),
            ),
            "HTTP 404",
        ),
    ];
    for (what, run, needle) in refusals {
        assert!(!run.ok && !run.exit_ok, "{what}: {}", run.json);
        let error = run.json["error"].as_str().unwrap();
        assert!(error.contains(needle), "{what}: {error}");
    }
    // The tampered hash stands for leaves 512..768: every other leaf's proof uses it, but the
    // proofs of those leaves are built below it and stay valid.
    for (index, ok) in [
        (511u64, false),
        (600, true),
        (767, true),
        (768, false),
        (900, false),
    ] {
        let run = run_script(
            server.port,
            "tampered",
            &key.vkey(),
            &witness_vkeys,
            Some(2),
            index,
            &entry(index),
        );
        assert_eq!(run.ok, ok, "leaf {index}: {}", run.json);
    }
    drop(server);
}
