//! Helpers for the signing tests: the input PDF, the external validators (pdfsig, pyHanko,
//! OpenSSL, qpdf) and their output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lopdf::{Document, Object};

/// The homeroom teacher's and principal's names, with the stacked diacritics that break naive
/// encodings.
pub const GVCN_NAME: &str = "Nguyễn Thị Lan";
pub const PRINCIPAL_NAME: &str = "Trần Văn Hùng";
pub const SCHOOL: &str = "Trường THCS Đống Đa";
pub const P12_PASSWORD: &str = "mật-khẩu-thử";

pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Fails the test, naming the package to install, when `tool` is not on the PATH.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| panic!("`{tool}` is not installed: install it with `{package}`"))
}

pub fn require_file(path: &str, package: &str) {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing: install it with `{package}`"
    );
}

/// Python 3 with the `cryptography` package (for the remote-signing server).
pub fn require_python_cryptography() {
    require_tool("python3", "apt-get install python3");
    let out = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3 cannot import cryptography: install it with `pip install cryptography` ({})",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command and returns its output, failing the test if it cannot start.
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn all_output(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A one-page PDF/A-3b học bạ stand-in made with krilla: Vietnamese text in DejaVu Sans and the
/// record's JSON embedded as an associated file (`/AFRelationship /Data`).
pub fn transcript_pdf() -> Vec<u8> {
    use krilla::configure::{Archival, ConfigurationBuilder};
    use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
    use krilla::geom::Point;
    use krilla::metadata::{DateTime, Metadata};
    use krilla::page::PageSettings;
    use krilla::text::{Font, TextDirection};
    use krilla::{Document as KrillaDocument, SerializeSettings};

    require_file(DEJAVU, "apt-get install fonts-dejavu-core");
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .unwrap();
    let settings = SerializeSettings {
        configuration,
        ..Default::default()
    };
    let mut document = KrillaDocument::new_with(settings);
    let created = DateTime::new(2026)
        .month(11)
        .day(23)
        .hour(9)
        .minute(0)
        .second(0)
        .utc_offset_hour(7);
    document.set_metadata(
        Metadata::new()
            .title("Học bạ số — Lớp 6A1".into())
            .language("vi".into())
            .creation_date(created),
    );
    let font = Font::new(std::fs::read(DEJAVU).unwrap().into(), 0).expect("DejaVu Sans loads");
    let mut page = document.start_page_with(PageSettings::from_wh(595.0, 842.0).unwrap());
    let mut surface = page.surface();
    let lines = [
        "HỌC BẠ SỐ — Trường THCS Đống Đa",
        "Học sinh: Phạm Ngọc Ánh — Lớp 6A1 — Năm học 2025–2026",
        "Kết quả rèn luyện: Tốt. Kết quả học tập: Tốt.",
        "Được lên lớp thẳng. Nhận xét: chăm chỉ, tiến bộ rõ rệt.",
    ];
    for (i, line) in lines.iter().enumerate() {
        surface.draw_text(
            Point::from_xy(50.0, 80.0 + 24.0 * i as f32),
            font.clone(),
            14.0,
            line,
            false,
            TextDirection::Auto,
        );
    }
    surface.finish();
    page.finish();
    document
        .embed_file(EmbeddedFile {
            path: "hocba.json".into(),
            mime_type: MimeType::new("application/json"),
            description: Some("Hồ sơ học bạ (dữ liệu gốc)".into()),
            association_kind: AssociationKind::Data,
            data: r#"{"v":"hbs/v1","hoc_sinh":"Phạm Ngọc Ánh","lop":"6A1"}"#.as_bytes().to_vec().into(),
            modification_date: Some(created),
            compress: Some(true),
            location: None,
        })
        .expect("embedding is allowed under PDF/A-3");
    document.finish().expect("krilla writes a PDF/A-3b file")
}

/// An NSS database for pdfsig that trusts `ca_pem` for signing.
pub fn nss_db(dir: &Path, ca_pem: &Path) -> String {
    require_tool("certutil", "apt-get install libnss3-tools");
    let db = dir.join("nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let spec = format!("sql:{}", db.display());
    let out = run(Command::new("certutil").args(["-N", "-d", &spec, "--empty-password"]));
    assert!(out.status.success(), "certutil -N: {}", all_output(&out));
    let out = run(Command::new("certutil")
        .args(["-A", "-d", &spec, "-n", "testroot", "-t", "CT,C,C", "-i"])
        .arg(ca_pem));
    assert!(out.status.success(), "certutil -A: {}", all_output(&out));
    spec
}

/// One signature as pdfsig reports it.
#[derive(Debug)]
pub struct PdfsigSignature {
    pub text: String,
}

impl PdfsigSignature {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.text
            .lines()
            .find_map(|l| l.trim().strip_prefix("- ")?.strip_prefix(key)?.strip_prefix(": "))
    }

    pub fn has_line(&self, line: &str) -> bool {
        self.text
            .lines()
            .any(|l| l.trim().trim_start_matches("- ") == line)
    }
}

/// `pdfsig -nssdir <db> file` split per signature (pdfsig exits 0 even for a bad digest, so the
/// text is what matters).
pub fn pdfsig(nss: &str, pdf: &Path) -> Vec<PdfsigSignature> {
    require_tool("pdfsig", "apt-get install poppler-utils");
    let out = run(Command::new("pdfsig")
        .args(["-nssdir", nss])
        .arg(pdf)
        .env("TZ", "UTC"));
    let text = stdout(&out);
    assert!(out.status.success(), "pdfsig failed: {}", all_output(&out));
    text.split("Signature #")
        .skip(1)
        .map(|block| PdfsigSignature {
            text: block.to_owned(),
        })
        .collect()
}

/// `pyhanko sign validate --pretty-print` per field; returns (exit code, output).
pub fn pyhanko_validate(pdf: &Path, ca_pem: &Path) -> (i32, String) {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let out = run(Command::new("pyhanko")
        .args(["sign", "validate", "--executive-summary", "--trust"])
        .arg(ca_pem)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(pdf));
    (out.status.code().unwrap_or(-1), all_output(&out))
}

pub fn pyhanko_pretty(pdf: &Path, ca_pem: &Path) -> (i32, String) {
    let out = run(Command::new("pyhanko")
        .args(["sign", "validate", "--pretty-print", "--trust"])
        .arg(ca_pem)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(pdf));
    (out.status.code().unwrap_or(-1), all_output(&out))
}

/// `qpdf --check`, asserted to exit 0.
pub fn qpdf_check(pdf: &Path) {
    require_tool("qpdf", "apt-get install qpdf");
    let out = run(Command::new("qpdf").arg("--check").arg(pdf));
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {}: {}",
        pdf.display(),
        all_output(&out)
    );
    assert!(
        stdout(&out).contains("No syntax or stream encoding errors found"),
        "{}",
        stdout(&out)
    );
}

/// The `/ByteRange` and raw `/Contents` of every signature in the file, in field order, read
/// with lopdf rather than by the code under test.
pub fn signatures_in(pdf: &[u8]) -> Vec<(String, [usize; 4], Vec<u8>)> {
    let doc = Document::load_mem(pdf).expect("lopdf reads the signed file");
    let form = doc.catalog().unwrap().get(b"AcroForm").unwrap();
    let form = doc.dereference(form).unwrap().1.as_dict().unwrap();
    let fields = doc
        .dereference(form.get(b"Fields").unwrap())
        .unwrap()
        .1
        .as_array()
        .unwrap();
    let mut out = Vec::new();
    for field in fields {
        let field = doc.dereference(field).unwrap().1.as_dict().unwrap();
        let name = String::from_utf8_lossy(field.get(b"T").unwrap().as_str().unwrap()).into_owned();
        let sig = doc
            .dereference(field.get(b"V").unwrap())
            .unwrap()
            .1
            .as_dict()
            .unwrap();
        let range: Vec<usize> = sig
            .get(b"ByteRange")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_i64().unwrap() as usize)
            .collect();
        let contents = match sig.get(b"Contents").unwrap() {
            Object::String(bytes, _) => bytes.clone(),
            other => panic!("/Contents is {other:?}"),
        };
        out.push((name, [range[0], range[1], range[2], range[3]], contents));
    }
    out
}

/// `openssl cms -verify` of every signature over its byte range; returns the exit codes.
pub fn openssl_cms_verify_all(pdf_path: &Path, ca_pem: &Path, work: &Path) -> Vec<(i32, String)> {
    require_tool("openssl", "apt-get install openssl");
    let pdf = std::fs::read(pdf_path).unwrap();
    signatures_in(&pdf)
        .into_iter()
        .enumerate()
        .map(|(i, (_, range, contents))| {
            let content = work.join(format!("range{i}.bin"));
            let mut signed = pdf[range[0]..range[0] + range[1]].to_vec();
            signed.extend_from_slice(&pdf[range[2]..range[2] + range[3]]);
            std::fs::write(&content, signed).unwrap();
            let cms = work.join(format!("sig{i}.der"));
            std::fs::write(&cms, contents).unwrap();
            let out = run(Command::new("openssl")
                .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
                .arg(&cms)
                .arg("-content")
                .arg(&content)
                .arg("-CAfile")
                .arg(ca_pem)
                .args(["-purpose", "any", "-out", "/dev/null"]));
            (out.status.code().unwrap_or(-1), all_output(&out))
        })
        .collect()
}
