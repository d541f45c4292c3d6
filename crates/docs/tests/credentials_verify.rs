//! Verification of signed PDFs produced by independent tools, cross-checked against poppler's
//! `pdfsig` (and `openssl verify` for certificate paths).
//!
//! Everything is generated at test time in a scratch directory: a test PKI with `openssl` (RSA
//! root, an RSA-2048 teacher, a P-256 principal under an intermediate CA, an expired signer, a
//! signer under a second root nobody trusts), a PDF/A-3b học bạ page with krilla (Vietnamese text,
//! the JSON record attached as `AssociationKind::Data`), then two sequential signatures with the
//! pyHanko CLI, like the real workflow (homeroom teacher, then principal).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use truongso_docs::credentials::pdf_verify::{
    Check, DocumentVerdict, EssCheck, PdfReport, PdfVerifyError, SignatureProblem, SignatureStatus,
    TrailingKind, Truncation, ValidationTime, VerifyOptions, verify_pdf,
};
use truongso_docs::credentials::trust::{ChainStatus, TrustError, TrustStore};

const ROOT_NAME: &str = "test-root";

// ---------------------------------------------------------------------------------------------
// Fixtures

struct Fixtures {
    dir: PathBuf,
    pki: PathBuf,
    nss: String,
    json: Vec<u8>,
    unsigned: Vec<u8>,
    /// Signed by the homeroom teacher only (PAdES, ETSI.CAdES.detached).
    signed1: Vec<u8>,
    /// Then by the principal (adbe.pkcs7.detached, P-256, through the intermediate CA).
    signed2: Vec<u8>,
    /// `signed2` plus an incremental update adding an empty signature field.
    updated: Vec<u8>,
    expired: Vec<u8>,
    untrusted: Vec<u8>,
    root_pem: Vec<u8>,
    other_root_pem: Vec<u8>,
    teacher_sha256: String,
    principal_sha256: String,
}

const JSON_RECORD: &str = r#"{"v":"hbs/v1","doc_id":"HB-2026-000123","truong":"Trường THCS Đống Đa","lop":"6A1","nam_hoc":"2025-2026","hoc_sinh":"Nguyễn Văn An","mon_hoc":[{"mon":"Toán","tb":8.5},{"mon":"Ngữ văn","tb":7.8},{"mon":"Tiếng Anh","tb":9.1}],"ket_qua":"Hoàn thành tốt","ren_luyen":"Tốt"}"#;

const CA_CNF: &str = r#"[req]
distinguished_name = dn
utf8 = yes
string_mask = utf8only
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_sub]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_ca_any]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_ca_nocertsign]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_encipher]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_unknown_critical]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
1.3.6.1.4.1.99999.1 = critical,ASN1:NULL
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#;

/// For `openssl ca`, the only openssl 3.0 command that takes explicit validity dates.
const CA_CMD_CNF: &str = r#"[ca]
default_ca = testca
[testca]
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
countryName = optional
organizationName = optional
commonName = supplied
[v3_signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#;

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(build_fixtures)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    run(Command::new("openssl").current_dir(dir).args(args))
}

/// `openssl` with a command line of space-free arguments, plus `extra` ones (subjects).
fn openssl_line(dir: &Path, line: &str, extra: &[&str]) -> Output {
    let args: Vec<&str> = line.split_whitespace().chain(extra.iter().copied()).collect();
    openssl(dir, &args)
}

/// A key and a CSR. `kind` is `rsa:2048`, `rsa:3072` or `p256`.
fn key_and_csr(dir: &Path, name: &str, kind: &str, subject: &str) {
    match kind.strip_prefix("rsa:") {
        Some(bits) => openssl_line(
            dir,
            &format!("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:{bits} -out {name}.key"),
            &[],
        ),
        None => openssl_line(
            dir,
            &format!("ecparam -name prime256v1 -genkey -noout -out {name}.key"),
            &[],
        ),
    };
    openssl_line(
        dir,
        &format!("req -new -key {name}.key -out {name}.csr -utf8 -config ca.cnf -subj"),
        &[subject],
    );
}

/// Issues `name` from its CSR under `issuer` with the extension section `ext`, and writes a DER copy.
fn issue(dir: &Path, name: &str, issuer: &str, ext: &str) {
    issue_with(dir, name, issuer, ext, "sha256");
}

fn issue_with(dir: &Path, name: &str, issuer: &str, ext: &str, digest: &str) {
    openssl_line(
        dir,
        &format!(
            "x509 -req -in {name}.csr -CA {issuer}.pem -CAkey {issuer}.key -CAcreateserial -out {name}.pem \
             -days 825 -extfile ca.cnf -extensions {ext} -{digest}"
        ),
        &[],
    );
    to_der(dir, name);
}

fn self_signed(dir: &Path, name: &str, kind: &str, subject: &str) {
    openssl_line(
        dir,
        &format!(
            "req -x509 -new -newkey {kind} -nodes -keyout {name}.key -out {name}.pem -days 3650 -utf8 \
             -config ca.cnf -extensions v3_ca -subj"
        ),
        &[subject],
    );
    to_der(dir, name);
}

fn to_der(dir: &Path, name: &str) {
    openssl_line(
        dir,
        &format!("x509 -in {name}.pem -outform DER -out {name}.der"),
        &[],
    );
}

fn sha256_fingerprint(dir: &Path, name: &str) -> String {
    let out = openssl_line(
        dir,
        &format!("x509 -in {name}.pem -noout -fingerprint -sha256"),
        &[],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

fn build_pki(pki: &Path) {
    std::fs::write(pki.join("ca.cnf"), CA_CNF).unwrap();
    std::fs::write(pki.join("ca_cmd.cnf"), CA_CMD_CNF).unwrap();
    self_signed(
        pki,
        "root",
        "rsa:3072",
        "/C=VN/O=Test Root/CN=Test Education Root CA",
    );
    key_and_csr(
        pki,
        "sub",
        "rsa:2048",
        "/C=VN/O=Test Licensed CA/CN=Test Licensed Sub CA",
    );
    issue(pki, "sub", "root", "v3_sub");
    key_and_csr(
        pki,
        "teacher",
        "rsa:2048",
        "/C=VN/O=Trường THCS Đống Đa/CN=Nguyễn Thị Hoa",
    );
    issue(pki, "teacher", "root", "v3_signer");
    key_and_csr(
        pki,
        "principal",
        "p256",
        "/C=VN/O=Trường THCS Đống Đa/CN=Trần Văn Minh",
    );
    issue(pki, "principal", "sub", "v3_signer");

    // Expired: valid throughout 2020 only.
    std::fs::create_dir_all(pki.join("cadb")).unwrap();
    std::fs::write(pki.join("cadb/index.txt"), "").unwrap();
    std::fs::write(pki.join("cadb/serial"), "1000\n").unwrap();
    key_and_csr(
        pki,
        "expired",
        "rsa:2048",
        "/C=VN/O=Trường THCS Đống Đa/CN=Lê Văn Cũ",
    );
    openssl_line(
        pki,
        "ca -batch -config ca_cmd.cnf -cert root.pem -keyfile root.key -in expired.csr -out expired.pem \
         -startdate 20200101000000Z -enddate 20210101000000Z -extensions v3_signer -notext -utf8",
        &[],
    );
    to_der(pki, "expired");

    // A second hierarchy nobody configured.
    self_signed(
        pki,
        "other_root",
        "rsa:2048",
        "/C=VN/O=Unknown/CN=Unlisted Root CA",
    );
    key_and_csr(
        pki,
        "impostor",
        "rsa:2048",
        "/C=VN/O=Trường THCS Đống Đa/CN=Kẻ Mạo Danh",
    );
    issue(pki, "impostor", "other_root", "v3_signer");

    // Path-validation corner cases.
    key_and_csr(pki, "notca", "rsa:2048", "/C=VN/O=Test/CN=Not A CA");
    issue(pki, "notca", "root", "v3_signer");
    key_and_csr(pki, "under_notca", "rsa:2048", "/C=VN/O=Test/CN=Under Not A CA");
    issue(pki, "under_notca", "notca", "v3_signer");
    key_and_csr(pki, "sub2", "rsa:2048", "/C=VN/O=Test/CN=Second Level CA");
    issue(pki, "sub2", "sub", "v3_ca_any");
    key_and_csr(pki, "too_deep", "rsa:2048", "/C=VN/O=Test/CN=Too Deep Signer");
    issue(pki, "too_deep", "sub2", "v3_signer");
    key_and_csr(pki, "encipher", "rsa:2048", "/C=VN/O=Test/CN=Encipher Only");
    issue(pki, "encipher", "root", "v3_encipher");
    key_and_csr(pki, "critical", "rsa:2048", "/C=VN/O=Test/CN=Unknown Critical");
    issue(pki, "critical", "root", "v3_unknown_critical");
    key_and_csr(
        pki,
        "nocertsign",
        "rsa:2048",
        "/C=VN/O=Test/CN=CA Without CertSign",
    );
    issue(pki, "nocertsign", "root", "v3_ca_nocertsign");
    key_and_csr(
        pki,
        "under_nocertsign",
        "rsa:2048",
        "/C=VN/O=Test/CN=Under CA Without CertSign",
    );
    issue(pki, "under_nocertsign", "nocertsign", "v3_signer");
    // Other certificate signature algorithms: RSA with SHA-384 and SHA-512, ECDSA P-256 with SHA-384.
    key_and_csr(pki, "rsa384", "rsa:2048", "/C=VN/O=Test/CN=RSA SHA-384 Signer");
    issue_with(pki, "rsa384", "root", "v3_signer", "sha384");
    key_and_csr(pki, "rsa512", "rsa:2048", "/C=VN/O=Test/CN=RSA SHA-512 Signer");
    issue_with(pki, "rsa512", "root", "v3_signer", "sha512");
    key_and_csr(pki, "ec_sub", "p256", "/C=VN/O=Test/CN=EC Sub CA");
    issue(pki, "ec_sub", "root", "v3_ca_any");
    key_and_csr(
        pki,
        "ec384",
        "rsa:2048",
        "/C=VN/O=Test/CN=Issued With ECDSA SHA-384",
    );
    issue_with(pki, "ec384", "ec_sub", "v3_signer", "sha384");
    // Two CAs that certify each other, and a signer under one of them.
    key_and_csr(pki, "loop_a", "rsa:2048", "/C=VN/O=Loop/CN=Loop CA A");
    key_and_csr(pki, "loop_b", "rsa:2048", "/C=VN/O=Loop/CN=Loop CA B");
    for name in ["loop_a", "loop_b"] {
        openssl_line(
            pki,
            &format!(
                "x509 -req -in {name}.csr -signkey {name}.key -out {name}.pem -days 825 -extfile ca.cnf \
                 -extensions v3_ca"
            ),
            &[],
        );
    }
    // A by B (while B's self-signed certificate names the issuer), then B by self-signed A.
    issue(pki, "loop_a", "loop_b", "v3_ca_any");
    std::fs::copy(pki.join("loop_a.pem"), pki.join("loop_a_by_b.pem")).unwrap();
    openssl_line(
        pki,
        "x509 -req -in loop_a.csr -signkey loop_a.key -out loop_a.pem -days 825 -extfile ca.cnf -extensions v3_ca",
        &[],
    );
    issue(pki, "loop_b", "loop_a", "v3_ca_any");
    std::fs::copy(pki.join("loop_a_by_b.pem"), pki.join("loop_a.pem")).unwrap();
    to_der(pki, "loop_a");
    key_and_csr(pki, "loop_leaf", "rsa:2048", "/C=VN/O=Loop/CN=Loop Signer");
    issue(pki, "loop_leaf", "loop_a", "v3_signer");
}

/// A one-page học bạ in PDF/A-3b with the JSON record attached as the document's data.
fn render_pdf(json: &[u8], attachment_name: &str) -> Vec<u8> {
    use krilla::configure::{Archival, ConfigurationBuilder};
    use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
    use krilla::geom::Point;
    use krilla::metadata::{DateTime as PdfDate, Metadata};
    use krilla::page::PageSettings;
    use krilla::text::{Font, TextDirection};
    use krilla::{Document, SerializeSettings};

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .unwrap();
    let settings = SerializeSettings {
        configuration,
        ..Default::default()
    };
    let mut doc = Document::new_with(settings);
    let font_data = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").expect("DejaVu Sans");
    let font = Font::new(font_data.into(), 0).unwrap();
    let date = PdfDate::new(2026)
        .month(5)
        .day(30)
        .hour(8)
        .minute(0)
        .second(0)
        .utc_offset_hour(7);
    {
        let mut page = doc.start_page_with(PageSettings::from_wh(595.0, 842.0).unwrap());
        let mut surface = page.surface();
        let lines = [
            (18.0, "HỌC BẠ SỐ — Trường THCS Đống Đa"),
            (12.0, "Học sinh: Nguyễn Văn An · Lớp 6A1 · Năm học 2025–2026"),
            (12.0, "Toán 8,5 · Ngữ văn 7,8 · Tiếng Anh 9,1"),
            (12.0, "Kết quả học tập: Hoàn thành tốt · Rèn luyện: Tốt"),
            (12.0, "Giáo viên chủ nhiệm, Hiệu trưởng ký số."),
        ];
        for (i, (size, text)) in lines.iter().enumerate() {
            surface.draw_text(
                Point::from_xy(50.0, 80.0 + 30.0 * i as f32),
                font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    doc.set_metadata(
        Metadata::new()
            .title("Học bạ số 6A1 — Nguyễn Văn An".to_string())
            .language("vi".to_string())
            .creation_date(date),
    );
    doc.embed_file(EmbeddedFile {
        path: attachment_name.to_string(),
        mime_type: MimeType::new("application/json"),
        description: Some("Bản ghi học bạ chuẩn (hbs/v1)".to_string()),
        association_kind: AssociationKind::Data,
        data: json.to_vec().into(),
        modification_date: Some(date),
        compress: Some(true),
        location: None,
    })
    .expect("attachment name is unique");
    doc.finish().expect("PDF/A-3b export")
}

fn pyhanko_sign(
    dir: &Path,
    input: &str,
    output: &str,
    field: &str,
    signer: &str,
    extra: &[&str],
    chain: Option<&str>,
) {
    let pki = dir.join("pki");
    let mut cmd = Command::new("pyhanko");
    cmd.current_dir(dir)
        .args(["sign", "addsig", "--field", field])
        .args(extra)
        .args([
            "pemder",
            "--key",
            pki.join(format!("{signer}.key")).to_str().unwrap(),
            "--cert",
            pki.join(format!("{signer}.pem")).to_str().unwrap(),
            "--no-pass",
        ]);
    if let Some(chain) = chain {
        cmd.args(["--chain", pki.join(format!("{chain}.pem")).to_str().unwrap()]);
    }
    cmd.args([input, output]);
    run(&mut cmd);
}

fn build_fixtures() -> Fixtures {
    // One directory per process: nextest runs every test in its own process, each building the
    // fixtures once; a shared directory would be deleted under a neighbour's feet.
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("credentials_verify-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    build_pki(&pki);

    let json = JSON_RECORD.as_bytes().to_vec();
    let unsigned = render_pdf(&json, "hocba.json");
    std::fs::write(dir.join("unsigned.pdf"), &unsigned).unwrap();
    pyhanko_sign(
        &dir,
        "unsigned.pdf",
        "signed1.pdf",
        "Sig1",
        "teacher",
        &["--use-pades", "--reason", "Giáo viên chủ nhiệm xác nhận"],
        None,
    );
    pyhanko_sign(
        &dir,
        "signed1.pdf",
        "signed2.pdf",
        "Sig2",
        "principal",
        &["--reason", "Hiệu trưởng phê duyệt"],
        Some("sub"),
    );
    pyhanko_sign(
        &dir,
        "unsigned.pdf",
        "expired.pdf",
        "Sig1",
        "expired",
        &["--use-pades"],
        None,
    );
    pyhanko_sign(
        &dir,
        "unsigned.pdf",
        "untrusted.pdf",
        "Sig1",
        "impostor",
        &["--use-pades"],
        Some("other_root"),
    );
    run(Command::new("pyhanko").current_dir(&dir).args([
        "sign",
        "addfields",
        "--field",
        "1/50,700,200,750/Extra",
        "signed2.pdf",
        "updated.pdf",
    ]));

    let nss_dir = dir.join("nss");
    std::fs::create_dir_all(&nss_dir).unwrap();
    let nss = format!("sql:{}", nss_dir.display());
    run(Command::new("certutil").args(["-N", "-d", &nss, "--empty-password"]));
    run(Command::new("certutil")
        .args(["-A", "-d", &nss, "-n", "testroot", "-t", "CT,C,C", "-i"])
        .arg(pki.join("root.pem")));

    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    Fixtures {
        json,
        signed1: read("signed1.pdf"),
        signed2: read("signed2.pdf"),
        updated: read("updated.pdf"),
        expired: read("expired.pdf"),
        untrusted: read("untrusted.pdf"),
        unsigned,
        root_pem: std::fs::read(pki.join("root.pem")).unwrap(),
        other_root_pem: std::fs::read(pki.join("other_root.pem")).unwrap(),
        teacher_sha256: sha256_fingerprint(&pki, "teacher"),
        principal_sha256: sha256_fingerprint(&pki, "principal"),
        nss,
        pki,
        dir,
    }
}

fn store() -> TrustStore {
    TrustStore::from_pem(ROOT_NAME, &fixtures().root_pem).unwrap()
}

fn verify(bytes: &[u8]) -> PdfReport {
    verify_pdf(bytes, &store(), &VerifyOptions::default()).expect("a report")
}

fn der(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().pki.join(format!("{name}.der"))).unwrap()
}

// ---------------------------------------------------------------------------------------------
// pdfsig

#[derive(Debug, Default)]
struct PdfsigSignature {
    field: String,
    common_name: String,
    signature: String,
    certificate: String,
    total: Option<bool>,
}

struct Pdfsig {
    text: String,
    signatures: Vec<PdfsigSignature>,
}

/// Runs poppler's `pdfsig` with the test root trusted and parses what it says per signature.
fn pdfsig(bytes: &[u8], name: &str) -> Pdfsig {
    let f = fixtures();
    let path = f.dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(&f.nss)
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut signatures: Vec<PdfsigSignature> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Signature #") {
            signatures.push(PdfsigSignature::default());
            continue;
        }
        let Some(sig) = signatures.last_mut() else {
            continue;
        };
        if line == "The signature form field is not signed." {
            // An empty field, not a signature.
            signatures.pop();
            continue;
        }
        if let Some(v) = line.strip_prefix("- Signature Field Name: ") {
            sig.field = v.to_string();
        } else if let Some(v) = line.strip_prefix("- Signer Certificate Common Name: ") {
            sig.common_name = v.to_string();
        } else if let Some(v) = line.strip_prefix("- Signature Validation: ") {
            sig.signature = v.to_string();
        } else if let Some(v) = line.strip_prefix("- Certificate Validation: ") {
            sig.certificate = v.to_string();
        } else if line == "- Total document signed" {
            sig.total = Some(true);
        } else if line == "- Not total document signed" {
            sig.total = Some(false);
        }
    }
    Pdfsig { text, signatures }
}

/// Our per-signature verdicts and poppler's must tell the same story.
fn assert_agrees_with_pdfsig(report: &PdfReport, theirs: &Pdfsig) {
    assert_eq!(
        report.signatures.len(),
        theirs.signatures.len(),
        "pdfsig said:\n{}",
        theirs.text
    );
    for (ours, theirs) in report.signatures.iter().zip(&theirs.signatures) {
        assert_eq!(ours.field_name.as_deref(), Some(theirs.field.as_str()));
        let cn = ours
            .signer
            .as_ref()
            .and_then(|s| s.common_name.as_deref())
            .unwrap_or_default();
        assert_eq!(cn, theirs.common_name);
        let expected_signature = match ours.status() {
            SignatureStatus::Valid | SignatureStatus::Untrusted => "Signature is Valid.",
            SignatureStatus::DigestMismatch => "Digest Mismatch.",
            other => panic!("no pdfsig counterpart for {other:?}"),
        };
        assert_eq!(theirs.signature, expected_signature, "field {}", theirs.field);
        if ours.is_intact() {
            let expected_certificate = match &ours.chain.as_ref().unwrap().status {
                ChainStatus::Trusted { .. } => "Certificate is Trusted.",
                ChainStatus::UntrustedRoot { .. } => "Certificate issuer isn't Trusted.",
                ChainStatus::Expired { .. } => "Certificate has Expired",
                other => panic!("no pdfsig counterpart for {other:?}"),
            };
            assert_eq!(theirs.certificate, expected_certificate, "field {}", theirs.field);
        }
        assert_eq!(
            theirs.total,
            Some(ours.covers_whole_file),
            "field {}",
            theirs.field
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Positive case

#[test]
fn two_sequential_signatures_are_valid_and_trusted() {
    let f = fixtures();
    let report = verify(&f.signed2);
    assert_eq!(report.verdict, DocumentVerdict::Valid);
    assert!(report.is_valid());
    assert_eq!(report.truncation, None);
    assert_eq!(report.after_last_signature, None);
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(report.file_len, f.signed2.len() as u64);

    let teacher = &report.signatures[0];
    assert_eq!(teacher.field_name.as_deref(), Some("Sig1"));
    assert_eq!(teacher.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(teacher.filter.as_deref(), Some("Adobe.PPKLite"));
    assert_eq!(teacher.reason.as_deref(), Some("Giáo viên chủ nhiệm xác nhận"));
    let signer = teacher.signer.as_ref().unwrap();
    assert_eq!(signer.common_name.as_deref(), Some("Nguyễn Thị Hoa"));
    assert_eq!(signer.organization.as_deref(), Some("Trường THCS Đống Đa"));
    assert_eq!(signer.subject, "CN=Nguyễn Thị Hoa,O=Trường THCS Đống Đa,C=VN");
    assert_eq!(signer.sha256_hex, f.teacher_sha256);
    assert_eq!(teacher.digest, Check::Passed);
    assert_eq!(teacher.signature, Check::Passed);
    assert_eq!(teacher.ess_signing_certificate, EssCheck::Matches);
    assert_eq!(teacher.digest_algorithm.map(|h| h.name()), Some("sha256"));
    assert!(teacher.problems.is_empty(), "{:?}", teacher.problems);
    assert_eq!(
        teacher.chain.as_ref().unwrap().status,
        ChainStatus::Trusted {
            root_name: ROOT_NAME.into()
        }
    );
    assert_eq!(teacher.chain.as_ref().unwrap().path.len(), 2);
    assert!(!teacher.covers_whole_file);
    // The first signature covers exactly the file as the teacher signed it.
    assert_eq!(teacher.revision_end, f.signed1.len() as u64);
    assert_eq!(teacher.byte_range[0], 0);
    let signed_at = teacher.signing_time.expect("/M");
    assert!((Utc::now() - signed_at.with_timezone(&Utc)).num_hours().abs() < 24);
    assert_eq!(teacher.validation_time, Some(signed_at.with_timezone(&Utc)));

    let principal = &report.signatures[1];
    assert_eq!(principal.field_name.as_deref(), Some("Sig2"));
    assert_eq!(principal.sub_filter.as_deref(), Some("adbe.pkcs7.detached"));
    assert_eq!(principal.reason.as_deref(), Some("Hiệu trưởng phê duyệt"));
    let signer = principal.signer.as_ref().unwrap();
    assert_eq!(signer.common_name.as_deref(), Some("Trần Văn Minh"));
    assert_eq!(signer.sha256_hex, f.principal_sha256);
    assert_eq!(principal.status(), SignatureStatus::Valid);
    assert_eq!(principal.ess_signing_certificate, EssCheck::Matches);
    // adbe.pkcs7.detached signers put the time in the CMS as well.
    assert!(principal.cms_signing_time.is_some());
    let chain = principal.chain.as_ref().unwrap();
    assert_eq!(
        chain.status,
        ChainStatus::Trusted {
            root_name: ROOT_NAME.into()
        }
    );
    let path: Vec<_> = chain
        .path
        .iter()
        .map(|c| c.common_name.clone().unwrap())
        .collect();
    assert_eq!(
        path,
        ["Trần Văn Minh", "Test Licensed Sub CA", "Test Education Root CA"]
    );
    assert!(principal.covers_whole_file);
    assert_eq!(principal.revision_end, f.signed2.len() as u64);
    assert!(principal.byte_range[1] > teacher.revision_end);

    // The report is what the web layer serialises.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"]["verdict"], "valid");
    assert_eq!(json["signatures"][1]["chain"]["status"]["status"], "trusted");
    assert_eq!(
        json["signatures"][0]["signer"]["sha256_hex"],
        f.teacher_sha256.as_str()
    );

    let theirs = pdfsig(&f.signed2, "check_signed2.pdf");
    assert_eq!(theirs.signatures.len(), 2);
    assert_eq!(theirs.text.matches("Signature is Valid.").count(), 2);
    assert_eq!(theirs.text.matches("Certificate is Trusted.").count(), 2);
    assert_agrees_with_pdfsig(&report, &theirs);
}

#[test]
fn single_signature_revision_verifies_on_its_own() {
    let f = fixtures();
    let report = verify(&f.signed1);
    assert_eq!(report.verdict, DocumentVerdict::Valid);
    assert_eq!(report.signatures.len(), 1);
    assert!(report.signatures[0].covers_whole_file);
    assert_agrees_with_pdfsig(&report, &pdfsig(&f.signed1, "check_signed1.pdf"));
}

#[test]
fn embedded_json_is_extracted_byte_exact_from_the_last_signed_revision() {
    let f = fixtures();
    let report = verify(&f.signed2);
    assert!(
        report.embedded_file_problems.is_empty(),
        "{:?}",
        report.embedded_file_problems
    );
    assert_eq!(report.embedded_files_revision_end, f.signed2.len() as u64);
    assert_eq!(report.embedded_files.len(), 1);
    let file = report.embedded_file("hocba.json").expect("hocba.json");
    assert_eq!(file.data, f.json);
    assert_eq!(file.relationship.as_deref(), Some("Data"));
    assert_eq!(file.mime_type.as_deref(), Some("application/json"));
    assert_eq!(file.description.as_deref(), Some("Bản ghi học bạ chuẩn (hbs/v1)"));
    assert!(file.in_associated_files);
    assert!(file.in_name_tree);
    let expected_sha = {
        use sha2_legacy::{Digest, Sha256};
        hex::encode(Sha256::digest(&f.json))
    };
    assert_eq!(file.sha256_hex, expected_sha);

    // poppler extracts the same bytes.
    let out_dir = f.dir.join("detached");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("in.pdf"), &f.signed2).unwrap();
    run(Command::new("pdfdetach")
        .current_dir(&out_dir)
        .args(["-saveall", "in.pdf"]));
    assert_eq!(std::fs::read(out_dir.join("hocba.json")).unwrap(), file.data);

    // After an unsigned update the files still come from the signed revision.
    let report = verify(&f.updated);
    assert_eq!(report.embedded_files_revision_end, f.signed2.len() as u64);
    assert_eq!(report.embedded_file("hocba.json").unwrap().data, f.json);
}

// ---------------------------------------------------------------------------------------------
// Tampering

fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn tampered_byte_in_the_second_revision_breaks_only_the_second_signature() {
    let f = fixtures();
    let rev1_end = f.signed1.len();
    // The producer name in the principal's signature dictionary: inside the second revision and
    // inside its signed range.
    let at = *positions(&f.signed2, b"pyHanko")
        .iter()
        .find(|&&p| p > rev1_end)
        .expect("second sig dict");
    let mut bytes = f.signed2.clone();
    bytes[at + 2] = b'h';

    let report = verify(&bytes);
    assert_eq!(report.signatures[0].status(), SignatureStatus::Valid);
    assert_eq!(report.signatures[1].status(), SignatureStatus::DigestMismatch);
    assert_eq!(report.signatures[1].digest, Check::Failed);
    assert_eq!(report.verdict, DocumentVerdict::SignatureInvalid { index: 1 });
    assert!(!report.is_valid());

    let theirs = pdfsig(&bytes, "tampered_rev2.pdf");
    assert_eq!(theirs.signatures[1].signature, "Digest Mismatch.");
    assert_agrees_with_pdfsig(&report, &theirs);
}

#[test]
fn tampered_byte_in_the_first_revision_breaks_both_signatures() {
    let f = fixtures();
    let at = positions(&f.signed2, b"pyHanko")[0];
    assert!(at < f.signed1.len());
    let mut bytes = f.signed2.clone();
    bytes[at + 2] = b'h';

    let report = verify(&bytes);
    assert_eq!(report.signatures[0].status(), SignatureStatus::DigestMismatch);
    assert_eq!(report.signatures[1].status(), SignatureStatus::DigestMismatch);
    assert_eq!(report.verdict, DocumentVerdict::SignatureInvalid { index: 0 });

    let theirs = pdfsig(&bytes, "tampered_rev1.pdf");
    assert_eq!(theirs.text.matches("Digest Mismatch.").count(), 2);
    assert_agrees_with_pdfsig(&report, &theirs);
}

#[test]
fn bytes_appended_after_the_last_signature_are_reported() {
    let f = fixtures();
    let appended = b"\n% appended after signing: Toan 10\n";
    let mut bytes = f.signed2.clone();
    bytes.extend_from_slice(appended);

    let report = verify(&bytes);
    assert_eq!(
        report.verdict,
        DocumentVerdict::ModifiedAfterLastSignature {
            kind: TrailingKind::Garbage
        }
    );
    let after = report.after_last_signature.unwrap();
    assert_eq!(after.offset, f.signed2.len() as u64);
    assert_eq!(after.len, appended.len() as u64);
    assert!(report.modified_after_last_signature());
    // Both signatures themselves are still intact: only the coverage changed.
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.status() == SignatureStatus::Valid)
    );
    assert!(!report.signatures[1].covers_whole_file);

    let theirs = pdfsig(&bytes, "appended.pdf");
    assert_eq!(theirs.signatures[1].total, Some(false));
    assert_agrees_with_pdfsig(&report, &theirs);
}

#[test]
fn an_incremental_update_after_the_last_signature_is_reported_as_such() {
    let f = fixtures();
    let report = verify(&f.updated);
    assert_eq!(
        report.verdict,
        DocumentVerdict::ModifiedAfterLastSignature {
            kind: TrailingKind::IncrementalUpdate
        }
    );
    let after = report.after_last_signature.unwrap();
    assert_eq!(after.offset, f.signed2.len() as u64);
    assert_eq!(after.len, (f.updated.len() - f.signed2.len()) as u64);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.status() == SignatureStatus::Valid)
    );
    assert_eq!(report.truncation, None);

    let theirs = pdfsig(&f.updated, "updated.pdf");
    assert_eq!(theirs.signatures[1].total, Some(false));
    assert_agrees_with_pdfsig(&report, &theirs);
}

#[test]
fn truncated_files_are_never_valid() {
    let f = fixtures();
    let bytes = &f.signed2;
    let rev1_end = f.signed1.len();
    let full = verify(bytes);
    let sig2_text = positions(bytes, b"/ByteRange")
        .into_iter()
        .find(|&p| p > rev1_end)
        .unwrap();

    let mut cuts: Vec<usize> = (1..bytes.len()).step_by(bytes.len() / 150).collect();
    cuts.extend([
        rev1_end - 1,
        rev1_end,
        rev1_end + 1,
        sig2_text,
        sig2_text + 40,
        bytes.len() - 1,
        bytes.len() - 7,
    ]);
    cuts.extend(full.signatures[1].byte_range[1] as usize..full.signatures[1].byte_range[1] as usize + 3);
    for cut in cuts {
        let part = &bytes[..cut];
        match verify_pdf(part, &store(), &VerifyOptions::default()) {
            Err(e) => {
                assert_eq!(e, PdfVerifyError::NotAPdf, "cut at {cut}");
                assert!(cut < 8, "cut at {cut}: {e:?}");
            }
            Ok(report) if cut == rev1_end => {
                // Exactly the teacher's revision: a complete, earlier version of the document.
                assert_eq!(report.verdict, DocumentVerdict::Valid);
                assert_eq!(report.signatures.len(), 1);
            }
            Ok(report) => {
                assert!(!report.is_valid(), "cut at {cut} reported valid");
                if cut > rev1_end {
                    assert!(
                        matches!(
                            report.verdict,
                            DocumentVerdict::Truncated { .. }
                                | DocumentVerdict::ModifiedAfterLastSignature {
                                    kind: TrailingKind::Garbage
                                }
                        ),
                        "cut at {cut}: {:?}",
                        report.verdict
                    );
                }
                if cut >= sig2_text {
                    assert!(
                        matches!(report.verdict, DocumentVerdict::Truncated { .. }),
                        "cut at {cut}"
                    );
                }
                if cut < rev1_end && cut > 8 {
                    // The one exception is the untouched unsigned original, which is a prefix.
                    let original = cut <= f.unsigned.len() && cut + 2 >= f.unsigned.len();
                    let expected = if original && report.verdict == DocumentVerdict::Unsigned {
                        DocumentVerdict::Unsigned
                    } else {
                        report.verdict
                    };
                    assert!(
                        matches!(
                            expected,
                            DocumentVerdict::Truncated { .. } | DocumentVerdict::Unsigned
                        ) && (expected != DocumentVerdict::Unsigned || original),
                        "cut at {cut}: {:?}",
                        report.verdict
                    );
                }
            }
        }
    }

    // Cut inside the final cross-reference data: the principal's range runs past the end.
    let cut = bytes.len() - 7;
    let report = verify(&bytes[..cut]);
    assert_eq!(
        report.verdict,
        DocumentVerdict::Truncated {
            truncation: Truncation::ByteRangeBeyondFile
        }
    );
    assert!(
        report.signatures[1]
            .problems
            .contains(&SignatureProblem::ByteRangeBeyondFile)
    );
    assert_eq!(report.signatures[0].status(), SignatureStatus::Valid);
    // poppler agrees: the teacher's signature holds, the principal's cannot be checked.
    let theirs = pdfsig(&bytes[..cut], "truncated.pdf");
    assert_eq!(theirs.signatures.len(), 2, "{}", theirs.text);
    assert_eq!(theirs.signatures[0].signature, "Signature is Valid.");
    assert_eq!(
        theirs.signatures[1].signature,
        "Signature has not yet been verified."
    );
    assert_eq!(theirs.signatures[1].total, Some(false));

    // An unsigned file cut short.
    let report = verify(&f.unsigned[..f.unsigned.len() - 20]);
    assert_eq!(
        report.verdict,
        DocumentVerdict::Truncated {
            truncation: Truncation::MissingEof
        }
    );
}

#[test]
fn random_byte_flips_never_verify() {
    let f = fixtures();
    let bytes = &f.signed2;
    let full = verify(bytes);
    let gaps: Vec<(usize, usize)> = full
        .signatures
        .iter()
        .map(|s| (s.byte_range[1] as usize, s.byte_range[2] as usize))
        .collect();
    let mut rng = StdRng::seed_from_u64(0x6863_6261);
    for _ in 0..300 {
        let at = rng.random_range(0..bytes.len());
        let mask: u8 = rng.random_range(1..=255);
        let mut tampered = bytes.clone();
        tampered[at] ^= mask;
        let outcome = verify_pdf(&tampered, &store(), &VerifyOptions::default());
        let Ok(report) = outcome else {
            assert!(at < 8, "flip at {at}: {outcome:?}");
            continue;
        };
        if report.is_valid() {
            // Only an edit that leaves the decoded signature unchanged can pass: a hex digit's
            // case inside a /Contents string.
            let in_gap = gaps.iter().any(|&(b, c)| at > b && at < c - 1);
            assert!(
                in_gap && bytes[at].eq_ignore_ascii_case(&tampered[at]),
                "flip at {at} ({:#04x} -> {:#04x}) reported valid",
                bytes[at],
                tampered[at]
            );
        }
    }
}

#[test]
fn a_substituted_signer_certificate_breaks_the_ess_binding() {
    let f = fixtures();
    let pki = &f.pki;
    // The CA re-issues the teacher's key under the same serial number: same issuer, serial and key,
    // so the SignerInfo still points at it and the signature still verifies with it.
    let serial =
        String::from_utf8(openssl_line(pki, "x509 -in teacher.pem -noout -serial", &[]).stdout).unwrap();
    let serial = serial.trim().strip_prefix("serial=").unwrap().to_string();
    openssl_line(
        pki,
        &format!(
            "x509 -req -in teacher.csr -CA root.pem -CAkey root.key -set_serial 0x{serial} -out teacher_again.pem \
             -days 824 -extfile ca.cnf -extensions v3_signer"
        ),
        &[],
    );
    to_der(pki, "teacher_again");
    let (original, again) = (der("teacher"), der("teacher_again"));
    assert_eq!(original.len(), again.len());
    assert_ne!(original, again);

    // Swap the certificate inside the teacher's CMS.
    let report = verify(&f.signed1);
    let [_, b, c, _] = report.signatures[0].byte_range.map(|v| v as usize);
    let hex_text = std::str::from_utf8(&f.signed1[b + 1..c - 1]).unwrap();
    let mut cms = hex::decode(hex_text).unwrap();
    let at = positions(&cms, &original)[0];
    cms[at..at + original.len()].copy_from_slice(&again);
    let mut swapped_hex = hex::encode(&cms);
    if hex_text.bytes().any(|b| b.is_ascii_uppercase()) {
        swapped_hex = swapped_hex.to_uppercase();
    }
    let mut bytes = f.signed1.clone();
    bytes[b + 1..c - 1].copy_from_slice(swapped_hex.as_bytes());

    // The re-issued certificate postdates the claimed signing time (and says so at /M), so validate
    // at the current time to isolate the binding check.
    let now = VerifyOptions {
        validation_time: ValidationTime::Now,
        ..Default::default()
    };
    let at_signing_time = verify(&bytes);
    assert_eq!(
        at_signing_time.signatures[0]
            .chain
            .as_ref()
            .unwrap()
            .status
            .code(),
        "not_yet_valid"
    );
    let report = verify_pdf(&bytes, &store(), &now).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.digest, Check::Passed);
    assert_eq!(sig.signature, Check::Passed);
    assert_eq!(
        sig.signer.as_ref().unwrap().sha256_hex,
        sha256_fingerprint(pki, "teacher_again")
    );
    assert_eq!(
        sig.chain.as_ref().unwrap().status,
        ChainStatus::Trusted {
            root_name: ROOT_NAME.into()
        }
    );
    assert_eq!(sig.ess_signing_certificate, EssCheck::Mismatch);
    assert_eq!(sig.status(), SignatureStatus::CertificateBindingMismatch);
    assert_eq!(report.verdict, DocumentVerdict::SignatureInvalid { index: 0 });

    // pyHanko checks the binding and agrees; poppler 22.12 does not look at it, so pdfsig still
    // calls the signature valid: here we deliberately side with pyHanko.
    let path = f.dir.join("ess_swapped.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("pyhanko")
        .args(["--verbose", "sign", "validate", "--pretty-print", "--trust"])
        .arg(pki.join("root.pem"))
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(
        text.contains("Signing certificate attribute does not match"),
        "{text}"
    );
    let theirs = pdfsig(&bytes, "ess_swapped_pdfsig.pdf");
    assert_eq!(theirs.signatures[0].signature, "Signature is Valid.");
}

// ---------------------------------------------------------------------------------------------
// Chains

#[test]
fn signer_under_an_unconfigured_root_is_untrusted_until_that_root_is_configured() {
    let f = fixtures();
    let report = verify(&f.untrusted);
    assert_eq!(report.verdict, DocumentVerdict::SignatureUntrusted { index: 0 });
    let sig = &report.signatures[0];
    assert_eq!(sig.status(), SignatureStatus::Untrusted);
    assert!(sig.is_intact());
    assert_eq!(
        sig.chain.as_ref().unwrap().status,
        ChainStatus::UntrustedRoot {
            top_subject: "CN=Unlisted Root CA,O=Unknown,C=VN".into()
        }
    );
    assert_agrees_with_pdfsig(&report, &pdfsig(&f.untrusted, "untrusted.pdf"));

    // Trust is configuration: add the other root and the same file verifies.
    let mut both = store();
    assert_eq!(both.add_pem("other", &f.other_root_pem).unwrap(), 1);
    let report = verify_pdf(&f.untrusted, &both, &VerifyOptions::default()).unwrap();
    assert_eq!(report.verdict, DocumentVerdict::Valid);
    assert_eq!(
        report.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::Trusted {
            root_name: "other".into()
        }
    );
}

#[test]
fn expired_signer_is_reported_with_its_end_date() {
    let f = fixtures();
    let report = verify(&f.expired);
    let not_after = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
    let expected = ChainStatus::Expired {
        subject: "CN=Lê Văn Cũ,O=Trường THCS Đống Đa,C=VN".into(),
        not_after,
    };
    assert_eq!(report.signatures[0].chain.as_ref().unwrap().status, expected);
    assert_eq!(report.verdict, DocumentVerdict::SignatureUntrusted { index: 0 });
    assert_agrees_with_pdfsig(&report, &pdfsig(&f.expired, "expired.pdf"));

    // Validated at an instant inside the signer's validity, the signer passes, but the test root
    // was only created today: configured roots are held to their validity too.
    let at = |t: DateTime<Utc>| VerifyOptions {
        validation_time: ValidationTime::At(t),
        ..Default::default()
    };
    let mid_2020 = Utc.with_ymd_and_hms(2020, 6, 1, 0, 0, 0).unwrap();
    let report = verify_pdf(&f.expired, &store(), &at(mid_2020)).unwrap();
    assert_eq!(report.signatures[0].validation_time, Some(mid_2020));
    match &report.signatures[0].chain.as_ref().unwrap().status {
        ChainStatus::NotYetValid { subject, not_before } => {
            assert_eq!(subject, "CN=Test Education Root CA,O=Test Root,C=VN");
            assert!(*not_before > mid_2020);
        }
        other => panic!("{other:?}"),
    }
    let in_2019 = Utc.with_ymd_and_hms(2019, 6, 1, 0, 0, 0).unwrap();
    let report = verify_pdf(&f.expired, &store(), &at(in_2019)).unwrap();
    assert_eq!(
        report.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::NotYetValid {
            subject: "CN=Lê Văn Cũ,O=Trường THCS Đống Đa,C=VN".into(),
            not_before: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        }
    );
    let report = verify_pdf(
        &f.expired,
        &store(),
        &VerifyOptions {
            validation_time: ValidationTime::Now,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        report.signatures[0].chain.as_ref().unwrap().status.code(),
        "expired"
    );
}

/// `openssl verify`'s reading of the same path, for cross-checking.
fn openssl_verify(leaf: &str, untrusted: &[&str], purpose: Option<&str>) -> String {
    let pki = &fixtures().pki;
    let mut cmd = Command::new("openssl");
    cmd.current_dir(pki).args(["verify", "-CAfile", "root.pem"]);
    if let Some(p) = purpose {
        cmd.args(["-purpose", p]);
    }
    for u in untrusted {
        cmd.args(["-untrusted", &format!("{u}.pem")]);
    }
    cmd.arg(format!("{leaf}.pem"));
    let out = cmd.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn path_validation_rejects_what_openssl_rejects() {
    let store = store();
    let now = Utc::now();
    let check = |leaf: &str, others: &[&str]| {
        let others: Vec<Vec<u8>> = others.iter().map(|o| der(o)).collect();
        let refs: Vec<&[u8]> = others.iter().map(Vec::as_slice).collect();
        store.verify_chain(&der(leaf), &refs, now)
    };

    let ok = check("principal", &["sub", "teacher"]);
    assert_eq!(
        ok.status,
        ChainStatus::Trusted {
            root_name: ROOT_NAME.into()
        }
    );
    assert_eq!(ok.path.len(), 3);
    assert!(openssl_verify("principal", &["sub"], None).contains("principal.pem: OK"));

    // Certificate signatures with RSA SHA-384 / SHA-512 and ECDSA P-256 SHA-384.
    for (leaf, others) in [
        ("rsa384", &[][..]),
        ("rsa512", &[][..]),
        ("ec384", &["ec_sub"][..]),
    ] {
        let r = check(leaf, others);
        assert_eq!(
            r.status,
            ChainStatus::Trusted {
                root_name: ROOT_NAME.into()
            },
            "{leaf}"
        );
        assert!(
            openssl_verify(leaf, others, None).contains(&format!("{leaf}.pem: OK")),
            "{leaf}"
        );
    }

    // Without the intermediate there is no path.
    assert_eq!(check("principal", &[]).status.code(), "untrusted_root");
    assert!(openssl_verify("principal", &[], None).contains("unable to get local issuer certificate"));

    let r = check("under_notca", &["notca"]);
    assert_eq!(
        r.status,
        ChainStatus::NotACa {
            subject: "CN=Not A CA,O=Test,C=VN".into()
        }
    );
    assert!(openssl_verify("under_notca", &["notca"], None).contains("invalid CA certificate"));

    let r = check("too_deep", &["sub2", "sub"]);
    assert_eq!(
        r.status,
        ChainStatus::PathLenExceeded {
            subject: "CN=Test Licensed Sub CA,O=Test Licensed CA,C=VN".into()
        }
    );
    assert!(openssl_verify("too_deep", &["sub2", "sub"], None).contains("path length constraint exceeded"));

    let r = check("encipher", &[]);
    assert_eq!(
        r.status,
        ChainStatus::KeyUsage {
            subject: "CN=Encipher Only,O=Test,C=VN".into()
        }
    );
    assert!(openssl_verify("encipher", &[], Some("smimesign")).contains("unsuitable certificate purpose"));

    let r = check("under_nocertsign", &["nocertsign"]);
    assert_eq!(
        r.status,
        ChainStatus::KeyUsage {
            subject: "CN=CA Without CertSign,O=Test,C=VN".into()
        }
    );
    assert!(
        openssl_verify("under_nocertsign", &["nocertsign"], None)
            .contains("key usage does not include certificate signing")
    );

    let r = check("critical", &[]);
    assert_eq!(
        r.status,
        ChainStatus::UnknownCriticalExtension {
            subject: "CN=Unknown Critical,O=Test,C=VN".into(),
            oid: "1.3.6.1.4.1.99999.1".into()
        }
    );
    assert!(openssl_verify("critical", &[], None).contains("unhandled critical extension"));

    // A flipped bit in the teacher certificate's signature.
    let mut forged = der("teacher");
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let r = store.verify_chain(&forged, &[], now);
    assert_eq!(
        r.status,
        ChainStatus::BadSignature {
            subject: "CN=Nguyễn Thị Hoa,O=Trường THCS Đống Đa,C=VN".into()
        }
    );
    std::fs::write(fixtures().pki.join("forged.der"), &forged).unwrap();
    run(Command::new("openssl").current_dir(&fixtures().pki).args([
        "x509",
        "-inform",
        "DER",
        "-in",
        "forged.der",
        "-out",
        "forged.pem",
    ]));
    assert!(openssl_verify("forged", &[], None).contains("certificate signature failure"));

    // CAs certifying each other: path building terminates and finds no trust.
    let r = check("loop_leaf", &["loop_a", "loop_b"]);
    assert_eq!(r.status.code(), "untrusted_root");
    assert_eq!(r.path.len(), 3);

    // Garbage is malformed, not a panic.
    assert_eq!(
        store
            .verify_chain(b"\x30\x03\x02\x01\x00", &[], now)
            .status
            .code(),
        "malformed"
    );
}

#[test]
fn trust_store_loads_a_directory_of_pem_and_der_roots() {
    let f = fixtures();
    let dir = f.dir.join("roots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bo-gddt-test.pem"), &f.root_pem).unwrap();
    std::fs::write(dir.join("unlisted.cer"), der("other_root")).unwrap();
    std::fs::write(dir.join("README.txt"), "not a certificate").unwrap();
    let store = TrustStore::from_dir(&dir).unwrap();
    let names: Vec<_> = store.roots().iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["bo-gddt-test", "unlisted"]);
    assert_eq!(store.roots()[1].certificate_der(), der("other_root").as_slice());
    assert_eq!(
        store.roots()[0].summary().common_name.as_deref(),
        Some("Test Education Root CA")
    );

    let report = verify_pdf(&f.signed2, &store, &VerifyOptions::default()).unwrap();
    assert_eq!(
        report.signatures[0].chain.as_ref().unwrap().status,
        ChainStatus::Trusted {
            root_name: "bo-gddt-test".into()
        }
    );

    // The same root twice is one root; a bundle names its members in order.
    let mut store = TrustStore::new();
    let mut bundle = f.root_pem.clone();
    bundle.extend_from_slice(&f.other_root_pem);
    assert_eq!(store.add_pem("bundle", &bundle).unwrap(), 2);
    assert_eq!(store.add_pem("again", &f.root_pem).unwrap(), 0);
    let names: Vec<_> = store.roots().iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["bundle", "bundle#2"]);

    // An end-entity certificate cannot be a root; text without certificates is refused.
    let teacher_pem = std::fs::read(f.pki.join("teacher.pem")).unwrap();
    let err = TrustStore::new().add_pem("teacher", &teacher_pem).unwrap_err();
    assert_eq!(err.code(), "trust_not_a_ca");
    let err = TrustStore::from_pem("empty", b"hello").unwrap_err();
    assert!(matches!(err, TrustError::NoCertificate { .. }));
    let err = TrustStore::new().add_der("junk", b"\x30\x00").unwrap_err();
    assert_eq!(err.code(), "trust_certificate");
}

// ---------------------------------------------------------------------------------------------
// Not ours

#[test]
fn not_a_pdf_and_unsigned_pdfs() {
    let f = fixtures();
    let junk = b"PK\x03\x04 this is a zip, not a PDF".to_vec();
    assert_eq!(
        verify_pdf(&junk, &store(), &VerifyOptions::default()).unwrap_err(),
        PdfVerifyError::NotAPdf
    );
    assert_eq!(PdfVerifyError::NotAPdf.code(), "not_a_pdf");
    let theirs = pdfsig(&junk, "junk.pdf");
    assert!(theirs.signatures.is_empty());
    assert!(
        theirs.text.contains("Error") || theirs.text.contains("error"),
        "{}",
        theirs.text
    );

    let report = verify(&f.unsigned);
    assert_eq!(report.verdict, DocumentVerdict::Unsigned);
    assert!(report.is_unsigned());
    assert_eq!(report.truncation, None);
    assert_eq!(report.embedded_file("hocba.json").unwrap().data, f.json);
    let theirs = pdfsig(&f.unsigned, "unsigned.pdf");
    assert!(theirs.signatures.is_empty());
    assert!(
        theirs.text.contains("does not contain any signatures"),
        "{}",
        theirs.text
    );

    // A final revision whose startxref points nowhere.
    let mut broken = f.unsigned.clone();
    let at = *positions(&broken, b"startxref").last().unwrap() + "startxref".len();
    let start = at
        + broken[at..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    let digits = broken[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    broken[start..start + digits].fill(b'0');
    let report = verify(&broken);
    assert_eq!(
        report.verdict,
        DocumentVerdict::Truncated {
            truncation: Truncation::XrefBroken
        }
    );

    // Encrypted files, with an empty or an unknown user password, are refused.
    let dir = f.dir.join("encrypted");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.pdf"), &f.unsigned).unwrap();
    for user in ["", "secret"] {
        run(Command::new("qpdf").current_dir(&dir).args([
            "--encrypt",
            user,
            "owner",
            "256",
            "--",
            "in.pdf",
            "out.pdf",
        ]));
        let encrypted = std::fs::read(dir.join("out.pdf")).unwrap();
        let err = verify_pdf(&encrypted, &store(), &VerifyOptions::default()).unwrap_err();
        assert_eq!(err, PdfVerifyError::Encrypted, "user password {user:?}");
        assert_eq!(err.code(), "encrypted");
    }

    let too_big = VerifyOptions {
        max_file_size: 1000,
        ..Default::default()
    };
    assert!(matches!(
        verify_pdf(&f.unsigned, &store(), &too_big),
        Err(PdfVerifyError::TooLarge { .. })
    ));
}

#[test]
fn a_signed_pdf_attached_inside_an_unsigned_one_does_not_lend_its_signatures() {
    let f = fixtures();
    // qpdf (another producer) attaches the signed document uncompressed, so its /ByteRange
    // entries and signature dictionaries appear verbatim inside the outer file.
    let dir = f.dir.join("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inner.pdf"), &f.signed2).unwrap();
    run(Command::new("qpdf")
        .current_dir(&dir)
        .args(["--empty", "empty.pdf"]));
    run(Command::new("qpdf").current_dir(&dir).args([
        "empty.pdf",
        "--compress-streams=n",
        "--object-streams=disable",
        "--add-attachment",
        "inner.pdf",
        "--mimetype=application/pdf",
        "--",
        "outer.pdf",
    ]));
    let outer = std::fs::read(dir.join("outer.pdf")).unwrap();
    assert!(
        positions(&outer, b"/ByteRange").len() >= 2,
        "the inner signatures are visible as text"
    );

    let report = verify(&outer);
    assert_eq!(report.verdict, DocumentVerdict::Unsigned);
    assert_eq!(report.embedded_file("inner.pdf").unwrap().data, f.signed2);
    assert_eq!(report.embedded_file("inner.pdf").unwrap().relationship, None);
    assert!(pdfsig(&outer, "outer.pdf").signatures.is_empty());
}

#[test]
fn oversized_attachments_are_refused_not_inflated() {
    let big = vec![b' '; 256 * 1024];
    let pdf = render_pdf(&big, "big.json");
    let options = VerifyOptions {
        max_stream_size: 64 * 1024,
        ..Default::default()
    };
    let report = verify_pdf(&pdf, &store(), &options).unwrap();
    assert!(report.embedded_files.is_empty());
    assert_eq!(report.embedded_file_problems.len(), 1);
    assert_eq!(report.embedded_file_problems[0].code, "too_large");
    assert_eq!(report.embedded_file_problems[0].name.as_deref(), Some("big.json"));
    // With the default bound the same file is extracted.
    let report = verify_pdf(&pdf, &store(), &VerifyOptions::default()).unwrap();
    assert_eq!(report.embedded_file("big.json").unwrap().data.len(), big.len());
}
