//! PAdES signing of học bạ PDFs with every signer backend, checked by independent tools:
//! pdfsig (poppler + NSS), pyHanko, `openssl cms -verify` and `qpdf --check`.
//!
//! A missing tool fails the test with the package to install; nothing is skipped.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use der::Encode;
use sha2_legacy::{Digest, Sha256};
use support::*;
use truongso_docs::credentials::pades::{self, PadesError, SignatureField};
use truongso_docs::credentials::pki::{Holder, IdentitySpec, KeyAlgorithm, PkiSpec, TestPki};
use truongso_docs::credentials::signer::{
    Pkcs11Signer, Pkcs12Signer, RemoteSigner, RemoteSignerConfig, SignatureAlgorithm, Signer, SignerError,
    certificate_from_der_or_pem,
};
use x509_cert::Certificate;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

/// The school's three signers without the extras (TLS, expired, untrusted).
fn school_spec() -> PkiSpec {
    PkiSpec {
        tls_server: false,
        expired: false,
        untrusted: false,
        ..PkiSpec::school(SCHOOL, GVCN_NAME, PRINCIPAL_NAME, P12_PASSWORD)
    }
}

/// One P-256 person under a P-256 root: fast, for tests where the key type does not matter.
fn small_spec() -> PkiSpec {
    PkiSpec {
        root_key: KeyAlgorithm::P256,
        identities: vec![IdentitySpec {
            name: "gvcn".into(),
            holder: Holder::Person(GVCN_NAME.into()),
            key: KeyAlgorithm::P256,
        }],
        ..school_spec()
    }
}

fn cert_from_file(path: &Path) -> Certificate {
    certificate_from_der_or_pem(&std::fs::read(path).unwrap()).unwrap()
}

fn common_name(certificate: &Certificate) -> String {
    certificate
        .tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid::db::rfc4519::CN)
        .map(|atv| {
            der::asn1::Utf8StringRef::try_from(&atv.value)
                .unwrap()
                .as_str()
                .to_owned()
        })
        .unwrap()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_owned()
}

/// Asserts that pdfsig, pyHanko and OpenSSL all accept every signature of `pdf`, signed in the
/// order of `expected` = (field name, signer common name).
fn assert_all_tools_accept(pdf: &Path, ca_pem: &Path, nss: &str, work: &Path, expected: &[(&str, &str)]) {
    let signatures = pdfsig(nss, pdf);
    assert_eq!(
        signatures.len(),
        expected.len(),
        "pdfsig signatures: {signatures:#?}"
    );
    for (i, (signature, (field, signer))) in signatures.iter().zip(expected).enumerate() {
        assert_eq!(
            signature.field("Signature Field Name"),
            Some(*field),
            "{signature:#?}"
        );
        assert_eq!(
            signature.field("Signer Certificate Common Name"),
            Some(*signer),
            "{signature:#?}"
        );
        assert_eq!(
            signature.field("Signature Type"),
            Some("ETSI.CAdES.detached"),
            "{signature:#?}"
        );
        assert_eq!(
            signature.field("Signing Hash Algorithm"),
            Some("SHA-256"),
            "{signature:#?}"
        );
        assert!(
            signature.has_line("Signature Validation: Signature is Valid."),
            "{signature:#?}"
        );
        assert!(
            signature.has_line("Certificate Validation: Certificate is Trusted."),
            "{signature:#?}"
        );
        let coverage = if i + 1 == expected.len() {
            "Total document signed"
        } else {
            "Not total document signed"
        };
        assert!(
            signature.has_line(coverage),
            "signature {i} should say {coverage:?}: {signature:#?}"
        );
    }

    let (code, out) = pyhanko_validate(pdf, ca_pem);
    assert_eq!(code, 0, "pyhanko: {out}");
    let valid: Vec<&str> = out.lines().filter(|l| l.ends_with(":VALID")).collect();
    assert_eq!(valid.len(), expected.len(), "pyhanko: {out}");
    for (line, (field, _)) in valid.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("{field}:")),
            "pyhanko line {line:?} for {field}: {out}"
        );
    }

    let results = openssl_cms_verify_all(pdf, ca_pem, work);
    assert_eq!(results.len(), expected.len());
    for (code, out) in results {
        assert_eq!(code, 0, "openssl cms -verify: {out}");
        assert!(out.contains("CMS Verification successful"), "{out}");
    }
}

#[test]
fn three_signatures_in_sequence_validate_in_pdfsig_pyhanko_openssl_and_qpdf() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &school_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);

    let original = transcript_pdf();
    qpdf_check(&write(&work.join("unsigned.pdf"), &original));
    let steps = [
        (
            "gvcn",
            "GVCN",
            "Giáo viên chủ nhiệm xác nhận học bạ",
            "2026-11-23T02:30:00Z",
            SignatureAlgorithm::EcdsaP256Sha256,
        ),
        (
            "hieutruong",
            "HieuTruong",
            "Hiệu trưởng phê duyệt",
            "2026-11-24T03:15:00Z",
            SignatureAlgorithm::RsaPkcs1v15Sha256,
        ),
        (
            "condau",
            "ConDau",
            "Xác nhận của nhà trường (con dấu)",
            "2026-11-24T08:45:30Z",
            SignatureAlgorithm::EcdsaP256Sha256,
        ),
    ];
    let mut pdf = original.clone();
    for (i, (stem, field, reason, time, algorithm)) in steps.iter().enumerate() {
        let identity = pki.identity(stem).unwrap();
        let signer = Pkcs12Signer::open(&identity.p12, P12_PASSWORD).unwrap();
        assert_eq!(signer.algorithm(), *algorithm, "{stem}");
        assert_eq!(
            signer.chain(),
            &[identity.certificate.clone(), pki.root.clone()],
            "{stem}"
        );
        let field = SignatureField::new(*field, at(time))
            .with_reason(*reason)
            .with_location("Hà Nội");
        let signed = pades::sign(&pdf, &field, &signer).unwrap();
        // An incremental update: every earlier byte is kept as it was.
        assert!(signed.starts_with(&pdf), "signature {i} rewrote earlier bytes");
        qpdf_check(&write(&work.join(format!("signed-{}.pdf", i + 1)), &signed));
        pdf = signed;
    }
    let final_pdf = work.join("signed-3.pdf");

    let expected = [
        ("GVCN", GVCN_NAME),
        ("HieuTruong", PRINCIPAL_NAME),
        ("ConDau", SCHOOL),
    ];
    assert_all_tools_accept(&final_pdf, &pki.ca_pem, &nss, work, &expected);

    // What the signature dictionaries claim, as pdfsig reads them (TZ=UTC).
    let signatures = pdfsig(&nss, &final_pdf);
    assert_eq!(signatures[0].field("Signing Time"), Some("Nov 23 2026 02:30:00"));
    assert_eq!(signatures[1].field("Signing Time"), Some("Nov 24 2026 03:15:00"));
    assert_eq!(signatures[2].field("Signing Time"), Some("Nov 24 2026 08:45:30"));
    // Each signature covers everything before it: the ranges grow with the file.
    let ranges: Vec<[usize; 4]> = signatures_in(&pdf).into_iter().map(|(_, r, _)| r).collect();
    assert!(ranges[0][2] + ranges[0][3] < ranges[1][2] + ranges[1][3]);
    assert_eq!(ranges[2][2] + ranges[2][3], pdf.len());

    // /Reason, /Location (UTF-16BE) and /M as pyHanko's PDF reader decodes them.
    require_tool("python3", "apt-get install python3");
    let script = "import sys\nfrom pyhanko.pdf_utils.reader import PdfFileReader\n\
        r = PdfFileReader(open(sys.argv[1], 'rb'))\n\
        for s in r.embedded_signatures:\n\
        \x20   o = s.sig_object\n\
        \x20   print(s.field_name, o['/Reason'], o['/Location'], o['/M'], sep='|')\n";
    let out = run(Command::new("python3").args(["-c", script]).arg(&final_pdf));
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(
        stdout(&out),
        "GVCN|Giáo viên chủ nhiệm xác nhận học bạ|Hà Nội|D:20261123093000+07'00'\n\
         HieuTruong|Hiệu trưởng phê duyệt|Hà Nội|D:20261124101500+07'00'\n\
         ConDau|Xác nhận của nhà trường (con dấu)|Hà Nội|D:20261124154530+07'00'\n"
    );

    // pyHanko's detailed report: the later updates only add signatures.
    let (code, pretty) = pyhanko_pretty(&final_pdf, &pki.ca_pem);
    assert_eq!(code, 0, "{pretty}");
    assert!(
        pretty.contains("All modifications relate to signing and form filling operations"),
        "{pretty}"
    );

    // The rendition itself survives: Vietnamese text and the embedded record.
    require_tool("pdftotext", "apt-get install poppler-utils");
    let text = stdout(&run(Command::new("pdftotext").arg(&final_pdf).arg("-")));
    assert!(text.contains("Học sinh: Phạm Ngọc Ánh — Lớp 6A1"), "{text}");
    require_tool("pdfdetach", "apt-get install poppler-utils");
    let attachments = stdout(&run(Command::new("pdfdetach").arg("-list").arg(&final_pdf)));
    assert!(attachments.contains("1: hocba.json"), "{attachments}");
}

/// Files from other software: object streams and a cross-reference stream (qpdf), and an
/// earlier `adbe.pkcs7.detached` signature made by pyHanko. Our signature is added after it and
/// both stay valid.
#[test]
fn countersigns_a_pdf_with_object_streams_and_a_foreign_signature() {
    require_tool("qpdf", "apt-get install qpdf");
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &school_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);

    let plain = write(&work.join("plain.pdf"), &transcript_pdf());
    let compact = work.join("objstm.pdf");
    let out = run(Command::new("qpdf")
        .arg("--object-streams=generate")
        .arg(&plain)
        .arg(&compact));
    assert!(out.status.success(), "qpdf: {}", all_output(&out));
    let foreign = work.join("foreign.pdf");
    let passfile = write(&work.join("pass.txt"), P12_PASSWORD.as_bytes());
    let out = run(Command::new("pyhanko")
        .args(["sign", "addsig", "--field", "Sovanthu", "pkcs12", "--passfile"])
        .arg(&passfile)
        .arg(&compact)
        .arg(&foreign)
        .arg(&pki.identity("hieutruong").unwrap().p12));
    assert!(out.status.success(), "pyhanko sign addsig: {}", all_output(&out));
    let foreign_bytes = std::fs::read(&foreign).unwrap();
    assert!(
        foreign_bytes
            .windows(11)
            .any(|w| w == b"/Type/XRef/" || w == b"/Type /XRef"),
        "no xref stream"
    );

    let signer = Pkcs12Signer::open(&pki.identity("condau").unwrap().p12, P12_PASSWORD).unwrap();
    let error = pades::sign(
        &foreign_bytes,
        &SignatureField::new("Sovanthu", at("2026-11-24T08:45:00Z")),
        &signer,
    )
    .unwrap_err();
    assert!(
        matches!(&error, PadesError::DuplicateField(name) if name == "Sovanthu"),
        "{error:?}"
    );
    let signed = pades::sign(
        &foreign_bytes,
        &SignatureField::new("ConDau", at("2026-11-24T08:45:00Z")),
        &signer,
    )
    .unwrap();
    let path = write(&work.join("countersigned.pdf"), &signed);
    qpdf_check(&path);

    let signatures = pdfsig(&nss, &path);
    assert_eq!(signatures.len(), 2);
    assert_eq!(signatures[0].field("Signature Type"), Some("adbe.pkcs7.detached"));
    assert_eq!(signatures[1].field("Signature Type"), Some("ETSI.CAdES.detached"));
    for signature in &signatures {
        assert!(
            signature.has_line("Signature Validation: Signature is Valid."),
            "{signature:#?}"
        );
        assert!(
            signature.has_line("Certificate Validation: Certificate is Trusted."),
            "{signature:#?}"
        );
    }
    assert!(signatures[1].has_line("Total document signed"));
    let (code, out) = pyhanko_validate(&path, &pki.ca_pem);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().filter(|l| l.ends_with(":VALID")).count(), 2, "{out}");
    for (code, out) in openssl_cms_verify_all(&path, &pki.ca_pem, work) {
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn a_tampered_copy_fails_in_pdfsig_pyhanko_and_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &small_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);
    let signer = Pkcs12Signer::open(&pki.identity("gvcn").unwrap().p12, P12_PASSWORD).unwrap();
    let signed = pades::sign(
        &transcript_pdf(),
        &SignatureField::new("GVCN", at("2026-11-23T02:30:00Z")),
        &signer,
    )
    .unwrap();
    let good = write(&work.join("good.pdf"), &signed);
    assert_all_tools_accept(&good, &pki.ca_pem, &nss, work, &[("GVCN", GVCN_NAME)]);

    // Change "6A1" to "7A1" in the uncompressed XMP title: inside the first signed range, and
    // harmless to every parser.
    let (_, range, _) = signatures_in(&signed).remove(0);
    let at_class = signed
        .windows(3)
        .position(|w| w == b"6A1")
        .expect("the XMP title names the class");
    assert!(
        at_class < range[1],
        "the changed byte must be covered by the signature"
    );
    let mut tampered = signed.clone();
    tampered[at_class] = b'7';
    let tampered_path = write(&work.join("tampered.pdf"), &tampered);

    let signatures = pdfsig(&nss, &tampered_path);
    assert_eq!(signatures.len(), 1);
    assert!(
        signatures[0].has_line("Signature Validation: Digest Mismatch."),
        "{:#?}",
        signatures[0]
    );
    assert!(!signatures[0].has_line("Signature Validation: Signature is Valid."));

    let (code, out) = pyhanko_validate(&tampered_path, &pki.ca_pem);
    assert_eq!(code, 1, "pyhanko must reject the tampered copy: {out}");
    assert!(out.contains("GVCN:") && out.contains("INVALID"), "{out}");
    assert!(!out.lines().any(|l| l.ends_with(":VALID")), "{out}");

    let results = openssl_cms_verify_all(&tampered_path, &pki.ca_pem, work);
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0].0, 4,
        "openssl cms -verify must fail with exit 4: {}",
        results[0].1
    );
    assert!(
        results[0].1.contains("CMS Verification failure"),
        "{}",
        results[0].1
    );
    assert!(results[0].1.contains("content verify error"), "{}", results[0].1);
}

#[test]
fn pkcs12_files_from_our_pki_and_from_openssl_including_legacy_sign() {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &school_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);
    let gvcn = pki.identity("gvcn").unwrap();
    let principal = pki.identity("hieutruong").unwrap();

    // OpenSSL 3's default (PBES2: PBKDF2 + AES-256-CBC) for the EC key, `-legacy` (PBES1:
    // 3DES key bag, RC2-40 certificate bag, SHA-1 MAC) for the RSA key.
    let openssl_export =
        |identity: &truongso_docs::credentials::pki::IssuedIdentity, out: &Path, legacy: bool| {
            let mut command = Command::new("openssl");
            command.args(["pkcs12", "-export"]);
            if legacy {
                command.arg("-legacy");
            }
            command
                .arg("-inkey")
                .arg(&identity.key_pem)
                .arg("-in")
                .arg(&identity.cert_pem)
                .arg("-certfile")
                .arg(&pki.ca_pem)
                .args([
                    "-name",
                    "chu-ky",
                    "-passout",
                    &format!("pass:{P12_PASSWORD}"),
                    "-out",
                ])
                .arg(out);
            let result = run(&mut command);
            assert!(
                result.status.success(),
                "openssl pkcs12 -export: {}",
                all_output(&result)
            );
            let mut info = Command::new("openssl");
            info.args([
                "pkcs12",
                "-info",
                "-noout",
                "-passin",
                &format!("pass:{P12_PASSWORD}"),
                "-in",
            ])
            .arg(out);
            if legacy {
                info.arg("-legacy");
            }
            all_output(&run(&mut info))
        };
    let modern = work.join("gvcn-openssl.p12");
    let info = openssl_export(gvcn, &modern, false);
    assert!(info.contains("PBES2, PBKDF2, AES-256-CBC"), "{info}");
    let legacy = work.join("hieutruong-legacy.p12");
    let info = openssl_export(principal, &legacy, true);
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
    assert!(info.contains("pbeWithSHA1And40BitRC2-CBC"), "{info}");
    assert!(info.contains("MAC: sha1"), "{info}");

    let cases = [
        (&gvcn.p12, gvcn, SignatureAlgorithm::EcdsaP256Sha256, GVCN_NAME),
        (
            &principal.p12,
            principal,
            SignatureAlgorithm::RsaPkcs1v15Sha256,
            PRINCIPAL_NAME,
        ),
        (&modern, gvcn, SignatureAlgorithm::EcdsaP256Sha256, GVCN_NAME),
        (
            &legacy,
            principal,
            SignatureAlgorithm::RsaPkcs1v15Sha256,
            PRINCIPAL_NAME,
        ),
    ];
    let input = transcript_pdf();
    for (i, (file, identity, algorithm, name)) in cases.into_iter().enumerate() {
        let signer =
            Pkcs12Signer::open(file, P12_PASSWORD).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(signer.algorithm(), algorithm, "{}", file.display());
        assert_eq!(
            signer.chain(),
            &[identity.certificate.clone(), pki.root.clone()],
            "{}",
            file.display()
        );
        // The same file read from memory, as an upload would be.
        let from_bytes = Pkcs12Signer::from_bytes(&std::fs::read(file).unwrap(), P12_PASSWORD).unwrap();
        assert_eq!(from_bytes.chain(), signer.chain());

        let signed = pades::sign(
            &input,
            &SignatureField::new("ChuKy", at("2026-11-23T02:30:00Z")),
            &signer,
        )
        .unwrap();
        let path = write(&work.join(format!("p12-{i}.pdf")), &signed);
        let signatures = pdfsig(&nss, &path);
        assert_eq!(signatures.len(), 1);
        assert_eq!(signatures[0].field("Signer Certificate Common Name"), Some(name));
        assert!(
            signatures[0].has_line("Signature Validation: Signature is Valid."),
            "{:#?}",
            signatures[0]
        );
        assert!(
            signatures[0].has_line("Certificate Validation: Certificate is Trusted."),
            "{:#?}",
            signatures[0]
        );
        let results = openssl_cms_verify_all(&path, &pki.ca_pem, work);
        assert_eq!(results[0].0, 0, "{}", results[0].1);
    }

    for file in [&gvcn.p12, &legacy] {
        let error = Pkcs12Signer::open(file, "sai-mật-khẩu")
            .err()
            .expect("wrong password must fail");
        assert!(matches!(error, SignerError::Pkcs12Password), "{error:?}");
        assert_eq!(error.code(), "signer.pkcs12_password");
    }
    let error = Pkcs12Signer::from_bytes(b"not a pkcs12 file", P12_PASSWORD)
        .err()
        .unwrap();
    assert_eq!(error.code(), "signer.pkcs12_read", "{error:?}");
    let error = Pkcs12Signer::open(work.join("missing.p12"), P12_PASSWORD)
        .err()
        .unwrap();
    assert_eq!(error.code(), "signer.io", "{error:?}");
}

const TOKEN_LABEL: &str = "truongso-test";
const TOKEN_PIN: &str = "246810";

/// Creates a SoftHSM2 token in a temporary directory holding the principal's RSA key with its
/// certificate and the root certificate, and the school's P-256 key without a certificate; runs
/// the signing in a child process (SoftHSM reads `SOFTHSM2_CONF` once, and changing the
/// environment of a multi-threaded test process is unsound), then validates the result.
#[test]
fn pkcs11_softhsm_token_signs_with_rsa_and_p256_keys() {
    require_tool("softhsm2-util", "apt-get install softhsm2");
    require_file(SOFTHSM_MODULE, "apt-get install softhsm2");
    require_tool("pkcs11-tool", "apt-get install opensc");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &school_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);

    let tokens = work.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = write(
        &work.join("softhsm2.conf"),
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        )
        .as_bytes(),
    );
    let hsm = |args: &[&str]| {
        let out = run(Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &conf));
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}",
            all_output(&out)
        );
        all_output(&out)
    };
    let init = hsm(&[
        "--init-token",
        "--free",
        "--label",
        TOKEN_LABEL,
        "--so-pin",
        "13579135",
        "--pin",
        TOKEN_PIN,
    ]);
    assert!(init.contains("has been initialized"), "{init}");
    for (identity, id) in [("hieutruong", "01"), ("condau", "02")] {
        let key = pki.identity(identity).unwrap().key_pem.display().to_string();
        let out = hsm(&[
            "--import",
            &key,
            "--token",
            TOKEN_LABEL,
            "--label",
            identity,
            "--id",
            id,
            "--pin",
            TOKEN_PIN,
        ]);
        assert!(out.contains("The key pair has been imported"), "{out}");
    }
    let principal_der = write(
        &work.join("hieutruong.der"),
        &pki.identity("hieutruong").unwrap().certificate.to_der().unwrap(),
    );
    let root_der = write(&work.join("ca.der"), &pki.root.to_der().unwrap());
    for (file, id, label) in [(&principal_der, "01", "hieutruong"), (&root_der, "99", "ca")] {
        let out = run(Command::new("pkcs11-tool")
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                TOKEN_LABEL,
                "--login",
                "--pin",
                TOKEN_PIN,
            ])
            .arg("--write-object")
            .arg(file)
            .args(["--type", "cert", "--id", id, "--label", label])
            .env("SOFTHSM2_CONF", &conf));
        assert!(
            out.status.success(),
            "pkcs11-tool --write-object: {}",
            all_output(&out)
        );
    }
    write(&work.join("in.pdf"), &transcript_pdf());

    let child = run(Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pkcs11_signing_in_child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env("TRUONGSO_PKCS11_TEST_DIR", work));
    let child_output = all_output(&child);
    assert!(child.status.success(), "child process failed:\n{child_output}");
    assert!(
        child_output.contains("test pkcs11_signing_in_child_process ... ok"),
        "{child_output}"
    );

    let signed = work.join("out.pdf");
    qpdf_check(&signed);
    assert_all_tools_accept(
        &signed,
        &pki.ca_pem,
        &nss,
        work,
        &[("HieuTruong", PRINCIPAL_NAME), ("ConDau", SCHOOL)],
    );
}

#[test]
#[ignore = "the PKCS#11 half of pkcs11_softhsm_token_signs_with_rsa_and_p256_keys, run by it in a child process"]
fn pkcs11_signing_in_child_process() {
    // Only meaningful inside the parent's child process (`--include-ignored` runs land here
    // too); the parent checks this test's "ok" line and the PDF it writes, so returning early
    // elsewhere cannot make the parent pass.
    let Some(work) = std::env::var_os("TRUONGSO_PKCS11_TEST_DIR").map(PathBuf::from) else {
        eprintln!(
            "pkcs11_signing_in_child_process: run by pkcs11_softhsm_token_signs_with_rsa_and_p256_keys"
        );
        return;
    };
    let pki = work.join("pki");
    let expect_error = |result: Result<Pkcs11Signer, SignerError>, code: &str| {
        let error = result.expect_err("must fail");
        assert_eq!(error.code(), code, "{error}");
    };
    expect_error(
        Pkcs11Signer::open("/nonexistent/pkcs11.so", TOKEN_LABEL, TOKEN_PIN, "hieutruong"),
        "signer.pkcs11_module",
    );
    expect_error(
        Pkcs11Signer::open(SOFTHSM_MODULE, "no-such-token", TOKEN_PIN, "hieutruong"),
        "signer.pkcs11_token_not_found",
    );
    expect_error(
        Pkcs11Signer::open(SOFTHSM_MODULE, TOKEN_LABEL, "999999", "hieutruong"),
        "signer.pkcs11_pin_incorrect",
    );
    expect_error(
        Pkcs11Signer::open(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN, "no-such-key"),
        "signer.pkcs11_key_not_found",
    );
    // The school's key has no certificate on the token.
    expect_error(
        Pkcs11Signer::open(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN, "condau"),
        "signer.pkcs11_certificate_not_found",
    );

    let ca = cert_from_file(&pki.join("ca.pem"));
    let principal_cert = cert_from_file(&pki.join("hieutruong.pem"));
    let school_cert = cert_from_file(&pki.join("condau.pem"));
    let principal = Pkcs11Signer::open(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN, "hieutruong").unwrap();
    assert_eq!(principal.algorithm(), SignatureAlgorithm::RsaPkcs1v15Sha256);
    // Certificate and root both come from the token.
    assert_eq!(principal.chain(), &[principal_cert.clone(), ca.clone()]);
    let school = Pkcs11Signer::open_with_certificates(
        SOFTHSM_MODULE,
        TOKEN_LABEL,
        TOKEN_PIN,
        "condau",
        vec![school_cert.clone()],
    )
    .unwrap();
    assert_eq!(school.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    // The signer certificate given, the root found on the token.
    assert_eq!(school.chain(), &[school_cert, ca]);

    let input = std::fs::read(work.join("in.pdf")).unwrap();
    let once = pades::sign(
        &input,
        &SignatureField::new("HieuTruong", at("2026-11-24T03:15:00Z")),
        &principal,
    )
    .unwrap();
    let twice = pades::sign(
        &once,
        &SignatureField::new("ConDau", at("2026-11-24T08:45:00Z")),
        &school,
    )
    .unwrap();
    std::fs::write(work.join("out.pdf"), twice).unwrap();
}

/// The Python HTTPS remote-signing server; killed when dropped.
struct RemoteSignerServer {
    child: Child,
    port: u16,
    events: Arc<Mutex<Vec<String>>>,
}

impl RemoteSignerServer {
    fn start(pki: &TestPki, p12: &Path, key_id: &str, reject_key_id: &str, token: &str) -> Self {
        require_python_cryptography();
        let tls = pki
            .tls_server
            .as_ref()
            .expect("the PKI has a TLS server certificate");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/remote_signer.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--p12")
            .arg(p12)
            .args([
                "--password",
                P12_PASSWORD,
                "--key-id",
                key_id,
                "--reject-key-id",
                reject_key_id,
                "--broken-key-id",
                "ht-broken",
            ])
            .args(["--token", token, "--approve-after-polls", "1", "--tls-cert"])
            .arg(&tls.cert_pem)
            .arg("--tls-key")
            .arg(&tls.key_pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let Some(port) = first
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
        else {
            let _ = child.kill();
            panic!("remote signer did not start: {first:?}");
        };
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(event) = line.strip_prefix("EVENT ") {
                    sink.lock().unwrap().push(event.to_owned());
                }
            }
        });
        Self { child, port, events }
    }

    /// The protocol events so far, waiting (up to 5 s) until there are at least `count`: the
    /// server prints an event before it answers, but the reader thread may not have caught up.
    fn events(&self, count: usize) -> Vec<String> {
        for _ in 0..100 {
            let events = self.events.lock().unwrap().clone();
            if events.len() >= count {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.events.lock().unwrap().clone()
    }
}

impl Drop for RemoteSignerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn remote_signer_over_https_approves_after_a_poll_and_reports_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(
        &work.join("pki"),
        &PkiSpec {
            tls_server: true,
            ..school_spec()
        },
    )
    .unwrap();
    let nss = nss_db(work, &pki.ca_pem);
    let principal = pki.identity("hieutruong").unwrap();
    let server = RemoteSignerServer::start(&pki, &principal.p12, "ht-smartca", "ht-reject", "s3cr3t-token");
    let port = server.port;
    let config = |key_id: &str| RemoteSignerConfig {
        url: format!("https://127.0.0.1:{port}/"),
        key_id: key_id.into(),
        bearer_token: Some("s3cr3t-token".into()),
        extra_root_ca_pem: Some(std::fs::read(&pki.ca_pem).unwrap()),
        timeout: Duration::from_secs(20),
        poll: Duration::from_millis(200),
    };

    let signer = RemoteSigner::new(config("ht-smartca")).unwrap();
    assert_eq!(signer.algorithm(), SignatureAlgorithm::RsaPkcs1v15Sha256);
    assert_eq!(signer.chain(), &[principal.certificate.clone(), pki.root.clone()]);
    let signed = pades::sign(
        &transcript_pdf(),
        &SignatureField::new("HieuTruong", at("2026-11-24T03:15:00Z")),
        &signer,
    )
    .unwrap();
    assert_eq!(
        server.events(3),
        [
            "sign ht-smartca",
            "poll ht-smartca 1 pending",
            "poll ht-smartca 2 approved"
        ],
        "the signature comes after one pending poll"
    );
    let path = write(&work.join("remote.pdf"), &signed);
    qpdf_check(&path);
    assert_all_tools_accept(&path, &pki.ca_pem, &nss, work, &[("HieuTruong", PRINCIPAL_NAME)]);

    // The holder rejects on the phone.
    let rejecting = RemoteSigner::new(config("ht-reject")).unwrap();
    let error = pades::sign(
        &transcript_pdf(),
        &SignatureField::new("HieuTruong", at("2026-11-24T03:15:00Z")),
        &rejecting,
    )
    .unwrap_err();
    assert!(
        matches!(error, PadesError::Signer(SignerError::RemoteRejected)),
        "{error:?}"
    );
    assert_eq!(error.code(), "signer.remote_rejected");

    // A service answering outside the protocol.
    let broken = RemoteSigner::new(config("ht-broken")).unwrap();
    let error = broken.sign_digest(&[7; 32]).unwrap_err();
    assert!(
        matches!(&error, SignerError::RemoteBadResponse(m) if m.contains("missing field `signature`")),
        "{error:?}"
    );
    assert_eq!(error.code(), "signer.remote_bad_response");

    // No answer within the timeout: polled every 2 s, given 1 s.
    let impatient = RemoteSigner::new(RemoteSignerConfig {
        timeout: Duration::from_secs(1),
        poll: Duration::from_secs(2),
        ..config("ht-smartca")
    })
    .unwrap();
    let error = impatient.sign_digest(&[7; 32]).unwrap_err();
    assert!(
        matches!(error, SignerError::RemoteTimeout { seconds: 1 }),
        "{error:?}"
    );
    assert_eq!(error.code(), "signer.remote_timeout");

    let error = RemoteSigner::new(RemoteSignerConfig {
        bearer_token: Some("sai".into()),
        ..config("ht-smartca")
    })
    .err()
    .unwrap();
    assert_eq!(error.code(), "signer.remote_unauthorized", "{error}");
    let error = RemoteSigner::new(RemoteSignerConfig {
        bearer_token: Some("bí-mật".into()),
        ..config("ht-smartca")
    })
    .err()
    .unwrap();
    assert_eq!(error.code(), "signer.remote_config", "{error}");
    let error = RemoteSigner::new(config("no-such-key")).err().unwrap();
    assert!(
        matches!(&error, SignerError::RemoteUnknownKey(k) if k == "no-such-key"),
        "{error:?}"
    );
    // Without the test root the server's certificate is not trusted.
    let error = RemoteSigner::new(RemoteSignerConfig {
        extra_root_ca_pem: None,
        ..config("ht-smartca")
    })
    .err()
    .unwrap();
    assert_eq!(error.code(), "signer.remote_unreachable", "{error}");
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    let error = RemoteSigner::new(RemoteSignerConfig {
        url: "http://127.0.0.1:1".into(),
        ..config("ht-smartca")
    })
    .err()
    .unwrap();
    assert_eq!(error.code(), "signer.remote_config", "{error}");

    drop(server);
    let error = RemoteSigner::new(RemoteSignerConfig {
        url: format!("https://127.0.0.1:{port}"),
        ..config("ht-smartca")
    })
    .err()
    .unwrap();
    assert_eq!(error.code(), "signer.remote_unreachable", "{error}");
}

#[test]
fn two_phase_signing_with_the_digest_signed_elsewhere_later() {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &school_spec()).unwrap();
    let nss = nss_db(work, &pki.ca_pem);

    let mut pdf = transcript_pdf();
    for (stem, field) in [("gvcn", "GVCN"), ("hieutruong", "HieuTruong")] {
        let identity = pki.identity(stem).unwrap();
        // Phase 1 knows only the certificates, not the key.
        let chain = [cert_from_file(&identity.cert_pem), cert_from_file(&pki.ca_pem)];
        let algorithm = SignatureAlgorithm::for_certificate(&chain[0]).unwrap();
        let prepared = pades::prepare(
            &pdf,
            &SignatureField::new(field, at("2026-11-24T03:15:00Z")),
            &chain,
            algorithm,
        )
        .unwrap();
        let digest = prepared.digest_to_sign();
        assert_eq!(
            digest,
            <[u8; 32]>::from(Sha256::digest(prepared.signed_attributes_der()))
        );
        // Stored as bytes (a job row, a file) and picked up later by another process.
        let saved = prepared.to_bytes();
        drop(prepared);
        let stored = pades::Prepared::from_bytes(&saved).unwrap();
        assert_eq!(stored.digest_to_sign(), digest);
        // A stored state whose PDF was altered meanwhile is refused.
        let mut altered: serde_json::Value = serde_json::from_slice(&saved).unwrap();
        altered["byte_range"][3] = serde_json::json!(1);
        let error = pades::Prepared::from_bytes(&serde_json::to_vec(&altered).unwrap()).unwrap_err();
        assert_eq!(error.code(), "pades.stored_state", "{error}");
        let mut altered: serde_json::Value = serde_json::from_slice(&saved).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut stored_pdf = base64::Engine::decode(&b64, altered["pdf"].as_str().unwrap()).unwrap();
        stored_pdf[20] ^= 0x01;
        altered["pdf"] = serde_json::json!(base64::Engine::encode(&b64, &stored_pdf));
        let error = pades::Prepared::from_bytes(&serde_json::to_vec(&altered).unwrap()).unwrap_err();
        assert!(error.to_string().contains("do not bind this PDF"), "{error}");

        // Phase 2, elsewhere: OpenSSL signs the digest with the key file.
        let digest_file = write(&work.join(format!("{stem}.digest")), &digest);
        let signature_file = work.join(format!("{stem}.sig"));
        let out = run(Command::new("openssl")
            .args(["pkeyutl", "-sign", "-inkey"])
            .arg(&identity.key_pem)
            .arg("-in")
            .arg(&digest_file)
            .arg("-out")
            .arg(&signature_file)
            .args(["-pkeyopt", "digest:sha256"]));
        assert!(out.status.success(), "openssl pkeyutl: {}", all_output(&out));
        let signature = std::fs::read(&signature_file).unwrap();

        // A signature over something else is refused, and the prepared value can still be used.
        let mut wrong = signature.clone();
        let last = wrong.len() - 1;
        wrong[last] ^= 0x01;
        let error = stored.finish(&wrong).unwrap_err();
        assert!(matches!(error, PadesError::InvalidSignature), "{error:?}");
        assert_eq!(error.code(), "pades.invalid_signature");

        let signed = stored.finish(&signature).unwrap();
        // The message-digest attribute is the SHA-256 of exactly the byte range.
        let range = stored.byte_range();
        assert_eq!(signatures_in(&signed).last().unwrap().1, range);
        let mut hasher = Sha256::new();
        hasher.update(&signed[range[0]..range[0] + range[1]]);
        hasher.update(&signed[range[2]..range[2] + range[3]]);
        assert_eq!(stored.document_digest(), <[u8; 32]>::from(hasher.finalize()));
        pdf = signed;
    }
    let path = write(&work.join("two-phase.pdf"), &pdf);
    qpdf_check(&path);
    assert_all_tools_accept(
        &path,
        &pki.ca_pem,
        &nss,
        work,
        &[("GVCN", GVCN_NAME), ("HieuTruong", PRINCIPAL_NAME)],
    );
}

#[test]
fn refusals_are_typed_errors() {
    require_tool("qpdf", "apt-get install qpdf");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let pki = TestPki::generate(&work.join("pki"), &small_spec()).unwrap();
    let signer = Pkcs12Signer::open(&pki.identity("gvcn").unwrap().p12, P12_PASSWORD).unwrap();
    let pdf = transcript_pdf();
    let field = |name: &str| SignatureField::new(name, at("2026-11-23T02:30:00Z"));
    let code = |result: Result<Vec<u8>, PadesError>| result.expect_err("must be refused").code();

    assert_eq!(
        code(pades::sign(
            b"PK\x03\x04 a zip, not a PDF",
            &field("GVCN"),
            &signer
        )),
        "pades.not_pdf"
    );
    assert_eq!(code(pades::sign(b"", &field("GVCN"), &signer)), "pades.not_pdf");
    assert_eq!(
        code(pades::sign(b"%PDF-1.7\nnothing else", &field("GVCN"), &signer)),
        "pades.malformed"
    );

    let once = pades::sign(&pdf, &field("GVCN"), &signer).unwrap();
    let error = pades::sign(&once, &field("GVCN"), &signer).unwrap_err();
    assert!(
        matches!(&error, PadesError::DuplicateField(name) if name == "GVCN"),
        "{error:?}"
    );
    assert_eq!(error.code(), "pades.duplicate_field");

    for name in ["", "GVCN.Lop6A1"] {
        assert_eq!(
            code(pades::sign(&pdf, &field(name), &signer)),
            "pades.invalid_field_name",
            "{name:?}"
        );
    }

    // A P-256 signature with two certificates needs about 1 KiB of CMS.
    let error = pades::sign(&pdf, &field("GVCN").with_contents_reserve(400), &signer).unwrap_err();
    let PadesError::ReserveTooSmall { needed, reserve } = error else {
        panic!("{error:?}")
    };
    assert_eq!(reserve, 400);
    assert!((600..2000).contains(&needed), "needed {needed}");
    // Exactly enough room is enough.
    let fitted = pades::sign(&pdf, &field("GVCN").with_contents_reserve(needed), &signer).unwrap();
    assert!(!fitted.is_empty());

    let error = pades::prepare(
        &pdf,
        &field("GVCN"),
        signer.chain(),
        SignatureAlgorithm::RsaPkcs1v15Sha256,
    )
    .unwrap_err();
    assert_eq!(error.code(), "pades.algorithm_mismatch");
    assert_eq!(
        code(pades::prepare(&pdf, &field("GVCN"), &[], signer.algorithm()).map(|_| Vec::new())),
        "pades.empty_chain"
    );

    // Encrypted, with and without a user password.
    let plain = write(&work.join("plain.pdf"), &pdf);
    for (user, name) in [("doc-mat-khau", "locked.pdf"), ("", "owner-only.pdf")] {
        let encrypted = work.join(name);
        let out = run(Command::new("qpdf")
            .args(["--encrypt", user, "owner-secret", "256", "--"])
            .arg(&plain)
            .arg(&encrypted));
        assert!(out.status.success(), "qpdf --encrypt: {}", all_output(&out));
        let bytes = std::fs::read(&encrypted).unwrap();
        assert_eq!(
            code(pades::sign(&bytes, &field("GVCN"), &signer)),
            "pades.encrypted",
            "{name}"
        );
    }
}

#[test]
fn test_pki_issues_the_profile_the_tools_expect() {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(
        dir.path(),
        &PkiSpec::school(SCHOOL, GVCN_NAME, PRINCIPAL_NAME, P12_PASSWORD),
    )
    .unwrap();
    for file in [
        "ca.pem",
        "gvcn.p12",
        "gvcn.pem",
        "gvcn.key.pem",
        "hieutruong.p12",
        "condau.p12",
        "tls.pem",
        "expired.pem",
        "untrusted.pem",
        "untrusted-ca.pem",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} not written");
    }
    let text = |path: &Path| {
        let out = run(Command::new("openssl")
            .args([
                "x509",
                "-noout",
                "-text",
                "-nameopt",
                "utf8,sep_comma_plus_space,-esc_msb",
                "-in",
            ])
            .arg(path));
        assert!(out.status.success(), "{}", all_output(&out));
        stdout(&out)
    };

    let root = text(&pki.ca_pem);
    assert!(
        root.contains("Subject: C=VN, O=Test Root, CN=Test Education Root CA"),
        "{root}"
    );
    assert!(
        root.contains("CA:TRUE") && root.contains("Certificate Sign, CRL Sign"),
        "{root}"
    );
    assert!(
        root.contains("rsaEncryption") && root.contains("(2048 bit)"),
        "{root}"
    );

    let expectations = [
        (
            "gvcn",
            format!("Subject: C=VN, O={SCHOOL}, CN={GVCN_NAME}"),
            "id-ecPublicKey",
        ),
        (
            "hieutruong",
            format!("Subject: C=VN, O={SCHOOL}, CN={PRINCIPAL_NAME}"),
            "rsaEncryption",
        ),
        (
            "condau",
            format!("Subject: C=VN, O={SCHOOL}, CN={SCHOOL}"),
            "id-ecPublicKey",
        ),
    ];
    for (stem, subject, key) in expectations {
        let identity = pki.identity(stem).unwrap();
        let out = text(&identity.cert_pem);
        assert!(out.contains(&subject), "{stem}: {out}");
        assert!(
            out.contains("Issuer: C=VN, O=Test Root, CN=Test Education Root CA"),
            "{out}"
        );
        assert!(out.contains(key), "{stem}: {out}");
        assert!(out.contains("Digital Signature, Non Repudiation"), "{out}");
        assert!(out.contains("CA:FALSE"), "{out}");
        assert!(
            !out.contains("Authority Information Access") && !out.contains("CRL Distribution"),
            "{out}"
        );
        assert_eq!(
            common_name(&identity.certificate),
            subject.rsplit("CN=").next().unwrap()
        );

        let verify = run(Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(&pki.ca_pem)
            .arg(&identity.cert_pem));
        assert!(stdout(&verify).ends_with(": OK\n"), "{}", all_output(&verify));
        // The PKCS#12 and the key file are readable by OpenSSL too.
        let p12 = run(Command::new("openssl")
            .args([
                "pkcs12",
                "-noout",
                "-passin",
                &format!("pass:{P12_PASSWORD}"),
                "-in",
            ])
            .arg(&identity.p12));
        assert!(p12.status.success(), "{stem}.p12: {}", all_output(&p12));
        let key = run(Command::new("openssl")
            .args(["pkey", "-noout", "-in"])
            .arg(&identity.key_pem));
        assert!(key.status.success(), "{stem}.key.pem: {}", all_output(&key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&identity.key_pem).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{stem}.key.pem must be private");
        }
    }

    let tls = text(&pki.tls_server.as_ref().unwrap().cert_pem);
    assert!(
        tls.contains("DNS:localhost") && tls.contains("IP Address:127.0.0.1"),
        "{tls}"
    );
    assert!(tls.contains("TLS Web Server Authentication"), "{tls}");

    let expired = run(Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&pki.ca_pem)
        .arg(&pki.expired.as_ref().unwrap().cert_pem));
    assert!(!expired.status.success());
    assert!(
        all_output(&expired).contains("certificate has expired"),
        "{}",
        all_output(&expired)
    );

    let untrusted = &pki.untrusted.as_ref().unwrap().cert_pem;
    let out = run(Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&pki.ca_pem)
        .arg(untrusted));
    assert!(!out.status.success());
    assert!(
        all_output(&out).contains("unable to get local issuer certificate"),
        "{}",
        all_output(&out)
    );
    let out = run(Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(pki.untrusted_ca_pem.as_ref().unwrap())
        .arg(untrusted));
    assert!(out.status.success(), "{}", all_output(&out));

    let error = TestPki::generate(
        &dir.path().join("bad"),
        &PkiSpec {
            identities: vec![IdentitySpec {
                name: "../x".into(),
                holder: Holder::Organisation,
                key: KeyAlgorithm::P256,
            }],
            ..small_spec()
        },
    )
    .unwrap_err();
    assert_eq!(error.code(), "pki.invalid_name");
}
