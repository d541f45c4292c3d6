//! Trust roots and certificate path validation for offline verification of signed documents.
//!
//! A [`TrustStore`] is configuration, not code: which roots a verifier accepts depends on who runs it.
//! A public school's seal certificate chains to the VGCA root ("chữ ký số chuyên dùng công vụ"),
//! a private school's or a teacher's certificate to a CA licensed under the NEAC root, and tests
//! use throwaway roots. Each root carries a human-readable name so a report can say which one
//! vouched for a signer.
//!
//! Path validation follows RFC 5280 §6 for what a document verifier needs, without revocation
//! (there is no network offline): the path is built by names and key identifiers from the signer
//! certificate through the certificates shipped in the CMS to a configured root, and every link is
//! checked (signature, validity at the chosen time, CA flag, `keyCertSign`, path length, critical
//! extensions we do not understand). Only the path logic lives here; the cryptographic primitives
//! come from `rsa`, `p256` and `sha2`.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::asn1::{BmpString, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use sha2_legacy::{Digest, Sha256, Sha384, Sha512};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;

/// The longest path accepted, signer and root included. Real Vietnamese hierarchies are three
/// deep (root, licensed CA, subscriber); the bound keeps hostile certificate bags cheap.
pub const MAX_PATH_LEN: usize = 8;
/// How many complete candidate paths are evaluated before giving up; several paths exist only
/// with cross-certificates or re-issued CAs sharing a name.
const MAX_CANDIDATE_PATHS: usize = 16;
/// Bound on the issuer-search work for one signer (candidate issuer checks), so a bag of
/// same-named certificates cannot make path building exponential.
const MAX_SEARCH_STEPS: usize = 4096;
/// At most this many certificates from a signature are considered as intermediates.
const MAX_POOL: usize = 64;
/// RSA keys below this size are refused: they are within reach of public factoring efforts.
const MIN_RSA_BITS: usize = 2048;
/// Large enough for every RSA root in use; the `rsa` crate's own default stops at 4096.
const MAX_RSA_BITS: usize = 8192;

const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

const EXT_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EXT_ISSUER_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const EXT_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXT_CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
const EXT_CERTIFICATE_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
const EXT_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const EXT_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const EXT_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const EXT_AUTHORITY_INFO_ACCESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
const EXT_SUBJECT_INFO_ACCESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.11");

/// Extensions this validator either enforces or may safely ignore when marked critical.
/// Certificate policies are accepted because no policy is required and a critical policy
/// constraint (the only way to require one) is not on this list, so it is refused. Extended key
/// usage is not restricted: which EKU Vietnamese document-signing certificates carry is not settled
/// (VGCA profiles differ), and PDF signing has no single registered purpose. Name constraints are
/// deliberately absent: they are not enforced, so a critical one must fail the path.
const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 12] = [
    EXT_SUBJECT_KEY_ID,
    EXT_KEY_USAGE,
    EXT_SUBJECT_ALT_NAME,
    EXT_ISSUER_ALT_NAME,
    EXT_BASIC_CONSTRAINTS,
    EXT_CRL_DISTRIBUTION_POINTS,
    EXT_CERTIFICATE_POLICIES,
    EXT_AUTHORITY_KEY_ID,
    EXT_EXT_KEY_USAGE,
    EXT_FRESHEST_CRL,
    EXT_AUTHORITY_INFO_ACCESS,
    EXT_SUBJECT_INFO_ACCESS,
];

/// Why a root could not be added to a [`TrustStore`].
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no certificate found in {origin}")]
    NoCertificate { origin: String },
    #[error("invalid PEM in {origin}: {reason}")]
    Pem { origin: String, reason: String },
    #[error("invalid certificate in {origin}: {reason}")]
    Certificate { origin: String, reason: String },
    #[error("certificate {subject} in {origin} is marked as not a CA and cannot be a trust root")]
    NotACa { origin: String, subject: String },
}

impl TrustError {
    /// Stable machine code, for mapping to user-facing messages.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Io { .. } => "trust_io",
            TrustError::NoCertificate { .. } => "trust_no_certificate",
            TrustError::Pem { .. } => "trust_pem",
            TrustError::Certificate { .. } => "trust_certificate",
            TrustError::NotACa { .. } => "trust_not_a_ca",
        }
    }
}

/// A configured root certificate and the name it was configured under.
#[derive(Clone)]
pub struct TrustedRoot {
    name: String,
    cert: ParsedCert,
}

impl TrustedRoot {
    /// The name given at configuration (a file stem for directory stores).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The certificate as configured (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert.der
    }

    /// A summary of the root certificate.
    pub fn summary(&self) -> CertSummary {
        self.cert.summary()
    }
}

impl fmt::Debug for TrustedRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedRoot")
            .field("name", &self.name)
            .field("subject", &self.cert.subject_string())
            .field("sha256", &hex::encode(self.cert.sha256))
            .finish()
    }
}

/// The set of roots a verifier accepts. Build it from configuration: the VGCA root for public
/// units, NEAC-licensed CA roots for private units and personal certificates, test roots in CI.
/// A configured certificate need not be self-signed: an intermediate added here is a trust anchor
/// in its own right (like `openssl -partial_chain`), which lets a deployment trust one licensed CA
/// without trusting everything under its root.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    roots: Vec<TrustedRoot>,
}

impl TrustStore {
    /// An empty store: every chain is reported as [`ChainStatus::UntrustedRoot`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one DER certificate under `name`. Returns `false` when the same certificate is already
    /// configured (under any name), in which case the store is unchanged.
    pub fn add_der(&mut self, name: impl Into<String>, der: &[u8]) -> Result<bool, TrustError> {
        let name = name.into();
        let cert = ParsedCert::parse(der).map_err(|reason| TrustError::Certificate {
            origin: name.clone(),
            reason,
        })?;
        if let Ok(Some(bc)) = cert.basic_constraints()
            && !bc.ca
        {
            return Err(TrustError::NotACa {
                origin: name,
                subject: cert.subject_string(),
            });
        }
        if self.roots.iter().any(|r| r.cert.sha256 == cert.sha256) {
            return Ok(false);
        }
        self.roots.push(TrustedRoot { name, cert });
        Ok(true)
    }

    /// Adds every `CERTIFICATE` block of a PEM text. With one block the root is named `name`;
    /// with several they are named `name`, `name#2`, `name#3`, … in file order. Returns how many
    /// new roots were added.
    pub fn add_pem(&mut self, name: &str, pem: &[u8]) -> Result<usize, TrustError> {
        let ders = pem_certificates(pem, name)?;
        let mut added = 0;
        for (i, der) in ders.iter().enumerate() {
            let entry = if i == 0 {
                name.to_owned()
            } else {
                format!("{name}#{}", i + 1)
            };
            if self.add_der(entry, der)? {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Adds the certificate(s) of a file, PEM or DER, named after the file stem.
    pub fn add_file(&mut self, path: &Path) -> Result<usize, TrustError> {
        let bytes = std::fs::read(path).map_err(|source| TrustError::Io {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if looks_like_pem(&bytes) {
            self.add_pem(&name, &bytes)
        } else {
            Ok(usize::from(self.add_der(name, &bytes)?))
        }
    }

    /// Adds every `.pem`, `.crt` and `.cer` file (PEM or DER) of a directory, in file-name order,
    /// each named after its file stem. Other files and subdirectories are ignored.
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize, TrustError> {
        let entries = std::fs::read_dir(dir).map_err(|source| TrustError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| TrustError::Io {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            let wanted = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["pem", "crt", "cer"].iter().any(|w| e.eq_ignore_ascii_case(w)));
            if wanted && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut added = 0;
        for file in files {
            added += self.add_file(&file)?;
        }
        Ok(added)
    }

    /// A store holding the roots of one directory (see [`TrustStore::add_dir`]).
    pub fn from_dir(dir: &Path) -> Result<Self, TrustError> {
        let mut store = Self::new();
        store.add_dir(dir)?;
        Ok(store)
    }

    /// A store holding the roots of one PEM text (see [`TrustStore::add_pem`]).
    pub fn from_pem(name: &str, pem: &[u8]) -> Result<Self, TrustError> {
        let mut store = Self::new();
        store.add_pem(name, pem)?;
        Ok(store)
    }

    pub fn roots(&self) -> &[TrustedRoot] {
        &self.roots
    }

    pub fn len(&self) -> usize {
        self.roots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Validates the path from `leaf` (DER) to a configured root at time `at`, using `others`
    /// (typically the certificates embedded in a CMS signature, in any order, possibly including
    /// the leaf and roots again) as candidate intermediates. Certificates in `others` that do not
    /// parse are ignored: they cannot be part of a valid path.
    pub fn verify_chain(&self, leaf: &[u8], others: &[&[u8]], at: DateTime<Utc>) -> ChainReport {
        let leaf = match ParsedCert::parse(leaf) {
            Ok(c) => c,
            Err(reason) => {
                return ChainReport {
                    status: ChainStatus::Malformed { reason },
                    path: vec![],
                };
            }
        };
        let mut pool: Vec<ParsedCert> = Vec::new();
        for der in others.iter().take(MAX_POOL) {
            if let Ok(c) = ParsedCert::parse(der)
                && c.sha256 != leaf.sha256
                && !self.roots.iter().any(|r| r.cert.sha256 == c.sha256)
                && !pool.iter().any(|p| p.sha256 == c.sha256)
            {
                pool.push(c);
            }
        }
        let search = PathSearch {
            store: self,
            pool: &pool,
        };
        let (anchored, dead_ends) = search.candidate_paths(&leaf);

        let mut first_failure: Option<ChainReport> = None;
        for path in &anchored {
            let certs = search.resolve(&leaf, path);
            let status = evaluate_path(&certs, at);
            let report = ChainReport {
                path: certs.iter().map(|c| c.cert.summary()).collect(),
                status,
            };
            if report.status.is_trusted() {
                return report;
            }
            first_failure.get_or_insert(report);
        }
        if let Some(report) = first_failure {
            return report;
        }
        // No path reaches a configured root: report the longest chain we could build, whose top
        // certificate is the one a user would have to trust.
        let longest = dead_ends
            .iter()
            .max_by_key(|p| p.len())
            .cloned()
            .unwrap_or_default();
        let certs = search.resolve(&leaf, &longest);
        let top = certs.last().map(|c| c.cert.subject_string()).unwrap_or_default();
        ChainReport {
            status: ChainStatus::UntrustedRoot { top_subject: top },
            path: certs.iter().map(|c| c.cert.summary()).collect(),
        }
    }
}

/// The outcome of path validation for one signer certificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    /// Every link checked out up to the configured root named `root_name`.
    Trusted { root_name: String },
    /// No path leads to a configured root; `top_subject` is where the buildable chain ends.
    UntrustedRoot { top_subject: String },
    /// `subject` had expired at the validation time.
    Expired {
        subject: String,
        not_after: DateTime<Utc>,
    },
    /// `subject` was not yet valid at the validation time.
    NotYetValid {
        subject: String,
        not_before: DateTime<Utc>,
    },
    /// The signature on `subject` does not verify with its issuer's key.
    BadSignature { subject: String },
    /// `subject` issues certificates but is not a CA (basicConstraints).
    NotACa { subject: String },
    /// `subject`'s key usage forbids its role: an issuer without `keyCertSign`, or a signer without
    /// `digitalSignature`/`nonRepudiation`.
    KeyUsage { subject: String },
    /// `subject`'s pathLenConstraint is exceeded by the intermediates below it.
    PathLenExceeded { subject: String },
    /// `subject` carries a critical extension this validator does not process.
    UnknownCriticalExtension { subject: String, oid: String },
    /// A signature or key algorithm outside RSA (2048–8192 bits, PKCS#1 v1.5, SHA-2) and ECDSA P-256.
    UnsupportedAlgorithm { subject: String, algorithm: String },
    /// A certificate could not be decoded or is internally inconsistent.
    Malformed { reason: String },
}

impl ChainStatus {
    pub fn is_trusted(&self) -> bool {
        matches!(self, ChainStatus::Trusted { .. })
    }

    /// Stable machine code, for mapping to user-facing messages.
    pub fn code(&self) -> &'static str {
        match self {
            ChainStatus::Trusted { .. } => "trusted",
            ChainStatus::UntrustedRoot { .. } => "untrusted_root",
            ChainStatus::Expired { .. } => "expired",
            ChainStatus::NotYetValid { .. } => "not_yet_valid",
            ChainStatus::BadSignature { .. } => "bad_signature",
            ChainStatus::NotACa { .. } => "not_a_ca",
            ChainStatus::KeyUsage { .. } => "key_usage",
            ChainStatus::PathLenExceeded { .. } => "path_len_exceeded",
            ChainStatus::UnknownCriticalExtension { .. } => "unknown_critical_extension",
            ChainStatus::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            ChainStatus::Malformed { .. } => "malformed",
        }
    }
}

/// Path validation result: the status and the path it concerns (signer first, root last when one
/// was reached).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    pub status: ChainStatus,
    pub path: Vec<CertSummary>,
}

/// What a report shows about one certificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertSummary {
    /// RFC 4514 form, e.g. `CN=Nguyễn Thị Hoa,O=Trường THCS Đống Đa,C=VN`.
    pub subject: String,
    pub common_name: Option<String>,
    pub organization: Option<String>,
    pub issuer: String,
    /// Serial number, lowercase hex of its DER content octets.
    pub serial_hex: String,
    /// SHA-256 of the certificate's DER, lowercase hex: the value the ledger records.
    pub sha256_hex: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Summary of any DER certificate (for reporting a signer whose chain is not evaluated).
pub fn summarize_certificate(der: &[u8]) -> Result<CertSummary, String> {
    ParsedCert::parse(der).map(|c| c.summary())
}

// ---------------------------------------------------------------------------------------------
// Parsed certificates

#[derive(Clone)]
pub(crate) struct ParsedCert {
    pub(crate) der: Vec<u8>,
    /// The TBSCertificate exactly as received: signatures cover these bytes, and a re-encoding
    /// could differ for certificates that are not strictly DER in every corner.
    tbs: Vec<u8>,
    pub(crate) cert: Certificate,
    pub(crate) sha256: [u8; 32],
    subject_key: NameKey,
    issuer_key: NameKey,
}

impl ParsedCert {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let cert = Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
        let tbs = raw::certificate_tbs(der)
            .map_err(|e| format!("certificate: {e}"))?
            .to_vec();
        let subject_key = name_key(&cert.tbs_certificate.subject);
        let issuer_key = name_key(&cert.tbs_certificate.issuer);
        let sha256: [u8; 32] = Sha256::digest(der).into();
        Ok(Self {
            der: der.to_vec(),
            tbs,
            cert,
            sha256,
            subject_key,
            issuer_key,
        })
    }

    pub(crate) fn subject_string(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    fn self_issued(&self) -> bool {
        self.subject_key == self.issuer_key
    }

    pub(crate) fn summary(&self) -> CertSummary {
        let tbs = &self.cert.tbs_certificate;
        CertSummary {
            subject: tbs.subject.to_string(),
            common_name: name_attribute(&tbs.subject, OID_CN),
            organization: name_attribute(&tbs.subject, OID_O),
            issuer: tbs.issuer.to_string(),
            serial_hex: hex::encode(tbs.serial_number.as_bytes()),
            sha256_hex: hex::encode(self.sha256),
            not_before: x509_time(&tbs.validity.not_before),
            not_after: x509_time(&tbs.validity.not_after),
        }
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>, String> {
        self.decode_extension::<BasicConstraints>(EXT_BASIC_CONSTRAINTS)
    }

    fn key_usage(&self) -> Result<Option<KeyUsage>, String> {
        self.decode_extension::<KeyUsage>(EXT_KEY_USAGE)
    }

    fn subject_key_id(&self) -> Option<Vec<u8>> {
        self.decode_extension::<SubjectKeyIdentifier>(EXT_SUBJECT_KEY_ID)
            .ok()
            .flatten()
            .map(|s| s.0.as_bytes().to_vec())
    }

    fn authority_key_id(&self) -> Option<Vec<u8>> {
        self.decode_extension::<AuthorityKeyIdentifier>(EXT_AUTHORITY_KEY_ID)
            .ok()
            .flatten()
            .and_then(|a| a.key_identifier)
            .map(|k| k.as_bytes().to_vec())
    }

    fn decode_extension<T: for<'a> Decode<'a>>(&self, oid: ObjectIdentifier) -> Result<Option<T>, String> {
        match self.extension(oid) {
            None => Ok(None),
            Some(ext) => T::from_der(ext.extn_value.as_bytes())
                .map(Some)
                .map_err(|e| format!("extension {oid} of {}: {e}", self.subject_string())),
        }
    }

    /// Structural checks that do not depend on the certificate's position in the path.
    fn check_extensions(&self) -> Result<(), ChainStatus> {
        let subject = self.subject_string();
        let Some(exts) = self.cert.tbs_certificate.extensions.as_ref() else {
            return Ok(());
        };
        let mut seen = HashSet::new();
        for ext in exts {
            if !seen.insert(ext.extn_id) {
                return Err(ChainStatus::Malformed {
                    reason: format!("extension {} repeated in {subject}", ext.extn_id),
                });
            }
            if ext.critical && !UNDERSTOOD_EXTENSIONS.contains(&ext.extn_id) {
                return Err(ChainStatus::UnknownCriticalExtension {
                    subject: subject.clone(),
                    oid: ext.extn_id.to_string(),
                });
            }
        }
        // Every extension we act on must decode; a garbled one is not "absent".
        self.basic_constraints()
            .map_err(|reason| ChainStatus::Malformed { reason })?;
        self.key_usage()
            .map_err(|reason| ChainStatus::Malformed { reason })?;
        Ok(())
    }
}

/// A name reduced for comparison: per RDN, its attributes as (type, value) with string values
/// case-folded and whitespace-collapsed whatever their ASN.1 string type, other values as DER.
/// Chaining by exact DER fails when a CA writes its own subject as UTF8String and its issued
/// certificates' issuer as PrintableString (or differs in case), which RFC 5280 §7.1 treats as the
/// same name.
type NameKey = Vec<Vec<(ObjectIdentifier, String)>>;

fn name_key(name: &Name) -> NameKey {
    name.0
        .iter()
        .map(|rdn| {
            let mut atvs: Vec<(ObjectIdentifier, String)> = rdn
                .0
                .iter()
                .map(|atv| {
                    let value = match string_value(&atv.value) {
                        Some(s) => s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
                        None => format!("#{}", hex::encode(atv.value.to_der().unwrap_or_default())),
                    };
                    (atv.oid, value)
                })
                .collect();
            atvs.sort();
            atvs
        })
        .collect()
}

fn string_value(v: &der::Any) -> Option<String> {
    match v.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(v).ok().map(|s| s.as_str().to_owned()),
        Tag::PrintableString => PrintableStringRef::try_from(v)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => Ia5StringRef::try_from(v).ok().map(|s| s.as_str().to_owned()),
        Tag::TeletexString => TeletexStringRef::try_from(v).ok().map(|s| s.as_str().to_owned()),
        Tag::BmpString => v.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

fn x509_time(t: &x509_cert::time::Time) -> DateTime<Utc> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The first value of a name attribute, decoded from any of the usual string types.
pub(crate) fn name_attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid != oid {
                continue;
            }
            let s = string_value(&atv.value);
            if s.is_some() {
                return s;
            }
        }
    }
    None
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn pem_certificates(pem: &[u8], origin: &str) -> Result<Vec<Vec<u8>>, TrustError> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = find(rest, BEGIN) {
        let after = &rest[start..];
        let Some(end) = find(after, END) else {
            return Err(TrustError::Pem {
                origin: origin.to_owned(),
                reason: "unterminated block".into(),
            });
        };
        let block = &after[..end + END.len()];
        let (label, der) = der::pem::decode_vec(block).map_err(|e| TrustError::Pem {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })?;
        if label == "CERTIFICATE" {
            out.push(der);
        }
        rest = &after[end + END.len()..];
    }
    if out.is_empty() {
        return Err(TrustError::NoCertificate {
            origin: origin.to_owned(),
        });
    }
    Ok(out)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Path building

/// A certificate in a candidate path: the leaf, a pool certificate, or a configured root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Leaf,
    Pool(usize),
    Root(usize),
}

struct PathSearch<'a> {
    store: &'a TrustStore,
    pool: &'a [ParsedCert],
}

struct PathCert<'a> {
    cert: &'a ParsedCert,
    root_name: Option<&'a str>,
}

impl<'a> PathSearch<'a> {
    fn cert(&self, leaf: &'a ParsedCert, node: Node) -> &'a ParsedCert {
        match node {
            Node::Leaf => leaf,
            Node::Pool(i) => &self.pool[i],
            Node::Root(i) => &self.store.roots[i].cert,
        }
    }

    fn resolve(&self, leaf: &'a ParsedCert, path: &[Node]) -> Vec<PathCert<'a>> {
        path.iter()
            .map(|&n| PathCert {
                cert: self.cert(leaf, n),
                root_name: match n {
                    Node::Root(i) => Some(self.store.roots[i].name.as_str()),
                    _ => None,
                },
            })
            .collect()
    }

    /// Candidate paths from the leaf: those ending at a configured root (roots tried first, so the
    /// shortest trusted path comes first) and the dead ends, by name and key identifier only.
    /// Signatures and constraints are checked afterwards on each complete path.
    fn candidate_paths(&self, leaf: &'a ParsedCert) -> (Vec<Vec<Node>>, Vec<Vec<Node>>) {
        let mut anchored = Vec::new();
        let mut dead_ends = Vec::new();
        let mut steps = 0;
        // A leaf that is itself a configured root is its own path.
        if let Some(i) = self.store.roots.iter().position(|r| r.cert.sha256 == leaf.sha256) {
            anchored.push(vec![Node::Root(i)]);
            return (anchored, dead_ends);
        }
        let mut path = vec![Node::Leaf];
        self.extend(leaf, &mut path, &mut anchored, &mut dead_ends, &mut steps);
        (anchored, dead_ends)
    }

    fn extend(
        &self,
        leaf: &'a ParsedCert,
        path: &mut Vec<Node>,
        anchored: &mut Vec<Vec<Node>>,
        dead_ends: &mut Vec<Vec<Node>>,
        steps: &mut usize,
    ) {
        let current = self.cert(leaf, *path.last().expect("path never empty"));
        let mut extended = false;
        if path.len() < MAX_PATH_LEN {
            let candidates = self
                .store
                .roots
                .iter()
                .enumerate()
                .map(|(i, _)| Node::Root(i))
                .chain((0..self.pool.len()).map(Node::Pool));
            for node in candidates {
                if anchored.len() >= MAX_CANDIDATE_PATHS || *steps >= MAX_SEARCH_STEPS {
                    break;
                }
                *steps += 1;
                let issuer = self.cert(leaf, node);
                if !could_issue(issuer, current) {
                    continue;
                }
                // No loops: a certificate appears at most once per path.
                if path.iter().any(|&n| self.cert(leaf, n).sha256 == issuer.sha256) {
                    continue;
                }
                extended = true;
                path.push(node);
                if matches!(node, Node::Root(_)) {
                    anchored.push(path.clone());
                } else {
                    self.extend(leaf, path, anchored, dead_ends, steps);
                }
                path.pop();
            }
        }
        if !extended {
            dead_ends.push(path.clone());
        }
    }
}

/// Whether `issuer` may have issued `child`, judged by names and key identifiers only.
fn could_issue(issuer: &ParsedCert, child: &ParsedCert) -> bool {
    if issuer.subject_key != child.issuer_key {
        return false;
    }
    match (child.authority_key_id(), issuer.subject_key_id()) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// Checks one complete path, signer first and configured root last. The first failure found
/// walking up from the signer is reported, so an expired signer under a sound CA reads "expired".
fn evaluate_path(certs: &[PathCert<'_>], at: DateTime<Utc>) -> ChainStatus {
    let Some(anchor) = certs.last() else {
        return ChainStatus::Malformed {
            reason: "empty path".into(),
        };
    };
    for (i, pc) in certs.iter().enumerate() {
        let cert = pc.cert;
        let subject = cert.subject_string();
        let tbs = &cert.cert.tbs_certificate;
        if tbs.signature != cert.cert.signature_algorithm {
            return ChainStatus::Malformed {
                reason: format!("signature algorithm fields disagree in {subject}"),
            };
        }
        if let Err(status) = cert.check_extensions() {
            return status;
        }
        // A configured root is trusted by configuration; its self-signature proves nothing more.
        if let Some(issuer) = certs.get(i + 1)
            && let Err(status) = verify_certificate_signature(cert, issuer.cert)
        {
            return status;
        }
        let not_before = x509_time(&tbs.validity.not_before);
        let not_after = x509_time(&tbs.validity.not_after);
        if at < not_before {
            return ChainStatus::NotYetValid { subject, not_before };
        }
        if at > not_after {
            return ChainStatus::Expired { subject, not_after };
        }
        let key_usage = match cert.key_usage() {
            Ok(ku) => ku,
            Err(reason) => return ChainStatus::Malformed { reason },
        };
        if i == 0 {
            // The signer (possibly a configured root used directly): only the signing purposes
            // matter, a CA flag on it is allowed by RFC 5280.
            if let Some(ku) = key_usage
                && !(ku.digital_signature() || ku.non_repudiation())
            {
                return ChainStatus::KeyUsage { subject };
            }
            continue;
        }
        // An issuer. Intermediates must be v3 CAs; a configured root without basicConstraints (a
        // v1 root) is accepted because configuring it is the decision to trust it as a CA.
        let is_anchor = i + 1 == certs.len();
        let bc = match cert.basic_constraints() {
            Ok(bc) => bc,
            Err(reason) => return ChainStatus::Malformed { reason },
        };
        match &bc {
            Some(bc) if !bc.ca => return ChainStatus::NotACa { subject },
            None if !is_anchor => return ChainStatus::NotACa { subject },
            _ => {}
        }
        if let Some(ku) = key_usage
            && !ku.key_cert_sign()
        {
            return ChainStatus::KeyUsage { subject };
        }
        if let Some(BasicConstraints {
            path_len_constraint: Some(max),
            ..
        }) = bc
        {
            // Intermediates strictly between this issuer and the signer; self-issued ones (key
            // rollover) do not count, per RFC 5280 §6.1.4 (l).
            let below = certs[1..i].iter().filter(|c| !c.cert.self_issued()).count();
            if below > usize::from(max) {
                return ChainStatus::PathLenExceeded { subject };
            }
        }
    }
    ChainStatus::Trusted {
        root_name: anchor.root_name.unwrap_or_default().to_owned(),
    }
}

fn verify_certificate_signature(child: &ParsedCert, issuer: &ParsedCert) -> Result<(), ChainStatus> {
    let subject = child.subject_string();
    let alg = &child.cert.signature_algorithm;
    let (scheme, hash) = match certificate_signature_algorithm(alg) {
        Some(x) => x,
        None => {
            return Err(ChainStatus::UnsupportedAlgorithm {
                subject,
                algorithm: alg.oid.to_string(),
            });
        }
    };
    let Some(sig) = child.cert.signature.as_bytes() else {
        return Err(ChainStatus::Malformed {
            reason: format!("signature bit string of {subject}"),
        });
    };
    let digest = hash.digest(&[&child.tbs]);
    match verify_prehashed(
        &issuer.cert.tbs_certificate.subject_public_key_info,
        scheme,
        hash,
        &digest,
        sig,
    ) {
        Ok(()) => Ok(()),
        Err(VerifyError::Invalid) => Err(ChainStatus::BadSignature { subject }),
        Err(VerifyError::Unsupported(algorithm)) => Err(ChainStatus::UnsupportedAlgorithm {
            subject: issuer.subject_string(),
            algorithm,
        }),
    }
}

/// Certificate signature algorithms: the combined OIDs only, with RSA parameters NULL or absent
/// and ECDSA parameters absent (RFC 4055, RFC 5758).
fn certificate_signature_algorithm(
    alg: &spki::AlgorithmIdentifierOwned,
) -> Option<(SignatureScheme, HashAlgorithm)> {
    let (scheme, hash) = combined_signature_algorithm(alg.oid)?;
    let params_ok = match (scheme, &alg.parameters) {
        (_, None) => true,
        (SignatureScheme::RsaPkcs1v15, Some(p)) => p.tag() == Tag::Null,
        (SignatureScheme::Ecdsa, Some(_)) => false,
    };
    params_ok.then_some((scheme, hash))
}

// ---------------------------------------------------------------------------------------------
// Algorithms: a thin dispatch over the RustCrypto primitives, shared with CMS verification.

/// The digest algorithms accepted for signatures (SHA-1 and MD5 are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub(crate) fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            OID_SHA256 => Some(Self::Sha256),
            OID_SHA384 => Some(Self::Sha384),
            OID_SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest of the concatenation of `parts`.
    pub(crate) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha384 => run::<Sha384>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignatureScheme {
    RsaPkcs1v15,
    Ecdsa,
}

/// Algorithms that name both the scheme and the hash.
pub(crate) fn combined_signature_algorithm(
    oid: ObjectIdentifier,
) -> Option<(SignatureScheme, HashAlgorithm)> {
    match oid {
        OID_SHA256_WITH_RSA => Some((SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha256)),
        OID_SHA384_WITH_RSA => Some((SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha384)),
        OID_SHA512_WITH_RSA => Some((SignatureScheme::RsaPkcs1v15, HashAlgorithm::Sha512)),
        OID_ECDSA_SHA256 => Some((SignatureScheme::Ecdsa, HashAlgorithm::Sha256)),
        OID_ECDSA_SHA384 => Some((SignatureScheme::Ecdsa, HashAlgorithm::Sha384)),
        OID_ECDSA_SHA512 => Some((SignatureScheme::Ecdsa, HashAlgorithm::Sha512)),
        _ => None,
    }
}

/// Key-only algorithm identifiers, which CMS signers use with the hash taken from the SignerInfo's
/// digest algorithm (`rsaEncryption` is what most PAdES signers write).
pub(crate) fn key_only_signature_algorithm(oid: ObjectIdentifier) -> Option<SignatureScheme> {
    match oid {
        OID_RSA_ENCRYPTION => Some(SignatureScheme::RsaPkcs1v15),
        OID_EC_PUBLIC_KEY => Some(SignatureScheme::Ecdsa),
        _ => None,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum VerifyError {
    /// The key or the algorithm is outside what this verifier accepts (named in the payload).
    Unsupported(String),
    /// The signature does not verify.
    Invalid,
}

/// Verifies `signature` over a message whose `hash` digest is `digest`, with the key in `spki`.
pub(crate) fn verify_prehashed(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: SignatureScheme,
    hash: HashAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    match scheme {
        SignatureScheme::RsaPkcs1v15 => {
            if spki.algorithm.oid != OID_RSA_ENCRYPTION {
                return Err(VerifyError::Unsupported(format!(
                    "rsa signature with key {}",
                    spki.algorithm.oid
                )));
            }
            let key_bytes = spki
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| VerifyError::Unsupported("rsa key bit string".into()))?;
            let key = rsa::pkcs1::RsaPublicKey::from_der(key_bytes)
                .map_err(|_| VerifyError::Unsupported("rsa key encoding".into()))?;
            let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
            let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
            let bits = n.bits();
            if bits < MIN_RSA_BITS {
                return Err(VerifyError::Unsupported(format!("rsa-{bits}")));
            }
            let key = rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
                .map_err(|_| VerifyError::Unsupported(format!("rsa-{bits}")))?;
            let padding = match hash {
                HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(padding, digest, signature)
                .map_err(|_| VerifyError::Invalid)
        }
        SignatureScheme::Ecdsa => {
            use signature::hazmat::PrehashVerifier;
            if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
                return Err(VerifyError::Unsupported(format!(
                    "ecdsa signature with key {}",
                    spki.algorithm.oid
                )));
            }
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve != Some(OID_PRIME256V1) {
                let name = curve.map(|c| c.to_string()).unwrap_or_else(|| "unnamed".into());
                return Err(VerifyError::Unsupported(format!("ecdsa curve {name}")));
            }
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
                .map_err(|_| VerifyError::Unsupported("p-256 key encoding".into()))?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| VerifyError::Invalid)?;
            key.verify_prehash(digest, &sig).map_err(|_| VerifyError::Invalid)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw DER walking: signatures cover bytes exactly as received, so the signed parts are sliced
// from the input rather than re-encoded from decoded structures.

pub(crate) mod raw {
    use der::{Decode, Header, Reader, SliceReader, Tag};

    /// One TLV: its tag, its content octets and its whole encoding.
    pub(crate) struct Tlv<'a> {
        pub(crate) tag: Tag,
        pub(crate) value: &'a [u8],
        pub(crate) whole: &'a [u8],
    }

    /// Reads the next TLV (definite length only) and advances `input` past it.
    pub(crate) fn next<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, der::Error> {
        let mut reader = SliceReader::new(input)?;
        let header = Header::decode(&mut reader)?;
        let header_len = usize::try_from(reader.position())?;
        let value_len = usize::try_from(header.length)?;
        let total = header_len
            .checked_add(value_len)
            .ok_or_else(|| der::Error::from(der::ErrorKind::Overflow))?;
        if total > input.len() {
            return Err(der::ErrorKind::Length { tag: header.tag }.into());
        }
        let tlv = Tlv {
            tag: header.tag,
            value: &input[header_len..total],
            whole: &input[..total],
        };
        *input = &input[total..];
        Ok(tlv)
    }

    /// Like [`next`] but requires `tag`.
    pub(crate) fn expect<'a>(input: &mut &'a [u8], tag: Tag) -> Result<Tlv<'a>, der::Error> {
        let tlv = next(input)?;
        if tlv.tag != tag {
            return Err(der::ErrorKind::TagUnexpected {
                expected: Some(tag),
                actual: tlv.tag,
            }
            .into());
        }
        Ok(tlv)
    }

    /// The TBSCertificate TLV of a Certificate.
    pub(crate) fn certificate_tbs(cert: &[u8]) -> Result<&[u8], der::Error> {
        let mut input = cert;
        let outer = expect(&mut input, Tag::Sequence)?;
        let mut inner = outer.value;
        Ok(expect(&mut inner, Tag::Sequence)?.whole)
    }
}

#[cfg(test)]
mod tests {
    use der::Decode;
    use x509_cert::name::Name;

    use super::name_key;

    #[test]
    fn names_match_across_string_types_case_and_spacing() {
        // CN as UTF8String "Test  CA" and as PrintableString "test ca".
        let utf8 = Name::from_der(b"\x30\x13\x31\x11\x30\x0f\x06\x03\x55\x04\x03\x0c\x08Test  CA").unwrap();
        let printable =
            Name::from_der(b"\x30\x12\x31\x10\x30\x0e\x06\x03\x55\x04\x03\x13\x07test ca").unwrap();
        let other = Name::from_der(b"\x30\x12\x31\x10\x30\x0e\x06\x03\x55\x04\x03\x13\x07test cb").unwrap();
        // Same value under O (2.5.4.10) instead of CN.
        let other_type =
            Name::from_der(b"\x30\x12\x31\x10\x30\x0e\x06\x03\x55\x04\x0a\x13\x07test ca").unwrap();
        assert_eq!(name_key(&utf8), name_key(&printable));
        assert_ne!(name_key(&printable), name_key(&other));
        assert_ne!(name_key(&printable), name_key(&other_type));
    }
}
