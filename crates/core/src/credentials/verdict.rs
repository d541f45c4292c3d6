//! What a verifier says about a document: one line per check, each a pass or a precise failure,
//! and "valid" only when every check passed. The verifier never answers "valid" by default: a
//! check that could not run (no log proof at hand, say) is a failure with its own reason.
//! Messages come from the catalogue (`credentials.verdict.<code>`), Vietnamese first.

use crate::i18n::{Locale, tf};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The file is a PDF we can read and it carries signatures.
    File,
    /// Every signature's cryptography and the byte range it covers.
    Signatures,
    /// Each signer certificate chains to a configured trust root and was valid when it signed.
    Certificates,
    /// Nothing was changed after the last signature.
    Unchanged,
    /// The embedded record is canonical and matches the hash the log (and the QR code) carry.
    Record,
    /// The log's checkpoint is signed by a known log key.
    Checkpoint,
    /// Enough independent witnesses cosigned the checkpoint.
    Witnesses,
    /// The document's event is included in the log under the checkpoint.
    Inclusion,
    /// The document is neither revoked nor replaced by a correction.
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub check: Check,
    pub ok: bool,
    /// Catalogue code under `credentials.verdict.`.
    pub code: String,
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub lines: Vec<Line>,
}

impl Verdict {
    pub fn pass(&mut self, check: Check, code: &str, params: &[(&str, String)]) {
        self.push(check, true, code, params);
    }

    pub fn fail(&mut self, check: Check, code: &str, params: &[(&str, String)]) {
        self.push(check, false, code, params);
    }

    fn push(&mut self, check: Check, ok: bool, code: &str, params: &[(&str, String)]) {
        self.lines.push(Line {
            check,
            ok,
            code: code.to_string(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        });
    }

    /// Valid only when there is at least one line per required check and no line failed.
    pub fn valid(&self) -> bool {
        const REQUIRED: [Check; 9] = [
            Check::File,
            Check::Signatures,
            Check::Certificates,
            Check::Unchanged,
            Check::Record,
            Check::Checkpoint,
            Check::Witnesses,
            Check::Inclusion,
            Check::Status,
        ];
        self.lines.iter().all(|l| l.ok) && REQUIRED.iter().all(|c| self.lines.iter().any(|l| l.check == *c))
    }

    pub fn failures(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| !l.ok)
    }

    /// The verdict's headline in the locale.
    pub fn headline(&self, locale: Locale) -> String {
        let key = if self.valid() { "valid" } else { "invalid" };
        tf(locale, &format!("credentials.verdict.{key}"), &[])
    }
}

impl Line {
    /// The line in the locale. Codes carried as parameters (a revocation reason, a signer role)
    /// are translated too, so a verdict stored or sent as data reads in any locale.
    pub fn message(&self, locale: Locale) -> String {
        let params: Vec<(&str, String)> = self
            .params
            .iter()
            .map(|(k, v)| {
                let text = match k.as_str() {
                    "reason" => crate::i18n::t(locale, &format!("credentials.revoke_reason.{v}")).to_string(),
                    "role" => crate::i18n::t(locale, &format!("credentials.role.{v}")).to_string(),
                    _ => v.clone(),
                };
                (k.as_str(), text)
            })
            .collect();
        tf(locale, &format!("credentials.verdict.{}", self.code), &params)
    }
}

/// Every code a verifier may emit; the catalogue test checks each has a message in both locales.
pub const CODES: &[&str] = &[
    "valid",
    "invalid",
    "file_ok",
    "not_pdf",
    "truncated",
    "unsigned",
    "unreadable",
    "signatures_ok",
    "signature_invalid",
    "digest_mismatch",
    "byte_range_invalid",
    "missing_signer",
    "certificates_ok",
    "untrusted_root",
    "cert_expired",
    "cert_not_yet_valid",
    "cert_invalid",
    "unchanged_ok",
    "modified_after_signing",
    "record_ok",
    "record_missing",
    "record_not_canonical",
    "record_hash_mismatch",
    "qr_mismatch",
    "checkpoint_ok",
    "checkpoint_unknown_log",
    "checkpoint_invalid",
    "witnesses_ok",
    "witness_quorum",
    "inclusion_ok",
    "not_in_log",
    "proof_invalid",
    "proof_missing",
    "status_current",
    "status_unknown",
    "revoked",
    "superseded",
    "unknown_document",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::keys;

    #[test]
    fn every_code_has_a_message_in_both_locales() {
        for locale in [Locale::Vi, Locale::En] {
            let known = keys(locale);
            for code in CODES {
                let key = format!("credentials.verdict.{code}");
                assert!(known.contains(&key.as_str()), "{key} missing in {locale:?}");
            }
        }
    }

    #[test]
    fn reason_and_role_codes_are_translated() {
        let mut v = Verdict::default();
        v.fail(Check::Status, "revoked", &[("reason", "fraud".into())]);
        v.fail(
            Check::Signatures,
            "missing_signer",
            &[("role", "hieu_truong".into())],
        );
        assert_eq!(
            v.lines[0].message(Locale::Vi),
            "Văn bản đã bị THU HỒI (lý do: gian lận)."
        );
        assert_eq!(
            v.lines[0].message(Locale::En),
            "The document has been REVOKED (reason: fraud)."
        );
        assert_eq!(v.lines[1].message(Locale::Vi), "Thiếu chữ ký của hiệu trưởng.");
    }

    #[test]
    fn valid_needs_every_check_and_no_failure() {
        let mut v = Verdict::default();
        v.pass(Check::File, "file_ok", &[]);
        v.pass(Check::Signatures, "signatures_ok", &[("count", "3".into())]);
        assert!(!v.valid(), "missing checks must not read as valid");
        for c in [
            Check::Certificates,
            Check::Unchanged,
            Check::Record,
            Check::Checkpoint,
            Check::Witnesses,
            Check::Inclusion,
            Check::Status,
        ] {
            v.pass(c, "x", &[]);
        }
        assert!(v.valid());
        v.fail(
            Check::Witnesses,
            "witness_quorum",
            &[("have", "1".into()), ("need", "2".into())],
        );
        assert!(!v.valid());
        assert_eq!(
            v.failures().next().unwrap().message(Locale::Vi),
            "Chỉ có 1 trên 2 chữ ký xác nhận cần thiết của các đơn vị chứng kiến."
        );
        assert_eq!(v.headline(Locale::Vi), "Văn bản KHÔNG hợp lệ");
    }
}
