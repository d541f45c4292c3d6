//! A diploma (bằng tốt nghiệp THCS / THPT) on A4 landscape with the fields of the master register
//! of Thông tư 21/2019: holder, school, year, classification, training mode, số hiệu, số vào sổ
//! gốc, the graduation decision, and the signer with place and date.

use truongso_core::credentials::record::VanBang;

use super::RenderError;
use super::common::{self, Verify};
use super::fonts::Fonts;
use super::labels::{self, CLASSIFICATIONS, DIPLOMA_TITLES, TRAINING_MODES};
use super::layout::{Align, Flow, Geometry, Item, Span};

pub(crate) const A4_LANDSCAPE: Geometry = Geometry {
    width: 841.89,
    height: 595.28,
    left: 56.0,
    right: 56.0,
    top: 50.0,
    bottom: 46.0,
};

const FIELD: f32 = 12.0;
const QR_MODULE: f32 = 2.6;

pub(crate) fn layout(r: &VanBang, fonts: &Fonts, verify: &Verify<'_>) -> Result<Vec<Vec<Item>>, RenderError> {
    let title = labels::label(DIPLOMA_TITLES, "diploma_type", &r.diploma_type)?;
    let l = &r.learner;
    let dob = labels::date_short("learner.date_of_birth", &l.date_of_birth)?;
    let decision_date = labels::date_long("decision_date", &r.decision_date)?;
    let issued = labels::date_long("issued_on", &r.issued_on)?;
    let mode = labels::label(TRAINING_MODES, "training_mode", &r.training_mode)?;
    let classification = r
        .classification
        .as_deref()
        .map(|c| labels::label(CLASSIFICATIONS, "classification", c))
        .transpose()?;

    let mut flow = Flow::new(
        fonts,
        A4_LANDSCAPE,
        Some(format!("{title} – {} (tiếp theo)", l.full_name)),
    );
    common::unit_header(&mut flow, &r.issuer, 10.0);
    flow.gap(26.0);
    flow.paragraph(title, 20.0, true, Align::Center);
    flow.gap(18.0);

    // The holder's fields sit in a centred column narrower than the page, as on the paper form.
    let body = flow.geo.body_width();
    let (x0, width) = (body * 0.14, body * 0.72);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut rows = vec![
        (("Họ và tên: ", l.full_name.clone()), None),
        (
            ("Ngày sinh: ", dob),
            Some(("Giới tính: ", common::sex(l)?.to_string())),
        ),
        (
            ("Nơi sinh: ", opt(&l.place_of_birth)),
            Some(("Dân tộc: ", opt(&l.ethnicity))),
        ),
        (("Số định danh cá nhân: ", opt(&l.personal_id)), None),
        (("Học sinh trường: ", r.school_name.clone()), None),
        (
            ("Năm tốt nghiệp: ", r.graduation_year.to_string()),
            classification.map(|c| ("Xếp loại tốt nghiệp: ", c.to_string())),
        ),
    ];
    rows.push((("Hình thức đào tạo: ", mode.to_string()), None));
    for (a, b) in rows {
        flow.block(vec![(x0, width, vec![common::field_pair(a, b, FIELD, width)])]);
        flow.gap(3.0);
    }
    flow.block(vec![(
        x0,
        width,
        vec![Span::text(
            format!(
                "Quyết định công nhận tốt nghiệp số {} {decision_date}",
                r.decision_no
            ),
            FIELD - 1.0,
            false,
            Align::Left,
        )],
    )]);
    flow.gap(16.0);

    let mut left = vec![
        Span::field("Số hiệu: ", r.serial.as_str(), 10.0),
        Span::field("Số vào sổ gốc cấp văn bằng: ", r.register_no.as_str(), 10.0),
        Span::Space(4.0 * QR_MODULE),
    ];
    left.extend(common::qr_column(verify, QR_MODULE, Align::Left, true)?.1);
    let right = vec![
        Span::text(
            format!("{}, {issued}", r.issuer.place),
            FIELD,
            false,
            Align::Center,
        ),
        Span::text(r.signer_title.to_uppercase(), FIELD, true, Align::Center),
        Span::Space(64.0),
        Span::text(r.signer_name.as_str(), FIELD + 1.0, true, Align::Center),
    ];
    flow.block(vec![(0.0, body * 0.46, left), (body * 0.5, body * 0.5, right)]);

    // A double frame around the whole sheet, drawn on the first page only.
    let geo = flow.geo;
    for inset in [22.0, 27.0] {
        let (x1, y1, x2, y2) = (inset, inset, geo.width - inset, geo.height - inset);
        let width = if inset < 25.0 { 1.6 } else { 0.6 };
        for (a, b, c, d) in [
            (x1, y1, x2, y1),
            (x2, y1, x2, y2),
            (x2, y2, x1, y2),
            (x1, y2, x1, y1),
        ] {
            flow.pages[0].push(Item::Line {
                x1: a,
                y1: b,
                x2: c,
                y2: d,
                width,
            });
        }
    }
    if flow.pages.len() > 1 {
        common::footers(&mut flow, &r.doc_id, verify.base_url);
    }
    Ok(flow.pages)
}
