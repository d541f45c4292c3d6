//! The human-readable copy of a signed record: a PDF/A-3b with the record's canonical JSON
//! embedded as an associated file (`AFRelationship /Data`) and a QR code carrying the document id
//! and the SHA-256 of that JSON.
//!
//! The output is one plain revision, unencrypted, so the PAdES signatures can follow as
//! incremental updates. Rendering is reproducible: the same record, options and fonts give the
//! same bytes (the creation date and document id come from the options and the record, never
//! from the clock), so a re-rendered copy can be compared byte for byte.
//!
//! Every string is NFC-normalised before it is measured or drawn: decomposed Vietnamese looks the
//! same on the page but extracts as decomposed code points, which breaks search and comparison.
//! Layout: `docs/credentials.md`.

mod common;
mod fonts;
mod hoc_ba;
pub mod labels;
mod layout;
mod qr;
mod van_bang;

pub use fonts::{DEJAVU_DIR, DEJAVU_PACKAGE, FontError, FontFiles, Fonts};
pub use qr::{parse_qr_payload, qr_payload};

use krilla::Document;
use krilla::SerializeSettings;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;
use truongso_core::credentials::record::{HOC_BA_SCHEMA, HocBa, VAN_BANG_SCHEMA, VanBang, valid_doc_id};
use truongso_core::credentials::{CanonicalError, sha256_hex};
use truongso_core::text::nfc;

use common::Verify;
use layout::{Geometry, Item};

/// Description of the embedded JSON, as PDF/A-3 requires one.
pub const EMBEDDED_DESCRIPTION: &str = "Dữ liệu gốc (JSON chuẩn hóa RFC 8785)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// The public verify page, e.g. "https://truongso.example/xac-minh": absolute http(s), no
    /// query or fragment. The QR code appends `?doc=…&h=…`.
    pub verify_base_url: String,
    /// Document title (Info dictionary and XMP `dc:title`); `None` derives one from the record.
    pub title: Option<String>,
    /// Keywords (Info dictionary and XMP `pdf:Keywords`).
    pub keywords: Vec<String>,
    /// Creation date of the PDF and of the embedded file. Fixed by the caller (the issue time),
    /// never read from the clock, so rendering is reproducible.
    pub created: chrono::DateTime<chrono::FixedOffset>,
}

impl RenderOptions {
    pub fn new(verify_base_url: impl Into<String>, created: chrono::DateTime<chrono::FixedOffset>) -> Self {
        RenderOptions {
            verify_base_url: verify_base_url.into(),
            title: None,
            keywords: Vec::new(),
            created,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("record schema {found:?}, expected {expected:?}")]
    WrongSchema { expected: &'static str, found: String },
    #[error("malformed document id {0:?}")]
    BadDocId(String),
    #[error("verify base URL {0:?} must be absolute http(s) without query or fragment")]
    BadBaseUrl(String),
    #[error("the record cannot be made canonical: {0}")]
    Canonical(#[from] CanonicalError),
    #[error("the embedded bytes are not the canonical bytes of this record")]
    CanonicalMismatch,
    #[error("unknown code {code:?} in {field}")]
    UnknownCode { field: &'static str, code: String },
    #[error("malformed value {value:?} in {field}")]
    BadValue { field: &'static str, value: String },
    #[error("the font has no glyph for {ch:?} (in {text:?})")]
    MissingGlyph { ch: char, text: String },
    #[error("QR code: {0}")]
    Qr(String),
    #[error("PDF: {0}")]
    Pdf(String),
}

impl RenderError {
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::WrongSchema { .. } => "wrong_schema",
            RenderError::BadDocId(_) => "bad_doc_id",
            RenderError::BadBaseUrl(_) => "bad_base_url",
            RenderError::Canonical(_) => "canonical",
            RenderError::CanonicalMismatch => "canonical_mismatch",
            RenderError::UnknownCode { .. } => "unknown_code",
            RenderError::BadValue { .. } => "bad_value",
            RenderError::MissingGlyph { .. } => "missing_glyph",
            RenderError::Qr(_) => "qr",
            RenderError::Pdf(_) => "pdf",
        }
    }
}

/// One school year of a học bạ as PDF/A-3b. `canonical` are the bytes to embed, i.e.
/// `record.canonical()`; anything else is refused, since the QR hash and the embedded data must
/// describe exactly what the page shows.
pub fn render_hoc_ba(
    record: &HocBa,
    canonical: &[u8],
    opts: &RenderOptions,
    fonts: &Fonts,
) -> Result<Vec<u8>, RenderError> {
    check(&record.schema, HOC_BA_SCHEMA, &record.doc_id, opts)?;
    if record.canonical()? != canonical {
        return Err(RenderError::CanonicalMismatch);
    }
    debug_assert!(matches!(
        truongso_core::credentials::record::Record::parse(canonical),
        Ok(truongso_core::credentials::record::Record::HocBa(back)) if back.canonical().ok().as_deref() == Some(canonical)
    ));
    let hash = sha256_hex(canonical);
    let verify = Verify {
        base_url: &opts.verify_base_url,
        doc_id: &record.doc_id,
        sha256_hex: &hash,
    };
    let pages = hoc_ba::layout(record, fonts, &verify)?;
    let title = opts.title.clone().unwrap_or_else(|| {
        format!(
            "Học bạ năm học {} – {} – Lớp {}",
            record.school_year, record.learner.full_name, record.class_name
        )
    });
    let doc = Doc {
        geometry: hoc_ba::A4_PORTRAIT,
        title,
        subject: "Học bạ số",
        author: &record.issuer.name,
        doc_id: &record.doc_id,
    };
    emit(&doc, pages, canonical, opts, fonts)
}

/// A diploma as PDF/A-3b; `canonical` as for [`render_hoc_ba`].
pub fn render_van_bang(
    record: &VanBang,
    canonical: &[u8],
    opts: &RenderOptions,
    fonts: &Fonts,
) -> Result<Vec<u8>, RenderError> {
    check(&record.schema, VAN_BANG_SCHEMA, &record.doc_id, opts)?;
    if record.canonical()? != canonical {
        return Err(RenderError::CanonicalMismatch);
    }
    debug_assert!(matches!(
        truongso_core::credentials::record::Record::parse(canonical),
        Ok(truongso_core::credentials::record::Record::VanBang(back)) if back.canonical().ok().as_deref() == Some(canonical)
    ));
    let hash = sha256_hex(canonical);
    let verify = Verify {
        base_url: &opts.verify_base_url,
        doc_id: &record.doc_id,
        sha256_hex: &hash,
    };
    let pages = van_bang::layout(record, fonts, &verify)?;
    let title = opts.title.clone().unwrap_or_else(|| {
        let kind = labels::label(labels::DIPLOMA_TITLES, "diploma_type", &record.diploma_type).unwrap_or("");
        format!(
            "{} – {} – {}",
            kind, record.learner.full_name, record.graduation_year
        )
    });
    let doc = Doc {
        geometry: van_bang::A4_LANDSCAPE,
        title,
        subject: "Văn bằng số",
        author: &record.issuer.name,
        doc_id: &record.doc_id,
    };
    emit(&doc, pages, canonical, opts, fonts)
}

fn check(
    schema: &str,
    expected: &'static str,
    doc_id: &str,
    opts: &RenderOptions,
) -> Result<(), RenderError> {
    if schema != expected {
        return Err(RenderError::WrongSchema {
            expected,
            found: schema.to_string(),
        });
    }
    if !valid_doc_id(doc_id) {
        return Err(RenderError::BadDocId(doc_id.to_string()));
    }
    if !qr::valid_base_url(&opts.verify_base_url) {
        return Err(RenderError::BadBaseUrl(opts.verify_base_url.clone()));
    }
    Ok(())
}

struct Doc<'a> {
    geometry: Geometry,
    title: String,
    subject: &'static str,
    author: &'a str,
    doc_id: &'a str,
}

fn pdf_date(d: &chrono::DateTime<chrono::FixedOffset>) -> DateTime {
    use chrono::{Datelike, Timelike};
    let offset = d.offset().local_minus_utc();
    DateTime::new(d.year().clamp(0, 9999) as u16)
        .month(d.month() as u8)
        .day(d.day() as u8)
        .hour(d.hour() as u8)
        .minute(d.minute() as u8)
        .second(d.second() as u8)
        .utc_offset_hour((offset / 3600) as i8)
        .utc_offset_minute(((offset.abs() % 3600) / 60) as u8)
}

fn emit(
    doc: &Doc<'_>,
    pages: Vec<Vec<Item>>,
    canonical: &[u8],
    opts: &RenderOptions,
    fonts: &Fonts,
) -> Result<Vec<u8>, RenderError> {
    // krilla would draw .notdef (and PDF/A export would then fail with a less useful error).
    for item in pages.iter().flatten() {
        if let Item::Text { text, bold, .. } = item
            && let Some(ch) = text.chars().find(|c| !fonts.face(*bold).has(*c))
        {
            return Err(RenderError::MissingGlyph {
                ch,
                text: text.clone(),
            });
        }
    }
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        // PDF/A-3b asks for no structure tree; tagging would only add bytes.
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let geo = doc.geometry;
    for items in pages {
        let settings = PageSettings::from_wh(geo.width, geo.height).expect("positive page size");
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for item in items {
            match item {
                Item::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                } => {
                    // Layout normalises as it measures; drawing must not see anything else.
                    debug_assert_eq!(nfc(&text), text);
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill::default()));
                    surface.draw_text(
                        Point::from_xy(x, y),
                        fonts.face(bold).font.clone(),
                        size,
                        &text,
                        false,
                        TextDirection::LeftToRight,
                    );
                }
                Item::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Item::Dark(rects) => {
                    let mut pb = PathBuilder::new();
                    for (x, y, w, h) in rects {
                        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                            pb.push_rect(rect);
                        }
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill::default()));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    let created = pdf_date(&opts.created);
    let mut keywords: Vec<String> = opts.keywords.iter().map(|k| nfc(k)).collect();
    if keywords.is_empty() {
        keywords = vec![doc.subject.to_string(), doc.doc_id.to_string()];
    }
    document.set_metadata(
        Metadata::new()
            .title(nfc(&doc.title))
            .description(doc.subject.to_string())
            .keywords(keywords)
            .authors(vec![nfc(doc.author)])
            .creator("Trường Số".to_string())
            .language("vi".to_string())
            .document_id(doc.doc_id.to_string())
            .creation_date(created),
    );
    let file = EmbeddedFile {
        path: format!("{}.json", doc.doc_id),
        mime_type: MimeType::new("application/json"),
        description: Some(EMBEDDED_DESCRIPTION.to_string()),
        association_kind: AssociationKind::Data,
        data: canonical.to_vec().into(),
        modification_date: Some(created),
        compress: Some(true),
        location: None,
    };
    document
        .embed_file(file)
        .ok_or_else(|| RenderError::Pdf("embedded file name taken".into()))?;
    document.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}
