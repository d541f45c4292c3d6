//! Offline verification of signed PDFs (PAdES B-B, `ETSI.CAdES.detached`, and the older
//! `adbe.pkcs7.detached` many Vietnamese signing tools still emit), against a configurable
//! [`TrustStore`].
//!
//! The file is never trusted. Signatures are found twice: by scanning the bytes for every
//! literal `/ByteRange`, and through lopdf's view of each signed revision (the prefix of the file a
//! signature covers), so a signature dictionary replaced in a later revision is still checked
//! against the bytes it signed. Each signature must cover `[0, a) ∪ [b, b+len)` with its
//! `/Contents` hex string exactly filling the gap, end at a revision boundary, and come after the
//! revision of the signature before it. The document verdict then says whether the last signature
//! covers the whole file, or what follows it (a further incremental update, or anything else),
//! and whether the file is cut short.
//!
//! Embedded files (the canonical JSON record of a học bạ số is one) are read from the revision the
//! last signature covers, so a caller hashing them hashes signed content, and are decoded with a
//! size bound.
//!
//! Out of scope here: revocation (no network offline), timestamps (B-T) and document timestamps,
//! DocMDP/FieldMDP permission analysis of later updates (any update after the last signature is
//! reported, whatever it contains), and BER-encoded (indefinite-length) CMS, which is reported as
//! malformed.

mod cms;
mod objects;
mod scan;

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use sha2_legacy::{Digest, Sha256};

use self::objects::{EmbeddedLimits, Loaded, SigDict};
use crate::credentials::trust::{CertSummary, ChainReport, HashAlgorithm, TrustStore, summarize_certificate};

/// Sub-filters whose CMS is checked. `ETSI.CAdES.detached` is what we emit; `adbe.pkcs7.detached`
/// is accepted because Vietnamese vendor tools commonly produce it.
pub const SUPPORTED_SUB_FILTERS: [&str; 2] = ["ETSI.CAdES.detached", "adbe.pkcs7.detached"];

/// Which instant certificates must be valid at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValidationTime {
    /// The signature's `/M`. It lies inside the signed byte range, so the signer vouches for it,
    /// but it is the signer's claim, not a timestamp. Falls back to the CMS signing-time
    /// attribute, then to the current time, when absent or unreadable.
    #[default]
    SigningTime,
    /// The verifier's clock.
    Now,
    /// A fixed instant (reproducible verification, tests).
    At(DateTime<Utc>),
}

/// Verification settings. The defaults suit an uploaded document on a public web page.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub validation_time: ValidationTime,
    /// Larger files are refused before parsing.
    pub max_file_size: usize,
    /// Bound on any single decompressed stream, embedded files included: a decompression bomb is
    /// refused rather than inflated.
    pub max_stream_size: usize,
    /// Bound on all embedded files together.
    pub max_embedded_total: usize,
    /// Bound on how many embedded files are extracted.
    pub max_embedded_files: usize,
    /// Bound on how many signatures are examined (each costs one parse of its revision).
    pub max_signatures: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            validation_time: ValidationTime::SigningTime,
            max_file_size: 64 * 1024 * 1024,
            max_stream_size: 16 * 1024 * 1024,
            max_embedded_total: 64 * 1024 * 1024,
            max_embedded_files: 64,
            max_signatures: 32,
        }
    }
}

/// Inputs for which no report can be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfVerifyError {
    #[error("not a PDF file (no %PDF- header in the first 1024 bytes)")]
    NotAPdf,
    #[error("file of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("encrypted PDF files are not supported")]
    Encrypted,
    #[error("more than {max} signatures")]
    TooManySignatures { max: usize },
}

impl PdfVerifyError {
    /// Stable machine code, for mapping to user-facing messages.
    pub fn code(&self) -> &'static str {
        match self {
            PdfVerifyError::NotAPdf => "not_a_pdf",
            PdfVerifyError::TooLarge { .. } => "too_large",
            PdfVerifyError::Encrypted => "encrypted",
            PdfVerifyError::TooManySignatures { .. } => "too_many_signatures",
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Passed,
    Failed,
    /// Not performed: an earlier problem (see `problems`) prevented it.
    #[default]
    NotChecked,
}

/// The ESS signing-certificate-v2 signed attribute, which binds the signature to the signer
/// certificate (so a certificate with the same key cannot be substituted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EssCheck {
    #[default]
    Absent,
    Matches,
    Mismatch,
}

/// Why a signature cannot be valid, beyond a failed digest or signature check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "problem", content = "detail", rename_all = "snake_case")]
pub enum SignatureProblem {
    /// The byte range does not start at offset 0.
    ByteRangeNotAtZero,
    /// The byte range is not `[0, a, b, len]` with `a < b`.
    ByteRangeInvalid,
    /// The byte range extends past the end of the file.
    ByteRangeBeyondFile,
    /// The gap is not exactly one hexadecimal string.
    GapNotContents,
    /// The signature dictionary's `/Contents` differs from the string in the gap.
    ContentsMismatch,
    /// A signature dictionary whose `/ByteRange` is not written literally in the file.
    ByteRangeNotLiteral,
    /// The signed range does not end at the end of a revision (`%%EOF`).
    NotAtRevisionEnd,
    /// The signature's revision does not come after the previous signature's revision.
    RevisionOrder,
    /// A `/SubFilter` other than [`SUPPORTED_SUB_FILTERS`] (named).
    UnsupportedSubFilter(String),
    CmsMalformed(String),
    CmsNotSignedData,
    /// The CMS encapsulates content instead of being detached.
    NotDetached,
    /// Not exactly one SignerInfo (the count).
    SignerCount(usize),
    /// The CMS does not carry the certificate its SignerInfo names.
    SignerCertificateMissing,
    /// A digest or signature algorithm this verifier does not accept (named).
    UnsupportedAlgorithm(String),
    MissingMessageDigest,
    /// The content-type attribute or the encapsulated content type is not id-data.
    ContentTypeMismatch,
}

impl SignatureProblem {
    pub fn code(&self) -> &'static str {
        match self {
            SignatureProblem::ByteRangeNotAtZero => "byte_range_not_at_zero",
            SignatureProblem::ByteRangeInvalid => "byte_range_invalid",
            SignatureProblem::ByteRangeBeyondFile => "byte_range_beyond_file",
            SignatureProblem::GapNotContents => "gap_not_contents",
            SignatureProblem::ContentsMismatch => "contents_mismatch",
            SignatureProblem::ByteRangeNotLiteral => "byte_range_not_literal",
            SignatureProblem::NotAtRevisionEnd => "not_at_revision_end",
            SignatureProblem::RevisionOrder => "revision_order",
            SignatureProblem::UnsupportedSubFilter(_) => "unsupported_sub_filter",
            SignatureProblem::CmsMalformed(_) => "cms_malformed",
            SignatureProblem::CmsNotSignedData => "cms_not_signed_data",
            SignatureProblem::NotDetached => "not_detached",
            SignatureProblem::SignerCount(_) => "signer_count",
            SignatureProblem::SignerCertificateMissing => "signer_certificate_missing",
            SignatureProblem::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            SignatureProblem::MissingMessageDigest => "missing_message_digest",
            SignatureProblem::ContentTypeMismatch => "content_type_mismatch",
        }
    }
}

/// Everything verified about one signature.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignatureReport {
    /// Fully qualified name of the signature field, e.g. `Sig1`.
    pub field_name: Option<String>,
    pub filter: Option<String>,
    pub sub_filter: Option<String>,
    /// `[0, a, b, n]`: the signed bytes are `[0, a)` and `[b, b + n)`.
    pub byte_range: [u64; 4],
    /// `b + n`: the length of the file as it was signed.
    pub revision_end: u64,
    pub covers_whole_file: bool,
    /// The `/M` entry as written.
    pub signing_time_raw: Option<String>,
    /// `/M` parsed.
    pub signing_time: Option<DateTime<FixedOffset>>,
    /// The CMS signing-time attribute, when the signer put one.
    pub cms_signing_time: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// The `/Name` entry (a claim; the certificate is what identifies the signer).
    pub name: Option<String>,
    /// The signer certificate (subject CN and O, SHA-256 of its DER, validity).
    pub signer: Option<CertSummary>,
    pub digest_algorithm: Option<HashAlgorithm>,
    /// The CMS message digest against the digest of the signed byte range.
    pub digest: Check,
    /// The signer's signature over the signed attributes.
    pub signature: Check,
    pub ess_signing_certificate: EssCheck,
    /// Path validation of the signer certificate, when there was one to validate.
    pub chain: Option<ChainReport>,
    /// The instant the chain was validated at.
    pub validation_time: Option<DateTime<Utc>>,
    pub problems: Vec<SignatureProblem>,
}

/// One signature's standing, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Structure, CMS or algorithm problem: see `problems`.
    Malformed,
    DigestMismatch,
    SignatureInvalid,
    /// The ESS signing-certificate-v2 names another certificate.
    CertificateBindingMismatch,
    /// Intact, but the chain is not trusted: see `chain`.
    Untrusted,
    Valid,
}

impl SignatureStatus {
    pub fn code(self) -> &'static str {
        match self {
            SignatureStatus::Malformed => "malformed",
            SignatureStatus::DigestMismatch => "digest_mismatch",
            SignatureStatus::SignatureInvalid => "signature_invalid",
            SignatureStatus::CertificateBindingMismatch => "certificate_binding_mismatch",
            SignatureStatus::Untrusted => "untrusted",
            SignatureStatus::Valid => "valid",
        }
    }
}

impl SignatureReport {
    pub fn status(&self) -> SignatureStatus {
        if self.digest == Check::Failed {
            return SignatureStatus::DigestMismatch;
        }
        if self.signature == Check::Failed {
            return SignatureStatus::SignatureInvalid;
        }
        if !self.problems.is_empty() || self.digest != Check::Passed || self.signature != Check::Passed {
            return SignatureStatus::Malformed;
        }
        if self.ess_signing_certificate == EssCheck::Mismatch {
            return SignatureStatus::CertificateBindingMismatch;
        }
        if !self.chain.as_ref().is_some_and(|c| c.status.is_trusted()) {
            return SignatureStatus::Untrusted;
        }
        SignatureStatus::Valid
    }

    /// The bytes signed are exactly what the file holds and the signature over them verifies.
    pub fn is_intact(&self) -> bool {
        matches!(self.status(), SignatureStatus::Valid | SignatureStatus::Untrusted)
    }

    /// Intact and chained to a configured root.
    pub fn is_valid(&self) -> bool {
        self.status() == SignatureStatus::Valid
    }
}

/// How the file is cut short or broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// The file does not end with `%%EOF`.
    MissingEof,
    /// The cross-reference data of the final revision cannot be read as written.
    XrefBroken,
    /// A signature's byte range goes past the end of the file.
    ByteRangeBeyondFile,
    /// After the last signed revision comes the start of another revision, without its end.
    IncompleteRevision,
}

impl Truncation {
    pub fn code(self) -> &'static str {
        match self {
            Truncation::MissingEof => "missing_eof",
            Truncation::XrefBroken => "xref_broken",
            Truncation::ByteRangeBeyondFile => "byte_range_beyond_file",
            Truncation::IncompleteRevision => "incomplete_revision",
        }
    }
}

/// What follows the last signed revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailingKind {
    /// One or more complete incremental updates (new objects, a cross-reference section, `%%EOF`).
    /// They may be harmless (a later annotation) or not; either way they are not signed.
    IncrementalUpdate,
    /// Bytes that do not form a revision.
    Garbage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TrailingData {
    /// Offset where the unsigned bytes start.
    pub offset: u64,
    pub len: u64,
    pub kind: TrailingKind,
}

/// The whole-document verdict, most severe condition first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum DocumentVerdict {
    Truncated {
        truncation: Truncation,
    },
    /// The signature at `index` (in revision order) is not intact.
    SignatureInvalid {
        index: usize,
    },
    /// The signature at `index` is intact but not trusted.
    SignatureUntrusted {
        index: usize,
    },
    ModifiedAfterLastSignature {
        kind: TrailingKind,
    },
    Unsigned,
    /// Every signature intact and trusted, the last one covering the whole file.
    Valid,
}

impl DocumentVerdict {
    pub fn code(&self) -> &'static str {
        match self {
            DocumentVerdict::Truncated { .. } => "truncated",
            DocumentVerdict::SignatureInvalid { .. } => "signature_invalid",
            DocumentVerdict::SignatureUntrusted { .. } => "signature_untrusted",
            DocumentVerdict::ModifiedAfterLastSignature { .. } => "modified_after_last_signature",
            DocumentVerdict::Unsigned => "unsigned",
            DocumentVerdict::Valid => "valid",
        }
    }
}

/// A file embedded in the signed revision.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EmbeddedFile {
    /// `/UF`, else `/F`, else the name-tree key.
    pub name: Option<String>,
    /// `/AFRelationship`, e.g. `Data` for the canonical record.
    pub relationship: Option<String>,
    /// The embedded file stream's `/Subtype`, e.g. `application/json`.
    pub mime_type: Option<String>,
    pub description: Option<String>,
    /// Listed in the catalog's `/AF` (associated files, PDF/A-3).
    pub in_associated_files: bool,
    /// Listed in `/Names /EmbeddedFiles`.
    pub in_name_tree: bool,
    /// `/Params /Size` as declared (not trusted; `data.len()` is the truth).
    pub declared_size: Option<u64>,
    pub sha256_hex: String,
    /// The decoded content.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// An embedded file that could not be extracted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EmbeddedFileProblem {
    pub name: Option<String>,
    /// `too_large`, `too_many_files`, `undecodable`, `missing_stream`, `catalog_unreadable`,
    /// `revision_unreadable`.
    pub code: String,
}

/// Everything verified about a PDF file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PdfReport {
    pub file_len: u64,
    pub file_sha256_hex: String,
    /// From the `%PDF-x.y` header.
    pub pdf_version: Option<String>,
    /// Offsets just after each `%%EOF` in the file.
    pub revision_ends: Vec<u64>,
    /// The signatures in revision order (the first signer first).
    pub signatures: Vec<SignatureReport>,
    /// What follows the last signed revision, if anything.
    pub after_last_signature: Option<TrailingData>,
    pub truncation: Option<Truncation>,
    /// The revision the embedded files were read from: the end of the last signed revision, or
    /// the whole file when nothing is signed.
    pub embedded_files_revision_end: u64,
    pub embedded_files: Vec<EmbeddedFile>,
    pub embedded_file_problems: Vec<EmbeddedFileProblem>,
    /// The parser's message when the final revision cannot be read at all (diagnostic text, not a
    /// stable code; the verdict carries the machine-readable outcome).
    pub parse_error: Option<String>,
    pub verdict: DocumentVerdict,
}

impl PdfReport {
    pub fn is_valid(&self) -> bool {
        self.verdict == DocumentVerdict::Valid
    }

    pub fn is_unsigned(&self) -> bool {
        self.signatures.is_empty()
    }

    pub fn modified_after_last_signature(&self) -> bool {
        self.after_last_signature.is_some()
    }

    /// The embedded file with this name, if any.
    pub fn embedded_file(&self, name: &str) -> Option<&EmbeddedFile> {
        self.embedded_files
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
    }
}

/// Verifies every signature of a PDF file and the document as a whole. Errors only for input no
/// report can be made about; everything else (tampering, truncation, untrusted signers) is a
/// report whose [`PdfReport::verdict`] says so.
pub fn verify_pdf(
    bytes: &[u8],
    trust: &TrustStore,
    options: &VerifyOptions,
) -> Result<PdfReport, PdfVerifyError> {
    if bytes.len() > options.max_file_size {
        return Err(PdfVerifyError::TooLarge {
            len: bytes.len(),
            max: options.max_file_size,
        });
    }
    let pdf_version = scan::header_version(bytes).ok_or(PdfVerifyError::NotAPdf)?;
    let len = bytes.len() as u64;
    let mut revisions = Revisions::new(bytes, options.max_stream_size);
    // Signatures over encrypted files cover encrypted bytes and need the password to interpret;
    // no such file is issued, so they are refused rather than half-verified.
    if objects::is_encrypted(revisions.full()) {
        return Err(PdfVerifyError::Encrypted);
    }

    let found = find_signatures(bytes, &mut revisions, options)?;
    let mut signatures: Vec<SignatureReport> = found
        .into_iter()
        .map(|(br, dict)| check_signature(bytes, br, dict, trust, options))
        .collect();
    signatures.sort_by_key(|s| (s.revision_end, s.byte_range[1]));
    for i in 1..signatures.len() {
        let prev_end = signatures[i - 1].revision_end;
        let cur = &mut signatures[i];
        if prev_end >= cur.revision_end || prev_end > cur.byte_range[1] {
            cur.problems.push(SignatureProblem::RevisionOrder);
        }
    }

    // The last signed revision that lies within the file.
    let last_end = signatures
        .iter()
        .map(|s| s.revision_end)
        .filter(|&e| e <= len)
        .max();
    let mut truncation = None;
    let mut after_last_signature = None;
    if signatures.iter().any(|s| s.revision_end > len) {
        truncation = Some(Truncation::ByteRangeBeyondFile);
    }
    match last_end {
        None if signatures.is_empty() => {
            if !scan::ends_with_eof(bytes) {
                truncation = Some(Truncation::MissingEof);
            } else if !revisions.full().intact() {
                truncation = Some(Truncation::XrefBroken);
            }
        }
        None => {}
        Some(end) if end == len => {
            let final_intact = revisions.full().intact();
            truncation = truncation.or((!final_intact).then_some(Truncation::XrefBroken));
        }
        Some(end) => {
            let tail = &bytes[end as usize..];
            let kind = if scan::ends_with_eof(tail) {
                let update = scan::last_startxref(tail)
                    .and_then(|x| usize::try_from(x).ok())
                    .is_some_and(|x| x >= end as usize && scan::xref_section_at(bytes, x));
                if update && revisions.full().intact() {
                    TrailingKind::IncrementalUpdate
                } else {
                    TrailingKind::Garbage
                }
            } else {
                if scan::has_structure_keywords(tail) && truncation.is_none() {
                    truncation = Some(Truncation::IncompleteRevision);
                }
                TrailingKind::Garbage
            };
            after_last_signature = Some(TrailingData {
                offset: end,
                len: len - end,
                kind,
            });
        }
    }

    let embedded_files_revision_end = last_end.unwrap_or(len);
    let limits = EmbeddedLimits {
        max_file: options.max_stream_size,
        max_total: options.max_embedded_total,
        max_count: options.max_embedded_files,
    };
    let (embedded_files, embedded_file_problems) = match revisions.get(embedded_files_revision_end as usize) {
        Some(doc) => objects::embedded_files(doc, &limits),
        None => (
            vec![],
            vec![EmbeddedFileProblem {
                name: None,
                code: "revision_unreadable".into(),
            }],
        ),
    };

    let parse_error = revisions.full().error().map(str::to_owned);
    let verdict = verdict(&signatures, truncation, after_last_signature);
    Ok(PdfReport {
        file_len: len,
        file_sha256_hex: hex::encode(Sha256::digest(bytes)),
        pdf_version: Some(pdf_version),
        revision_ends: scan::revision_ends(bytes),
        signatures,
        after_last_signature,
        truncation,
        embedded_files_revision_end,
        embedded_files,
        embedded_file_problems,
        parse_error,
        verdict,
    })
}

fn verdict(
    signatures: &[SignatureReport],
    truncation: Option<Truncation>,
    after: Option<TrailingData>,
) -> DocumentVerdict {
    if let Some(truncation) = truncation {
        return DocumentVerdict::Truncated { truncation };
    }
    if let Some(index) = signatures.iter().position(|s| !s.is_intact()) {
        return DocumentVerdict::SignatureInvalid { index };
    }
    if let Some(index) = signatures.iter().position(|s| !s.is_valid()) {
        return DocumentVerdict::SignatureUntrusted { index };
    }
    if let Some(after) = after {
        return DocumentVerdict::ModifiedAfterLastSignature { kind: after.kind };
    }
    if signatures.is_empty() {
        return DocumentVerdict::Unsigned;
    }
    DocumentVerdict::Valid
}

/// Parsed revisions, by end offset, each loaded at most once.
struct Revisions<'a> {
    bytes: &'a [u8],
    max_stream: usize,
    loaded: BTreeMap<usize, Loaded>,
}

impl<'a> Revisions<'a> {
    fn new(bytes: &'a [u8], max_stream: usize) -> Self {
        Self {
            bytes,
            max_stream,
            loaded: BTreeMap::new(),
        }
    }

    fn loaded(&mut self, end: usize) -> &Loaded {
        let (bytes, max_stream) = (self.bytes, self.max_stream);
        self.loaded
            .entry(end)
            .or_insert_with(|| objects::load(&bytes[..end], max_stream))
    }

    /// Forgets a parsed prefix (never the whole file, which several checks consult).
    fn evict(&mut self, end: usize) {
        if end != self.bytes.len() {
            self.loaded.remove(&end);
        }
    }

    fn full(&mut self) -> &Loaded {
        self.loaded(self.bytes.len())
    }

    fn full_intact(&mut self) -> Option<&lopdf::Document> {
        self.get_intact(self.bytes.len())
    }

    /// The revision ending at `end`, only if it loads from its cross-reference data as written.
    fn get_intact(&mut self, end: usize) -> Option<&lopdf::Document> {
        if end > self.bytes.len() {
            return None;
        }
        let loaded = self.loaded(end);
        if loaded.intact() { loaded.doc() } else { None }
    }

    fn get(&mut self, end: usize) -> Option<&lopdf::Document> {
        if end > self.bytes.len() {
            return None;
        }
        self.loaded(end).doc()
    }
}

/// Pairs each literal byte range with the signature dictionary that declares it, as seen by the
/// revision the range covers (or the whole file when the range cannot be a revision of it).
/// Literal ranges no dictionary declares are not signatures (text inside a stream, say) and are
/// dropped; dictionaries whose range is not written literally are kept, as problems.
fn find_signatures(
    bytes: &[u8],
    revisions: &mut Revisions<'_>,
    options: &VerifyOptions,
) -> Result<Vec<([u64; 4], SigDict)>, PdfVerifyError> {
    let len = bytes.len() as u64;
    let mut literal: Vec<[u64; 4]> = Vec::new();
    for br in scan::byte_ranges(bytes) {
        if !literal.contains(&br.values) {
            literal.push(br.values);
        }
    }
    let mut ends: Vec<u64> = literal.iter().filter_map(|v| v[2].checked_add(v[3])).collect();
    ends.sort_unstable();
    ends.dedup();
    if ends.len() > options.max_signatures {
        return Err(PdfVerifyError::TooManySignatures {
            max: options.max_signatures,
        });
    }

    // By revision, so each signed revision is parsed once and dropped once examined: a hostile
    // file with many revisions must not hold them all in memory.
    literal.sort_by_key(|v| v[2].saturating_add(v[3]));
    let full_intact_dicts = revisions.full_intact().map(objects::signature_dicts);
    let full_dicts = revisions
        .full()
        .doc()
        .map(objects::signature_dicts)
        .unwrap_or_default();
    let mut current: Option<(u64, Vec<SigDict>)> = None;
    let mut out = Vec::new();
    for values in &literal {
        let as_i64 = values.map(|v| i64::try_from(v).unwrap_or(-1));
        let declared = |dicts: &[SigDict]| dicts.iter().find(|d| d.byte_range == Some(as_i64)).cloned();
        let dict = match values[2].checked_add(values[3]) {
            // Within the file, the dictionary must be reachable through the cross-reference data of
            // the revision the range covers, or of the final revision. A parser that rebuilds a
            // broken table by scanning for objects would also find the objects of a signed PDF
            // stored uncompressed inside this one, and pass its signatures off as ours.
            Some(end) if end <= len => {
                if current.as_ref().map(|(e, _)| *e) != Some(end) {
                    if let Some((previous, _)) = current.take() {
                        revisions.evict(previous as usize);
                    }
                    let dicts = revisions.get_intact(end as usize).map(objects::signature_dicts);
                    current = Some((end, dicts.unwrap_or_default()));
                }
                let in_revision = current.as_ref().and_then(|(_, dicts)| declared(dicts));
                in_revision.or_else(|| full_intact_dicts.as_deref().and_then(declared))
            }
            // Past the end of the file: the revision is gone, and any trace of the dictionary is
            // evidence of truncation, so a rebuilt table is good enough to look it up.
            _ => declared(&full_dicts),
        };
        if let Some(dict) = dict {
            out.push((*values, dict));
        }
    }
    if let Some((previous, _)) = current {
        revisions.evict(previous as usize);
    }
    for dict in full_dicts {
        let matched = dict.byte_range.is_some_and(|br| {
            literal
                .iter()
                .any(|v| v.map(|x| i64::try_from(x).unwrap_or(-1)) == br)
        });
        if !matched {
            let values = dict
                .byte_range
                .unwrap_or_default()
                .map(|v| u64::try_from(v).unwrap_or(0));
            let mut dict = dict;
            // Marked so the check below reports it; its values are not trusted.
            dict.byte_range = None;
            out.push((values, dict));
        }
    }
    Ok(out)
}

fn check_signature(
    bytes: &[u8],
    byte_range: [u64; 4],
    dict: SigDict,
    trust: &TrustStore,
    options: &VerifyOptions,
) -> SignatureReport {
    let len = bytes.len() as u64;
    let [a, b, c, d] = byte_range;
    let revision_end = c.saturating_add(d);
    let signing_time = dict.m.as_deref().and_then(objects::parse_pdf_date);
    let mut report = SignatureReport {
        field_name: dict.field_name.clone(),
        filter: dict.filter.clone(),
        sub_filter: dict.sub_filter.clone(),
        byte_range,
        revision_end,
        covers_whole_file: a == 0 && revision_end == len,
        signing_time_raw: dict.m.clone(),
        signing_time,
        cms_signing_time: None,
        reason: dict.reason.clone(),
        location: dict.location.clone(),
        contact_info: dict.contact_info.clone(),
        name: dict.name.clone(),
        signer: None,
        digest_algorithm: None,
        digest: Check::NotChecked,
        signature: Check::NotChecked,
        ess_signing_certificate: EssCheck::Absent,
        chain: None,
        validation_time: None,
        problems: Vec::new(),
    };

    if dict.byte_range.is_none() {
        report.problems.push(SignatureProblem::ByteRangeNotLiteral);
        report.covers_whole_file = false;
        return report;
    }
    if a != 0 {
        report.problems.push(SignatureProblem::ByteRangeNotAtZero);
    }
    if b >= c || b < 2 || a > b {
        report.problems.push(SignatureProblem::ByteRangeInvalid);
    }
    if revision_end > len {
        report.problems.push(SignatureProblem::ByteRangeBeyondFile);
    }
    if !report.problems.is_empty() {
        report.covers_whole_file = false;
        return report;
    }
    let (b, c, end) = (b as usize, c as usize, revision_end as usize);
    let Some(gap) = scan::gap_contents(&bytes[b..c]) else {
        report.problems.push(SignatureProblem::GapNotContents);
        return report;
    };
    if dict.contents.as_deref() != Some(gap.as_slice()) {
        report.problems.push(SignatureProblem::ContentsMismatch);
    }
    if !scan::ends_with_eof(&bytes[..end]) {
        report.problems.push(SignatureProblem::NotAtRevisionEnd);
    }
    match dict.sub_filter.as_deref() {
        Some(sf) if SUPPORTED_SUB_FILTERS.contains(&sf) => {}
        other => {
            report.problems.push(SignatureProblem::UnsupportedSubFilter(
                other.unwrap_or_default().to_owned(),
            ));
            return report;
        }
    }

    let outcome = cms::verify(&gap, &[&bytes[..b], &bytes[c..end]]);
    report.digest_algorithm = outcome.digest_algorithm;
    report.digest = outcome.digest;
    report.signature = outcome.signature;
    report.ess_signing_certificate = outcome.ess;
    report.cms_signing_time = outcome.signing_time;
    report.problems.extend(outcome.problems);
    if let Some(signer) = outcome.signer_der.as_deref() {
        report.signer = summarize_certificate(signer).ok();
        let at = match options.validation_time {
            ValidationTime::SigningTime => signing_time
                .map(|t| t.with_timezone(&Utc))
                .or(outcome.signing_time)
                .unwrap_or_else(Utc::now),
            ValidationTime::Now => Utc::now(),
            ValidationTime::At(t) => t,
        };
        let others: Vec<&[u8]> = outcome.certificates.iter().map(Vec::as_slice).collect();
        report.chain = Some(trust.verify_chain(signer, &others, at));
        report.validation_time = Some(at);
    }
    report
}
