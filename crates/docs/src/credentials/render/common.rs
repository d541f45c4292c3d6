//! Pieces both documents print: the national and unit header, the identity lines, the signature
//! columns and the verification block (QR code, id, hash prefix, verify address).

use truongso_core::credentials::record::{Issuer, Learner};
use truongso_core::text::nfc;

use super::RenderError;
use super::labels::{self, SEXES};
use super::layout::{Align, Flow, Item, Span};
use super::qr;

pub(crate) const NATION: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
pub(crate) const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";

/// What the verification block prints and encodes.
pub(crate) struct Verify<'a> {
    pub base_url: &'a str,
    pub doc_id: &'a str,
    pub sha256_hex: &'a str,
}

/// Unit chain on the left (farthest parent first, the issuing unit in bold), the national
/// heading on the right with a short rule under the motto, as Vietnamese official papers do.
pub(crate) fn unit_header(flow: &mut Flow<'_>, issuer: &Issuer, size: f32) {
    let body = flow.geo.body_width();
    let left_w = body * 0.44;
    let right_x = left_w + 8.0;
    let right_w = body - right_x;
    let mut left: Vec<Span> = issuer
        .parents
        .iter()
        .rev()
        .map(|p| Span::text(p.to_uppercase(), size, false, Align::Center))
        .collect();
    left.push(Span::text(issuer.name.to_uppercase(), size, true, Align::Center));
    let right = vec![
        Span::text(NATION, size, true, Align::Center),
        Span::text(MOTTO, size + 0.5, true, Align::Center),
    ];
    let top = flow.y;
    flow.block(vec![(0.0, left_w, left), (right_x, right_w, right)]);
    let motto_w = flow.width(MOTTO, size + 0.5, true);
    let rule_y = top + size * 1.3 + (size + 0.5) * 1.3 + 1.0;
    let centre = flow.geo.left + right_x + right_w / 2.0;
    flow.rule(centre - motto_w / 2.0, centre + motto_w / 2.0, rule_y, 0.6);
    flow.y = flow.y.max(rule_y + 2.0);
}

pub(crate) fn sex(learner: &Learner) -> Result<&'static str, RenderError> {
    labels::label(SEXES, "learner.sex", &learner.sex)
}

/// Two fields side by side (the right one optional) within a column `width` wide.
pub(crate) fn field_pair(left: (&str, String), right: Option<(&str, String)>, size: f32, width: f32) -> Span {
    let split = width * 0.58;
    let mut cols = vec![(0.0, split - 6.0, vec![Span::field(left.0, left.1, size)])];
    if let Some((label, value)) = right {
        cols.push((split, width - split, vec![Span::field(label, value, size)]));
    }
    Span::Columns(cols)
}

/// One field across the body width.
pub(crate) fn field_line(flow: &mut Flow<'_>, label: &str, value: String, size: f32) {
    let width = flow.geo.body_width();
    flow.block(vec![(0.0, width, vec![Span::field(label, value, size)])]);
}

/// The QR code with the document id and the first 16 hex digits of the hash under it, the
/// verify address last when `with_address`. Returns the code's side in points and the spans.
pub(crate) fn qr_column(
    v: &Verify<'_>,
    module: f32,
    align: Align,
    with_address: bool,
) -> Result<(f32, Vec<Span>), RenderError> {
    let payload = qr::qr_payload(v.base_url, v.doc_id, v.sha256_hex);
    let (modules, runs) = qr::dark_runs(&payload).map_err(RenderError::Qr)?;
    let mut spans = vec![
        Span::Qr {
            modules,
            runs,
            module,
        },
        // The quiet zone the QR specification asks for: four modules of nothing on every side.
        Span::Space(4.0 * module),
        Span::text(v.doc_id, 7.0, false, align),
        Span::text(format!("SHA-256: {}", &v.sha256_hex[..16]), 7.0, false, align),
    ];
    if with_address {
        spans.push(Span::text(address_line(v.base_url), 7.5, false, align));
    }
    Ok((modules as f32 * module, spans))
}

pub(crate) fn address_line(base_url: &str) -> String {
    format!("Tra cứu và xác minh tại: {base_url}")
}

/// The document id and verify address on the left, "Trang i/n" on the right of every page's
/// bottom margin.
pub(crate) fn footers(flow: &mut Flow<'_>, doc_id: &str, base_url: &str) {
    let n = flow.pages.len();
    let geo = flow.geo;
    let y = geo.height - geo.bottom + 20.0;
    let labels: Vec<(String, f32)> = (1..=n)
        .map(|i| {
            let label = format!("Trang {i}/{n}");
            let w = flow.width(&label, 7.0, false);
            (label, w)
        })
        .collect();
    for (page, (label, w)) in flow.pages.iter_mut().zip(labels) {
        page.push(Item::Text {
            x: geo.left,
            y,
            size: 7.0,
            bold: false,
            text: nfc(&format!("Mã tài liệu: {doc_id} – {}", address_line(base_url))),
        });
        page.push(Item::Text {
            x: geo.width - geo.right - w,
            y,
            size: 7.0,
            bold: false,
            text: label,
        });
    }
}
