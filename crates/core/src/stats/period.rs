//! Reporting periods: an office opens a period (a round of a school year, with a reference date
//! and a deadline) for the schools of its subtree; each school reviews its computed forms,
//! explains the data-quality errors it cannot fix, and submits a frozen snapshot; the office
//! approves it or returns it with a comment. The rules here are pure; the store applies them
//! inside one transaction with the audit event.

use super::catalogue::Round;
use crate::org::OrgPath;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest comment or explanation kept (characters).
pub const MAX_TEXT: usize = 2000;

/// Why a period or a submission step was refused. `code()` is the message key `error.<code>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodError {
    /// The deadline is before the opening day, or the reference date after the deadline.
    DatesOutOfOrder,
    /// Another period of the same round and school year covers some of the same schools: the
    /// same office, or an office above or below it.
    Overlaps {
        other: Uuid,
    },
    /// The period was closed by its office.
    Closed,
    /// Submitting while a data-quality error has neither been fixed nor explained.
    UnexplainedIssues {
        count: usize,
    },
    AlreadySubmitted,
    AlreadyApproved,
    NotSubmitted,
    /// Returning needs a comment saying what to fix.
    CommentRequired,
    TooLong,
    /// The school is not under the period's office.
    OutsideSubtree,
}

impl PeriodError {
    pub fn code(&self) -> &'static str {
        match self {
            PeriodError::DatesOutOfOrder => "stats_dates_out_of_order",
            PeriodError::Overlaps { .. } => "stats_period_overlaps",
            PeriodError::Closed => "stats_period_closed",
            PeriodError::UnexplainedIssues { .. } => "stats_unexplained_issues",
            PeriodError::AlreadySubmitted => "stats_already_submitted",
            PeriodError::AlreadyApproved => "stats_already_approved",
            PeriodError::NotSubmitted => "stats_not_submitted",
            PeriodError::CommentRequired => "stats_comment_required",
            PeriodError::TooLong => "stats_text_too_long",
            PeriodError::OutsideSubtree => "stats_outside_subtree",
        }
    }

    /// Values the message interpolates.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            PeriodError::UnexplainedIssues { count } => vec![("count", count.to_string())],
            PeriodError::Overlaps { other } => vec![("other", other.to_string())],
            PeriodError::TooLong => vec![("max", MAX_TEXT.to_string())],
            _ => vec![],
        }
    }
}

/// What an office asks for: which round of which school year, as at which date, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSpec {
    pub office: OrgPath,
    pub round: Round,
    /// First calendar year of the school year (2026 for 2026-2027).
    pub start_year: i32,
    pub reference_date: NaiveDate,
    pub opens_on: NaiveDate,
    pub deadline: NaiveDate,
}

/// An existing period, as far as the overlap rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPeriod {
    pub id: Uuid,
    pub office: OrgPath,
    pub round: Round,
    pub start_year: i32,
}

/// The reference date the regime sets for a round: 30/9 of the first year (beginning of year),
/// 31/5 of the second (end of year; TT 24/2018 value, TT 25/2024 UNCERTAIN). An office may set
/// another when it opens the period.
pub fn default_reference_date(round: Round, start_year: i32) -> NaiveDate {
    match round {
        Round::BeginningOfYear => NaiveDate::from_ymd_opt(start_year, 9, 30),
        Round::EndOfYear => NaiveDate::from_ymd_opt(start_year + 1, 5, 31),
    }
    .expect("constant dates exist")
}

/// The deadline the regime sets: 31/10 under TT 25/2024 for the beginning of year (30/10 under
/// TT 24/2018); 30/6 for the end of year (TT 24/2018; TT 25/2024 UNCERTAIN).
pub fn default_deadline(round: Round, start_year: i32) -> NaiveDate {
    match round {
        Round::BeginningOfYear => NaiveDate::from_ymd_opt(start_year, 10, 31),
        Round::EndOfYear => NaiveDate::from_ymd_opt(start_year + 1, 6, 30),
    }
    .expect("constant dates exist")
}

/// Checks a new period against the dates' order and the periods already open. Two periods
/// overlap when they are of the same round and school year and one office is in the other's
/// subtree (or they are the same office): a school would otherwise owe two submissions.
pub fn check_new(spec: &PeriodSpec, existing: &[ExistingPeriod]) -> Result<(), PeriodError> {
    if spec.deadline < spec.opens_on || spec.reference_date > spec.deadline {
        return Err(PeriodError::DatesOutOfOrder);
    }
    if let Some(p) = existing.iter().find(|p| {
        p.round == spec.round
            && p.start_year == spec.start_year
            && (p.office.is_within(&spec.office) || spec.office.is_within(&p.office))
    }) {
        return Err(PeriodError::Overlaps { other: p.id });
    }
    Ok(())
}

/// Where a school's submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not submitted yet (the school may be reviewing).
    Draft,
    Submitted,
    /// Sent back by the office with a comment; the school fixes and submits again.
    Returned,
    Approved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Approved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Approved => "approved",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A step of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The school submits; `unexplained` counts its data-quality errors that are neither fixed
    /// nor explained.
    Submit {
        unexplained: usize,
    },
    Approve,
    Return {
        comment: String,
    },
}

/// A text typed by a user: trimmed, NFC, bounded.
pub fn clean_text(s: &str) -> Result<String, PeriodError> {
    let t = crate::text::nfc(s.trim());
    if t.chars().count() > MAX_TEXT {
        return Err(PeriodError::TooLong);
    }
    Ok(t)
}

/// The status after a step, or why the step is refused. `closed` is the period's state.
pub fn apply(current: Status, step: &Step, closed: bool) -> Result<Status, PeriodError> {
    match (current, step) {
        (Status::Approved, _) => Err(PeriodError::AlreadyApproved),
        (_, Step::Submit { .. }) if closed => Err(PeriodError::Closed),
        (Status::Submitted, Step::Submit { .. }) => Err(PeriodError::AlreadySubmitted),
        (Status::Draft | Status::Returned, Step::Submit { unexplained }) => match unexplained {
            0 => Ok(Status::Submitted),
            n => Err(PeriodError::UnexplainedIssues { count: *n }),
        },
        (Status::Submitted, Step::Approve) => Ok(Status::Approved),
        (Status::Submitted, Step::Return { comment }) => {
            if clean_text(comment)?.is_empty() {
                Err(PeriodError::CommentRequired)
            } else {
                Ok(Status::Returned)
            }
        }
        (Status::Draft | Status::Returned, Step::Approve | Step::Return { .. }) => {
            Err(PeriodError::NotSubmitted)
        }
    }
}

/// Whether a submission made on `day` (a civil date in Vietnam) is late.
pub fn is_late(deadline: NaiveDate, day: NaiveDate) -> bool {
    day > deadline
}

/// How a period stands across its schools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub schools: u32,
    pub draft: u32,
    pub submitted: u32,
    pub returned: u32,
    pub approved: u32,
    /// Submitted (or approved) after the deadline, or still not in once it has passed.
    pub late: u32,
    /// Share of schools that have submitted or been approved, per mille.
    pub completeness_permille: u32,
}

/// Tallies the schools' statuses; `submitted_on` is the day of the latest submission.
pub fn progress(statuses: &[(Status, Option<NaiveDate>)], deadline: NaiveDate, today: NaiveDate) -> Progress {
    let mut p = Progress {
        schools: statuses.len() as u32,
        ..Progress::default()
    };
    for (status, submitted_on) in statuses {
        match status {
            Status::Draft => p.draft += 1,
            Status::Submitted => p.submitted += 1,
            Status::Returned => p.returned += 1,
            Status::Approved => p.approved += 1,
        }
        let late = match (status, submitted_on) {
            (Status::Submitted | Status::Approved, Some(day)) => is_late(deadline, *day),
            (Status::Draft | Status::Returned, _) => is_late(deadline, today),
            _ => false,
        };
        p.late += u32::from(late);
    }
    let done = u64::from(p.submitted + p.approved);
    p.completeness_permille = if p.schools == 0 {
        0
    } else {
        (done * 1000 / u64::from(p.schools)) as u32
    };
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn path(ids: &[u128]) -> OrgPath {
        let mut p = OrgPath::root(Uuid::from_u128(ids[0]));
        for id in &ids[1..] {
            p = p.child(Uuid::from_u128(*id));
        }
        p
    }

    fn spec(office: OrgPath) -> PeriodSpec {
        PeriodSpec {
            office,
            round: Round::BeginningOfYear,
            start_year: 2026,
            reference_date: default_reference_date(Round::BeginningOfYear, 2026),
            opens_on: d(2026, 10, 1),
            deadline: default_deadline(Round::BeginningOfYear, 2026),
        }
    }

    #[test]
    fn regime_dates() {
        assert_eq!(
            default_reference_date(Round::BeginningOfYear, 2026),
            d(2026, 9, 30)
        );
        assert_eq!(default_deadline(Round::BeginningOfYear, 2026), d(2026, 10, 31));
        assert_eq!(default_reference_date(Round::EndOfYear, 2026), d(2027, 5, 31));
        assert_eq!(default_deadline(Round::EndOfYear, 2026), d(2027, 6, 30));
    }

    #[test]
    fn periods_overlap_on_the_same_schools() {
        let province = path(&[1]);
        let commune = path(&[1, 2]);
        let other = path(&[3]);
        let existing = [ExistingPeriod {
            id: Uuid::from_u128(9),
            office: province.clone(),
            round: Round::BeginningOfYear,
            start_year: 2026,
        }];
        assert_eq!(
            check_new(&spec(province.clone()), &existing),
            Err(PeriodError::Overlaps {
                other: Uuid::from_u128(9)
            })
        );
        assert!(matches!(
            check_new(&spec(commune), &existing),
            Err(PeriodError::Overlaps { .. })
        ));
        assert_eq!(check_new(&spec(other), &existing), Ok(()));
        let mut next_year = spec(province.clone());
        next_year.start_year = 2027;
        assert_eq!(check_new(&next_year, &existing), Ok(()));
        let mut end = spec(province.clone());
        end.round = Round::EndOfYear;
        end.reference_date = default_reference_date(Round::EndOfYear, 2026);
        end.deadline = default_deadline(Round::EndOfYear, 2026);
        assert_eq!(check_new(&end, &existing), Ok(()));
        let mut reversed = spec(province);
        reversed.deadline = d(2026, 9, 1);
        assert_eq!(check_new(&reversed, &[]), Err(PeriodError::DatesOutOfOrder));
    }

    #[test]
    fn the_workflow() {
        use Status::*;
        let submit = |n| Step::Submit { unexplained: n };
        let ret = |c: &str| Step::Return { comment: c.into() };
        assert_eq!(
            apply(Draft, &submit(1), false),
            Err(PeriodError::UnexplainedIssues { count: 1 })
        );
        assert_eq!(apply(Draft, &submit(0), false), Ok(Submitted));
        assert_eq!(apply(Draft, &submit(0), true), Err(PeriodError::Closed));
        assert_eq!(
            apply(Submitted, &submit(0), false),
            Err(PeriodError::AlreadySubmitted)
        );
        assert_eq!(
            apply(Submitted, &ret("  "), false),
            Err(PeriodError::CommentRequired)
        );
        assert_eq!(apply(Submitted, &ret("Thiếu số liệu lớp 5"), false), Ok(Returned));
        assert_eq!(apply(Returned, &submit(0), false), Ok(Submitted));
        assert_eq!(apply(Submitted, &Step::Approve, false), Ok(Approved));
        assert_eq!(
            apply(Approved, &submit(0), false),
            Err(PeriodError::AlreadyApproved)
        );
        assert_eq!(
            apply(Approved, &ret("x"), false),
            Err(PeriodError::AlreadyApproved)
        );
        assert_eq!(
            apply(Draft, &Step::Approve, false),
            Err(PeriodError::NotSubmitted)
        );
        assert_eq!(apply(Returned, &ret("x"), false), Err(PeriodError::NotSubmitted));
        let long = "ă".repeat(MAX_TEXT + 1);
        assert_eq!(apply(Submitted, &ret(&long), false), Err(PeriodError::TooLong));
    }

    #[test]
    fn lateness_and_completeness() {
        let deadline = d(2026, 10, 31);
        let p = progress(
            &[
                (Status::Approved, Some(d(2026, 10, 20))),
                (Status::Submitted, Some(d(2026, 11, 2))),
                (Status::Returned, Some(d(2026, 10, 30))),
                (Status::Draft, None),
            ],
            deadline,
            d(2026, 11, 24),
        );
        assert_eq!(
            (p.schools, p.approved, p.submitted, p.returned, p.draft),
            (4, 1, 1, 1, 1)
        );
        // Late: the one submitted on 2/11 and the two not in after the deadline.
        assert_eq!(p.late, 3);
        assert_eq!(p.completeness_permille, 500);
        let early = progress(&[(Status::Draft, None)], deadline, d(2026, 10, 15));
        assert_eq!(early.late, 0);
        assert!(!is_late(deadline, deadline));
        assert!(is_late(deadline, d(2026, 11, 1)));
    }
}
