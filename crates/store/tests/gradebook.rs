//! The gradebook in the database, on both backends: sheets, cell writes with versions, refusals,
//! concurrent teachers, locks and deadlines, correction requests, the homeroom summaries and the
//! year results computed from what is stored.

use chrono::NaiveDate;
use truongso_core::DomainError;
use truongso_core::gradebook::compute::{Gap, Shown};
use truongso_core::gradebook::curriculum::Mode;
use truongso_core::gradebook::sheet::{self, Kind};
use truongso_core::gradebook::{Level, RuleConfig, RuleSet};
use truongso_core::org::OrgKind;
use truongso_store::gradebook::{
    self, CellStatus, CellWrite, ClassInfo, RosterEntry, SaveReport, StoredCell, SummaryWrite,
};
use truongso_store::{ActorRef, Error, Store, audit, both_backends, classes, demo, org, school_years};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn teacher_a() -> ActorRef {
    ActorRef::user(Uuid::from_u128(0xA), "gv.toan.a")
}

fn teacher_b() -> ActorRef {
    ActorRef::user(Uuid::from_u128(0xB), "gv.toan.b")
}

fn principal() -> ActorRef {
    ActorRef::user(Uuid::from_u128(0xC), "hieutruong")
}

/// A grade-6 class of the small demo's THCS school in 2026-2027, its current learners, and a
/// learner of another class of the same school.
struct Fixture {
    class: ClassInfo,
    learners: Vec<RosterEntry>,
    /// A class of another grade in the same school, and one of its learners.
    other_class: Uuid,
    outsider: Uuid,
}

async fn grade6(s: &Store) -> Fixture {
    let demo = demo::seed(s, &truongso_store::testing::cipher(), demo::DemoOptions::small(3))
        .await
        .unwrap();
    // The model school, the one the demo's principal leads.
    let school_name = &demo
        .accounts
        .iter()
        .find(|a| a.username == "hieutruong.thcs")
        .expect("the demo principal")
        .scope;
    let so = org::by_code(&s.db, "08").await.unwrap();
    let school = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| &u.name == school_name)
        .unwrap();
    assert_eq!(
        school.levels.as_ref().map(|l| l.to_stored()).as_deref(),
        Some("THCS")
    );
    let year = school_years::for_school(&s.db, school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|y| y.name == "2026-2027")
        .unwrap();
    let list = classes::list(&s.db, &[school.id], Some(year.id)).await.unwrap();
    let c6 = list.iter().find(|c| c.name == "6A1").expect("6A1");
    let other = list
        .iter()
        .find(|c| c.grade != 6 && c.learners > 0)
        .expect("another class");
    let class = gradebook::class_info(&s.db, c6.id).await.unwrap();
    assert_eq!((class.grade, class.rules), (6, RuleSet::Tt22_2021));
    assert_eq!(class.school_year, "2026-2027");
    let learners: Vec<RosterEntry> = gradebook::roster(&s.db, c6.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.current)
        .collect();
    assert!(learners.len() >= 3, "6A1 has {} learners", learners.len());
    let outsider = gradebook::roster(&s.db, other.id).await.unwrap()[0].learner_id;
    Fixture {
        class,
        learners,
        other_class: other.id,
        outsider,
    }
}

fn w(learner: Uuid, slot: &str, value: &str, version: i32) -> CellWrite {
    CellWrite {
        learner_id: learner,
        slot: slot.into(),
        value: Some(value.into()),
        version,
    }
}

async fn save(
    s: &Store,
    who: &ActorRef,
    f: &Fixture,
    subject: &str,
    term: u8,
    writes: &[CellWrite],
) -> SaveReport {
    gradebook::save_cells(&s.db, who, f.class.id, subject, term, writes, today())
        .await
        .unwrap()
}

fn saved(value: &str, version: i32) -> CellStatus {
    CellStatus::Saved {
        value: Some(value.into()),
        version,
    }
}

fn refused(code: &'static str, params: &[(&'static str, &str)]) -> CellStatus {
    CellStatus::Error {
        code,
        params: params.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn statuses(r: &SaveReport) -> Vec<CellStatus> {
    r.cells.iter().map(|c| c.status.clone()).collect()
}

/// One cell as the sheet shows it.
async fn cell(
    s: &Store,
    f: &Fixture,
    subject: &str,
    term: u8,
    learner: Uuid,
    slot: &str,
) -> Option<StoredCell> {
    let sheet = gradebook::sheet(&s.db, f.class.id, subject, term, today())
        .await
        .unwrap();
    sheet
        .rows
        .into_iter()
        .find(|r| r.learner.learner_id == learner)
        .expect("learner on the sheet")
        .cells
        .get(slot)
        .cloned()
}

async fn value(s: &Store, f: &Fixture, subject: &str, term: u8, learner: Uuid, slot: &str) -> Option<i32> {
    cell(s, f, subject, term, learner, slot)
        .await
        .and_then(|c| c.value)
}

async fn audits(s: &Store) -> u64 {
    audit::count(&s.db).await.unwrap()
}

fn json(v: &Option<String>) -> serde_json::Value {
    v.as_deref()
        .map(|t| serde_json::from_str(t).unwrap())
        .unwrap_or(serde_json::Value::Null)
}

/// The audit trail of one cell: (action, before, after).
async fn history(
    s: &Store,
    f: &Fixture,
    learner: Uuid,
    subject: &str,
    term: u8,
    slot: &str,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    gradebook::cell_history(&s.db, f.class.school_year_id, learner, subject, term, slot)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, json(&e.before), json(&e.after)))
        .collect()
}

/// Who wrote a cell last, from its trail.
async fn last_by(s: &Store, f: &Fixture, learner: Uuid, subject: &str, term: u8, slot: &str) -> String {
    gradebook::cell_history(&s.db, f.class.school_year_id, learner, subject, term, slot)
        .await
        .unwrap()
        .pop()
        .expect("a written cell")
        .actor_label
}

/// The TT 22 worked example (assessment.md §1.2): tx 7; 8.5; 9; 6 · gk 7.5 · ck 8 → 7.7.
fn worked_example(learner: Uuid) -> Vec<CellWrite> {
    [
        ("tx1", "7"),
        ("tx2", "8,5"),
        ("tx3", "9"),
        ("tx4", "6"),
        ("gk", "7.5"),
        ("ck", "8"),
    ]
    .iter()
    .map(|(slot, v)| w(learner, slot, v, 0))
    .collect()
}

both_backends!(sheet_has_columns_and_roster, |s: Store| async move {
    let f = grade6(&s).await;
    let sheet = gradebook::sheet(&s.db, f.class.id, "toan", 1, today())
        .await
        .unwrap();
    assert_eq!(sheet.subject.code, "toan");
    assert_eq!(sheet.term, 1);
    let slots: Vec<&str> = sheet.columns.iter().map(|c| c.slot.as_str()).collect();
    assert_eq!(slots, ["tx1", "tx2", "tx3", "tx4", "gk", "ck", "note"]);
    let (marks, note) = sheet.columns.split_at(6);
    assert!(marks.iter().all(|c| c.kind == Kind::Score && !c.optional));
    assert!(note[0].kind == Kind::Note && note[0].optional);
    let full_roster = gradebook::roster(&s.db, f.class.id).await.unwrap();
    let rows: Vec<Uuid> = sheet.rows.iter().map(|r| r.learner.learner_id).collect();
    assert_eq!(rows, full_roster.iter().map(|r| r.learner_id).collect::<Vec<_>>());
    for l in &f.learners {
        assert!(rows.contains(&l.learner_id));
    }
    assert!(!rows.contains(&f.outsider));
    assert!(
        sheet
            .rows
            .iter()
            .all(|r| r.cells.is_empty() && r.result.is_none())
    );
    assert!(!sheet.locks.all && sheet.locks.slots.is_empty());
    // Comment subjects take two regular assessments; term 0 holds the re-test.
    let plans = gradebook::class_subjects(&s.db, &f.class).await.unwrap();
    let gdtc = plans
        .iter()
        .find(|p| p.mode == Mode::Comment)
        .expect("a comment subject");
    let cols = sheet::columns(gdtc, 2, &RuleConfig::default());
    assert!(
        cols.iter()
            .all(|c| c.kind == Kind::Comment || c.kind == Kind::Note)
    );
    let slots: Vec<String> = cols.into_iter().map(|c| c.slot).collect();
    assert_eq!(slots, ["tx1", "tx2", "gk", "ck", "note"]);
    let retest = gradebook::sheet(&s.db, f.class.id, "toan", 0, today())
        .await
        .unwrap();
    assert_eq!(retest.columns.len(), 1);
    assert_eq!(retest.columns[0].slot, "retest");
    // A subject the grade does not have, a term that does not exist.
    match gradebook::sheet(&s.db, f.class.id, "vat_li", 1, today()).await {
        Err(Error::Invalid(e)) => {
            assert_eq!((e.field, e.error), ("subject", DomainError::SubjectNotInGrade))
        }
        other => panic!("{other:?}"),
    }
    match gradebook::sheet(&s.db, f.class.id, "toan", 3, today()).await {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("term", DomainError::UnknownTerm)),
        other => panic!("{other:?}"),
    }
    match gradebook::sheet(&s.db, Uuid::now_v7(), "toan", 1, today()).await {
        Err(Error::NotFound(m)) => assert_eq!(m.code, "unknown_class"),
        other => panic!("{other:?}"),
    }
});

both_backends!(a_column_is_saved_audited_and_computed, |s: Store| async move {
    let f = grade6(&s).await;
    let a = teacher_a();
    let before = audits(&s).await;
    // A whole column, typed with a decimal comma.
    let column: Vec<CellWrite> = f
        .learners
        .iter()
        .map(|l| w(l.learner_id, "tx2", "7,5", 0))
        .collect();
    let r = save(&s, &a, &f, "toan", 1, &column).await;
    assert_eq!(r.cells.len(), f.learners.len());
    assert!(statuses(&r).iter().all(|st| *st == saved("7.5", 1)), "{r:?}");
    assert_eq!(r.rows.len(), f.learners.len());
    assert!(r.rows.iter().all(|row| row.result.is_none()));
    assert_eq!(audits(&s).await, before + f.learners.len() as u64);
    let first = f.learners[0].learner_id;
    let c = cell(&s, &f, "toan", 1, first, "tx2").await.unwrap();
    assert_eq!((c.value, c.version), (Some(75), 1));
    assert_eq!(last_by(&s, &f, first, "toan", 1, "tx2").await, "gv.toan.a");
    let trail = history(&s, &f, first, "toan", 1, "tx2").await;
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].0, "mark.set");
    assert_eq!(trail[0].1, serde_json::Value::Null);
    assert_eq!(trail[0].2["value"], 75);
    assert_eq!(trail[0].2["shown"], "7.5");
    assert_eq!(trail[0].2["slot"], "tx2");
    assert_eq!(trail[0].2["subject"], "toan");
    assert_eq!(trail[0].2["term"], 1);
    assert_eq!(trail[0].2["learner_id"], first.to_string());
    assert_eq!(trail[0].2["class_id"], f.class.id.to_string());
    // The first learner's row completed with the worked example: 7.7, in the report and on
    // the sheet. tx2 is rewritten from 7.5 to 8.5 (version 1 → 2).
    let mut row = worked_example(first);
    row[1].version = 1;
    let r = save(&s, &a, &f, "toan", 1, &row).await;
    assert_eq!(
        statuses(&r),
        [
            saved("7.0", 1),
            saved("8.5", 2),
            saved("9.0", 1),
            saved("6.0", 1),
            saved("7.5", 1),
            saved("8.0", 1)
        ]
    );
    assert_eq!(r.rows.len(), 1);
    assert_eq!(
        (r.rows[0].learner_id, r.rows[0].result.as_deref()),
        (first, Some("7.7"))
    );
    let sheet = gradebook::sheet(&s.db, f.class.id, "toan", 1, today())
        .await
        .unwrap();
    let srow = sheet.rows.iter().find(|r| r.learner.learner_id == first).unwrap();
    assert_eq!(srow.result.as_deref(), Some("7.7"));
    assert_eq!(srow.cells.len(), 6);
    assert_eq!(srow.cells["tx2"].value, Some(85));
    assert!(
        sheet
            .rows
            .iter()
            .filter(|r| r.learner.learner_id != first)
            .all(|r| r.result.is_none())
    );
    // Term 2 is a separate sheet.
    let t2 = gradebook::sheet(&s.db, f.class.id, "toan", 2, today())
        .await
        .unwrap();
    assert!(t2.rows.iter().all(|r| r.cells.is_empty() && r.result.is_none()));
    let trail = history(&s, &f, first, "toan", 1, "tx2").await;
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].1, serde_json::json!({"value": 75, "shown": "7.5"}));
    assert_eq!(trail[1].2["value"], 85);

    // Saving the same values again writes nothing: no audit event, no new version, even with
    // the versions the screen showed before.
    let n = audits(&s).await;
    let r = save(&s, &a, &f, "toan", 1, &worked_example(first)).await;
    assert_eq!(statuses(&r)[1], saved("8.5", 2));
    assert_eq!(statuses(&r)[0], saved("7.0", 1));
    let r = save(&s, &teacher_b(), &f, "toan", 1, &column[1..]).await;
    assert!(statuses(&r).iter().all(|st| *st == saved("7.5", 1)));
    assert_eq!(audits(&s).await, n);
    let c = cell(&s, &f, "toan", 1, first, "tx2").await.unwrap();
    assert_eq!((c.value, c.version), (Some(85), 2));
    assert_eq!(last_by(&s, &f, first, "toan", 1, "tx2").await, "gv.toan.a");
    let second = f.learners[1].learner_id;
    let c = cell(&s, &f, "toan", 1, second, "tx2").await.unwrap();
    assert_eq!((c.value, c.version), (Some(75), 1));

    // Clearing a cell is a change (the result goes away); clearing it again is not; clearing a
    // cell never written writes nothing.
    let clear = |l: Uuid, slot: &str, version: i32| CellWrite {
        learner_id: l,
        slot: slot.into(),
        value: None,
        version,
    };
    let r = save(&s, &a, &f, "toan", 1, &[clear(first, "ck", 1)]).await;
    assert_eq!(
        statuses(&r),
        [CellStatus::Saved {
            value: None,
            version: 2
        }]
    );
    assert_eq!(r.rows[0].result, None);
    assert_eq!(audits(&s).await, n + 1);
    let r = save(
        &s,
        &a,
        &f,
        "toan",
        1,
        &[clear(first, "ck", 2), w(second, "ck", " ", 0)],
    )
    .await;
    assert_eq!(
        statuses(&r),
        [
            CellStatus::Saved {
                value: None,
                version: 2
            },
            CellStatus::Saved {
                value: None,
                version: 0
            }
        ]
    );
    assert_eq!(audits(&s).await, n + 1);
    assert_eq!(cell(&s, &f, "toan", 1, second, "ck").await, None);
    let trail = history(&s, &f, first, "toan", 1, "ck").await;
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].1, serde_json::json!({"value": 80, "shown": "8.0"}));
    assert_eq!(trail[1].2["value"], serde_json::Value::Null);
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});

both_backends!(refused_cells_leave_the_others_saved, |s: Store| async move {
    let f = grade6(&s).await;
    let a = teacher_a();
    let l: Vec<Uuid> = f.learners.iter().map(|r| r.learner_id).collect();
    let before = audits(&s).await;
    let r = save(
        &s,
        &a,
        &f,
        "toan",
        1,
        &[
            w(l[0], "tx1", "8", 0),
            w(l[1], "tx1", "11", 0),
            w(l[2], "tx1", "7.25", 0),
            w(l[2], "tx5", "7", 0),
            w(f.outsider, "tx1", "7", 0),
            w(l[0], "tx1", "9", 0),
            w(l[1], "gk", "abc", 0),
            w(l[1], "ck", "10", 0),
        ],
    )
    .await;
    assert_eq!(
        statuses(&r),
        [
            saved("8.0", 1),
            refused("out_of_range", &[("min", "0"), ("max", "10")]),
            refused("too_many_decimals", &[]),
            refused("too_many_marks", &[("max", "6")]),
            refused("learner_not_in_class", &[]),
            refused("duplicate_cell", &[]),
            refused("invalid_number", &[]),
            saved("10.0", 1),
        ]
    );
    // The outcomes name their cells, in the order sent.
    assert_eq!(r.cells[4].learner_id, f.outsider);
    assert_eq!(r.cells[3].slot, "tx5");
    assert_eq!(audits(&s).await, before + 2);
    assert_eq!(value(&s, &f, "toan", 1, l[0], "tx1").await, Some(80));
    assert_eq!(value(&s, &f, "toan", 1, l[1], "ck").await, Some(100));
    assert_eq!(cell(&s, &f, "toan", 1, l[1], "tx1").await, None);
    assert_eq!(cell(&s, &f, "toan", 1, l[2], "tx1").await, None);
    assert_eq!(cell(&s, &f, "toan", 1, l[1], "gk").await, None);
    // Nothing was written for the learner of the other class.
    assert!(
        gradebook::cell_history(&s.db, f.class.school_year_id, f.outsider, "toan", 1, "tx1")
            .await
            .unwrap()
            .is_empty()
    );
    // Comment subjects take Đ / CĐ only (term 2: the demo has filled term 1 up to mid-term).
    let plans = gradebook::class_subjects(&s.db, &f.class).await.unwrap();
    let comment = plans.iter().find(|p| p.mode == Mode::Comment).unwrap().code;
    let r = save(
        &s,
        &a,
        &f,
        comment,
        2,
        &[w(l[0], "tx1", "đ", 0), w(l[1], "tx1", "8", 0)],
    )
    .await;
    assert_eq!(statuses(&r), [saved("Đ", 1), refused("invalid_level", &[])]);
    assert_eq!(value(&s, &f, comment, 2, l[0], "tx1").await, Some(1));
    // Whole-request refusals: a subject the class does not learn, a term that does not exist.
    match gradebook::save_cells(
        &s.db,
        &a,
        f.class.id,
        "vat_li",
        1,
        &[w(l[0], "tx1", "8", 0)],
        today(),
    )
    .await
    {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("subject", DomainError::SubjectNotInGrade)),
        other => panic!("{other:?}"),
    }
    match gradebook::save_cells(
        &s.db,
        &a,
        f.class.id,
        "toan",
        5,
        &[w(l[0], "tx1", "8", 0)],
        today(),
    )
    .await
    {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("term", DomainError::UnknownTerm)),
        other => panic!("{other:?}"),
    }
    let too_many: Vec<CellWrite> = (0..=gradebook::MAX_CELLS)
        .map(|_| w(l[0], "tx1", "8", 0))
        .collect();
    assert!(matches!(
        gradebook::save_cells(&s.db, &a, f.class.id, "toan", 1, &too_many, today()).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(audits(&s).await, before + 3);
});

both_backends!(first_write_wins_second_is_told, |s: Store| async move {
    let f = grade6(&s).await;
    let (a, b) = (teacher_a(), teacher_b());
    let l = f.learners[0].learner_id;
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "gk", "6", 0)]).await;
    assert_eq!(statuses(&r), [saved("6.0", 1)]);
    // Both teachers load the sheet at version 1.
    let v = cell(&s, &f, "toan", 1, l, "gk").await.unwrap().version;
    assert_eq!(v, 1);
    let t0 = chrono::Utc::now() - chrono::Duration::milliseconds(1);
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "gk", "8", v)]).await;
    let t1 = chrono::Utc::now();
    assert_eq!(statuses(&r), [saved("8.0", 2)]);
    let n = audits(&s).await;
    let r = save(&s, &b, &f, "toan", 1, &[w(l, "gk", "9", v)]).await;
    let stored = cell(&s, &f, "toan", 1, l, "gk").await.unwrap();
    match &r.cells[0].status {
        CellStatus::Conflict {
            value,
            version,
            by,
            at,
        } => {
            assert_eq!(value.as_deref(), Some("8.0"));
            assert_eq!(*version, 2);
            assert_eq!(by, "gv.toan.a");
            // When A saved.
            assert!(t0 <= *at && *at <= t1, "{t0} {at} {t1}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(audits(&s).await, n);
    assert_eq!((stored.value, stored.version), (Some(80), 2));
    assert_eq!(last_by(&s, &f, l, "toan", 1, "gk").await, "gv.toan.a");
    // B sees A's value and saves again over it, knowingly.
    let r = save(&s, &b, &f, "toan", 1, &[w(l, "gk", "9", 2)]).await;
    assert_eq!(statuses(&r), [saved("9.0", 3)]);
    let stored = cell(&s, &f, "toan", 1, l, "gk").await.unwrap();
    assert_eq!((stored.value, stored.version), (Some(90), 3));
    assert_eq!(last_by(&s, &f, l, "toan", 1, "gk").await, "gv.toan.b");
    let actions: Vec<(String, serde_json::Value)> = history(&s, &f, l, "toan", 1, "gk")
        .await
        .into_iter()
        .map(|(a, _, after)| (a, after["value"].clone()))
        .collect();
    assert_eq!(
        actions,
        [
            ("mark.set".to_string(), serde_json::json!(60)),
            ("mark.set".to_string(), serde_json::json!(80)),
            ("mark.set".to_string(), serde_json::json!(90)),
        ]
    );
    // A stale version that carries the value already there is no conflict: nothing to lose.
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "gk", "9", 1)]).await;
    assert_eq!(statuses(&r), [saved("9.0", 3)]);

    // Two first writes of a new cell (both saw version 0).
    let m = f.learners[1].learner_id;
    let r = save(&s, &a, &f, "toan", 1, &[w(m, "ck", "5", 0)]).await;
    assert_eq!(statuses(&r), [saved("5.0", 1)]);
    let r = save(&s, &b, &f, "toan", 1, &[w(m, "ck", "6", 0), w(m, "gk", "6", 0)]).await;
    assert!(
        matches!(&r.cells[0].status, CellStatus::Conflict { value: Some(v), version: 1, by, .. } if v == "5.0" && by == "gv.toan.a")
    );
    assert_eq!(r.cells[1].status, saved("6.0", 1));
    assert_eq!(value(&s, &f, "toan", 1, m, "ck").await, Some(50));

    // Teachers racing on one cell: exactly one write is accepted, every other is told whose
    // value stands; the versions never skip.
    let current = cell(&s, &f, "toan", 1, l, "gk").await.unwrap().version;
    let racers: Vec<_> = (0..6)
        .map(|k| {
            let s = s.clone();
            let class_id = f.class.id;
            tokio::spawn(async move {
                let who = ActorRef::user(Uuid::from_u128(0x100 + k), &format!("gv.{k}"));
                gradebook::save_cells(
                    &s.db,
                    &who,
                    class_id,
                    "toan",
                    1,
                    &[w(l, "gk", &format!("{}", k + 1), current)],
                    today(),
                )
                .await
            })
        })
        .collect();
    let mut won = vec![];
    let mut lost = 0;
    for (k, t) in racers.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(r) => match &r.cells[0].status {
                CellStatus::Saved { version, .. } => {
                    assert_eq!(*version, current + 1);
                    won.push(k);
                }
                CellStatus::Conflict { version, .. } => {
                    assert_eq!(*version, current + 1);
                    lost += 1;
                }
                other => panic!("{other:?}"),
            },
            Err(e) => panic!("racer {k}: {e:?}"),
        }
    }
    assert_eq!((won.len(), lost), (1, 5), "{won:?}");
    let stored = cell(&s, &f, "toan", 1, l, "gk").await.unwrap();
    assert_eq!(stored.version, current + 1);
    assert_eq!(stored.value, Some((won[0] as i32 + 1) * 10));
    assert_eq!(
        last_by(&s, &f, l, "toan", 1, "gk").await,
        format!("gv.{}", won[0])
    );
    assert_eq!(history(&s, &f, l, "toan", 1, "gk").await.len(), 4);

    // Racing on a cell nobody wrote yet: one is saved; the others are told of it, or (when
    // both inserted at once) the whole batch is refused for a retry. Never two rows.
    let m = f.learners[2].learner_id;
    let racers: Vec<_> = (0..6)
        .map(|k| {
            let s = s.clone();
            let class_id = f.class.id;
            tokio::spawn(async move {
                let who = ActorRef::user(Uuid::from_u128(0x200 + k), &format!("gv.{k}"));
                let write = [w(m, "tx3", &format!("{}", k + 1), 0)];
                gradebook::save_cells(&s.db, &who, class_id, "toan", 1, &write, today()).await
            })
        })
        .collect();
    let mut won = vec![];
    for (k, t) in racers.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(r) => match &r.cells[0].status {
                CellStatus::Saved { version: 1, .. } => won.push(k),
                CellStatus::Conflict { version: 1, .. } => {}
                other => panic!("{other:?}"),
            },
            Err(Error::Conflict(msg)) => assert_eq!(msg.code, "mark_concurrent_insert"),
            Err(e) => panic!("racer {k}: {e:?}"),
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let stored = cell(&s, &f, "toan", 1, m, "tx3").await.unwrap();
    assert_eq!(
        (stored.value, stored.version),
        (Some((won[0] as i32 + 1) * 10), 1)
    );
    assert_eq!(history(&s, &f, m, "toan", 1, "tx3").await.len(), 1);
});

both_backends!(a_learner_who_left_keeps_marks_read_only, |s: Store| async move {
    let f = grade6(&s).await;
    let a = teacher_a();
    let l = f.learners[0].learner_id;
    save(&s, &a, &f, "toan", 1, &[w(l, "tx1", "6", 0)]).await;
    classes::enrol(
        &s.db,
        &ActorRef::system("test"),
        l,
        f.other_class,
        today(),
        "moved",
    )
    .await
    .unwrap();
    // Still on the old sheet with the marks, no longer current.
    let sheet = gradebook::sheet(&s.db, f.class.id, "toan", 1, today())
        .await
        .unwrap();
    let row = sheet.rows.iter().find(|r| r.learner.learner_id == l).unwrap();
    assert!(!row.learner.current);
    assert_eq!(row.cells["tx1"].value, Some(60));
    // The old class can no longer change them.
    let n = audits(&s).await;
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "tx1", "9", 1), w(l, "tx2", "9", 0)]).await;
    assert_eq!(
        statuses(&r),
        [
            refused("learner_not_in_class", &[]),
            refused("learner_not_in_class", &[])
        ]
    );
    assert_eq!(audits(&s).await, n);
    assert_eq!(value(&s, &f, "toan", 1, l, "tx1").await, Some(60));
    // The new class sees the year's marks and carries on.
    let other = gradebook::sheet(&s.db, f.other_class, "toan", 1, today())
        .await
        .unwrap();
    let row = other.rows.iter().find(|r| r.learner.learner_id == l).unwrap();
    assert!(row.learner.current);
    assert_eq!(row.cells["tx1"].value, Some(60));
    let write = [w(l, "tx1", "9", 1)];
    let r = gradebook::save_cells(&s.db, &a, f.other_class, "toan", 1, &write, today())
        .await
        .unwrap();
    assert_eq!(statuses(&r), [saved("9.0", 2)]);
    assert_eq!(value(&s, &f, "toan", 1, l, "tx1").await, Some(90));
    // The old class's results leave the learner out.
    let results = gradebook::compute_class(&s.db, &principal(), f.class.id)
        .await
        .unwrap();
    assert_eq!(results.len(), f.learners.len() - 1);
    assert!(results.iter().all(|r| r.learner_id != l));
});

both_backends!(locks_and_deadlines_close_columns, |s: Store| async move {
    let f = grade6(&s).await;
    let a = teacher_a();
    let year = f.class.school_year_id;
    let l = f.learners[0].learner_id;
    save(&s, &a, &f, "toan", 1, &[w(l, "tx1", "7", 0)]).await;
    // The leader locks all of term 1.
    let n = audits(&s).await;
    let d = gradebook::set_deadline(&s.db, &principal(), year, 1, "*", None, true)
        .await
        .unwrap();
    assert!(d.locked_at.is_some());
    assert_eq!(d.locked_by, principal().id);
    assert_eq!(d.school_id, f.class.school_id);
    assert_eq!(audits(&s).await, n + 1);
    let ev = audit::for_entity(&s.db, "gradebook_deadline", &d.id.to_string())
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].action, "gradebook.lock");
    assert_eq!(json(&ev[0].after)["locked"], true);
    let locks = gradebook::locks(&s.db, year, 1, today()).await.unwrap();
    assert!(locks.all && locks.is_locked("tx1") && locks.is_locked("ck"));
    assert!(
        !gradebook::locks(&s.db, year, 2, today())
            .await
            .unwrap()
            .is_locked("tx1")
    );
    let n = audits(&s).await;
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "tx1", "9", 1), w(l, "gk", "8", 0)]).await;
    assert_eq!(statuses(&r), [CellStatus::Locked, CellStatus::Locked]);
    assert_eq!(audits(&s).await, n);
    let c = cell(&s, &f, "toan", 1, l, "tx1").await.unwrap();
    assert_eq!((c.value, c.version), (Some(70), 1));
    assert_eq!(cell(&s, &f, "toan", 1, l, "gk").await, None);
    assert!(
        gradebook::sheet(&s.db, f.class.id, "toan", 1, today())
            .await
            .unwrap()
            .locks
            .all
    );
    // Term 2 stays open.
    let r = save(&s, &a, &f, "toan", 2, &[w(l, "tx1", "9", 0)]).await;
    assert_eq!(statuses(&r), [saved("9.0", 1)]);
    // Locking again keeps who locked it first and when, and writes nothing.
    let n = audits(&s).await;
    let again = gradebook::set_deadline(&s.db, &teacher_b(), year, 1, "*", None, true)
        .await
        .unwrap();
    assert_eq!(
        (again.id, again.locked_at, again.locked_by),
        (d.id, d.locked_at, d.locked_by)
    );
    assert_eq!(audits(&s).await, n);

    // Unlocking reopens the term.
    let open = gradebook::set_deadline(&s.db, &principal(), year, 1, "*", None, false)
        .await
        .unwrap();
    assert_eq!(open.id, d.id);
    assert!(open.locked_at.is_none() && open.locked_by.is_none());
    let ev = audit::for_entity(&s.db, "gradebook_deadline", &d.id.to_string())
        .await
        .unwrap();
    assert_eq!(ev.last().unwrap().action, "gradebook.deadline");
    assert_eq!(json(&ev.last().unwrap().before)["locked"], true);
    assert_eq!(json(&ev.last().unwrap().after)["locked"], false);
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "tx1", "9", 1)]).await;
    assert_eq!(statuses(&r), [saved("9.0", 2)]);

    // A deadline closes its column the day after; the other columns stay open.
    let yesterday = today().pred_opt().unwrap();
    gradebook::set_deadline(&s.db, &principal(), year, 1, "gk", Some(yesterday), false)
        .await
        .unwrap();
    gradebook::set_deadline(&s.db, &principal(), year, 1, "ck", Some(today()), false)
        .await
        .unwrap();
    let locks = gradebook::locks(&s.db, year, 1, today()).await.unwrap();
    assert!(!locks.all);
    assert_eq!(locks.slots.iter().map(String::as_str).collect::<Vec<_>>(), ["gk"]);
    let r = save(
        &s,
        &a,
        &f,
        "toan",
        1,
        &[w(l, "gk", "8", 0), w(l, "ck", "8", 0), w(l, "tx2", "8", 0)],
    )
    .await;
    assert_eq!(
        statuses(&r),
        [CellStatus::Locked, saved("8.0", 1), saved("8.0", 1)]
    );
    assert_eq!(cell(&s, &f, "toan", 1, l, "gk").await, None);
    // Tomorrow ck is past its deadline too.
    let tomorrow = today().succ_opt().unwrap();
    let r = gradebook::save_cells(&s.db, &a, f.class.id, "toan", 1, &[w(l, "ck", "9", 1)], tomorrow)
        .await
        .unwrap();
    assert_eq!(statuses(&r), [CellStatus::Locked]);
    // Moving the deadline reopens the column.
    gradebook::set_deadline(&s.db, &principal(), year, 1, "gk", None, false)
        .await
        .unwrap();
    let r = save(&s, &a, &f, "toan", 1, &[w(l, "gk", "8", 0)]).await;
    assert_eq!(statuses(&r), [saved("8.0", 1)]);
    let all = gradebook::deadlines(&s.db, year).await.unwrap();
    assert_eq!(
        all.iter().map(|d| (d.term, d.slot.as_str())).collect::<Vec<_>>(),
        [(1, "*"), (1, "ck"), (1, "gk")]
    );
    // Bad terms and slots are refused.
    match gradebook::set_deadline(&s.db, &principal(), year, 3, "*", None, true).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "term"),
        other => panic!("{other:?}"),
    }
    match gradebook::set_deadline(&s.db, &principal(), year, 1, "t x", None, true).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "slot"),
        other => panic!("{other:?}"),
    }
});

both_backends!(corrections_after_a_lock, |s: Store| async move {
    let f = grade6(&s).await;
    let a = teacher_a();
    let year = f.class.school_year_id;
    let (l, m) = (f.learners[0].learner_id, f.learners[1].learner_id);
    save(&s, &a, &f, "toan", 1, &[w(l, "ck", "6", 0), w(m, "ck", "7", 0)]).await;
    gradebook::set_deadline(&s.db, &principal(), year, 1, "*", None, true)
        .await
        .unwrap();
    assert_eq!(
        statuses(&save(&s, &a, &f, "toan", 1, &[w(l, "ck", "6,5", 1)]).await),
        [CellStatus::Locked]
    );
    let request = |learner: Uuid, v: &'static str, reason: &'static str| {
        let s = s.clone();
        let a = a.clone();
        let class_id = f.class.id;
        async move {
            gradebook::request_correction(&s.db, &a, class_id, "toan", 1, learner, "ck", Some(v), reason)
                .await
        }
    };
    let n = audits(&s).await;
    match request(l, "6,5", " sai ").await {
        Err(Error::Invalid(e)) => {
            assert_eq!((e.field, e.error), ("reason", DomainError::TooShort { min: 5 }))
        }
        other => panic!("{other:?}"),
    }
    match request(l, "6", "Nhập nhầm điểm").await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_no_change"),
        other => panic!("{other:?}"),
    }
    match request(l, "6.55", "Nhập nhầm điểm").await {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("value", DomainError::TooManyDecimals)),
        other => panic!("{other:?}"),
    }
    match request(f.outsider, "8", "Nhập nhầm điểm").await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "learner_not_in_class"),
        other => panic!("{other:?}"),
    }
    match gradebook::request_correction(
        &s.db,
        &a,
        f.class.id,
        "toan",
        1,
        l,
        "tx9",
        Some("8"),
        "Nhập nhầm điểm",
    )
    .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "slot"),
        other => panic!("{other:?}"),
    }
    assert_eq!(audits(&s).await, n);

    let c = request(l, "6,5", "  Nhập nhầm   điểm bài cuối kì ")
        .await
        .unwrap();
    assert_eq!(c.status, "pending");
    assert_eq!(
        (c.old_value.as_deref(), c.new_value.as_deref()),
        (Some("6.0"), Some("6.5"))
    );
    assert_eq!(c.reason, "Nhập nhầm điểm bài cuối kì");
    assert_eq!((c.class_id, c.class_name.as_str()), (f.class.id, "6A1"));
    assert_eq!(
        (c.learner_id, c.learner_name.as_str()),
        (l, f.learners[0].full_name.as_str())
    );
    assert_eq!((c.subject.as_str(), c.term, c.slot.as_str()), ("toan", 1, "ck"));
    assert_eq!(c.requested_by, "gv.toan.a");
    assert!(c.decided_by.is_none() && c.decided_at.is_none());
    assert_eq!(audits(&s).await, n + 1);
    let ev = audit::for_entity(&s.db, "mark_correction", &c.id.to_string())
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].action, "mark.correction_request");
    assert_eq!(json(&ev[0].after)["old"], 60);
    assert_eq!(json(&ev[0].after)["new"], 65);
    // The request changes nothing yet.
    assert_eq!(value(&s, &f, "toan", 1, l, "ck").await, Some(60));
    let pending = gradebook::corrections(&s.db, f.class.school_id, Some((f.class.id, "toan")), true)
        .await
        .unwrap();
    assert_eq!(pending, std::slice::from_ref(&c));

    // The principal approves: the value is written despite the lock.
    let d = gradebook::decide_correction(&s.db, &principal(), c.id, true, Some(" Đồng ý "), today())
        .await
        .unwrap();
    assert_eq!(d.status, "approved");
    assert_eq!(d.decided_by.as_deref(), Some("hieutruong"));
    assert_eq!(d.decision_note.as_deref(), Some("Đồng ý"));
    assert!(d.decided_at.is_some());
    assert_eq!(audits(&s).await, n + 3);
    let stored = cell(&s, &f, "toan", 1, l, "ck").await.unwrap();
    assert_eq!((stored.value, stored.version), (Some(65), 2));
    assert_eq!(last_by(&s, &f, l, "toan", 1, "ck").await, "hieutruong");
    assert!(gradebook::locks(&s.db, year, 1, today()).await.unwrap().all);
    let trail = history(&s, &f, l, "toan", 1, "ck").await;
    assert_eq!(
        trail.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(),
        ["mark.set", "mark.correction_apply"]
    );
    assert_eq!(trail[0].1, serde_json::Value::Null);
    assert_eq!(trail[0].2["value"], 60);
    assert_eq!(trail[1].1, serde_json::json!({"value": 60, "shown": "6.0"}));
    assert_eq!(trail[1].2["value"], 65);
    assert_eq!(trail[1].2["shown"], "6.5");
    let ev = audit::for_entity(&s.db, "mark_correction", &c.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        ev.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["mark.correction_request", "mark.correction_decide"]
    );
    assert_eq!(json(&ev[1].after)["status"], "approved");
    // A decision is final.
    for approve in [true, false] {
        match gradebook::decide_correction(&s.db, &principal(), c.id, approve, None, today()).await {
            Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_decided"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(value(&s, &f, "toan", 1, l, "ck").await, Some(65));
    assert!(
        gradebook::corrections(&s.db, f.class.school_id, None, true)
            .await
            .unwrap()
            .is_empty()
    );

    // The reject path leaves the value as it was.
    let c2 = request(m, "", "Học sinh vắng, chưa kiểm tra").await.unwrap();
    assert_eq!((c2.old_value.as_deref(), c2.new_value), (Some("7.0"), None));
    let n = audits(&s).await;
    let d2 = gradebook::decide_correction(&s.db, &principal(), c2.id, false, Some("Đã kiểm tra"), today())
        .await
        .unwrap();
    assert_eq!(d2.status, "rejected");
    assert_eq!(audits(&s).await, n + 1);
    let stored = cell(&s, &f, "toan", 1, m, "ck").await.unwrap();
    assert_eq!((stored.value, stored.version), (Some(70), 1));
    assert_eq!(history(&s, &f, m, "toan", 1, "ck").await.len(), 1);
    match gradebook::decide_correction(&s.db, &principal(), c2.id, true, None, today()).await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_decided"),
        other => panic!("{other:?}"),
    }
    let all = gradebook::corrections(&s.db, f.class.school_id, Some((f.class.id, "toan")), false)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|c| (c.id, c.status.as_str())).collect::<Vec<_>>(),
        [(c2.id, "rejected"), (c.id, "approved")]
    );

    // A request made against a value that moved since is not applied blindly.
    let c3 = request(m, "8", "Chấm lại bài kiểm tra").await.unwrap();
    let c4 = request(m, "9", "Phúc khảo bài kiểm tra").await.unwrap();
    gradebook::decide_correction(&s.db, &principal(), c3.id, true, None, today())
        .await
        .unwrap();
    assert_eq!(value(&s, &f, "toan", 1, m, "ck").await, Some(80));
    match gradebook::decide_correction(&s.db, &principal(), c4.id, true, None, today()).await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_stale"),
        other => panic!("{other:?}"),
    }
    assert_eq!(value(&s, &f, "toan", 1, m, "ck").await, Some(80));
    assert_eq!(
        gradebook::correction(&s.db, c4.id).await.unwrap().status,
        "pending"
    );
    match gradebook::decide_correction(&s.db, &principal(), Uuid::now_v7(), true, None, today()).await {
        Err(Error::NotFound(m)) => assert_eq!(m.code, "unknown_correction"),
        other => panic!("{other:?}"),
    }

    // Two leaders deciding one request at once: one decision stands, and the cell agrees with
    // it (approved and written, or rejected and untouched).
    let k = f.learners[2].learner_id;
    for round in 0..4 {
        let before = value(&s, &f, "toan", 1, k, "ck").await;
        let to = format!("{}", round + 5);
        let reason = "Chấm lại bài kiểm tra";
        let c = gradebook::request_correction(&s.db, &a, f.class.id, "toan", 1, k, "ck", Some(&to), reason)
            .await
            .unwrap();
        let deciders: Vec<_> = [true, false, true, false]
            .into_iter()
            .enumerate()
            .map(|(j, approve)| {
                let s = s.clone();
                tokio::spawn(async move {
                    let who = ActorRef::user(Uuid::from_u128(0x300 + j as u128), &format!("ph.{j}"));
                    gradebook::decide_correction(&s.db, &who, c.id, approve, None, today()).await
                })
            })
            .collect();
        let mut decided = vec![];
        for d in deciders {
            match d.await.unwrap() {
                Ok(d) => decided.push(d),
                Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_decided"),
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(decided.len(), 1);
        let stored = gradebook::correction(&s.db, c.id).await.unwrap();
        assert_eq!(stored.status, decided[0].status);
        let now = value(&s, &f, "toan", 1, k, "ck").await;
        if stored.status == "approved" {
            assert_eq!(now, Some((round + 5) * 10));
        } else {
            assert_eq!(now, before);
        }
        let decisions = audit::for_entity(&s.db, "mark_correction", &c.id.to_string())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "mark.correction_decide")
            .count();
        assert_eq!(decisions, 1);
    }
});

fn summary(learner: Uuid, conduct: &str, excused: i32, unexcused: i32) -> SummaryWrite {
    SummaryWrite {
        learner_id: learner,
        conduct: Some(conduct.into()),
        absences_excused: Some(excused),
        absences_unexcused: Some(unexcused),
        ..Default::default()
    }
}

both_backends!(summaries_are_checked_as_a_batch, |s: Store| async move {
    let f = grade6(&s).await;
    let gvcn = ActorRef::user(Uuid::from_u128(0xD), "gvcn.6a1");
    let (l, m) = (f.learners[0].learner_id, f.learners[1].learner_id);
    let ids = [l, m];
    let n = audits(&s).await;
    let mut first = summary(l, "Khá", 2, 1);
    first.remark = Some("  Chăm chỉ,   tiến bộ ".into());
    let written = gradebook::save_summaries(
        &s.db,
        &gvcn,
        f.class.id,
        1,
        &[first.clone(), summary(m, "tốt", 0, 0)],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(written, 2);
    assert_eq!(audits(&s).await, n + 2);
    let sums = gradebook::summaries(&s.db, f.class.school_year_id, &ids)
        .await
        .unwrap();
    assert_eq!(sums.len(), 2);
    let sl = &sums[&(l, 1)];
    assert_eq!(sl.conduct, Some(Level::Kha));
    assert_eq!(
        (sl.absences_excused, sl.absences_unexcused, sl.absences()),
        (2, 1, 3)
    );
    assert_eq!(sl.remark.as_deref(), Some("Chăm chỉ, tiến bộ"));
    assert_eq!(sums[&(m, 1)].conduct, Some(Level::Tot));
    // The same again writes nothing.
    let again = gradebook::save_summaries(
        &s.db,
        &gvcn,
        f.class.id,
        1,
        &[first.clone(), summary(m, "Tốt", 0, 0)],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(again, 0);
    assert_eq!(audits(&s).await, n + 2);

    // One bad level refuses the whole batch, naming the field; nothing is written.
    let errors = gradebook::save_summaries(
        &s.db,
        &gvcn,
        f.class.id,
        1,
        &[summary(l, "Tốt", 2, 1), summary(m, "Giỏi", 0, 0)],
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].learner_id, errors[0].field.as_str(), errors[0].code),
        (m, "conduct", "invalid_level")
    );
    let errors = gradebook::save_summaries(
        &s.db,
        &gvcn,
        f.class.id,
        1,
        &[summary(l, "Tốt", -1, 401), summary(f.outsider, "Tốt", 0, 0)],
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect::<Vec<_>>(),
        [
            ("absences_excused", "out_of_range"),
            ("absences_unexcused", "out_of_range"),
            ("learner_id", "learner_not_in_class")
        ]
    );
    assert_eq!(audits(&s).await, n + 2);
    let sums = gradebook::summaries(&s.db, f.class.school_year_id, &ids)
        .await
        .unwrap();
    assert_eq!(sums[&(l, 1)].conduct, Some(Level::Kha));
    assert_eq!(sums[&(l, 1)].absences(), 3);

    // A change is one audited event with before and after; term 2 is its own row.
    let written = gradebook::save_summaries(&s.db, &gvcn, f.class.id, 1, &[summary(l, "Tốt", 2, 1)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written, 1);
    let written = gradebook::save_summaries(&s.db, &gvcn, f.class.id, 2, &[summary(l, "Đạt", 0, 4)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written, 1);
    let sums = gradebook::summaries(&s.db, f.class.school_year_id, &ids)
        .await
        .unwrap();
    assert_eq!(sums[&(l, 1)].conduct, Some(Level::Tot));
    assert_eq!(sums[&(l, 2)].conduct, Some(Level::Dat));
    assert_eq!(sums[&(l, 2)].absences_unexcused, 4);
    let recent = audit::recent(&s.db, None, 2).await.unwrap();
    assert!(
        recent
            .iter()
            .all(|e| e.action == "gradebook.summary" && e.actor_label == "gvcn.6a1")
    );
    let changed = &recent[1];
    assert_eq!(json(&changed.before)["conduct"], "kha");
    assert_eq!(json(&changed.after)["values"]["conduct"], "tot");
    assert_eq!(json(&changed.after)["learner_id"], l.to_string());
    assert_eq!(json(&recent[0].before), serde_json::Value::Null);
    match gradebook::save_summaries(&s.db, &gvcn, f.class.id, 3, &[]).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "term"),
        other => panic!("{other:?}"),
    }
});

/// Fills every subject of the class for one learner in both terms: comment subjects Đ, toan
/// the worked examples (HK I 7.7, HK II 8.4, year 8.2), the first `nines` other scored subjects
/// 9 and the rest `rest`.
async fn fill_year(s: &Store, f: &Fixture, learner: Uuid, nines: usize, rest: &str) {
    let cfg = RuleConfig::default();
    let plans = gradebook::class_subjects(&s.db, &f.class).await.unwrap();
    let mut scored = 0;
    for plan in plans {
        let v = match plan.mode {
            Mode::Comment => "Đ",
            _ if plan.code == "toan" => "",
            _ => {
                scored += 1;
                if scored <= nines { "9" } else { rest }
            }
        };
        for term in 1..=2u8 {
            let mut writes: Vec<CellWrite> = if plan.code == "toan" && term == 1 {
                worked_example(learner)
            } else {
                sheet::columns(plan, term, &cfg)
                    .iter()
                    .map(|c| w(learner, &c.slot, if plan.code == "toan" { "8,4" } else { v }, 0))
                    .collect()
            };
            // The versions the teacher's screen shows (the demo has filled part of term 1).
            let on_screen = gradebook::sheet(&s.db, f.class.id, plan.code, term, today())
                .await
                .unwrap()
                .rows
                .into_iter()
                .find(|r| r.learner.learner_id == learner)
                .unwrap()
                .cells;
            for wr in &mut writes {
                wr.version = on_screen.get(&wr.slot).map_or(0, |c| c.version);
            }
            let r = save(s, &teacher_a(), f, plan.code, term, &writes).await;
            assert!(
                r.cells
                    .iter()
                    .all(|c| matches!(c.status, CellStatus::Saved { .. })),
                "{}: {r:?}",
                plan.code
            );
            assert!(r.rows[0].result.is_some(), "{} term {term}", plan.code);
        }
    }
}

both_backends!(year_results_follow_the_rules, |s: Store| async move {
    let f = grade6(&s).await;
    let gvcn = ActorRef::user(Uuid::from_u128(0xD), "gvcn.6a1");
    let good = f.learners[0].clone();
    let gaps = f.learners[1].clone();
    let absent = f.learners[2].clone();
    let plans = gradebook::class_subjects(&s.db, &f.class).await.unwrap();
    let codes: Vec<&str> = plans.iter().map(|p| p.code).collect();
    assert!(codes.contains(&"toan") && codes.contains(&"ngu_van"), "{codes:?}");
    let n_scored = plans.iter().filter(|p| p.mode == Mode::Score).count();
    assert!(n_scored >= 8, "{codes:?}");

    // Four subjects at 9.0, the others at 8.0 or more: Tốt, Học sinh Giỏi (not Xuất sắc).
    fill_year(&s, &f, good.learner_id, 4, "8").await;
    // Everything at 7: Khá; but 46 sessions absent.
    fill_year(&s, &f, absent.learner_id, 0, "7").await;
    // Only the first mark of mathematics.
    save(
        &s,
        &teacher_a(),
        &f,
        "toan",
        1,
        &[w(gaps.learner_id, "tx1", "5", 0)],
    )
    .await;
    for (term, rows) in [
        (
            1,
            vec![
                summary(good.learner_id, "Khá", 2, 0),
                summary(gaps.learner_id, "Tốt", 0, 0),
                summary(absent.learner_id, "Tốt", 20, 5),
            ],
        ),
        (
            2,
            vec![
                summary(good.learner_id, "Tốt", 0, 1),
                summary(gaps.learner_id, "Tốt", 0, 0),
                summary(absent.learner_id, "Tốt", 15, 6),
            ],
        ),
    ] {
        let written = gradebook::save_summaries(&s.db, &gvcn, f.class.id, term, &rows)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(written, 3);
    }

    let n = audits(&s).await;
    let results = gradebook::compute_class(&s.db, &principal(), f.class.id)
        .await
        .unwrap();
    assert_eq!(results.len(), f.learners.len());
    assert_eq!(audits(&s).await, n + f.learners.len() as u64);
    let of = |id: Uuid| results.iter().find(|r| r.learner_id == id).unwrap();

    let r = of(good.learner_id);
    assert_eq!(r.full_name, good.full_name);
    assert_eq!(r.rules, RuleSet::Tt22_2021);
    assert_eq!(
        (r.conduct_hk1, r.conduct_hk2),
        (Some(Level::Kha), Some(Level::Tot))
    );
    assert_eq!(r.absences, 3);
    assert_eq!(r.learning_year(), Some(Level::Tot));
    let sec = r.secondary.as_ref().unwrap();
    assert_eq!(sec.conduct_year, Some(Level::Tot));
    assert_eq!(sec.subjects.len(), plans.len());
    let toan = sec.subjects.iter().find(|v| v.subject == "toan").unwrap();
    let shown = |v: &Shown| match v {
        Shown::Value(t) => t.clone(),
        Shown::Gap(g) => panic!("{g:?}"),
    };
    assert_eq!(
        (
            shown(&toan.hk1),
            shown(&toan.hk2),
            shown(&toan.year),
            toan.regular_count
        ),
        ("7.7".into(), "8.4".into(), "8.2".into(), 4)
    );
    assert!(sec.subjects.iter().all(|v| matches!(&v.year, Shown::Value(_))));
    assert_eq!(r.decision(), Some("promoted"));
    assert_eq!(r.award(), Some("gioi"));
    let ye = sec.year_end.as_ref().unwrap();
    assert!(!ye.completes_level && ye.retest_subjects.is_empty());

    let r = of(absent.learner_id);
    assert_eq!(r.learning_year(), Some(Level::Kha));
    assert_eq!(r.secondary.as_ref().unwrap().conduct_year, Some(Level::Tot));
    assert_eq!(r.absences, 46);
    assert_eq!(r.decision(), Some("retained_absences"));
    assert_eq!(r.award(), None);

    // Missing marks: no learning level and no decision, and the computation does not fail.
    let r = of(gaps.learner_id);
    assert_eq!(r.learning_year(), None);
    assert_eq!(r.decision(), None);
    assert_eq!(r.award(), None);
    let sec = r.secondary.as_ref().unwrap();
    assert_eq!(sec.conduct_year, Some(Level::Tot));
    assert!(sec.learning.hk1.is_none() && sec.learning.year.is_none());
    let toan = sec.subjects.iter().find(|v| v.subject == "toan").unwrap();
    match &toan.hk1 {
        Shown::Gap(g) => assert_eq!(
            *g,
            Gap::Missing {
                term: 1,
                slot: "tx2".into()
            }
        ),
        other => panic!("{other:?}"),
    }

    // The stored snapshot.
    let stored = gradebook::class_results(&s.db, f.class.id).await.unwrap();
    assert_eq!(stored.len(), f.learners.len());
    let roster_order: Vec<Uuid> = f.learners.iter().map(|l| l.learner_id).collect();
    assert_eq!(
        stored.iter().map(|r| r.learner_id).collect::<Vec<_>>(),
        roster_order
    );
    let st = stored.iter().find(|r| r.learner_id == good.learner_id).unwrap();
    assert_eq!(st.rules, RuleSet::Tt22_2021);
    assert_eq!(st.learning.as_deref(), Some("tot"));
    assert_eq!(st.conduct.as_deref(), Some("tot"));
    assert_eq!(st.decision.as_deref(), Some("promoted"));
    assert_eq!(st.award.as_deref(), Some("gioi"));
    assert_eq!(
        st.data["secondary"]["subjects"].as_array().unwrap().len(),
        plans.len()
    );
    let st = stored.iter().find(|r| r.learner_id == gaps.learner_id).unwrap();
    assert_eq!((st.learning.as_deref(), st.decision.as_deref()), (None, None));
    let ev = audit::recent(&s.db, None, 1).await.unwrap();
    assert_eq!(ev[0].action, "gradebook.result");
    assert_eq!(ev[0].actor_label, "hieutruong");

    // Computing again with nothing changed writes nothing.
    let again = gradebook::compute_class(&s.db, &principal(), f.class.id)
        .await
        .unwrap();
    assert_eq!(again.len(), results.len());
    assert_eq!(audits(&s).await, n + f.learners.len() as u64);
    // One changed mark: one changed result, one event with the result before and after.
    let v = cell(&s, &f, "toan", 2, good.learner_id, "ck")
        .await
        .unwrap()
        .version;
    save(
        &s,
        &teacher_a(),
        &f,
        "toan",
        2,
        &[w(good.learner_id, "ck", "0", v)],
    )
    .await;
    let m = audits(&s).await;
    let third = gradebook::compute_class(&s.db, &principal(), f.class.id)
        .await
        .unwrap();
    assert_eq!(audits(&s).await, m + 1);
    let r = third.iter().find(|r| r.learner_id == good.learner_id).unwrap();
    // Toán HK II (4·8.4 + 2·8.4 + 0)/9 = 5.6, year (7.7 + 11.2)/3 = 6.3: under 6.5, so not Tốt;
    // Tốt with Toán at its best is only one level up, so no adjustment: Khá, no award.
    assert_eq!(r.learning_year(), Some(Level::Kha));
    assert_eq!(r.award(), None);
    let ev = audit::recent(&s.db, None, 1).await.unwrap();
    assert_eq!(ev[0].action, "gradebook.result");
    assert_eq!(json(&ev[0].before)["award"], "gioi");
    assert_eq!(json(&ev[0].after)["result"]["learning"], "kha");
    assert_eq!(json(&ev[0].after)["learner_id"], good.learner_id.to_string());
    // compute_learners is pure reading.
    let m = audits(&s).await;
    let pure = gradebook::compute_learners(&s.db, &f.class, std::slice::from_ref(&good))
        .await
        .unwrap();
    assert_eq!(pure[0].learning_year(), Some(Level::Kha));
    assert_eq!(audits(&s).await, m);
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});

both_backends!(
    the_demo_year_is_complete_and_feeds_the_rollover,
    |s: Store| async move {
        let f = grade6(&s).await;
        // Last year (2025-2026): the demo's classes hold stored results computed by the rules.
        let last = school_years::for_school(&s.db, f.class.school_id)
            .await
            .unwrap()
            .into_iter()
            .find(|y| y.name == "2025-2026")
            .unwrap();
        let old = classes::list(&s.db, &[f.class.school_id], Some(last.id))
            .await
            .unwrap();
        assert!(!old.is_empty(), "last year's classes");
        let mut stored = 0;
        for c in &old {
            let results = gradebook::class_results(&s.db, c.id).await.unwrap();
            let info = gradebook::class_info(&s.db, c.id).await.unwrap();
            let roster: Vec<RosterEntry> = gradebook::roster(&s.db, c.id).await.unwrap();
            // Recomputing from the stored marks gives the stored decisions.
            let fresh = gradebook::compute_learners(&s.db, &info, &roster).await.unwrap();
            for r in &results {
                let again = fresh.iter().find(|x| x.learner_id == r.learner_id).unwrap();
                assert_eq!(r.decision.as_deref(), again.decision(), "{}", r.full_name);
                assert!(r.decision.is_some(), "a complete year decides every learner");
            }
            stored += results.len();
        }
        assert!(stored > 0);
        // The year-end batch recomputes a past year too (everyone has moved on to this year's
        // classes): the same learners, nothing rewritten because nothing changed.
        let events = audit::count(&s.db).await.unwrap();
        let (_, learners) = gradebook::compute_year(&s.db, &ActorRef::system("test"), last.id)
            .await
            .unwrap();
        assert_eq!(learners, stored);
        assert_eq!(audit::count(&s.db).await.unwrap(), events);
        // The rollover reads them: promoted → promote, retained → repeat.
        let outcomes = gradebook::outcomes(&s.db, last.id).await.unwrap();
        assert_eq!(outcomes.len(), stored);
        for c in &old {
            for r in gradebook::class_results(&s.db, c.id).await.unwrap() {
                let want = match r.decision.as_deref() {
                    Some("promoted" | "completed") => truongso_core::classes::YearOutcome::Promote,
                    _ => truongso_core::classes::YearOutcome::Repeat,
                };
                assert_eq!(outcomes[&r.learner_id], want);
            }
        }
    }
);

both_backends!(comments_are_saved_beside_the_marks, |s: Store| async move {
    let f = grade6(&s).await;
    let l = f.learners[0].learner_id;
    let text = "  Tiến bộ rõ   ở phần hình học; cần cẩn thận khi tính toán. ";
    let r = gradebook::save_cells(
        &s.db,
        &teacher_a(),
        f.class.id,
        "toan",
        1,
        &[w(l, "note", text, 0)],
        today(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.cells[0].status,
        CellStatus::Saved {
            value: Some("Tiến bộ rõ ở phần hình học; cần cẩn thận khi tính toán.".into()),
            version: 1
        }
    );
    let sheet = gradebook::sheet(&s.db, f.class.id, "toan", 1, today())
        .await
        .unwrap();
    let row = sheet.rows.iter().find(|r| r.learner.learner_id == l).unwrap();
    let cell = &row.cells["note"];
    assert_eq!(
        (cell.text.as_deref(), cell.value, cell.version),
        (
            Some("Tiến bộ rõ ở phần hình học; cần cẩn thận khi tính toán."),
            None,
            1
        )
    );
    // A comment is not a mark: the term has no result from it alone.
    assert_eq!(row.result, None);
    // Too long a comment is refused; a correction request is for marks only.
    let long = "x".repeat(1001);
    let r = gradebook::save_cells(
        &s.db,
        &teacher_a(),
        f.class.id,
        "toan",
        1,
        &[w(l, "note", &long, 1)],
        today(),
    )
    .await
    .unwrap();
    assert!(matches!(
        r.cells[0].status,
        CellStatus::Error { code: "too_long", .. }
    ));
    match gradebook::request_correction(
        &s.db,
        &teacher_a(),
        f.class.id,
        "toan",
        1,
        l,
        "note",
        Some("khác"),
        "Ghi nhầm nhận xét",
    )
    .await
    {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "correction_not_for_notes"),
        other => panic!("{other:?}"),
    }
});
