//! One school year of a học bạ: the THCS/THPT page of Thông tư 22/2021 or the primary page of
//! Thông tư 27/2020, on A4 portrait, continued on further pages when the content needs them.

use truongso_core::credentials::record::{HocBa, PrimaryYear, SecondaryYear, YearResults};
use truongso_core::gradebook::tt27::COMPETENCIES;

use super::RenderError;
use super::common::{self, Verify};
use super::fonts::Fonts;
use super::labels::{self, *};
use super::layout::{Align, Cell, Flow, Geometry, Item, Span, Table};

pub(crate) const A4_PORTRAIT: Geometry = Geometry {
    width: 595.28,
    height: 841.89,
    left: 42.0,
    right: 36.0,
    top: 36.0,
    bottom: 40.0,
};

const BODY: f32 = 9.5;
const TABLE: f32 = 8.5;
/// QR module size: 49 modules make 4.4 cm, which still decodes from a 60 dpi scan.
const QR_MODULE: f32 = 2.6;

pub(crate) fn layout(r: &HocBa, fonts: &Fonts, verify: &Verify<'_>) -> Result<Vec<Vec<Item>>, RenderError> {
    let head = format!(
        "Học bạ năm học {} – {} – Lớp {} (tiếp theo)",
        r.school_year, r.learner.full_name, r.class_name
    );
    let mut flow = Flow::new(fonts, A4_PORTRAIT, Some(head));
    common::unit_header(&mut flow, &r.issuer, 9.0);
    flow.gap(12.0);
    // Title and identity on the left, the QR code in the top right corner where a reader of the
    // first page finds it.
    let body = flow.geo.body_width();
    let (side, qr) = common::qr_column(verify, QR_MODULE, Align::Center, false)?;
    let left_w = body - side - 6.0 * QR_MODULE;
    let mut left = vec![
        Span::text("HỌC BẠ", 16.0, true, Align::Center),
        Span::text(level_name(r.grade)?, 11.0, true, Align::Center),
        Span::text(format!("Năm học {}", r.school_year), 10.0, false, Align::Center),
        Span::Space(8.0),
    ];
    left.extend(identity(r, left_w)?);
    flow.block(vec![(0.0, left_w, left), (body - side, side, qr)]);
    flow.gap(8.0);
    match &r.results {
        YearResults::Secondary(y) => secondary(&mut flow, r, y)?,
        YearResults::Primary(y) => primary(&mut flow, r, y)?,
    }
    flow.gap(4.0);
    remark_and_signatures(&mut flow, r)?;
    common::footers(&mut flow, &r.doc_id, verify.base_url);
    Ok(flow.pages)
}

fn level_name(grade: u8) -> Result<&'static str, RenderError> {
    Ok(match grade {
        1..=5 => "TIỂU HỌC",
        6..=9 => "TRUNG HỌC CƠ SỞ",
        10..=12 => "TRUNG HỌC PHỔ THÔNG",
        _ => {
            return Err(RenderError::BadValue {
                field: "grade",
                value: grade.to_string(),
            });
        }
    })
}

fn identity(r: &HocBa, width: f32) -> Result<Vec<Span>, RenderError> {
    let l = &r.learner;
    let dob = labels::date_short("learner.date_of_birth", &l.date_of_birth)?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let pair = |a: (&str, String), b: Option<(&str, String)>| common::field_pair(a, b, BODY, width);
    let mut spans = vec![
        pair(
            ("Họ và tên: ", l.full_name.clone()),
            Some(("Giới tính: ", common::sex(l)?.to_string())),
        ),
        pair(("Ngày sinh: ", dob), Some(("Dân tộc: ", opt(&l.ethnicity)))),
        pair(
            ("Số định danh cá nhân: ", opt(&l.personal_id)),
            l.moet_code.as_ref().map(|c| ("Mã học sinh: ", c.clone())),
        ),
    ];
    if let Some(place) = &l.place_of_birth {
        spans.push(pair(("Nơi sinh: ", place.clone()), None));
    }
    spans.push(pair(
        ("Lớp: ", r.class_name.clone()),
        Some(("Năm học: ", r.school_year.clone())),
    ));
    Ok(spans)
}

fn secondary(flow: &mut Flow<'_>, r: &HocBa, y: &SecondaryYear) -> Result<(), RenderError> {
    let body = flow.geo.body_width();
    let (name_w, mark_w, retest_w) = (118.0, 44.0, 62.0);
    let widths = [
        name_w,
        mark_w,
        mark_w,
        mark_w,
        retest_w,
        body - name_w - 3.0 * mark_w - retest_w,
    ];
    let mut rows = Vec::new();
    for s in &y.subjects {
        rows.push(vec![
            Cell::new(s.name.as_str(), Align::Left),
            Cell::new(
                labels::subject_result("subjects.hk1", s.hk1.as_deref())?,
                Align::Center,
            ),
            Cell::new(
                labels::subject_result("subjects.hk2", s.hk2.as_deref())?,
                Align::Center,
            ),
            Cell::new(
                labels::subject_result("subjects.year", s.year.as_deref())?,
                Align::Center,
            ),
            Cell::new(
                labels::subject_result("subjects.retest", s.retest.as_deref())?,
                Align::Center,
            ),
            Cell::new(s.remark.clone().unwrap_or_default(), Align::Left),
        ]);
    }
    flow.table(Table {
        x: 0.0,
        widths: &widths,
        header: &[
            "Môn học và hoạt động giáo dục",
            "Học kì I",
            "Học kì II",
            "Cả năm",
            "Điểm hoặc mức đánh giá lại (nếu có)",
            "Nhận xét sự tiến bộ, ưu điểm nổi bật, hạn chế chủ yếu (nếu có)",
        ],
        rows,
        size: TABLE,
    });
    flow.gap(10.0);

    let terms = |field_prefix: [&'static str; 3], t: &truongso_core::credentials::record::Terms| {
        Ok::<_, RenderError>([
            label_opt(LEVELS, field_prefix[0], t.hk1.as_deref())?,
            label_opt(LEVELS, field_prefix[1], t.hk2.as_deref())?,
            label_opt(LEVELS, field_prefix[2], t.year.as_deref())?,
        ])
    };
    let conduct = terms(["conduct.hk1", "conduct.hk2", "conduct.year"], &y.conduct)?;
    let learning = terms(["learning.hk1", "learning.hk2", "learning.year"], &y.learning)?;
    let row = |name: &str, v: [&str; 3]| {
        let mut cells = vec![Cell::bold(name, Align::Left)];
        cells.extend(v.iter().map(|s| Cell::new(*s, Align::Center)));
        cells
    };
    flow.table(Table {
        x: 0.0,
        widths: &[150.0, 80.0, 80.0, 80.0],
        header: &["", "Học kì I", "Học kì II", "Cả năm"],
        rows: vec![
            row("Kết quả rèn luyện", conduct),
            row("Kết quả học tập", learning),
        ],
        size: TABLE,
    });
    flow.gap(8.0);

    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(after) = &y.learning_after_retest {
        lines.push((
            "Kết quả học tập sau kiểm tra lại: ",
            label(LEVELS, "learning_after_retest", after)?.to_string(),
        ));
    }
    lines.push(("Tổng số buổi nghỉ học cả năm học: ", y.absences.to_string()));
    if let Some(decision) = &y.decision {
        let mut text = label(DECISIONS, "decision", decision)?.to_string();
        if decision == "retest" && !y.retest_subjects.is_empty() {
            let names: Vec<&str> = y
                .retest_subjects
                .iter()
                .map(|code| {
                    y.subjects
                        .iter()
                        .find(|s| &s.code == code)
                        .map_or(code.as_str(), |s| s.name.as_str())
                })
                .collect();
            text = format!("{text}: {}", names.join(", "));
        }
        lines.push(("Xét lên lớp: ", text));
    }
    lines.push((
        "Khen thưởng: ",
        label_opt(SECONDARY_AWARDS, "award", y.award.as_deref())?.to_string(),
    ));
    paired_lines(flow, lines);
    if y.completes_level {
        let level = match r.grade {
            9 => "Hoàn thành chương trình trung học cơ sở",
            12 => "Hoàn thành chương trình trung học phổ thông",
            g => {
                return Err(RenderError::BadValue {
                    field: "completes_level",
                    value: format!("true in grade {g}"),
                });
            }
        };
        common::field_line(flow, "", level.to_string(), BODY);
    }
    Ok(())
}

/// Short "label: value" lines two to a row.
fn paired_lines(flow: &mut Flow<'_>, lines: Vec<(&str, String)>) {
    let width = flow.geo.body_width();
    let mut it = lines.into_iter();
    while let Some(a) = it.next() {
        let pair = common::field_pair(a, it.next(), BODY, width);
        flow.block(vec![(0.0, width, vec![pair])]);
    }
}

fn primary(flow: &mut Flow<'_>, r: &HocBa, y: &PrimaryYear) -> Result<(), RenderError> {
    let body = flow.geo.body_width();
    let (name_w, level_w, test_w) = (130.0, 92.0, 60.0);
    let mut rows = Vec::new();
    for s in &y.subjects {
        rows.push(vec![
            Cell::new(s.name.as_str(), Align::Left),
            Cell::new(
                label_opt(SUBJECT_LEVELS, "subjects.level", s.level.as_deref())?,
                Align::Center,
            ),
            Cell::new(s.test.map(|t| t.to_string()).unwrap_or_default(), Align::Center),
            Cell::new(s.remark.clone().unwrap_or_default(), Align::Left),
        ]);
        if let Some(t) = s.test.filter(|t| *t > 10) {
            return Err(RenderError::BadValue {
                field: "subjects.test",
                value: t.to_string(),
            });
        }
    }
    flow.table(Table {
        x: 0.0,
        widths: &[name_w, level_w, test_w, body - name_w - level_w - test_w],
        header: &[
            "Môn học và hoạt động giáo dục",
            "Mức đạt được",
            "Điểm KTĐK",
            "Nhận xét",
        ],
        rows,
        size: TABLE,
    });
    flow.gap(10.0);

    let rated = |list: &[truongso_core::credentials::record::Rated], field: &'static str| {
        list.iter()
            .map(|q| {
                Ok(vec![
                    Cell::new(q.name.as_str(), Align::Left),
                    Cell::new(label_opt(TRAIT_LEVELS, field, q.level.as_deref())?, Align::Center),
                ])
            })
            .collect::<Result<Vec<_>, RenderError>>()
    };
    // The three general competencies are the first three of TT 27's list; the rest are specific.
    let general = |code: &str| COMPETENCIES[..3].iter().any(|(c, _)| *c == code);
    let (chung, dac_thu): (Vec<_>, Vec<_>) = y.competencies.iter().cloned().partition(|c| general(&c.code));
    let mut competencies = Vec::new();
    for (group, list) in [("Năng lực chung", chung), ("Năng lực đặc thù", dac_thu)] {
        if list.is_empty() {
            continue;
        }
        competencies.push(vec![Cell::bold(group, Align::Left), Cell::new("", Align::Center)]);
        competencies.extend(rated(&list, "competencies.level")?);
    }
    let level_w = 84.0;
    let gap = 14.0;
    let left_w = (body - gap) * 0.46;
    let right_w = body - gap - left_w;
    flow.tables_side_by_side(
        Table {
            x: 0.0,
            widths: &[left_w - level_w, level_w],
            header: &["Phẩm chất chủ yếu", "Mức đạt được"],
            rows: rated(&y.qualities, "qualities.level")?,
            size: TABLE,
        },
        Table {
            x: left_w + gap,
            widths: &[right_w - level_w, level_w],
            header: &["Năng lực cốt lõi", "Mức đạt được"],
            rows: competencies,
            size: TABLE,
        },
        8.0,
    );
    flow.gap(8.0);

    let evaluation = label_opt(EVALUATIONS, "evaluation", y.evaluation.as_deref())?;
    let award = label_opt(PRIMARY_AWARDS, "award", y.award.as_deref())?;
    let mut lines = vec![
        ("Đánh giá kết quả giáo dục: ", evaluation.to_string()),
        ("Tổng số buổi nghỉ học cả năm học: ", y.absences.to_string()),
        ("Khen thưởng: ", award.to_string()),
    ];
    if let Some(completes) = y.completes {
        let what = if r.grade == 5 {
            "chương trình tiểu học".to_string()
        } else {
            format!("chương trình lớp {}", r.grade)
        };
        let text = if completes {
            format!("Hoàn thành {what}")
        } else {
            format!("Chưa hoàn thành {what}")
        };
        lines.push(("", text));
    }
    paired_lines(flow, lines);
    Ok(())
}

fn remark_and_signatures(flow: &mut Flow<'_>, r: &HocBa) -> Result<(), RenderError> {
    if let Some(remark) = &r.homeroom_remark {
        flow.ensure(3.0 * BODY * 1.3);
        flow.paragraph("Nhận xét của giáo viên chủ nhiệm:", BODY, true, Align::Left);
        flow.paragraph(remark, BODY, false, Align::Left);
    }
    flow.gap(10.0);
    let date = labels::date_long("issued_on", &r.issued_on)?;
    let half = flow.geo.body_width() / 2.0;
    let left = vec![
        Span::Space(BODY * 1.3),
        Span::text("Giáo viên chủ nhiệm", BODY, true, Align::Center),
        Span::text("(Ký và ghi rõ họ tên)", 8.0, false, Align::Center),
        Span::Space(36.0),
        Span::text(r.homeroom_teacher.as_str(), BODY, true, Align::Center),
    ];
    let right = vec![
        Span::text(format!("{}, {date}", r.issuer.place), BODY, false, Align::Center),
        Span::text("Xác nhận của Hiệu trưởng", BODY, true, Align::Center),
        Span::text("(Ký, ghi rõ họ tên và đóng dấu)", 8.0, false, Align::Center),
        Span::Space(36.0),
        Span::text(r.principal.as_str(), BODY, true, Align::Center),
    ];
    flow.block(vec![(0.0, half, left), (half, half, right)]);
    Ok(())
}
