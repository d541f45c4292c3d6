//! Store conformance suite: every test runs on SQLite and on PostgreSQL.

use chrono::{Duration, NaiveDate};
use sea_orm::ConnectionTrait;
use truongso_core::audit::ChainBreak;
use truongso_core::auth::{Role, Scope};
use truongso_core::org::OrgKind;
use truongso_core::school_year::{SchoolYear, YearCalendar};
use truongso_store::accounts::{self, GrantSpec, NewUser};
use truongso_store::org::{self, NewOrgUnit};
use truongso_store::sessions::{self, LoginFailure};
use truongso_store::{ActorRef, Error, Store, audit, both_backends, school_years, tokens};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn sys() -> ActorRef {
    ActorRef::system("test")
}

fn unit(kind: &str, parent: Option<uuid::Uuid>, name: &str, code: Option<&str>) -> NewOrgUnit {
    NewOrgUnit {
        kind: kind.into(),
        parent_id: parent,
        name: name.into(),
        code: code.map(Into::into),
        levels: (kind == "school").then(|| "THCS".to_string()),
        valid_from: Some(d(2008, 1, 1)),
    }
}

struct Tree {
    so: org::OrgUnit,
    xa: org::OrgUnit,
    school: org::OrgUnit,
}

async fn tree(s: &Store) -> Tree {
    let so = org::create(
        &s.db,
        &sys(),
        unit("province_dept", None, "Sở GDĐT Tuyên Quang", Some("08")),
    )
    .await
    .unwrap();
    let xa = org::create(
        &s.db,
        &sys(),
        unit("commune_office", Some(so.id), "Phường Minh Xuân", Some("08001")),
    )
    .await
    .unwrap();
    let school = org::create(
        &s.db,
        &sys(),
        unit("school", Some(xa.id), "Trường THCS Nguyễn Du", Some("08001001")),
    )
    .await
    .unwrap();
    Tree { so, xa, school }
}

both_backends!(migrate_is_idempotent, |s: Store| async move {
    assert_eq!(s.migrate().await.unwrap(), 0, "a second run applies nothing");
    assert_eq!(s.migrate().await.unwrap(), 0);
    s.ping().await.unwrap();
});

both_backends!(org_tree_any_depth, |s: Store| async move {
    let t = tree(&s).await;
    let site = org::create(
        &s.db,
        &sys(),
        unit("satellite_site", Some(t.school.id), "Điểm trường Bản Khuôn", None),
    )
    .await
    .unwrap();
    assert_eq!(site.depth, 4);
    assert!(site.path.is_within(&t.so.path));
    assert_eq!(org::children(&s.db, t.xa.id).await.unwrap()[0].id, t.school.id);
    assert_eq!(
        org::in_subtree(&s.db, &t.so.path, Some(OrgKind::School))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(org::count_in_subtree(&s.db, &t.so.path, None).await.unwrap(), 4);
    let anc = org::ancestors(&s.db, &site).await.unwrap();
    assert_eq!(
        anc.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![t.so.id, t.xa.id, t.school.id]
    );
    // Vietnamese search folds case and diacritics on both databases.
    let found = org::search(&s.db, std::slice::from_ref(&t.so.path), "NGUYEN du", 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        org::search(&s.db, std::slice::from_ref(&t.so.path), "08001001", 10)
            .await
            .unwrap()[0]
            .id,
        t.school.id
    );
    assert_eq!(org::by_code(&s.db, "08001001").await.unwrap().id, t.school.id);
    assert!(
        matches!(org::by_code(&s.db, "99999").await, Err(Error::NotFound(m)) if m.code == "unknown_org_code")
    );
});

both_backends!(org_bad_input_changes_nothing, |s: Store| async move {
    let t = tree(&s).await;
    let before = audit::count(&s.db).await.unwrap();
    let cases = [
        (unit("school", None, "Trường mồ côi", None), "parent_id"),
        (
            unit("satellite_site", Some(t.xa.id), "Điểm trường sai chỗ", None),
            "parent_id",
        ),
        (unit("district", Some(t.so.id), "Không rõ loại", None), "kind"),
        (unit("school", Some(t.xa.id), "   ", None), "name"),
        (
            unit("school", Some(t.xa.id), "Mã hỏng", Some("mã trường")),
            "code",
        ),
        (
            NewOrgUnit {
                levels: None,
                ..unit("school", Some(t.xa.id), "Thiếu cấp học", None)
            },
            "levels",
        ),
    ];
    for (input, field) in cases {
        match org::create(&s.db, &sys(), input).await {
            Err(Error::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
    let dup = org::create(
        &s.db,
        &sys(),
        unit("school", Some(t.xa.id), "Trường trùng mã", Some("08001001")),
    )
    .await;
    assert!(matches!(dup, Err(Error::Conflict(m)) if m.code == "duplicate_org_code"));
    assert_eq!(org::count_in_subtree(&s.db, &t.so.path, None).await.unwrap(), 3);
    assert_eq!(
        audit::count(&s.db).await.unwrap(),
        before,
        "failed writes append nothing"
    );
});

both_backends!(reform_history_is_effective_dated, |s: Store| async move {
    let so = org::create(
        &s.db,
        &sys(),
        unit("province_dept", None, "Sở GDĐT Hà Giang", Some("02")),
    )
    .await
    .unwrap();
    let phong = org::create(
        &s.db,
        &sys(),
        unit(
            "district_office",
            Some(so.id),
            "Phòng GDĐT huyện Vị Xuyên",
            Some("02024"),
        ),
    )
    .await
    .unwrap();
    let school = org::create(
        &s.db,
        &sys(),
        unit("school", Some(phong.id), "Trường THCS Việt Lâm", None),
    )
    .await
    .unwrap();
    let reform = d(2025, 7, 1);
    let merged = org::rename(
        &s.db,
        &sys(),
        so.id,
        "Sở GDĐT Tuyên Quang",
        Some("08"),
        reform,
        None,
    )
    .await
    .unwrap();
    assert_eq!(merged.code.as_deref(), Some("08"));
    let xa = org::create(
        &s.db,
        &sys(),
        NewOrgUnit {
            valid_from: Some(reform),
            ..unit("commune_office", Some(so.id), "Xã Việt Lâm", None)
        },
    )
    .await
    .unwrap();
    // A unit with live children cannot be dissolved.
    assert!(
        matches!(org::dissolve(&s.db, &sys(), phong.id, reform).await, Err(Error::Conflict(m)) if m.code == "org_has_children")
    );
    let moved = org::move_to(
        &s.db,
        &sys(),
        school.id,
        xa.id,
        reform,
        Some("NQ 202/2025".into()),
    )
    .await
    .unwrap();
    assert!(moved.path.is_within(&xa.path));
    let gone = org::dissolve(&s.db, &sys(), phong.id, reform).await.unwrap();
    assert_eq!(gone.valid_to, Some(reform));
    let hist = org::versions(&s.db, school.id).await.unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0].parent_name.as_deref(), Some("Phòng GDĐT huyện Vị Xuyên"));
    assert_eq!(hist[0].valid_to, Some(reform));
    assert_eq!(hist[1].parent_id, Some(xa.id));
    let so_hist = org::versions(&s.db, so.id).await.unwrap();
    assert_eq!(so_hist[0].name, "Sở GDĐT Hà Giang");
    assert_eq!(so_hist[1].name, "Sở GDĐT Tuyên Quang");
    // Renaming from a date not after the version in force is refused.
    let back = org::rename(&s.db, &sys(), so.id, "Sở cũ", None, d(2025, 1, 1), None).await;
    assert!(matches!(back, Err(Error::Invalid(e)) if e.field == "valid_from"));
    // The old code no longer resolves; the new one does.
    assert!(org::by_code(&s.db, "02").await.is_err());
    assert_eq!(org::by_code(&s.db, "08").await.unwrap().id, so.id);
    // Cannot move a unit below itself.
    assert!(matches!(
        org::move_to(&s.db, &sys(), so.id, xa.id, d(2026, 1, 1), None).await,
        Err(Error::Conflict(_)) | Err(Error::Invalid(_))
    ));
});

both_backends!(school_years_and_terms, |s: Store| async move {
    let t = tree(&s).await;
    let y = SchoolYear::parse("2025-2026").unwrap();
    let row = school_years::create(&s.db, &sys(), t.school.id, &YearCalendar::typical(y))
        .await
        .unwrap();
    assert_eq!(row.terms.len(), 2);
    let dup = school_years::create(&s.db, &sys(), t.school.id, &YearCalendar::typical(y)).await;
    assert!(matches!(dup, Err(Error::Conflict(m)) if m.code == "duplicate_school_year"));
    let not_school = school_years::create(&s.db, &sys(), t.xa.id, &YearCalendar::typical(y)).await;
    assert!(matches!(not_school, Err(Error::Conflict(m)) if m.code == "not_a_school"));
    let cur = school_years::current(&s.db, t.school.id, d(2025, 11, 20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur.name, "2025-2026");
    assert_eq!(cur.terms[0].starts_on, d(2025, 9, 5));
    assert!(
        school_years::current(&s.db, t.school.id, d(2027, 1, 1))
            .await
            .unwrap()
            .is_none()
    );
});

fn new_user(owner: uuid::Uuid, username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: "Nguyễn Thị  Lan".into(),
        email: Some("Lan@Truong.edu.vn".into()),
        phone: Some("+84 912 345 678".into()),
        owner_org_id: owner,
        password: "Matkhau2025".into(),
    }
}

both_backends!(accounts_validate_and_normalise, |s: Store| async move {
    let t = tree(&s).await;
    let u = accounts::create_user(&s.db, &sys(), new_user(t.school.id, "GV.Lan"))
        .await
        .unwrap();
    assert_eq!(u.username, "gv.lan");
    assert_eq!(u.display_name, "Nguyễn Thị Lan");
    assert_eq!(u.email.as_deref(), Some("lan@truong.edu.vn"));
    assert_eq!(u.phone.as_deref(), Some("0912345678"));
    let dup = accounts::create_user(&s.db, &sys(), new_user(t.school.id, "gv.lan")).await;
    assert!(matches!(dup, Err(Error::Conflict(m)) if m.code == "duplicate_username"));
    for (mut input, field) in [
        (new_user(t.school.id, "x"), "username"),
        (new_user(t.school.id, "gv.b"), "password"),
        (new_user(t.school.id, "gv.c"), "email"),
        (new_user(t.school.id, "gv.d"), "phone"),
    ] {
        match field {
            "password" => input.password = "short".into(),
            "email" => input.email = Some("not-an-email".into()),
            "phone" => input.phone = Some("123".into()),
            _ => {}
        }
        assert!(
            matches!(accounts::create_user(&s.db, &sys(), input).await, Err(Error::Invalid(e)) if e.field == field)
        );
    }
    let (list, total) = accounts::list_users(&s.db, std::slice::from_ref(&t.xa.path), "lan", 50, 0)
        .await
        .unwrap();
    assert_eq!((list.len(), total), (1, 1));
    let (none, _) = accounts::list_users(&s.db, &[t.so.path.child(uuid::Uuid::now_v7())], "", 50, 0)
        .await
        .unwrap();
    assert!(none.is_empty());
});

both_backends!(login_lockout_and_sessions, |s: Store| async move {
    let t = tree(&s).await;
    let u = accounts::create_user(&s.db, &sys(), new_user(t.school.id, "gv.lan"))
        .await
        .unwrap();
    let ttl = Duration::hours(8);
    let ok = sessions::login(&s.db, "GV.LAN", "Matkhau2025", ttl)
        .await
        .unwrap()
        .unwrap();
    let info = sessions::lookup(&s.db, &ok.token, ttl).await.unwrap().unwrap();
    assert_eq!(info.user.id, u.id);
    assert!(sessions::lookup(&s.db, "forged", ttl).await.unwrap().is_none());
    for _ in 0..4 {
        assert_eq!(
            sessions::login(&s.db, "gv.lan", "sai", ttl)
                .await
                .unwrap()
                .unwrap_err(),
            LoginFailure::BadCredentials
        );
    }
    assert!(matches!(
        sessions::login(&s.db, "gv.lan", "sai", ttl).await.unwrap(),
        Err(LoginFailure::Locked { .. })
    ));
    // Even the right password is refused while locked.
    assert!(matches!(
        sessions::login(&s.db, "gv.lan", "Matkhau2025", ttl)
            .await
            .unwrap(),
        Err(LoginFailure::Locked { .. })
    ));
    accounts::unlock(&s.db, &sys(), u.id).await.unwrap();
    assert!(
        sessions::login(&s.db, "gv.lan", "Matkhau2025", ttl)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        sessions::login(&s.db, "nobody", "x", ttl)
            .await
            .unwrap()
            .unwrap_err(),
        LoginFailure::BadCredentials
    );
    // Disabling ends sessions and refuses logins.
    accounts::set_active(&s.db, &sys(), u.id, false).await.unwrap();
    assert!(sessions::lookup(&s.db, &ok.token, ttl).await.unwrap().is_none());
    assert_eq!(
        sessions::login(&s.db, "gv.lan", "Matkhau2025", ttl)
            .await
            .unwrap()
            .unwrap_err(),
        LoginFailure::Disabled
    );
    accounts::set_active(&s.db, &sys(), u.id, true).await.unwrap();
    // Changing one's password keeps the current session and ends the others.
    let a = sessions::login(&s.db, "gv.lan", "Matkhau2025", ttl)
        .await
        .unwrap()
        .unwrap();
    let b = sessions::login(&s.db, "gv.lan", "Matkhau2025", ttl)
        .await
        .unwrap()
        .unwrap();
    let a_info = sessions::lookup(&s.db, &a.token, ttl).await.unwrap().unwrap();
    let wrong = accounts::change_own_password(&s.db, u.id, "sai", "Moi2026abc", "Moi2026abc", None).await;
    assert!(matches!(wrong, Err(Error::Conflict(m)) if m.code == "wrong_current_password"));
    accounts::change_own_password(
        &s.db,
        u.id,
        "Matkhau2025",
        "Moi2026abc",
        "Moi2026abc",
        Some(&a_info.session_id),
    )
    .await
    .unwrap();
    assert!(sessions::lookup(&s.db, &a.token, ttl).await.unwrap().is_some());
    assert!(sessions::lookup(&s.db, &b.token, ttl).await.unwrap().is_none());
    sessions::logout(&s.db, &a_info).await.unwrap();
    assert!(sessions::lookup(&s.db, &a.token, ttl).await.unwrap().is_none());
    // Every failure was audited.
    let trail = audit::for_entity(&s.db, "user", &u.id.to_string()).await.unwrap();
    assert!(trail.iter().filter(|e| e.action == "auth.login_failed").count() >= 7);
    assert!(trail.iter().any(|e| e.action == "auth.locked"));
});

both_backends!(grants_resolve_against_data, |s: Store| async move {
    let t = tree(&s).await;
    let u = accounts::create_user(&s.db, &sys(), new_user(t.school.id, "gv.lan"))
        .await
        .unwrap();
    let spec = |role: &str, org| GrantSpec {
        role: role.into(),
        org_unit_id: org,
        ..Default::default()
    };
    let g = accounts::resolve_grant(&s.db, &spec("principal", t.school.id))
        .await
        .unwrap();
    assert_eq!(
        g.scope,
        Scope::School {
            school: t.school.path.clone()
        }
    );
    let row = accounts::grant(&s.db, &sys(), u.id, &g).await.unwrap();
    assert_eq!(row.role, Role::Principal);
    assert!(
        matches!(accounts::grant(&s.db, &sys(), u.id, &g).await, Err(Error::Conflict(m)) if m.code == "duplicate_grant")
    );
    // School roles need a school; subtree roles take any unit.
    assert!(
        matches!(accounts::resolve_grant(&s.db, &spec("principal", t.xa.id)).await, Err(Error::Conflict(m)) if m.code == "scope_needs_school")
    );
    assert!(
        accounts::resolve_grant(&s.db, &spec("officer", t.xa.id))
            .await
            .is_ok()
    );
    assert!(
        matches!(accounts::resolve_grant(&s.db, &spec("homeroom_teacher", t.school.id)).await, Err(Error::Invalid(e)) if e.field == "class_id")
    );
    assert!(
        matches!(accounts::resolve_grant(&s.db, &spec("king", t.school.id)).await, Err(Error::Invalid(e)) if e.field == "role")
    );
    let actor = accounts::actor_for(&s.db, u.id).await.unwrap();
    assert_eq!(actor.grants, vec![g]);
    accounts::revoke(&s.db, &sys(), row.id).await.unwrap();
    assert!(accounts::actor_for(&s.db, u.id).await.unwrap().grants.is_empty());
});

both_backends!(api_tokens, |s: Store| async move {
    let t = tree(&s).await;
    let u = accounts::create_user(&s.db, &sys(), new_user(t.school.id, "tich.hop"))
        .await
        .unwrap();
    let who = ActorRef::user(u.id, &u.username);
    let (row, secret) = tokens::create(&s.db, &who, u.id, "Hệ thống LMS", Some(30))
        .await
        .unwrap();
    assert!(secret.starts_with(&format!("ts_{}_", row.prefix)));
    let (owner, _, _) = tokens::authenticate(&s.db, &secret).await.unwrap().unwrap();
    assert_eq!(owner.id, u.id);
    assert!(
        tokens::authenticate(&s.db, "ts_nope_nope")
            .await
            .unwrap()
            .is_none()
    );
    tokens::revoke(&s.db, &who, u.id, row.id).await.unwrap();
    assert!(tokens::authenticate(&s.db, &secret).await.unwrap().is_none());
    assert!(tokens::list(&s.db, u.id).await.unwrap()[0].revoked_at.is_some());
});

both_backends!(audit_chain_catches_tampering, |s: Store| async move {
    let t = tree(&s).await;
    accounts::create_user(&s.db, &sys(), new_user(t.school.id, "gv.lan"))
        .await
        .unwrap();
    org::rename(
        &s.db,
        &sys(),
        t.school.id,
        "Trường THCS Nguyễn Du (mới)",
        None,
        d(2025, 7, 1),
        None,
    )
    .await
    .unwrap();
    let report = audit::verify(&s.db).await.unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(report.checked, 5);
    let ev = audit::recent(&s.db, None, 10).await.unwrap();
    assert_eq!(ev[0].seq, 5);
    assert_eq!(ev[0].action, "org.rename");

    // Edit one event's content directly in the table.
    s.db.execute_unprepared("UPDATE audit_events SET actor_label = 'kẻ gian' WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&s.db).await.unwrap().first_break,
        Some(ChainBreak::Edited { seq: 3 })
    );
    s.db.execute_unprepared("UPDATE audit_events SET actor_label = 'test' WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&s.db).await.unwrap().first_break,
        None,
        "restoring the text restores the chain"
    );

    // Reorder: swap the payloads of two events (keeping their seq numbers).
    let e2 = audit::for_entity(&s.db, "org_unit", &t.xa.id.to_string())
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(e2.seq, 2);
    s.db.execute_unprepared(&format!(
        "UPDATE audit_events SET entity_id = '{}' WHERE seq = 2",
        t.so.id
    ))
    .await
    .unwrap();
    assert_eq!(
        audit::verify(&s.db).await.unwrap().first_break,
        Some(ChainBreak::Edited { seq: 2 })
    );
    s.db.execute_unprepared(&format!(
        "UPDATE audit_events SET entity_id = '{}' WHERE seq = 2",
        t.xa.id
    ))
    .await
    .unwrap();

    // Remove an event in the middle, then the last one.
    s.db.execute_unprepared("DELETE FROM audit_events WHERE seq = 4")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&s.db).await.unwrap().first_break,
        Some(ChainBreak::Gap {
            expected: 4,
            found: 5
        })
    );
    s.db.execute_unprepared("DELETE FROM audit_events WHERE seq = 5")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&s.db).await.unwrap().first_break,
        Some(ChainBreak::Truncated {
            last_seq: 3,
            head_seq: 5
        })
    );
});

both_backends!(a_wrong_data_key_is_refused, |s: Store| async move {
    let right = truongso_store::testing::cipher();
    let wrong = truongso_store::testing::cipher();
    assert!(
        truongso_store::settings::verify_data_key(&s.db, &right)
            .await
            .unwrap(),
        "first use records the check"
    );
    assert!(
        !truongso_store::settings::verify_data_key(&s.db, &right)
            .await
            .unwrap()
    );
    match truongso_store::settings::verify_data_key(&s.db, &wrong).await {
        Err(truongso_store::Error::Internal(m)) => assert!(m.contains("data key"), "{m}"),
        other => panic!("{other:?}"),
    }
});
