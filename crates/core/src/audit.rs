//! The audit chain: each event carries the hash of the one before it, so an edited, removed or
//! reordered event breaks the chain at a point `verify_chain` reports.
//!
//! The hash covers the stored text of every field (length-prefixed), not a re-serialisation,
//! so what is verified is exactly what is in the table.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash of the (empty) chain before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event as stored. `at` is RFC 3339 UTC with microseconds (the precision both
/// databases keep), `before`/`after` are JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash an event must carry given its fields and its predecessor's hash.
#[allow(clippy::too_many_arguments)]
pub fn event_hash(
    seq: i64,
    at: &str,
    actor_id: Option<&str>,
    actor_label: &str,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"truongso-audit-v1");
    let mut field = |v: Option<&str>| match v {
        None => h.update(b"\x00"),
        Some(s) => {
            h.update(b"\x01");
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    };
    field(Some(&seq.to_string()));
    field(Some(at));
    field(actor_id);
    field(Some(actor_label));
    field(Some(action));
    field(Some(entity_type));
    field(Some(entity_id));
    field(before);
    field(after);
    field(Some(prev_hash));
    hex::encode(h.finalize())
}

impl AuditRecord {
    pub fn expected_hash(&self) -> String {
        event_hash(
            self.seq,
            &self.at,
            self.actor_id.as_deref(),
            &self.actor_label,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            self.before.as_deref(),
            self.after.as_deref(),
            &self.prev_hash,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The event's content no longer matches its hash: it was edited.
    Edited { seq: i64 },
    /// The event does not point at its predecessor: events were removed, inserted or reordered.
    Broken { seq: i64 },
    /// A sequence number is missing before `seq`.
    Gap { expected: i64, found: i64 },
    /// The chain ends before the head recorded by the last append (events removed at the end).
    Truncated { last_seq: i64, head_seq: i64 },
    /// The head does not match the last event.
    HeadMismatch { head_seq: i64 },
}

impl ChainBreak {
    /// The first sequence number affected.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::Edited { seq } | ChainBreak::Broken { seq } => seq,
            ChainBreak::Gap { expected, .. } => expected,
            ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
            ChainBreak::HeadMismatch { head_seq } => head_seq,
        }
    }
}

/// Incremental verifier so the store can stream events in pages of `seq` order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        if r.seq != self.next_seq {
            return Err(ChainBreak::Gap {
                expected: self.next_seq,
                found: r.seq,
            });
        }
        if r.expected_hash() != r.hash {
            return Err(ChainBreak::Edited { seq: r.seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainBreak::Broken { seq: r.seq });
        }
        self.next_seq += 1;
        self.prev_hash = r.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the walk with the head the store keeps.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainBreak> {
        let last_seq = self.next_seq - 1;
        if last_seq < head_seq {
            return Err(ChainBreak::Truncated { last_seq, head_seq });
        }
        if last_seq != head_seq || head_hash != self.prev_hash {
            return Err(ChainBreak::HeadMismatch { head_seq });
        }
        Ok(())
    }
}

/// Verifies a whole chain held in memory.
pub fn verify_chain(records: &[AuditRecord], head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::default();
    for r in records {
        v.push(r)?;
    }
    v.finish(head_seq, head_hash)?;
    Ok(v.checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = vec![];
        let mut prev = GENESIS_HASH.to_string();
        for seq in 1..=n {
            let mut r = AuditRecord {
                seq,
                at: format!("2026-11-23T08:00:{seq:02}.000000Z"),
                actor_id: Some("u1".into()),
                actor_label: "admin".into(),
                action: "user.create".into(),
                entity_type: "user".into(),
                entity_id: format!("e{seq}"),
                before: None,
                after: Some(format!("{{\"n\":{seq}}}")),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            r.hash = r.expected_hash();
            prev = r.hash.clone();
            out.push(r);
        }
        out
    }

    fn head(c: &[AuditRecord]) -> (i64, String) {
        let last = c.last().unwrap();
        (last.seq, last.hash.clone())
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let (s, h) = head(&c);
        assert_eq!(verify_chain(&c, s, &h), Ok(5));
        assert_eq!(verify_chain(&[], 0, GENESIS_HASH), Ok(0));
    }

    #[test]
    fn edit_is_caught_at_the_edited_event() {
        let mut c = chain(5);
        let (s, h) = head(&c);
        c[2].after = Some("{\"n\":999}".into());
        assert_eq!(verify_chain(&c, s, &h), Err(ChainBreak::Edited { seq: 3 }));
    }

    #[test]
    fn edit_with_recomputed_hash_is_caught_at_the_next_event() {
        let mut c = chain(5);
        let (s, h) = head(&c);
        c[1].actor_label = "someone else".into();
        c[1].hash = c[1].expected_hash();
        assert_eq!(verify_chain(&c, s, &h), Err(ChainBreak::Broken { seq: 3 }));
    }

    #[test]
    fn removal_and_reorder_are_caught() {
        let c = chain(5);
        let (s, h) = head(&c);
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, s, &h),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert_eq!(verify_chain(&swapped, s, &h), Err(ChainBreak::Edited { seq: 2 }));
        let truncated = &c[..4];
        assert_eq!(
            verify_chain(truncated, s, &h),
            Err(ChainBreak::Truncated {
                last_seq: 4,
                head_seq: 5
            })
        );
    }

    #[test]
    fn hash_separates_fields() {
        // Moving text between adjacent fields must change the hash.
        let a = event_hash(1, "t", None, "ab", "c", "x", "y", None, None, GENESIS_HASH);
        let b = event_hash(1, "t", None, "a", "bc", "x", "y", None, None, GENESIS_HASH);
        assert_ne!(a, b);
        let c = event_hash(1, "t", Some(""), "ab", "c", "x", "y", None, None, GENESIS_HASH);
        assert_ne!(a, c);
    }
}
