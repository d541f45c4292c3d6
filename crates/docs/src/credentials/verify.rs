//! The whole verification of a học bạ or diploma PDF, as the public page and `truongso verify`
//! give it: the PDF's signatures and chains (`pdf_verify`), nothing changed after the last
//! signature, the embedded canonical record, the log event that committed to it (included under
//! a checkpoint signed by a trusted log and cosigned by enough witnesses), and the document's
//! standing (not revoked, not replaced). Each check becomes a verdict line; nothing is "valid"
//! unless every check ran and passed.

use super::pdf_verify::{self, PdfReport, SignatureStatus, VerifyOptions};
use super::trust::{ChainStatus, TrustStore};
use truongso_core::credentials::event::{Event, EventType, Status, status_of};
use truongso_core::credentials::record::Record;
use truongso_core::credentials::verdict::{Check, Verdict};
use truongso_core::credentials::{canonical, sha256_hex};
use truongso_ledger::bundle::{BundleError, TlogProof, TrustedLog};
use truongso_ledger::cosignature::WitnessPolicy;

/// What the verifier trusts.
pub struct Trust<'a> {
    pub roots: &'a TrustStore,
    pub logs: &'a [TrustedLog],
    pub witnesses: &'a WitnessPolicy,
    pub pdf: VerifyOptions,
}

/// What the log says about the document, as far as the verifier could learn it.
pub struct LogEvidence {
    /// Inclusion of the event that issued (or corrected into) this document.
    pub proof: TlogProof,
    /// That event's leaf bytes.
    pub leaf: Vec<u8>,
    /// Later events that refer to it, with their leaf indexes.
    pub later: Vec<(u64, Event)>,
    /// Whether `later` is known to be complete (read from the log itself or from its tiles up to
    /// the checkpoint); otherwise the document's standing cannot be vouched for.
    pub later_complete: bool,
}

/// What a verification found, besides the verdict lines.
pub struct Outcome {
    pub verdict: Verdict,
    pub record: Option<Record>,
    pub report: Option<PdfReport>,
}

/// The embedded canonical record of a PDF report (the JSON associated file), if any.
pub fn embedded_record(report: &PdfReport) -> Option<&pdf_verify::EmbeddedFile> {
    report.embedded_files.iter().find(|f| {
        f.relationship.as_deref() == Some("Data") && f.name.as_deref().is_some_and(|n| n.ends_with(".json"))
    })
}

/// Roles whose signatures a document of this kind carries, in signing order.
pub fn required_signatures(record: &Record) -> usize {
    match record {
        Record::HocBa(_) => 3,
        Record::VanBang(_) => 1,
    }
}

pub fn verify_document(
    pdf: &[u8],
    trust: &Trust<'_>,
    evidence: Option<&LogEvidence>,
    qr: Option<(&str, &str)>,
) -> Outcome {
    let mut v = Verdict::default();
    let report = match pdf_verify::verify_pdf(pdf, trust.roots, &trust.pdf) {
        Ok(r) => r,
        Err(e) => {
            match e {
                pdf_verify::PdfVerifyError::NotAPdf => v.fail(Check::File, "not_pdf", &[]),
                other => v.fail(Check::File, "unreadable", &[("detail", other.to_string())]),
            }
            return Outcome {
                verdict: v,
                record: None,
                report: None,
            };
        }
    };
    if report.truncation.is_some() {
        v.fail(Check::File, "truncated", &[]);
    } else if report.is_unsigned() {
        v.fail(Check::File, "unsigned", &[]);
    } else {
        v.pass(Check::File, "file_ok", &[]);
    }

    let record = record_check(&report, &mut v, evidence, qr);
    signature_checks(&report, record.as_ref(), &mut v);
    let file_hash = &report.file_sha256_hex;
    let event = evidence.and_then(|e| Event::from_leaf(&e.leaf).ok());
    let unchanged = report.after_last_signature.is_none()
        && report.signatures.last().is_some_and(|s| s.covers_whole_file)
        && event
            .as_ref()
            .is_none_or(|e| e.sha256_pdf.as_deref() == Some(file_hash.as_str()));
    if unchanged {
        v.pass(Check::Unchanged, "unchanged_ok", &[]);
    } else {
        v.fail(Check::Unchanged, "modified_after_signing", &[]);
    }
    log_checks(trust, evidence, &mut v);
    Outcome {
        verdict: v,
        record,
        report: Some(report),
    }
}

fn field_of(s: &pdf_verify::SignatureReport, i: usize) -> String {
    s.signer
        .as_ref()
        .map(|c| c.common_name.clone().unwrap_or_default())
        .filter(|n| !n.is_empty())
        .or_else(|| s.field_name.clone())
        .unwrap_or_else(|| format!("#{}", i + 1))
}

fn signature_checks(report: &PdfReport, record: Option<&Record>, v: &mut Verdict) {
    if report.signatures.is_empty() {
        v.fail(Check::Signatures, "unsigned", &[]);
        v.fail(Check::Certificates, "unsigned", &[]);
        return;
    }
    let mut intact = true;
    let mut trusted = true;
    let mut roots: Vec<String> = vec![];
    for (i, s) in report.signatures.iter().enumerate() {
        let field = field_of(s, i);
        match s.status() {
            SignatureStatus::Malformed => {
                intact = false;
                v.fail(
                    Check::Signatures,
                    "byte_range_invalid",
                    &[("field", field.clone())],
                );
            }
            SignatureStatus::DigestMismatch => {
                intact = false;
                v.fail(Check::Signatures, "digest_mismatch", &[("field", field.clone())]);
            }
            SignatureStatus::SignatureInvalid | SignatureStatus::CertificateBindingMismatch => {
                intact = false;
                v.fail(
                    Check::Signatures,
                    "signature_invalid",
                    &[("field", field.clone())],
                );
            }
            SignatureStatus::Untrusted | SignatureStatus::Valid => {}
        }
        match s.chain.as_ref().map(|c| &c.status) {
            Some(ChainStatus::Trusted { root_name }) => {
                if !roots.contains(root_name) {
                    roots.push(root_name.clone());
                }
            }
            Some(ChainStatus::UntrustedRoot { .. }) => {
                trusted = false;
                v.fail(Check::Certificates, "untrusted_root", &[("field", field)]);
            }
            Some(ChainStatus::Expired { not_after, .. }) => {
                trusted = false;
                v.fail(
                    Check::Certificates,
                    "cert_expired",
                    &[
                        ("field", field),
                        ("date", not_after.format("%d/%m/%Y").to_string()),
                    ],
                );
            }
            Some(ChainStatus::NotYetValid { .. }) => {
                trusted = false;
                v.fail(Check::Certificates, "cert_not_yet_valid", &[("field", field)]);
            }
            Some(other) => {
                trusted = false;
                v.fail(
                    Check::Certificates,
                    "cert_invalid",
                    &[("field", field), ("detail", format!("{other:?}"))],
                );
            }
            None => {
                trusted = false;
                v.fail(
                    Check::Certificates,
                    "cert_invalid",
                    &[("field", field), ("detail", "-".into())],
                );
            }
        }
    }
    let need = record.map(required_signatures).unwrap_or(1);
    if report.signatures.len() < need {
        intact = false;
        let role = match report.signatures.len() {
            0 => "gvcn",
            1 => "hieu_truong",
            _ => "con_dau",
        };
        v.fail(Check::Signatures, "missing_signer", &[("role", role.into())]);
    }
    if intact {
        v.pass(
            Check::Signatures,
            "signatures_ok",
            &[("count", report.signatures.len().to_string())],
        );
    }
    if trusted {
        v.pass(
            Check::Certificates,
            "certificates_ok",
            &[("root", roots.join(", "))],
        );
    }
}

fn record_check(
    report: &PdfReport,
    v: &mut Verdict,
    evidence: Option<&LogEvidence>,
    qr: Option<(&str, &str)>,
) -> Option<Record> {
    let Some(file) = embedded_record(report) else {
        v.fail(Check::Record, "record_missing", &[]);
        return None;
    };
    if canonical::require_canonical(&file.data).is_err() {
        v.fail(Check::Record, "record_not_canonical", &[]);
        return None;
    }
    let Ok(record) = Record::parse(&file.data) else {
        v.fail(Check::Record, "record_not_canonical", &[]);
        return None;
    };
    let hash = sha256_hex(&file.data);
    if let Some((doc_id, h)) = qr
        && (doc_id != record.doc_id() || h != hash)
    {
        v.fail(Check::Record, "qr_mismatch", &[]);
        return Some(record);
    }
    match evidence.map(|e| Event::from_leaf(&e.leaf)) {
        None => v.fail(Check::Record, "proof_missing", &[]),
        Some(Err(_)) => v.fail(Check::Record, "proof_invalid", &[]),
        Some(Ok(e)) => {
            let issuing = matches!(e.event_type, EventType::Issue | EventType::Correct);
            if issuing && e.doc_id == record.doc_id() && e.sha256_data.as_deref() == Some(hash.as_str()) {
                v.pass(Check::Record, "record_ok", &[]);
            } else {
                v.fail(Check::Record, "record_hash_mismatch", &[]);
            }
        }
    }
    Some(record)
}

fn log_checks(trust: &Trust<'_>, evidence: Option<&LogEvidence>, v: &mut Verdict) {
    let Some(e) = evidence else {
        for c in [
            Check::Checkpoint,
            Check::Witnesses,
            Check::Inclusion,
            Check::Status,
        ] {
            v.fail(c, "proof_missing", &[]);
        }
        return;
    };
    let quorum = trust.witnesses.quorum().to_string();
    match e.proof.verify(&e.leaf, trust.logs, trust.witnesses) {
        Ok(p) => {
            v.pass(
                Check::Checkpoint,
                "checkpoint_ok",
                &[
                    ("origin", p.checkpoint.origin.clone()),
                    ("size", p.checkpoint.size.to_string()),
                ],
            );
            v.pass(
                Check::Witnesses,
                "witnesses_ok",
                &[
                    ("have", p.cosignatures.cosigned.len().to_string()),
                    ("need", quorum),
                ],
            );
            v.pass(
                Check::Inclusion,
                "inclusion_ok",
                &[("index", p.index.to_string())],
            );
        }
        Err(err) => {
            match err {
                BundleError::UnknownOrigin(o) => {
                    v.fail(Check::Checkpoint, "checkpoint_unknown_log", &[("origin", o)])
                }
                BundleError::BadLogSignature => v.fail(Check::Checkpoint, "checkpoint_invalid", &[]),
                BundleError::QuorumNotMet { cosigned, quorum } => v.fail(
                    Check::Witnesses,
                    "witness_quorum",
                    &[("have", cosigned.to_string()), ("need", quorum.to_string())],
                ),
                BundleError::IndexOutOfRange { .. } => v.fail(Check::Inclusion, "not_in_log", &[]),
                BundleError::Format(_) | BundleError::InclusionFailed => {
                    v.fail(Check::Inclusion, "proof_invalid", &[])
                }
            }
            // The checks after the failing one could not run: say so rather than stay silent.
            for c in [Check::Checkpoint, Check::Witnesses, Check::Inclusion] {
                if !v.lines.iter().any(|l| l.check == c) {
                    v.fail(c, "proof_invalid", &[]);
                }
            }
        }
    }
    if !e.later_complete {
        v.fail(Check::Status, "status_unknown", &[]);
        return;
    }
    match status_of(e.proof.index, &e.later) {
        Status::Current { .. } => v.pass(Check::Status, "status_current", &[]),
        Status::Superseded { .. } => v.fail(Check::Status, "superseded", &[]),
        Status::Revoked { reason, .. } => v.fail(
            Check::Status,
            "revoked",
            &[("reason", reason.unwrap_or_default())],
        ),
    }
}
