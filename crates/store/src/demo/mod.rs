//! The demo province: a deterministic, realistic Sở with commune offices, a district office
//! dissolved by the 2025 reform, 30+ schools of every level, school years, and an account for
//! every role. It is also the benchmark data set; later capabilities add their records here
//! (learners and classes: the school-records issue extends `seed_school_records`).

mod gradebook;
mod health;
mod records;
mod stats;

use crate::accounts::{self, GrantSpec, NewUser};
use crate::crypto::FieldCipher;
use crate::entity::{guardian, staff};
use crate::org::{self, NewOrgUnit, OrgUnit};
use crate::{ActorRef, Result, Store, school_years};
use chrono::NaiveDate;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use truongso_core::school_year::{SchoolYear, YearCalendar};
use truongso_core::text;
use uuid::Uuid;

const MOVE_NOTE: &str = "Chuyển về xã, phường theo mô hình chính quyền địa phương hai cấp (từ 01/7/2025)";
const MERGER_NOTE: &str = "Hợp nhất tỉnh Hà Giang vào tỉnh Tuyên Quang (Nghị quyết 202/2025/QH15)";

/// Password of every demo account (printed by `truongso demo`).
pub const DEMO_PASSWORD: &str = "Demo@2025";

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    /// Role code (`admin`, `principal`, …).
    pub role: String,
    pub scope: String,
}

/// How big a demo to build.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub seed: u64,
    /// Learners across the province (rounded to whole classes). The README's demo uses
    /// `DEFAULT_LEARNERS`; benchmarks scale it to 1,000,000.
    pub learners: u64,
}

pub const DEFAULT_LEARNERS: u64 = 12_000;

impl DemoOptions {
    /// A small province for tests: every structure present, a few hundred learners.
    pub fn small(seed: u64) -> Self {
        Self { seed, learners: 400 }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    pub created: bool,
    pub units: u64,
    pub schools: u64,
    pub learners: u64,
    pub accounts: Vec<DemoAccount>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date")
}

const FOUNDED: (i32, u32, u32) = (2008, 8, 1);
const REFORM: (i32, u32, u32) = (2025, 7, 1);

/// Communes and wards of the merged province (after 1/7/2025): code, name, urban, and the
/// district office their schools answered to before the reform (index into `DISTRICTS`).
const COMMUNES: [(&str, &str, bool, usize); 6] = [
    ("001", "phường Minh Xuân", true, 0),
    ("002", "phường Nông Tiến", true, 0),
    ("003", "phường Hà Giang 1", true, 3),
    ("004", "xã Yên Sơn", false, 1),
    ("005", "xã Hàm Yên", false, 2),
    ("006", "xã Vị Xuyên", false, 4),
];

/// Pre-reform district offices: name, code, and whether they belonged to the old Hà Giang
/// province (merged into Tuyên Quang) rather than Tuyên Quang itself.
const DISTRICTS: [(&str, &str, bool); 5] = [
    ("Phòng Giáo dục và Đào tạo thành phố Tuyên Quang", "08070", false),
    ("Phòng Giáo dục và Đào tạo huyện Yên Sơn", "08076", false),
    ("Phòng Giáo dục và Đào tạo huyện Hàm Yên", "08075", false),
    ("Phòng Giáo dục và Đào tạo thành phố Hà Giang", "02024", true),
    ("Phòng Giáo dục và Đào tạo huyện Vị Xuyên", "02030", true),
];

const NAMESAKES: [&str; 40] = [
    "Kim Đồng",
    "Lê Quý Đôn",
    "Nguyễn Du",
    "Trần Phú",
    "Lý Tự Trọng",
    "Võ Thị Sáu",
    "Nguyễn Trãi",
    "Chu Văn An",
    "Hoàng Hoa Thám",
    "Phan Bội Châu",
    "Lê Lợi",
    "Quang Trung",
    "Nguyễn Bỉnh Khiêm",
    "Trần Quốc Toản",
    "Đinh Tiên Hoàng",
    "Tô Hiệu",
    "Hà Huy Tập",
    "Lê Hồng Phong",
    "Nguyễn Khuyến",
    "Phan Chu Trinh",
    "Hùng Vương",
    "Ngô Quyền",
    "Lý Thường Kiệt",
    "Trần Hưng Đạo",
    "Bế Văn Đàn",
    "Phan Đình Phùng",
    "Nguyễn Viết Xuân",
    "Mạc Đĩnh Chi",
    "Tân Trào",
    "Minh Khai",
    "Hoa Sen",
    "Họa Mi",
    "Sơn Ca",
    "Hoa Mai",
    "Măng Non",
    "Tuổi Thơ",
    "Sao Mai",
    "Bình Minh",
    "Hướng Dương",
    "Ánh Dương",
];

const SURNAMES: [&str; 12] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ma", "Nông", "Triệu",
];
const MIDDLE_M: [&str; 6] = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành"];
const MIDDLE_F: [&str; 6] = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng"];
const GIVEN_M: [&str; 10] = [
    "An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Tuấn",
];
const GIVEN_F: [&str; 10] = [
    "Anh", "Chi", "Giang", "Hà", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Trang",
];

fn person(rng: &mut ChaCha8Rng, female: bool) -> String {
    let s = SURNAMES.choose(rng).expect("non-empty");
    let (m, g) = if female {
        (&MIDDLE_F, &GIVEN_F)
    } else {
        (&MIDDLE_M, &GIVEN_M)
    };
    format!(
        "{s} {} {}",
        m.choose(rng).expect("non-empty"),
        g.choose(rng).expect("non-empty")
    )
}

struct Names {
    rng: ChaCha8Rng,
    left: Vec<&'static str>,
}

impl Names {
    fn next(&mut self) -> &'static str {
        if self.left.is_empty() {
            self.left = NAMESAKES.to_vec();
        }
        let i = self.rng.random_range(0..self.left.len());
        self.left.swap_remove(i)
    }
}

/// Seeds the demo province unless the database already holds one. Deterministic for a seed:
/// the same names, codes and structure (row ids are fresh UUIDv7s).
pub async fn seed(store: &Store, cipher: &FieldCipher, opts: DemoOptions) -> Result<DemoSummary> {
    let seed = opts.seed;
    let db = &store.db;
    let existing = crate::entity::org_unit::Entity::find().count(db).await?;
    if existing > 0 {
        return summary(store, false).await;
    }
    let who = ActorRef::system("demo");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut names = Names {
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
        left: NAMESAKES.to_vec(),
    };
    let founded = d(FOUNDED.0, FOUNDED.1, FOUNDED.2);
    let reform = d(REFORM.0, REFORM.1, REFORM.2);
    let mk =
        |kind: &str, parent: Option<Uuid>, name: String, code: Option<String>, levels: Option<&str>, from| {
            NewOrgUnit {
                kind: kind.into(),
                parent_id: parent,
                name,
                code,
                levels: levels.map(Into::into),
                valid_from: Some(from),
            }
        };

    // Tuyên Quang's Sở absorbs Hà Giang's at the 2025 merger (Nghị quyết 202/2025/QH15).
    let so = org::create(
        db,
        &who,
        mk(
            "province_dept",
            None,
            "Sở Giáo dục và Đào tạo tỉnh Tuyên Quang".into(),
            Some("08".into()),
            None,
            founded,
        ),
    )
    .await?;
    let so_hg = org::create(
        db,
        &who,
        mk(
            "province_dept",
            None,
            "Sở Giáo dục và Đào tạo tỉnh Hà Giang".into(),
            Some("02".into()),
            None,
            founded,
        ),
    )
    .await?;
    let mut districts = vec![];
    for (name, code, in_hg) in DISTRICTS {
        let parent = if in_hg { so_hg.id } else { so.id };
        districts.push(
            org::create(
                db,
                &who,
                mk(
                    "district_office",
                    Some(parent),
                    name.into(),
                    Some(code.into()),
                    None,
                    founded,
                ),
            )
            .await?,
        );
    }

    let mut offices = vec![];
    for (code, name, _, _) in COMMUNES {
        let o = org::create(
            db,
            &who,
            mk(
                "commune_office",
                Some(so.id),
                format!("Phòng Văn hóa – Xã hội {name}"),
                Some(format!("08{code}")),
                None,
                reform,
            ),
        )
        .await?;
        offices.push(o);
    }

    let mut schools: Vec<OrgUnit> = vec![];
    let mut serial = 0u32;
    for (i, (ccode, cname, urban, district)) in COMMUNES.iter().enumerate() {
        let office = &offices[i];
        let legacy_parent = districts[*district].id;
        let plan: Vec<(&str, &str)> = if *urban {
            vec![
                ("Trường Mầm non", "MN"),
                ("Trường Mầm non", "MN"),
                ("Trường Tiểu học", "TH"),
                ("Trường Tiểu học", "TH"),
                ("Trường THCS", "THCS"),
            ]
        } else {
            vec![
                ("Trường Mầm non", "MN"),
                ("Trường Tiểu học", "TH"),
                ("Trường TH&THCS", "TH+THCS"),
                ("Trường THCS", "THCS"),
            ]
        };
        for (prefix, levels) in plan {
            serial += 1;
            let name = format!("{prefix} {}", names.next());
            let code = format!("08{ccode}{serial:03}");
            let s = org::create(
                db,
                &who,
                mk(
                    "school",
                    Some(legacy_parent),
                    name,
                    Some(code),
                    Some(levels),
                    founded,
                ),
            )
            .await?;
            let s = org::move_to(db, &who, s.id, office.id, reform, Some(MOVE_NOTE.into())).await?;
            // Schools in rural communes keep satellite sites in the villages.
            if !urban && (levels == "MN" || levels == "TH") {
                for _ in 0..rng.random_range(1..=2) {
                    let village = [
                        "Thôn Làng Ẳng",
                        "Bản Khuôn Điển",
                        "Thôn Đồng Cọ",
                        "Bản Nà Lũng",
                        "Thôn Khâu Lấu",
                    ]
                    .choose(&mut rng)
                    .expect("non-empty");
                    let site_name = format!("Điểm trường {village} – {}", text::clean(cname));
                    org::create(
                        db,
                        &who,
                        mk("satellite_site", Some(s.id), site_name, None, None, founded),
                    )
                    .await?;
                }
            }
            schools.push(s);
        }
    }
    for district in &districts {
        org::dissolve(db, &who, district.id, reform).await?;
    }
    // Hà Giang's specialist school passes to the merged Sở, then the old Sở closes.
    let chuyen_hg = org::create(
        db,
        &who,
        mk(
            "school",
            Some(so_hg.id),
            "Trường THPT Chuyên Hà Giang".into(),
            Some("02000001".into()),
            Some("THPT"),
            founded,
        ),
    )
    .await?;
    schools.push(org::move_to(db, &who, chuyen_hg.id, so.id, reform, Some(MERGER_NOTE.into())).await?);
    org::dissolve(db, &who, so_hg.id, reform).await?;

    // Upper-secondary schools and the continuing-education centre answer to the Sở directly.
    for (name, levels) in [
        ("Trường THPT Chuyên Tuyên Quang".to_string(), "THPT"),
        (format!("Trường THPT {}", names.next()), "THPT"),
        (format!("Trường THPT {}", names.next()), "THPT"),
        ("Trường THPT Hàm Yên".to_string(), "THPT"),
        ("Trường PTDTNT THPT tỉnh Tuyên Quang".to_string(), "THPT"),
        (
            "Trường Phổ thông Dân tộc Nội trú THCS&THPT Vị Xuyên".to_string(),
            "THCS+THPT",
        ),
        ("Trung tâm GDNN – GDTX tỉnh Tuyên Quang".to_string(), "GDTX"),
    ] {
        serial += 1;
        let s = org::create(
            db,
            &who,
            mk(
                "school",
                Some(so.id),
                name,
                Some(format!("08000{serial:03}")),
                Some(levels),
                founded,
            ),
        )
        .await?;
        schools.push(s);
    }

    for s in &schools {
        for start in [2025, 2026] {
            school_years::create(
                db,
                &who,
                s.id,
                &YearCalendar::typical(SchoolYear::from_start(start)),
            )
            .await?;
        }
    }

    // The model lower-secondary school used for every school role.
    let thcs = schools
        .iter()
        .find(|s| s.levels.as_ref().is_some_and(|l| l.to_stored() == "THCS"))
        .expect("the plan has a THCS")
        .clone();
    let classes = records::generate(store, cipher, &schools, thcs.id, opts.learners, &mut rng).await?;
    gradebook::generate(store, classes.class_id, opts.seed).await?;
    stats::seed(store, cipher, &so, &offices, &schools, thcs.id, opts.seed).await?;

    let mut accounts_made = vec![];
    let mut account = async |username: &str,
                             female: bool,
                             owner: &OrgUnit,
                             role: &str,
                             spec: GrantSpec,
                             rng: &mut ChaCha8Rng|
           -> Result<()> {
        let display = person(rng, female);
        let u = accounts::create_user(
            db,
            &who,
            NewUser {
                username: username.into(),
                display_name: display.clone(),
                email: Some(format!("{username}@demo.truongso.vn")),
                phone: Some(format!("09{:08}", rng.random_range(10_000_000..99_999_999u32))),
                owner_org_id: owner.id,
                password: DEMO_PASSWORD.into(),
            },
        )
        .await?;
        let g = accounts::resolve_grant(
            db,
            &GrantSpec {
                role: role.into(),
                ..spec
            },
        )
        .await?;
        accounts::grant(db, &who, u.id, &g).await?;
        accounts_made.push(DemoAccount {
            username: username.into(),
            display_name: display,
            role: role.into(),
            scope: org::get(db, g.scope.anchor().last_id()).await?.name,
        });
        Ok(())
    };
    let on = |unit: &OrgUnit| GrantSpec {
        org_unit_id: unit.id,
        ..Default::default()
    };
    account("admin.so", false, &so, "admin", on(&so), &mut rng).await?;
    account("chuyenvien.so", true, &so, "officer", on(&so), &mut rng).await?;
    account(
        "chuyenvien.xa",
        true,
        &offices[0],
        "officer",
        on(&offices[0]),
        &mut rng,
    )
    .await?;
    account("admin.thcs", false, &thcs, "admin", on(&thcs), &mut rng).await?;
    account("hieutruong.thcs", false, &thcs, "principal", on(&thcs), &mut rng).await?;
    account(
        "phohieutruong.thcs",
        true,
        &thcs,
        "vice_principal",
        on(&thcs),
        &mut rng,
    )
    .await?;
    account(
        "totruong.thcs",
        true,
        &thcs,
        "department_head",
        on(&thcs),
        &mut rng,
    )
    .await?;
    let class_6a1 = GrantSpec {
        class_id: Some(classes.class_id),
        ..on(&thcs)
    };
    account(
        "gvcn.thcs",
        true,
        &thcs,
        "homeroom_teacher",
        class_6a1.clone(),
        &mut rng,
    )
    .await?;
    account(
        "gvbm.thcs",
        false,
        &thcs,
        "subject_teacher",
        GrantSpec {
            subject: Some("toan".into()),
            ..class_6a1
        },
        &mut rng,
    )
    .await?;
    account("vanthu.thcs", true, &thcs, "clerk", on(&thcs), &mut rng).await?;
    account("ketoan.thcs", true, &thcs, "accountant", on(&thcs), &mut rng).await?;
    account("yte.thcs", true, &thcs, "nurse", on(&thcs), &mut rng).await?;
    account("thuvien.thcs", true, &thcs, "librarian", on(&thcs), &mut rng).await?;
    let child = GrantSpec {
        learner_id: Some(classes.learner_id),
        ..on(&thcs)
    };
    account("phuhuynh.thcs", false, &thcs, "parent", child.clone(), &mut rng).await?;
    account("hocsinh.thcs", true, &thcs, "student", child, &mut rng).await?;
    // The accounts of the model school are the people in its records.
    for (username, staff_id) in [
        ("gvcn.thcs", classes.homeroom_staff),
        ("gvbm.thcs", classes.math_staff),
        ("hieutruong.thcs", classes.principal_staff),
    ] {
        let u = accounts::by_username(db, username).await?.expect("made above");
        staff::Entity::update_many()
            .col_expr(staff::Column::UserId, Expr::value(u.id))
            .filter(staff::Column::Id.eq(staff_id))
            .exec(db)
            .await?;
    }
    let parent = accounts::by_username(db, "phuhuynh.thcs")
        .await?
        .expect("made above");
    guardian::Entity::update_many()
        .col_expr(guardian::Column::UserId, Expr::value(parent.id))
        .filter(guardian::Column::Id.eq(classes.guardian_id))
        .exec(db)
        .await?;
    crate::audit::append(
        db,
        &who,
        crate::audit::Change::new("demo.seed", "org_unit", so.id)
            .after(serde_json::json!({ "seed": seed, "learners": classes.learners })),
    )
    .await?;
    let mut summary = summary(store, true).await?;
    summary.accounts = accounts_made;
    Ok(summary)
}

async fn summary(store: &Store, created: bool) -> Result<DemoSummary> {
    use crate::entity::org_unit;
    use sea_orm::{ColumnTrait, QueryFilter};
    let db = &store.db;
    let units = org_unit::Entity::find()
        .filter(org_unit::Column::ValidTo.is_null())
        .count(db)
        .await?;
    let schools = org_unit::Entity::find()
        .filter(org_unit::Column::ValidTo.is_null())
        .filter(org_unit::Column::Kind.eq("school"))
        .count(db)
        .await?;
    let mut accounts = vec![];
    for username in DEMO_USERNAMES {
        if let Some(u) = accounts::by_username(db, username).await? {
            let grants = accounts::grants_of(db, u.id).await?;
            if let Some(g) = grants.first() {
                accounts.push(DemoAccount {
                    username: u.username,
                    display_name: u.display_name,
                    role: g.role.as_str().into(),
                    scope: g.org_name.clone(),
                });
            }
        }
    }
    let learners = crate::entity::learner::Entity::find().count(db).await?;
    Ok(DemoSummary {
        created,
        units,
        schools,
        learners,
        accounts,
    })
}

/// Demo logins in the order they are printed.
pub const DEMO_USERNAMES: [&str; 15] = [
    "admin.so",
    "chuyenvien.so",
    "chuyenvien.xa",
    "admin.thcs",
    "hieutruong.thcs",
    "phohieutruong.thcs",
    "totruong.thcs",
    "gvcn.thcs",
    "gvbm.thcs",
    "vanthu.thcs",
    "ketoan.thcs",
    "yte.thcs",
    "thuvien.thcs",
    "phuhuynh.thcs",
    "hocsinh.thcs",
];
