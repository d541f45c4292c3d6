//! The leaves of the transparency log. A leaf says that something happened to a document (it was
//! issued, corrected, revoked, or a copy was handed out) and commits to the exact bytes by hash.
//! It carries no name, no date of birth and no personal id: the log is public and permanent,
//! and personal data must be erasable (Nghị định 13/2023).

use super::{CanonicalError, DocKind, canonical_bytes};
use serde::{Deserialize, Serialize};

pub const EVENT_SCHEMA: &str = "truongso.vn/event/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Issue,
    /// A corrected document replaces the one `refers_to` points at.
    Correct,
    /// The document `refers_to` points at is no longer valid.
    Revoke,
    /// A copy or extract of the document `refers_to` points at was handed out.
    Copy,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Issue => "issue",
            EventType::Correct => "correct",
            EventType::Revoke => "revoke",
            EventType::Copy => "copy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub schema: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub doc_id: String,
    pub doc_kind: DocKind,
    /// SHA-256 (hex) of the canonical record; absent on a revocation.
    pub sha256_data: Option<String>,
    /// SHA-256 (hex) of the final signed PDF; absent on a revocation.
    pub sha256_pdf: Option<String>,
    /// SHA-256 (hex) of each signer certificate, in signing order.
    pub signer_certs: Vec<String>,
    /// Leaf index of the event this one corrects, revokes or copies.
    pub refers_to: Option<u64>,
    /// A code, never free text (free text invites personal data): "data_error", "issued_in_error",
    /// "fraud", "court_order", "replaced", or for a copy its purpose "extract", "certified_copy".
    pub reason: Option<String>,
    /// Seconds since the epoch (UTC).
    pub time: i64,
}

impl Event {
    /// The leaf data: the event's canonical bytes.
    pub fn leaf_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical_bytes(self)
    }

    /// Reads a leaf back; anything not exactly canonical is refused, so one event has one leaf.
    pub fn from_leaf(bytes: &[u8]) -> Result<Event, CanonicalError> {
        super::canonical::require_canonical(bytes)?;
        let e: Event = serde_json::from_slice(bytes).map_err(|e| CanonicalError::NotJson(e.to_string()))?;
        if e.schema != EVENT_SCHEMA {
            return Err(CanonicalError::NotJson(format!(
                "unknown event schema {}",
                e.schema
            )));
        }
        Ok(e)
    }
}

pub const REVOKE_REASONS: [&str; 5] = [
    "data_error",
    "issued_in_error",
    "fraud",
    "court_order",
    "replaced",
];
pub const COPY_PURPOSES: [&str; 2] = ["extract", "certified_copy"];

/// What the log says about a document now, from its events in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Issued (or a correction of an earlier one) and standing.
    Current { leaf: u64 },
    /// Replaced by a correction at `by`.
    Superseded { leaf: u64, by: u64 },
    Revoked {
        leaf: u64,
        by: u64,
        reason: Option<String>,
    },
}

/// The standing of the document issued at `leaf`, given every event (index, event) that refers to
/// it or to its corrections. Events are taken in log order; the first revoke or correct wins.
pub fn status_of(leaf: u64, events: &[(u64, Event)]) -> Status {
    for (index, e) in events {
        if e.refers_to != Some(leaf) || *index <= leaf {
            continue;
        }
        match e.event_type {
            EventType::Revoke => {
                return Status::Revoked {
                    leaf,
                    by: *index,
                    reason: e.reason.clone(),
                };
            }
            EventType::Correct => return Status::Superseded { leaf, by: *index },
            EventType::Issue | EventType::Copy => {}
        }
    }
    Status::Current { leaf }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue() -> Event {
        Event {
            schema: EVENT_SCHEMA.into(),
            event_type: EventType::Issue,
            doc_id: "HB-041061050R3GG28A".into(),
            doc_kind: DocKind::HocBa,
            sha256_data: Some("aa".repeat(32)),
            sha256_pdf: Some("bb".repeat(32)),
            signer_certs: vec!["cc".repeat(32)],
            refers_to: None,
            reason: None,
            time: 1_780_000_000,
        }
    }

    #[test]
    fn leaf_is_canonical_and_holds_no_personal_fields() {
        let bytes = issue().leaf_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"doc_id":"HB-041061050R3GG28A","doc_kind":"hoc_ba","reason":null,"refers_to":null,"schema":"truongso.vn/event/v1","sha256_data":"{}","sha256_pdf":"{}","signer_certs":["{}"],"time":1780000000,"type":"issue"}}"#,
                "aa".repeat(32),
                "bb".repeat(32),
                "cc".repeat(32)
            )
        );
        assert_eq!(Event::from_leaf(&bytes).unwrap(), issue());
        // Pretty-printed, the same event is not a leaf.
        let pretty = serde_json::to_vec_pretty(&issue()).unwrap();
        assert_eq!(
            Event::from_leaf(&pretty).unwrap_err(),
            CanonicalError::NotCanonical
        );
    }

    #[test]
    fn status_follows_the_first_correct_or_revoke() {
        let mut correct = issue();
        correct.event_type = EventType::Correct;
        correct.refers_to = Some(3);
        let mut revoke = issue();
        revoke.event_type = EventType::Revoke;
        revoke.refers_to = Some(3);
        revoke.reason = Some("fraud".into());
        let mut copy = issue();
        copy.event_type = EventType::Copy;
        copy.refers_to = Some(3);
        assert_eq!(status_of(3, &[(5, copy.clone())]), Status::Current { leaf: 3 });
        assert_eq!(
            status_of(3, &[(5, copy.clone()), (7, correct.clone()), (9, revoke.clone())]),
            Status::Superseded { leaf: 3, by: 7 }
        );
        assert_eq!(
            status_of(3, &[(9, revoke.clone())]),
            Status::Revoked {
                leaf: 3,
                by: 9,
                reason: Some("fraud".into())
            }
        );
        // An event cannot act on a later leaf (the log is ordered).
        assert_eq!(status_of(3, &[(2, revoke)]), Status::Current { leaf: 3 });
    }
}
