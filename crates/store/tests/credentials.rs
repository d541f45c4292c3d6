//! Học bạ records from the stored year results, and the life of a document: signed in turn,
//! issued, superseded by a correction, revoked, copied; diplomas found by the public lookup.

use chrono::{NaiveDate, Utc};
use truongso_core::credentials::record::{self, Record, YearResults};
use truongso_core::credentials::{DocKind, canonical};
use truongso_core::org::OrgKind;
use truongso_store::credentials::{self, DiplomaKeys, HOC_BA_ROLES, NewDoc, SignatureStep};
use truongso_store::crypto::FieldCipher;
use truongso_store::{ActorRef, Error, Store, audit, both_backends, demo, org, school_years};
use uuid::Uuid;

fn clerk() -> ActorRef {
    ActorRef::user(Uuid::from_u128(0xD), "vanthu")
}

/// Last year's classes of the demo's model THCS school and of one primary school.
async fn last_year_classes(s: &Store, cipher: &FieldCipher, levels: &str) -> Vec<Uuid> {
    let d = demo::seed(s, cipher, demo::DemoOptions::small(3)).await.unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    let wanted_name = &d
        .accounts
        .iter()
        .find(|a| a.username == "hieutruong.thcs")
        .unwrap()
        .scope;
    let school = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            u.levels.as_ref().map(|l| l.to_stored()).as_deref() == Some(levels)
                && (levels != "THCS" || &u.name == wanted_name)
        })
        .unwrap();
    let year = school_years::for_school(&s.db, school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|y| y.name == "2025-2026")
        .unwrap();
    credentials::classes_with_results(&s.db, school.id, year.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0u8;
    move || {
        n += 1;
        record::doc_id(DocKind::HocBa, [n, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
}

both_backends!(
    secondary_records_come_from_the_stored_results,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let classes = last_year_classes(&s, &cipher, "THCS").await;
        let class = classes[0];
        let on = NaiveDate::from_ymd_opt(2026, 5, 31).unwrap();
        let records = credentials::hoc_ba_records(&s.db, &cipher, class, on, ids())
            .await
            .unwrap();
        let stored = truongso_store::gradebook::class_results(&s.db, class)
            .await
            .unwrap();
        assert_eq!(records.len(), stored.len());
        assert!(!records.is_empty());
        for ((learner, r), st) in records.iter().zip(&stored) {
            assert_eq!(*learner, st.learner_id);
            assert_eq!(r.learner.full_name, st.full_name);
            assert_eq!(r.school_year, "2025-2026");
            assert_eq!(r.issued_on, "2026-05-31");
            assert_eq!(r.rules, "tt22_2021");
            assert!(r.learner.sex == "nam" || r.learner.sex == "nu");
            assert!(
                r.issuer
                    .parents
                    .iter()
                    .any(|p| p.starts_with("Sở Giáo dục và Đào tạo"))
            );
            assert!(!r.issuer.place.is_empty() && !r.issuer.place.starts_with("Sở"));
            let YearResults::Secondary(y) = &r.results else {
                panic!("a THCS record is secondary")
            };
            // The decision printed is the one stored; every subject carries its name.
            let want = match st.decision.as_deref() {
                Some("retained") => y.decision.as_deref().filter(|d| d.starts_with("retained")),
                other => other,
            };
            assert_eq!(y.decision.as_deref(), want);
            assert!(y.subjects.len() >= 10, "{} subjects", y.subjects.len());
            let toan = y.subjects.iter().find(|x| x.code == "toan").unwrap();
            assert_eq!(toan.name, "Toán");
            let year = toan.year.as_deref().unwrap();
            assert!(year.contains('.') && year.len() <= 4, "a mark like 7.7: {year}");
            assert_eq!(y.learning.year.as_deref(), st.learning.as_deref());
            // Comment subjects read D / CD, never the printed Đ / CĐ.
            for x in &y.subjects {
                for v in [&x.hk1, &x.hk2, &x.year].into_iter().flatten() {
                    assert!(
                        v == "D" || v == "CD" || v.parse::<f32>().is_ok(),
                        "{}: {v}",
                        x.code
                    );
                }
            }
            assert_eq!(y.conduct.year.as_deref(), st.conduct.as_deref());
            // Canonical bytes read back as the same record.
            let bytes = r.canonical().unwrap();
            assert!(canonical::require_canonical(&bytes).is_ok());
            assert_eq!(Record::parse(&bytes).unwrap(), Record::HocBa(Box::new(r.clone())));
        }
        let ids: std::collections::HashSet<_> = records.iter().map(|(_, r)| r.doc_id.clone()).collect();
        assert_eq!(ids.len(), records.len(), "one id per document");
    }
);

both_backends!(
    primary_records_carry_qualities_and_competencies,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let classes = last_year_classes(&s, &cipher, "TH").await;
        let on = NaiveDate::from_ymd_opt(2026, 5, 31).unwrap();
        let mut seen = 0;
        for class in classes {
            let records = credentials::hoc_ba_records(&s.db, &cipher, class, on, ids())
                .await
                .unwrap();
            for (_, r) in records {
                let YearResults::Primary(p) = &r.results else {
                    panic!("a primary record")
                };
                assert_eq!(r.rules, "tt27_2020");
                assert_eq!(p.qualities.len(), 5);
                assert_eq!(p.competencies.len(), 10);
                assert_eq!(p.qualities[0].name, "Yêu nước");
                assert!(
                    matches!(p.evaluation.as_deref(), Some("htxs" | "htt" | "ht" | "cht")),
                    "{:?}",
                    p.evaluation
                );
                assert!(
                    p.subjects
                        .iter()
                        .any(|x| x.code == "tieng_viet" && x.level.is_some())
                );
                seen += 1;
            }
        }
        assert!(seen > 0);
    }
);

fn step(role: &str) -> SignatureStep {
    SignatureStep {
        role: role.into(),
        signer: format!("người ký {role}"),
        user_id: None,
        cert_sha256: "ab".repeat(32),
        at: Utc::now(),
    }
}

both_backends!(
    a_document_is_signed_in_turn_issued_corrected_revoked_and_copied,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let class = last_year_classes(&s, &cipher, "THCS").await[0];
        let school = truongso_store::gradebook::class_info(&s.db, class)
            .await
            .unwrap()
            .school_id;
        let new = |doc_id: &'static str, corrects| NewDoc {
            doc_id,
            kind: DocKind::HocBa,
            issuer_id: school,
            learner_id: None,
            school_year_id: None,
            class_id: Some(class),
            record: br#"{"a":1}"#,
            pdf: b"%PDF-1.7 unsigned",
            first_role: "gvcn",
            corrects,
            diploma: None,
        };
        let d = credentials::create(&s.db, &clerk(), new("HB-0000000000000001", None))
            .await
            .unwrap();
        assert_eq!(
            (d.status.as_str(), d.next_role.as_deref()),
            ("signing", Some("gvcn"))
        );
        // The principal cannot sign before the homeroom teacher.
        let e = credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d.version,
            step("hieu_truong"),
            b"x",
            &HOC_BA_ROLES,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Conflict(m) if m.code == "credential_not_awaiting"));
        let d1 = credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d.version,
            step("gvcn"),
            b"pdf1",
            &HOC_BA_ROLES,
        )
        .await
        .unwrap();
        assert_eq!(d1.next_role.as_deref(), Some("hieu_truong"));
        // A stale version (someone signed in between) is refused.
        let e = credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d.version,
            step("hieu_truong"),
            b"x",
            &HOC_BA_ROLES,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Conflict(m) if m.code == "credential_changed"));
        // Not issuable until every role signed.
        let e = credentials::mark_issued(&s.db, &clerk(), d.id, 0, "cd")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(m) if m.code == "credential_not_signed"));
        let d2 = credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d1.version,
            step("hieu_truong"),
            b"pdf2",
            &HOC_BA_ROLES,
        )
        .await
        .unwrap();
        let d3 = credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d2.version,
            step("con_dau"),
            b"pdf3",
            &HOC_BA_ROLES,
        )
        .await
        .unwrap();
        assert_eq!(d3.next_role, None);
        assert_eq!(
            d3.signatures.iter().map(|x| x.role.as_str()).collect::<Vec<_>>(),
            HOC_BA_ROLES
        );
        assert_eq!(credentials::files(&s.db, d.id).await.unwrap().0, b"pdf3");
        let issued = credentials::mark_issued(&s.db, &clerk(), d.id, 0, &"cd".repeat(32))
            .await
            .unwrap();
        assert_eq!((issued.status.as_str(), issued.leaf_index), ("issued", Some(0)));
        // A correction supersedes it once issued.
        let c = credentials::create(&s.db, &clerk(), new("HB-0000000000000002", Some(d.id)))
            .await
            .unwrap();
        let mut v = c.version;
        for role in HOC_BA_ROLES {
            v = credentials::record_signature(&s.db, &clerk(), c.id, v, step(role), b"pdf", &HOC_BA_ROLES)
                .await
                .unwrap()
                .version;
        }
        credentials::mark_issued(&s.db, &clerk(), c.id, 1, &"ef".repeat(32))
            .await
            .unwrap();
        assert_eq!(credentials::get(&s.db, d.id).await.unwrap().status, "superseded");
        // Revocation takes a reason code, never free text.
        let e = credentials::mark_revoked(&s.db, &clerk(), c.id, 2, "vì học sinh Nguyễn Văn A gian lận")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Invalid(_)));
        let r = credentials::mark_revoked(&s.db, &clerk(), c.id, 2, "fraud")
            .await
            .unwrap();
        assert_eq!(
            (r.status.as_str(), r.revoke_leaf, r.revoke_reason.as_deref()),
            ("revoked", Some(2), Some("fraud"))
        );
        let e = credentials::mark_revoked(&s.db, &clerk(), c.id, 3, "fraud")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(m) if m.code == "credential_not_issued"));
        // A copy handed out is recorded with its leaf.
        credentials::record_copy(
            &s.db,
            &clerk(),
            d.id,
            "extract",
            Some("Trường THPT  Chuyên"),
            &"11".repeat(32),
            4,
        )
        .await
        .unwrap();
        let copies = credentials::copies(&s.db, d.id).await.unwrap();
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].recipient.as_deref(), Some("Trường THPT Chuyên"));
        assert!(
            credentials::record_copy(&s.db, &clerk(), d.id, "gift", None, "x", 5)
                .await
                .is_err()
        );
        // Every step is in the audit chain, with before and after.
        let actions: Vec<String> = audit::recent(&s.db, None, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "credential.create",
            "credential.sign",
            "credential.issue",
            "credential.supersede",
            "credential.revoke",
            "credential.copy",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} audited");
        }
        assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
    }
);

both_backends!(
    the_diploma_lookup_needs_number_name_and_birth_date,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let class = last_year_classes(&s, &cipher, "THCS").await[0];
        let school = truongso_store::gradebook::class_info(&s.db, class)
            .await
            .unwrap()
            .school_id;
        let born = NaiveDate::from_ymd_opt(2008, 3, 14).unwrap();
        let d = credentials::create(
            &s.db,
            &clerk(),
            NewDoc {
                doc_id: "VB-0000000000000001",
                kind: DocKind::VanBang,
                issuer_id: school,
                learner_id: None,
                school_year_id: None,
                class_id: None,
                record: br#"{"b":2}"#,
                pdf: b"%PDF",
                first_role: "giam_doc_so",
                corrects: None,
                diploma: Some(DiplomaKeys {
                    serial: "B0123456",
                    register_no: "2026/001",
                    full_name: "Phạm Thị Thu Hà",
                    date_of_birth: born,
                }),
            },
        )
        .await
        .unwrap();
        // Not found while still being signed.
        assert!(
            credentials::find_diploma(&s.db, "B0123456", "Phạm Thị Thu Hà", born)
                .await
                .unwrap()
                .is_none()
        );
        credentials::record_signature(
            &s.db,
            &clerk(),
            d.id,
            d.version,
            step("giam_doc_so"),
            b"%PDF signed",
            &["giam_doc_so"],
        )
        .await
        .unwrap();
        credentials::mark_issued(&s.db, &clerk(), d.id, 0, &"aa".repeat(32))
            .await
            .unwrap();
        let found = credentials::find_diploma(&s.db, " b0123456 ", "PHAM THI THU HA", born)
            .await
            .unwrap();
        assert_eq!(found.map(|f| f.doc_id), Some("VB-0000000000000001".to_string()));
        assert!(
            credentials::find_diploma(&s.db, "B0123456", "Phạm Thị Thu", born)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            credentials::find_diploma(&s.db, "B0123456", "Phạm Thị Thu Hà", born.succ_opt().unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
);
