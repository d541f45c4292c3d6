//! Học bạ số and văn bằng số on the command line: the server's credentials from the
//! configuration, `truongso pki` (a throwaway test PKI), `truongso witness` (cosign another
//! office's log), `truongso ledger export-tiles` (a static mirror of the log), `truongso verify`
//! (offline verification, in `verify`) and the demo's issuance (in `demo`).

mod demo;
mod verify;

pub use demo::setup as setup_demo;
pub use verify::{VerifyArgs, run as verify};

use crate::config::Config;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use truongso_docs::credentials::pki::{PkiSpec, TestPki};
use truongso_docs::credentials::render::{DEJAVU_PACKAGE, Fonts};
use truongso_ledger::cosignature::CosignatureSigner;
use truongso_ledger::note::{ALG_COSIGNATURE_V1, NoteVerifier};
use truongso_ledger::tiles;
use truongso_ledger::witness::Witness;
use truongso_store::Store;
use truongso_web::credentials::Credentials;
use truongso_web::witness::WitnessService;

/// The fonts every rendition needs, or why they cannot be used. A server without them still
/// starts (the credentials pages then say "not configured"): everything else works.
pub fn fonts_usable(dir: &Path) -> Result<(), String> {
    Fonts::load_dir(dir).map(|_| ()).map_err(|e| {
        format!(
            "{e}. Cài phông chữ bằng `apt-get install {DEJAVU_PACKAGE}` hoặc đặt fonts_dir \
             (install the fonts with `apt-get install {DEJAVU_PACKAGE}` or set fonts_dir)"
        )
    })
}

/// The credentials of `serve`: the log key, trust roots, witnesses and fonts from the
/// configuration. `None` (with a warning) when the fonts are missing; any other problem — a log
/// key for another origin, a malformed witness key — stops the server, since issuing under a
/// wrong configuration would be worse than not starting.
pub fn load_for_server(cfg: &Config) -> anyhow::Result<Option<Credentials>> {
    if let Err(why) = fonts_usable(Path::new(&cfg.fonts_dir)) {
        tracing::warn!(
            "học bạ số / văn bằng số tắt (credentials disabled): {why}; \
             các trang học bạ số sẽ báo \"chưa cấu hình\""
        );
        return Ok(None);
    }
    let c = Credentials::load(cfg.credentials_setup()).with_context(|| {
        format!(
            "không nạp được cấu hình học bạ số từ {} (cannot load the credentials setup)",
            cfg.credentials_dir
        )
    })?;
    write_log_vkey(&c)?;
    tracing::info!(
        origin = %c.setup.origin,
        log_vkey = %c.log_vkey(),
        trust_roots = c.trust.len(),
        witnesses = c.setup.witnesses.len(),
        quorum = c.policy.quorum(),
        "học bạ số ready"
    );
    Ok(Some(c))
}

/// Writes `<credentials dir>/log.vkey`, the public key relying parties pass to
/// `truongso verify --log-key`.
pub fn write_log_vkey(c: &Credentials) -> anyhow::Result<PathBuf> {
    let path = c.setup.dir.join("log.vkey");
    let vkey = c.log_vkey();
    if std::fs::read_to_string(&path).ok().as_deref().map(str::trim) != Some(vkey.as_str()) {
        std::fs::write(&path, format!("{vkey}\n")).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// truongso pki

pub struct PkiArgs {
    pub dir: PathBuf,
    pub school: Option<String>,
    pub gvcn: Option<String>,
    pub principal: Option<String>,
    pub password: Option<String>,
}

/// Makes a throwaway PKI for demos and tests. Returns the exit code.
pub fn pki(args: PkiArgs) -> i32 {
    let dir = &args.dir;
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
        if non_empty || !dir.is_dir() {
            eprintln!(
                "Thư mục {} đã có nội dung: không ghi đè. Hãy chọn một thư mục mới hoặc rỗng.\n\
                 ({} is not empty: nothing was overwritten; choose a new or empty directory.)",
                dir.display(),
                dir.display()
            );
            return 2;
        }
    }
    let base = PkiSpec::default();
    let password = args.password.unwrap_or(base.p12_password.clone());
    if password.is_empty() {
        eprintln!("Mật khẩu tệp .p12 không được để trống (the .p12 password must not be empty).");
        return 2;
    }
    let spec = PkiSpec::school(
        args.school.as_deref().unwrap_or(&base.school),
        args.gvcn.as_deref().unwrap_or(person_name(&base, "gvcn")),
        args.principal
            .as_deref()
            .unwrap_or(person_name(&base, "hieutruong")),
        &password,
    );
    let pki = match TestPki::generate(dir, &spec) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Không tạo được bộ chứng thư thử nghiệm (cannot create the test PKI): {e}");
            return 1;
        }
    };
    let show = |p: &Path| p.display().to_string();
    println!(
        "Đã tạo bộ chứng thư THỬ NGHIỆM trong {} (test PKI — never use these keys for real documents):",
        dir.display()
    );
    println!("  {:<28} chứng thư gốc / root CA", show(&pki.ca_pem));
    let role = |name: &str| match name {
        "gvcn" => "giáo viên chủ nhiệm / homeroom teacher",
        "hieutruong" => "hiệu trưởng / principal",
        "condau" => "con dấu của trường / school seal",
        "tls" => "máy chủ TLS 127.0.0.1 / TLS server",
        "expired" => "đã hết hạn (kiểm thử) / expired, for tests",
        "untrusted" => "dưới gốc không tin cậy (kiểm thử) / under an untrusted root",
        _ => "",
    };
    for id in pki
        .identities
        .iter()
        .chain(&pki.tls_server)
        .chain(&pki.expired)
        .chain(&pki.untrusted)
    {
        let p12 = if id.name == "tls" {
            String::new()
        } else {
            format!("{}, ", show(&id.p12))
        };
        println!(
            "  {:<28} {} ({p12}{})",
            show(&id.cert_pem),
            role(&id.name),
            show(&id.key_pem)
        );
    }
    if let Some(u) = &pki.untrusted_ca_pem {
        println!("  {:<28} gốc KHÔNG tin cậy (kiểm thử) / untrusted root", show(u));
    }
    println!("Mật khẩu các tệp .p12 (p12 password): {password}");
    let ca = show(&pki.ca_pem);
    let nss = show(&dir.join("nssdb"));
    println!(
        "\nTin cậy chứng thư gốc để kiểm tra chữ ký (trust the root to check signatures):\n\
         \x20 poppler (pdfsig):\n\
         \x20   mkdir -p {nss} && certutil -N -d sql:{nss} --empty-password\n\
         \x20   certutil -A -d sql:{nss} -n truongso-test-root -t CT,C,C -i {ca}\n\
         \x20   pdfsig -nssdir sql:{nss} HOCBA.pdf\n\
         \x20 pyHanko:\n\
         \x20   pyhanko sign validate --trust {ca} --trust-replace --pretty-print HOCBA.pdf\n\
         \x20 Trường Số:\n\
         \x20   truongso verify HOCBA.pdf --trust {ca} --bundle HOCBA.tlog-proof --log-key LOG.vkey --url https://MAY-CHU\n\
         \x20   máy chủ (server): cp {ca} <credentials_dir>/trust/ rồi khởi động lại (then restart)"
    );
    0
}

fn person_name<'a>(spec: &'a PkiSpec, identity: &str) -> &'a str {
    spec.identities
        .iter()
        .find(|i| i.name == identity)
        .and_then(|i| match &i.holder {
            truongso_docs::credentials::pki::Holder::Person(n) => Some(n.as_str()),
            truongso_docs::credentials::pki::Holder::Organisation => None,
        })
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Witness keys: `PRIVATE+KEY+<name>+<key id hex8>+base64(0x04 || seed)`, the Go note private
// key layout with the cosignature/v1 type byte, so the file says what kind of key it holds.

const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

pub fn witness_key_text(signer_name: &str, seed: &[u8; 32]) -> anyhow::Result<String> {
    let signer = CosignatureSigner::from_seed(signer_name, seed)
        .map_err(|e| anyhow::anyhow!("tên khóa không hợp lệ (bad key name) {signer_name:?}: {e}"))?;
    let mut key = vec![ALG_COSIGNATURE_V1];
    key.extend_from_slice(seed);
    Ok(format!(
        "{PRIVATE_KEY_PREFIX}{signer_name}+{:08x}+{}",
        signer.key_id(),
        B64.encode(key)
    ))
}

pub fn parse_witness_key(text: &str) -> anyhow::Result<CosignatureSigner> {
    let bad =
        |why: &str| anyhow::anyhow!("khóa chứng kiến không đúng định dạng (malformed witness key): {why}");
    let rest = text
        .trim()
        .strip_prefix(PRIVATE_KEY_PREFIX)
        .ok_or_else(|| bad("thiếu PRIVATE+KEY+"))?;
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(hex8), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("cần name+keyid+key"));
    };
    let key = B64.decode(key64).map_err(|_| bad("base64"))?;
    let (&alg, seed) = key.split_first().ok_or_else(|| bad("rỗng"))?;
    if alg != ALG_COSIGNATURE_V1 {
        return Err(bad("không phải khóa cosignature/v1 (type 0x04)"));
    }
    let seed: &[u8; 32] = seed.try_into().map_err(|_| bad("seed không đủ 32 byte"))?;
    let signer = CosignatureSigner::from_seed(name, seed).map_err(|e| bad(&e.to_string()))?;
    if format!("{:08x}", signer.key_id()) != hex8 {
        return Err(bad("key id không khớp với khóa"));
    }
    Ok(signer)
}

/// Creates a new witness key file (mode 0600); refuses to replace an existing one.
pub fn create_witness_key(path: &Path, name: &str) -> anyhow::Result<CosignatureSigner> {
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    let text = witness_key_text(name, &seed)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_private(path, &format!("{text}\n")).with_context(|| {
        format!(
            "không tạo được tệp khóa {} (cannot create the key file)",
            path.display()
        )
    })?;
    parse_witness_key(&text)
}

pub fn load_witness_key(path: &Path) -> anyhow::Result<CosignatureSigner> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "không đọc được tệp khóa {} — tạo bằng `truongso witness --init --name TÊN --key {}` \
             (cannot read the key file; create it with --init)",
            path.display(),
            path.display()
        )
    })?;
    parse_witness_key(&text)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}

/// `ORIGIN=VKEY`, or a bare vkey whose key name is the origin (as Trường Số logs are set up).
/// A whole-argument vkey is tried first: a key name may itself contain `=`.
pub fn parse_log_arg(arg: &str) -> anyhow::Result<(String, NoteVerifier)> {
    if let Ok(v) = NoteVerifier::from_vkey(arg.trim()) {
        return Ok((v.name().to_string(), v));
    }
    let (origin, vkey) = arg
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--log {arg:?}: cần ORIGIN=VKEY (expected ORIGIN=VKEY)"))?;
    let v = NoteVerifier::from_vkey(vkey.trim())
        .map_err(|e| anyhow::anyhow!("--log {origin}: khóa xác minh không hợp lệ (bad vkey): {e}"))?;
    anyhow::ensure!(!origin.is_empty(), "--log {arg:?}: thiếu ORIGIN (missing origin)");
    Ok((origin.to_string(), v))
}

/// A witness that follows `logs`, with its memory in `store`.
pub fn witness_service(
    signer: CosignatureSigner,
    logs: &[(String, NoteVerifier)],
    store: Store,
) -> Arc<WitnessService> {
    let mut w = Witness::new(signer);
    let mut origins: Vec<&str> = logs.iter().map(|(o, _)| o.as_str()).collect();
    origins.dedup();
    for origin in origins {
        let keys = logs
            .iter()
            .filter(|(o, _)| o == origin)
            .map(|(_, k)| k.clone())
            .collect();
        w.add_log(origin, keys);
    }
    Arc::new(WitnessService { witness: w, store })
}

pub struct WitnessArgs {
    pub bind: String,
    pub db: String,
    pub key: PathBuf,
    pub name: Option<String>,
    pub logs: Vec<String>,
    pub init: bool,
}

/// `truongso witness`. Returns the exit code.
pub async fn witness(
    args: WitnessArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<i32> {
    if args.init {
        let Some(name) = args.name.as_deref() else {
            eprintln!(
                "Cần --name TÊN cho khóa mới, ví dụ --name witness.sogd-tuyenquang.vn \
                 (--init needs --name, e.g. --name witness.example.vn)"
            );
            return Ok(2);
        };
        if args.key.exists() {
            eprintln!(
                "Tệp khóa {} đã tồn tại: không ghi đè (the key file exists; not overwritten).",
                args.key.display()
            );
            return Ok(2);
        }
        let signer = create_witness_key(&args.key, name)?;
        println!(
            "Đã tạo khóa chứng kiến {} (witness key created).\n\
             Gửi khóa xác minh này cho đơn vị vận hành sổ cái (give this verifier key to the log operator):\n{}",
            args.key.display(),
            signer.vkey()
        );
        return Ok(0);
    }
    let signer = load_witness_key(&args.key)?;
    if let Some(name) = &args.name
        && name != signer.name()
    {
        eprintln!(
            "Khóa trong {} mang tên {}, không phải {name} (the key file is for another name).",
            args.key.display(),
            signer.name()
        );
        return Ok(2);
    }
    if args.logs.is_empty() {
        eprintln!(
            "Cần ít nhất một --log ORIGIN=VKEY: sổ cái mà đơn vị này chứng kiến \
             (at least one --log ORIGIN=VKEY is required)"
        );
        return Ok(2);
    }
    let mut logs = vec![];
    for l in &args.logs {
        match parse_log_arg(l) {
            Ok(x) => logs.push(x),
            Err(e) => {
                eprintln!("{e}");
                return Ok(2);
            }
        }
    }
    let store = Store::connect(&args.db)
        .await
        .with_context(|| format!("không mở được cơ sở dữ liệu của đơn vị chứng kiến {}", args.db))?;
    store.migrate().await.context("migration failed")?;
    let vkey = signer.vkey();
    let svc = witness_service(signer, &logs, store);
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!("Đơn vị chứng kiến đang chạy tại (witness listening on) http://{addr}/add-checkpoint");
    println!("Khóa xác minh (vkey): {vkey}");
    for (origin, k) in &logs {
        println!("  chứng kiến sổ cái (follows) {origin}  {}", k.vkey());
    }
    tracing::info!(%addr, "witness listening");
    axum::serve(listener, truongso_web::witness::router(svc))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// truongso ledger export-tiles

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub size: u64,
    pub written: usize,
    pub kept: usize,
}

/// Writes the latest checkpoint and every tile and entry bundle of its tree into `dir`, in the
/// layout the server serves under `/log/` (so `--tiles DIR` and `--url` read the same paths).
/// Full tiles never change: one already in the mirror with the right size is kept, so exporting
/// again only writes what is new. The checkpoint is written last, after everything it covers.
pub async fn export_tiles(store: &Store, dir: &Path) -> anyhow::Result<Exported> {
    let db = &store.db;
    let Some((size, note)) = truongso_store::ledger::latest_checkpoint(db).await? else {
        anyhow::bail!(
            "sổ cái chưa có điểm kiểm tra nào: chưa phát hành văn bản nào (the log has no checkpoint yet)"
        );
    };
    let mut out = Exported {
        size,
        ..Default::default()
    };
    let paths = tiles::hash_tiles_for_size(size)
        .into_iter()
        .chain(tiles::entry_bundles_for_size(size));
    for path in paths {
        let file = dir.join(path.to_path());
        let full_hash_tile = !path.is_partial() && matches!(path.kind, tiles::TileKind::Hashes { .. });
        if full_hash_tile
            && std::fs::metadata(&file).is_ok_and(|m| m.len() == u64::from(tiles::TILE_WIDTH) * 32)
        {
            out.kept += 1;
            continue;
        }
        let bytes = truongso_store::ledger::tile(db, &path, size)
            .await?
            .map_err(|e| anyhow::anyhow!("tile {}: {e}", path.to_path()))?;
        write_atomic(&file, &bytes)?;
        out.written += 1;
    }
    write_atomic(&dir.join("checkpoint"), note.as_bytes())?;
    Ok(out)
}

/// Writes through a temporary file and a rename, so a mirror being read never shows half a tile.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use truongso_ledger::note::NoteSigner;

    #[test]
    fn witness_key_files_round_trip_and_refuse_other_keys() {
        let seed = [9u8; 32];
        let text = witness_key_text("witness.sogd.example.vn", &seed).unwrap();
        assert!(text.starts_with("PRIVATE+KEY+witness.sogd.example.vn+"), "{text}");
        let signer = parse_witness_key(&format!("{text}\n")).unwrap();
        let direct = CosignatureSigner::from_seed("witness.sogd.example.vn", &seed).unwrap();
        assert_eq!(signer.vkey(), direct.vkey());
        // A log's note key (type 0x01) is not a cosignature key.
        let note_key = NoteSigner::from_seed("witness.sogd.example.vn", &seed)
            .unwrap()
            .private_key();
        let err = parse_witness_key(&note_key).unwrap_err().to_string();
        assert!(err.contains("cosignature/v1"), "{err}");
        // The key id must match the key.
        let mut parts: Vec<&str> = text.splitn(5, '+').collect();
        parts[3] = "00000000";
        assert!(parse_witness_key(&parts.join("+")).is_err());
        assert!(parse_witness_key("PRIVATE+KEY+x").is_err());
        assert!(witness_key_text("có dấu cách", &seed).is_err());
    }

    #[test]
    fn log_arguments_with_and_without_origin() {
        let log = NoteSigner::from_seed("hocba.sogd.example.vn/log", &[3u8; 32]).unwrap();
        let vkey = log.vkey();
        let (origin, v) = parse_log_arg(&vkey).unwrap();
        assert_eq!(origin, "hocba.sogd.example.vn/log");
        assert_eq!(v.vkey(), vkey);
        let (origin, v) = parse_log_arg(&format!("other.example/log={vkey}")).unwrap();
        assert_eq!(origin, "other.example/log");
        assert_eq!(v.vkey(), vkey);
        assert!(parse_log_arg("origin-only").is_err());
        assert!(parse_log_arg("x=not-a-key").is_err());
        assert!(parse_log_arg(&format!("={vkey}")).is_err(), "an empty origin");
    }
}
