//! Statistics on both databases, over the demo province: forms computed from the records as at
//! the reference date agree with counts taken independently from the tables, a unit's form is
//! the sum of its schools', a cell traces back to exactly its records, and the reporting period
//! refuses what the rules refuse and freezes and audits what it accepts.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;
use truongso_core::org::{OrgKind, SchoolLevel};
use truongso_core::stats::period::Step;
use truongso_core::stats::{FormValues, Round};
use truongso_store::entity::{class, class_enrolment, learner, school_year, stats_submission};
use truongso_store::stats::{self as st, Cut, NewPeriod};
use truongso_store::{ActorRef, Error, Store, audit, both_backends, demo, org};
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn conflict_code(e: Error) -> &'static str {
    match e {
        Error::Conflict(m) => m.code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Learners of a school in a grade range on the roll on a day, counted straight from the
/// enrolment and status tables (not through the fact loader).
async fn roll_count(s: &Store, school: Uuid, grades: std::ops::RangeInclusive<i32>, day: NaiveDate) -> u64 {
    let year = school_year::Entity::find()
        .filter(school_year::Column::SchoolId.eq(school))
        .filter(school_year::Column::StartYear.eq(2026))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    let classes: HashSet<Uuid> = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(year.id))
        .all(&s.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| grades.contains(&c.grade))
        .map(|c| c.id)
        .collect();
    let mut n = 0;
    for e in class_enrolment::Entity::find().all(&s.db).await.unwrap() {
        if classes.contains(&e.class_id) && e.from_date <= day && e.to_date.is_none_or(|t| t >= day) {
            n += 1;
        }
    }
    n
}

both_backends!(demo_forms_match_the_records_and_add_up, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    demo::seed(&s, &cipher, demo::DemoOptions::small(5))
        .await
        .unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    let day = d(2026, 9, 30);
    let forms = st::forms_of(Round::BeginningOfYear, d(2026, 11, 24), None);
    assert_eq!(forms.len(), 4, "one beginning-of-year form per level");
    let unit = st::unit_forms(&s.db, &cipher, &so, &forms, Cut::new(2026, day))
        .await
        .unwrap();
    // The unit's totals are the sum of its schools'.
    for (fi, form) in forms.iter().enumerate() {
        let mut sum = FormValues::empty(form);
        for school in &unit.schools {
            if let Some(v) = &school.values[fi] {
                sum.add(v);
            }
        }
        assert_eq!(sum, unit.totals[fi], "{}", form.id);
    }
    // Primary pupils on 30/9, against the tables: the schools teaching TH.
    let th = forms.iter().position(|f| f.level == SchoolLevel::TH).unwrap();
    let mut expected = 0;
    for school in &unit.schools {
        let u = org::get(&s.db, school.school_id).await.unwrap();
        if u.levels
            .as_ref()
            .is_some_and(|l| l.levels().contains(&SchoolLevel::TH))
        {
            expected += roll_count(&s, u.id, 1..=5, day).await;
        }
    }
    assert!(expected > 0);
    assert_eq!(unit.totals[th].cell("37", "total.all"), Some(expected));
    // Schools: as many as the schools teaching the level.
    let th_schools = unit.schools.iter().filter(|x| x.values[th].is_some()).count() as u64;
    assert_eq!(unit.totals[th].cell("1", "total"), Some(th_schools));

    // A pupil who left after 30/9 is still on the 30/9 roll, and off it the day after.
    let left = learner::Entity::find()
        .filter(learner::Column::Status.eq("05"))
        .all(&s.db)
        .await
        .unwrap();
    assert!(!left.is_empty(), "the demo has dropouts after 30/9");
    let one = &left[0];
    let school = org::get(&s.db, one.school_id).await.unwrap();
    let (facts, _) = st::school_forms(&s.db, &cipher, &school, &[], Cut::new(2026, day))
        .await
        .unwrap();
    let fact = facts.facts.iter().find(|f| f.id == Some(one.id)).unwrap();
    assert_eq!(fact.get("on_roll"), Some(&truongso_core::stats::Val::Bool(true)));
    let (later, _) = st::school_forms(&s.db, &cipher, &school, &[], Cut::new(2026, d(2026, 11, 1)))
        .await
        .unwrap();
    let fact = later.facts.iter().find(|f| f.id == Some(one.id)).unwrap();
    assert_eq!(fact.get("on_roll"), Some(&truongso_core::stats::Val::Bool(false)));
    assert_eq!(
        fact.get("dropped_out"),
        Some(&truongso_core::stats::Val::Bool(true))
    );

    // A school's cell traces to exactly its records, with their names.
    let model = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            u.levels
                .as_ref()
                .is_some_and(|l| l.levels() == [SchoolLevel::THCS])
        })
        .unwrap();
    let thcs = forms.iter().find(|f| f.level == SchoolLevel::THCS).unwrap();
    let (facts, values) = st::school_forms(
        &s.db,
        &cipher,
        &model,
        std::slice::from_ref(thcs),
        Cut::new(2026, day),
    )
    .await
    .unwrap();
    let total = thcs
        .sections
        .iter()
        .find(|x| x.entity == truongso_core::stats::Entity::Learner)
        .unwrap()
        .rows[0]
        .code
        .clone();
    let n = values[0].cell(&total, "total.nu").unwrap();
    assert!(n > 0);
    let rows = st::trace_cell(&s.db, thcs, &facts, &total, "total.nu")
        .await
        .unwrap();
    assert_eq!(rows.len() as u64, n);
    assert!(rows.iter().all(|r| r.entity == "learner" && !r.name.is_empty()));
    for r in &rows {
        let l = learner::Entity::find_by_id(r.id)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(l.sex, "female");
        assert_eq!(l.school_id, model.id);
    }
    assert!(matches!(
        st::trace_cell(&s.db, thcs, &facts, "nope", "total.all").await,
        Err(Error::NotFound(_))
    ));
});

both_backends!(a_reporting_period_runs_its_course, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    demo::seed(&s, &cipher, demo::DemoOptions::small(6))
        .await
        .unwrap();
    let who = ActorRef::system("test");
    let so = org::by_code(&s.db, "08").await.unwrap();
    let commune = org::in_subtree(&s.db, &so.path, Some(OrgKind::CommuneOffice))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.is_current())
        .unwrap();
    let new = |round, start_year| NewPeriod {
        round,
        start_year,
        reference_date: None,
        opens_on: d(2026, 10, 1),
        deadline: None,
        title: None,
    };
    // The demo's Sở period covers the commune's schools: a second one for them overlaps.
    let e = st::open_period(&s.db, &who, &commune, new(Round::BeginningOfYear, 2026))
        .await
        .unwrap_err();
    assert_eq!(conflict_code(e), "stats_period_overlaps");
    let mut reversed = new(Round::EndOfYear, 2026);
    reversed.deadline = Some(d(2026, 9, 1));
    assert_eq!(
        conflict_code(
            st::open_period(&s.db, &who, &commune, reversed)
                .await
                .unwrap_err()
        ),
        "stats_dates_out_of_order"
    );
    let period = st::open_period(&s.db, &who, &commune, new(Round::EndOfYear, 2026))
        .await
        .unwrap();
    assert_eq!(period.reference_date, d(2027, 5, 31));
    assert_eq!(period.deadline, d(2027, 6, 30));
    let today = d(2026, 11, 24);

    // A school outside the commune office's subtree is refused.
    let outside = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| !u.path.is_within(&commune.path))
        .unwrap();
    let forms = st::forms_of(Round::EndOfYear, today, None);
    assert_eq!(
        conflict_code(
            st::submit(&s.db, &cipher, &who, &period, &outside, &forms, &[])
                .await
                .unwrap_err()
        ),
        "stats_outside_subtree"
    );
    let school = st::submissions(&s.db, &period, today).await.unwrap()[0].clone();
    assert_eq!(school.status, "draft");
    let school = org::get(&s.db, school.school_id).await.unwrap();
    let forms = st::forms_of(Round::EndOfYear, today, school.levels.as_ref());

    // One data-quality error: refused until explained.
    let report = truongso_store::quality::school_report(
        &s.db,
        &cipher,
        school.id,
        &truongso_core::quality::QualityPolicy::default(),
        today,
    )
    .await
    .unwrap();
    let mut issues = report.issues.clone();
    if !issues
        .iter()
        .any(|i| i.severity == truongso_core::quality::Severity::Error)
    {
        // Make one: the demo school may be clean.
        issues.push(truongso_store::quality::IssueRow {
            rule: "missing_field".into(),
            severity: truongso_core::quality::Severity::Error,
            entity: truongso_core::quality::EntityKind::Learner,
            entity_id: Uuid::now_v7(),
            name: "Nguyễn Văn A".into(),
            href: "/learners/x".into(),
            finding: truongso_core::quality::Finding::MissingField { field: "ethnicity" },
        });
    }
    let errors: Vec<_> = issues
        .iter()
        .filter(|i| i.severity == truongso_core::quality::Severity::Error)
        .collect();
    let e = st::submit(&s.db, &cipher, &who, &period, &school, &forms, &issues)
        .await
        .unwrap_err();
    assert_eq!(conflict_code(e), "stats_unexplained_issues");
    for i in &errors {
        st::explain(
            &s.db,
            &who,
            &period,
            &school,
            &i.rule,
            i.entity_id,
            "Đã xác minh với gia đình",
        )
        .await
        .unwrap();
    }
    let sub = st::submit(&s.db, &cipher, &who, &period, &school, &forms, &issues)
        .await
        .unwrap();
    assert_eq!(sub.status, "submitted");
    let sha = sub.snapshot_sha256.clone().unwrap();
    assert_eq!(
        conflict_code(
            st::submit(&s.db, &cipher, &who, &period, &school, &forms, &issues)
                .await
                .unwrap_err()
        ),
        "stats_already_submitted"
    );
    // The snapshot is frozen: its hash is the hash of the stored JSON, and it holds the facts.
    let row = stats_submission::Entity::find()
        .filter(stats_submission::Column::PeriodId.eq(period.id))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(row.snapshot.as_deref().unwrap().as_bytes())),
        sha
    );
    let snap = st::snapshot(&s.db, period.id, school.id).await.unwrap().unwrap();
    assert_eq!(snap.forms.len(), forms.len());
    assert!(snap.facts.facts.iter().all(|f| f.id.is_some()));

    // Returned without a comment: refused; with one: returned, then resubmitted and approved.
    assert_eq!(
        conflict_code(
            st::decide(
                &s.db,
                &who,
                &period,
                &school,
                Step::Return { comment: " ".into() }
            )
            .await
            .unwrap_err()
        ),
        "stats_comment_required"
    );
    let back = st::decide(
        &s.db,
        &who,
        &period,
        &school,
        Step::Return {
            comment: "Đề nghị kiểm tra lại số học sinh bỏ học".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(back.status, "returned");
    assert_eq!(
        back.comment.as_deref(),
        Some("Đề nghị kiểm tra lại số học sinh bỏ học")
    );
    st::submit(&s.db, &cipher, &who, &period, &school, &forms, &issues)
        .await
        .unwrap();
    let ok = st::decide(&s.db, &who, &period, &school, Step::Approve)
        .await
        .unwrap();
    assert_eq!(ok.status, "approved");
    assert_eq!(
        conflict_code(
            st::submit(&s.db, &cipher, &who, &period, &school, &forms, &issues)
                .await
                .unwrap_err()
        ),
        "stats_already_approved"
    );
    assert_eq!(
        conflict_code(
            st::explain(
                &s.db,
                &who,
                &period,
                &school,
                "missing_field",
                Uuid::now_v7(),
                "x"
            )
            .await
            .unwrap_err()
        ),
        "stats_already_approved"
    );
    // What the office reports up is the approved snapshot.
    let (totals, n) = st::reported_totals(&s.db, &period, &forms, false).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(totals, snap.forms);
    // Every step is in the audit chain, which still verifies.
    let recent = audit::recent(&s.db, None, 50).await.unwrap();
    let actions: Vec<&str> = recent.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "stats.period.open",
        "stats.explain",
        "stats.submit",
        "stats.return",
        "stats.approve",
    ] {
        assert!(actions.contains(&a), "{a} audited");
    }
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});

both_backends!(
    preschool_nutrition_rows_count_the_latest_measured_checkups,
    |s: Store| async move {
        use truongso_core::health::BmiCategory as B;
        let cipher = truongso_store::testing::cipher();
        demo::seed(&s, &cipher, demo::DemoOptions::small(3))
            .await
            .unwrap();
        let so = org::by_code(&s.db, "08").await.unwrap();
        let preschool = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.levels.as_ref().is_some_and(|l| l.levels() == [SchoolLevel::MN]))
            .expect("a preschool");
        // As at today every check-up counts, as in the health page's summary of the same school.
        let today = truongso_store::now().date_naive();
        let forms = st::forms_of(Round::BeginningOfYear, today, preschool.levels.as_ref());
        let (_, values) = st::school_forms(&s.db, &cipher, &preschool, &forms, Cut::new(2026, today))
            .await
            .unwrap();
        let mn = &values[0];
        let summary = truongso_store::health::nutrition_summary(&s.db, &cipher, preschool.id)
            .await
            .unwrap();
        assert!(summary.measured > 0, "the demo measures its children");
        let cell = |row: &str| mn.cell(row, "total.all").unwrap_or(0);
        assert_eq!(
            cell("107") + cell("112"),
            summary.measured - summary.unclassified,
            "checked = measured"
        );
        assert_eq!(
            cell("110") + cell("115"),
            summary.count(B::Thinness) + summary.count(B::SevereThinness),
            "wasted"
        );
        assert_eq!(
            cell("111") + cell("116"),
            summary.count(B::Overweight) + summary.count(B::Obesity),
            "overweight"
        );
        // Underweight and stunting are not computed from BMI: blank, never 0.
        for row in ["108", "109", "113", "114"] {
            assert_eq!(mn.cell(row, "total.all"), None, "row {row}");
        }
    }
);

both_backends!(
    preschools_are_split_by_the_groups_they_run,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        demo::seed(&s, &cipher, demo::DemoOptions::small(4))
            .await
            .unwrap();
        let so = org::by_code(&s.db, "08").await.unwrap();
        let day = d(2026, 9, 30);
        let forms = st::forms_of(Round::BeginningOfYear, day, None);
        let mn = forms.iter().position(|f| f.level == SchoolLevel::MN).unwrap();
        let unit = st::unit_forms(&s.db, &cipher, &so, &forms, Cut::new(2026, day))
            .await
            .unwrap();
        let v = &unit.totals[mn];
        let cell = |row: &str| v.cell(row, "total").or(v.cell(row, "total.all")).unwrap();
        // Independently: the schools' grade-16 and grade-17 classes of 2026-2027.
        let years: Vec<Uuid> = school_year::Entity::find()
            .filter(school_year::Column::StartYear.eq(2026))
            .all(&s.db)
            .await
            .unwrap()
            .into_iter()
            .map(|y| y.id)
            .collect();
        let mut kinds: std::collections::HashMap<Uuid, (bool, bool)> = Default::default();
        for c in class::Entity::find()
            .filter(class::Column::SchoolYearId.is_in(years))
            .all(&s.db)
            .await
            .unwrap()
        {
            let k = kinds.entry(c.school_id).or_default();
            k.0 |= c.grade == 16;
            k.1 |= c.grade == 17;
        }
        let count = |want: (bool, bool)| kinds.values().filter(|k| **k == want).count() as u64;
        assert!(
            count((true, true)) + count((false, true)) > 0,
            "the demo runs preschools"
        );
        assert_eq!(cell("2"), count((true, false)), "nhà trẻ");
        assert_eq!(cell("15"), count((false, true)), "mẫu giáo");
        assert_eq!(cell("33"), count((true, true)), "mầm non");
        assert_eq!(cell("3") + cell("6"), cell("2"), "nhà trẻ by region band");
        assert_eq!(cell("34") + cell("37"), cell("33"), "mầm non by region band");
        // Every preschool has a kind, so its managers and support staff fall in one block.
        assert_eq!(cell("124") + cell("139"), cell("123"), "managers");
        assert_eq!(cell("157") + cell("162"), cell("156"), "support staff");
        // Teachers by the group they lead: never more than the teachers.
        assert!(cell("168") + cell("181") <= cell("167"));
        assert!(cell("181") > 0, "homeroom teachers of kindergarten classes");
        // Every group with children is in exactly one band-and-size row or a multigrade row.
        let sum = |rows: std::ops::RangeInclusive<u32>| rows.map(|r| cell(&r.to_string())).sum::<u64>();
        assert!(cell("69") > 0);
        assert_eq!(sum(61..=68), cell("56"), "nursery groups");
        assert_eq!(sum(75..=82), cell("69"), "kindergarten classes");
    }
);
