//! Statistical forms as files: a form in the official XLSX layout (title block, each section
//! with its column header, the "Tên chỉ tiêu" and "Mã số" columns, the place and date, the two
//! signature blocks), the same values as a long CSV, and plain tables for dynamic reports.
//!
//! Pure: definitions and values in, bytes or text out. Every text written is NFC, since form
//! files are data an installation may edit with any editor. A value the form asks for but no
//! record holds (`None`) is a blank cell, never 0, so a reader cannot mistake "unknown" for
//! "none".

use crate::export::{ExportError, sheet_name};
use crate::template::width_of;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;
use truongso_core::stats::catalogue::{FormDef, Section};
use truongso_core::stats::compute::FormValues;
use truongso_core::text::nfc;

/// What the title block and the signature lines of a form print besides the form itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormHeader {
    /// Đơn vị báo cáo: "Sở Giáo dục và Đào tạo tỉnh Bến Tre".
    pub unit_name: String,
    /// Đơn vị nhận báo cáo: "Bộ Giáo dục và Đào tạo".
    pub receiver: String,
    /// The day the data stand at (30/9 of the school year's first year for a beginning-of-year
    /// form).
    pub reference_date: NaiveDate,
    /// "2026-2027".
    pub school_year: String,
    /// When the file was made: printed in the page footer, and its day (when it starts with
    /// `YYYY-MM-DD` or `DD/MM/YYYY`) on the place-and-date line.
    pub generated_at: String,
}

const A4: u8 = 9;
/// Tên chỉ tiêu, Mã số, then the section's value columns.
const LABEL_COL: u16 = 0;
const CODE_COL: u16 = 1;
const FIRST_VALUE_COL: u16 = 2;
const ROW_UNIT: u32 = 0;
const ROW_RECEIVER: u32 = 1;
const ROW_TITLE: u32 = 3;
const ROW_DATE: u32 = 4;
/// Excel rows in points per line of 11-point text.
const LINE_HEIGHT: f64 = 15.0;
/// Integers beyond Excel's 15 significant digits are written as text to keep every digit.
const MAX_EXACT: u64 = 999_999_999_999_999;
/// Rows of a sheet (1-based count).
const MAX_ROWS: usize = 1_048_576;
const BOM: char = '\u{FEFF}';

/// The formats of one form workbook.
struct Styles {
    unit: Format,
    form_code: Format,
    regime: Format,
    title: Format,
    date: Format,
    note: Format,
    section: Format,
    head: Format,
    code: Format,
    value: Format,
    value_total: Format,
    blank: Format,
    place: Format,
    sign: Format,
    sign_hint: Format,
}

impl Styles {
    fn new() -> Self {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let value = cell.clone().set_num_format("#,##0");
        Styles {
            unit: Format::new().set_bold(),
            form_code: Format::new().set_bold().set_align(FormatAlign::Right),
            regime: Format::new().set_italic().set_align(FormatAlign::Right),
            title: Format::new()
                .set_bold()
                .set_font_size(13)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap(),
            date: Format::new().set_italic().set_align(FormatAlign::Center),
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            section: cell.clone().set_bold().set_background_color(Color::RGB(0xDDEBF7)),
            head: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center),
            code: cell.clone().set_align(FormatAlign::Center),
            value_total: value.clone().set_bold(),
            value,
            blank: cell,
            place: Format::new().set_italic().set_align(FormatAlign::Center),
            sign: Format::new().set_bold().set_align(FormatAlign::Center),
            sign_hint: Format::new().set_italic().set_align(FormatAlign::Center),
        }
    }

    /// A row label: indented by its level; a total (level 0) in bold.
    fn label(&self, indent: u8) -> Format {
        let f = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap()
            .set_indent(indent);
        if indent == 0 { f.set_bold() } else { f }
    }
}

/// Writes `text` over columns `first..=last` of `row`, merged when that is more than one cell
/// (a one-cell merge is an error in Excel).
fn across(
    ws: &mut Worksheet,
    row: u32,
    first: u16,
    last: u16,
    text: &str,
    f: &Format,
) -> Result<(), XlsxError> {
    if last > first {
        ws.merge_range(row, first, row, last, text, f)?;
    } else {
        ws.write_string_with_format(row, first, text, f)?;
    }
    Ok(())
}

/// Lines `text` wraps to in a column `width` characters wide (Excel's width unit).
fn lines(text: &str, width: f64) -> f64 {
    let usable = (width - 1.0).max(1.0);
    (width_of(text) - 2.0).div_euclid(usable).max(0.0) + 1.0
}

/// A run of a section's value columns under one header: a group ("Công lập") over its measures
/// (keys `group.measure`), or one plain column.
struct Span {
    /// Index of the run's first column in the section.
    first: usize,
    group: Option<String>,
    /// The labels of the bottom header row (of the only row for a plain column).
    labels: Vec<String>,
}

/// The header runs of a section. A grouped column's label is "group – measure" (see
/// `catalogue::columns_of`); a label without the separator is shown whole under the group key.
fn spans(section: &Section) -> Vec<Span> {
    let mut out: Vec<Span> = vec![];
    let mut open: Option<&str> = None;
    for (i, c) in section.columns.iter().enumerate() {
        match c.key.split_once('.') {
            Some((group, _)) => {
                let (group_label, measure) = c
                    .label
                    .split_once(" – ")
                    .map_or((group, c.label.as_str()), |(g, m)| (g, m));
                match out.last_mut() {
                    Some(s) if open == Some(group) => s.labels.push(nfc(measure)),
                    _ => out.push(Span {
                        first: i,
                        group: Some(nfc(group_label)),
                        labels: vec![nfc(measure)],
                    }),
                }
                open = Some(group);
            }
            None => {
                out.push(Span {
                    first: i,
                    group: None,
                    labels: vec![nfc(&c.label)],
                });
                open = None;
            }
        }
    }
    out
}

/// The widest value column a section needs at each position.
fn value_widths(form: &FormDef, values: &FormValues) -> Vec<f64> {
    let n = form.sections.iter().map(|s| s.columns.len()).max().unwrap_or(0);
    let mut widths = vec![10.0f64; n];
    for (s, sv) in form.sections.iter().zip(&values.sections) {
        for span in spans(s) {
            for (k, label) in span.labels.iter().enumerate() {
                // Headers wrap; a column is wide enough for the longest word of its header.
                let word = label.split_whitespace().map(width_of).fold(0.0, f64::max);
                let w = &mut widths[span.first + k];
                *w = w.max(word + 1.0);
            }
        }
        for row in &sv.rows {
            for (k, v) in row.cells.iter().enumerate() {
                if let Some(v) = v {
                    // Digits plus thousands separators.
                    let digits = v.to_string().len() as f64;
                    widths[k] = widths[k].max(digits * 4.0 / 3.0 + 3.0);
                }
            }
        }
    }
    widths.into_iter().map(|w| w.min(18.0)).collect()
}

/// "(Có đến ngày 30 tháng 9 năm 2026)".
fn as_at(d: NaiveDate) -> String {
    format!("(Có đến ngày {} tháng {} năm {})", d.day(), d.month(), d.year())
}

/// The form's title with its school year: "… – Kỳ đầu năm học 2026-2027".
fn title_line(form: &FormDef, school_year: &str) -> String {
    let title = form.title.trim();
    let line = if school_year.trim().is_empty() {
        title.to_string()
    } else if title.to_lowercase().ends_with("năm học") {
        format!("{title} {}", school_year.trim())
    } else {
        format!("{title} – Năm học {}", school_year.trim())
    };
    nfc(&line).to_uppercase()
}

/// The place-and-date line. The header carries no place, so it is left to be written in by
/// hand, as on the printed forms; the day is that of `generated_at` when it can be read.
fn place_and_date(generated_at: &str) -> String {
    let day = generated_at.trim().get(..10).and_then(|s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
            .ok()
    });
    match day {
        Some(d) => format!(
            "……………, ngày {:02} tháng {:02} năm {}",
            d.day(),
            d.month(),
            d.year()
        ),
        None => "……………, ngày …… tháng …… năm ……".to_string(),
    }
}

/// Text for a page header or footer: `&` starts a code there.
fn page_text(s: &str) -> String {
    nfc(s).chars().take(60).collect::<String>().replace('&', "&&")
}

/// `form` filled with `values` in the official layout, as an XLSX workbook of one sheet named
/// after the form code. Refused when the values were computed for another form or version.
pub fn form_xlsx(form: &FormDef, values: &FormValues, header: &FormHeader) -> Result<Vec<u8>, ExportError> {
    if !values.fits(form) {
        return Err(ExportError(format!(
            "the values ({}) do not have the shape of form {}",
            values.form_id, form.id
        )));
    }
    Ok(build_form(form, values, header)?)
}

fn build_form(form: &FormDef, values: &FormValues, header: &FormHeader) -> Result<Vec<u8>, XlsxError> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let code = nfc(&form.code);
    ws.set_name(sheet_name(&code))?;

    let widths = value_widths(form, values);
    let last = FIRST_VALUE_COL + widths.len().max(1) as u16 - 1;
    let label_width = form
        .sections
        .iter()
        .flat_map(|s| &s.rows)
        .map(|r| width_of(&r.label) + 2.0 * f64::from(r.indent))
        .fold(32.0, f64::max)
        .min(60.0);
    ws.set_column_width(LABEL_COL, label_width)?;
    ws.set_column_width(CODE_COL, 8.0)?;
    for (k, w) in widths.iter().enumerate() {
        ws.set_column_width(FIRST_VALUE_COL + k as u16, *w)?;
    }

    // Title block: units top left, form code and regime top right, the title centred.
    let right = last.saturating_sub(3).max(FIRST_VALUE_COL).min(last);
    let left_end = right.saturating_sub(1).max(CODE_COL);
    let unit = nfc(&format!("Đơn vị báo cáo: {}", header.unit_name.trim()));
    let receiver = nfc(&format!("Đơn vị nhận báo cáo: {}", header.receiver.trim()));
    across(ws, ROW_UNIT, LABEL_COL, left_end, &unit, &st.unit)?;
    across(ws, ROW_RECEIVER, LABEL_COL, left_end, &receiver, &st.unit)?;
    across(
        ws,
        ROW_UNIT,
        right,
        last,
        &format!("Biểu số {code}"),
        &st.form_code,
    )?;
    let regime = nfc(&format!("Ban hành kèm theo {}", form.regime.trim()));
    across(ws, ROW_RECEIVER, right, last, &regime, &st.regime)?;
    let title = title_line(form, &header.school_year);
    across(ws, ROW_TITLE, LABEL_COL, last, &title, &st.title)?;
    let full_width: f64 = label_width + 8.0 + widths.iter().sum::<f64>();
    // The title is 13-point bold: about 1.3 times the width of body text.
    ws.set_row_height(ROW_TITLE, lines(&title, full_width / 1.3) * 18.0)?;
    across(
        ws,
        ROW_DATE,
        LABEL_COL,
        last,
        &as_at(header.reference_date),
        &st.date,
    )?;
    let mut row = ROW_DATE + 2;
    if let Some(note) = form.note.as_deref().filter(|n| !n.trim().is_empty()) {
        let note = nfc(note.trim());
        across(ws, ROW_DATE + 1, LABEL_COL, last, &note, &st.note)?;
        ws.set_row_height(ROW_DATE + 1, lines(&note, full_width) * LINE_HEIGHT)?;
        row += 1;
    }
    // The sections have different columns, so no one column header can stay on screen: the
    // title block and the label and code columns stay.
    ws.set_freeze_panes(ROW_DATE + 1, FIRST_VALUE_COL)?;

    for (si, (section, sv)) in form.sections.iter().zip(&values.sections).enumerate() {
        if si > 0 {
            row += 1;
        }
        let sec_last = FIRST_VALUE_COL + section.columns.len() as u16 - 1;
        let sec_title = nfc(&format!("{}. {}", section.code, section.title));
        across(ws, row, LABEL_COL, sec_last, &sec_title, &st.section)?;
        row += 1;
        row = column_header(ws, &st, row, section, &widths)?;
        for (r, rv) in section.rows.iter().zip(&sv.rows) {
            let label = nfc(&r.label);
            ws.write_string_with_format(row, LABEL_COL, &label, &st.label(r.indent))?;
            ws.write_string_with_format(row, CODE_COL, nfc(&r.code), &st.code)?;
            let n = lines(&label, label_width - 2.0 * f64::from(r.indent));
            if n > 1.0 {
                ws.set_row_height(row, n * LINE_HEIGHT)?;
            }
            let f = if r.indent == 0 { &st.value_total } else { &st.value };
            for (k, cell) in rv.cells.iter().enumerate() {
                let col = FIRST_VALUE_COL + k as u16;
                match cell {
                    None => ws.write_blank(row, col, f)?,
                    Some(v) if *v <= MAX_EXACT => ws.write_number_with_format(row, col, *v as f64, f)?,
                    Some(v) => ws.write_string_with_format(row, col, v.to_string(), f)?,
                };
            }
            row += 1;
        }
    }

    // Place and date over the head's signature; who signs, and how.
    row += 1;
    across(
        ws,
        row,
        right,
        last,
        &place_and_date(&header.generated_at),
        &st.place,
    )?;
    row += 1;
    across(ws, row, LABEL_COL, LABEL_COL, "Người lập biểu", &st.sign)?;
    across(ws, row, right, last, "Thủ trưởng đơn vị", &st.sign)?;
    row += 1;
    across(
        ws,
        row,
        LABEL_COL,
        LABEL_COL,
        "(Ký, ghi rõ họ tên)",
        &st.sign_hint,
    )?;
    across(ws, row, right, last, "(Ký tên, đóng dấu)", &st.sign_hint)?;

    ws.set_paper_size(A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_footer(format!(
        "&L{}&CTrang &P/&N&R{}",
        page_text(&format!("Biểu số {code}")),
        page_text(&header.generated_at)
    ));
    wb.save_to_buffer()
}

/// The column header of a section from `row`: one row, or two when the section has grouped
/// columns (the group merged over its measures; Tên chỉ tiêu, Mã số and plain columns merged
/// down both rows). Returns the first row below it.
fn column_header(
    ws: &mut Worksheet,
    st: &Styles,
    row: u32,
    section: &Section,
    widths: &[f64],
) -> Result<u32, XlsxError> {
    let runs = spans(section);
    let two = runs.iter().any(|s| s.group.is_some());
    let width = |first: usize, n: usize| widths[first..first + n].iter().sum::<f64>();
    let mut top: f64 = 1.0;
    let mut bottom: f64 = 1.0;
    let fixed = [(LABEL_COL, "Tên chỉ tiêu"), (CODE_COL, "Mã số")];
    for (col, text) in fixed {
        if two {
            ws.merge_range(row, col, row + 1, col, text, &st.head)?;
        } else {
            ws.write_string_with_format(row, col, text, &st.head)?;
        }
    }
    for span in &runs {
        let col = FIRST_VALUE_COL + span.first as u16;
        match &span.group {
            Some(g) => {
                let end = col + span.labels.len() as u16 - 1;
                across(ws, row, col, end, g, &st.head)?;
                top = top.max(lines(g, width(span.first, span.labels.len())));
                for (k, label) in span.labels.iter().enumerate() {
                    ws.write_string_with_format(row + 1, col + k as u16, label, &st.head)?;
                    bottom = bottom.max(lines(label, widths[span.first + k]));
                }
            }
            None => {
                let label = &span.labels[0];
                let n = lines(label, widths[span.first]);
                if two {
                    ws.merge_range(row, col, row + 1, col, label, &st.head)?;
                    // A plain column spans both rows: split its height between them.
                    bottom = bottom.max(n - top);
                } else {
                    ws.write_string_with_format(row, col, label, &st.head)?;
                    top = top.max(n);
                }
            }
        }
    }
    ws.set_row_height(row, top.max(1.0) * LINE_HEIGHT + 4.0)?;
    if two {
        ws.set_row_height(row + 1, bottom.max(1.0) * LINE_HEIGHT + 4.0)?;
        Ok(row + 2)
    } else {
        Ok(row + 1)
    }
}

/// A CSV field as RFC 4180 wants it, quoted when it holds a comma, a quote or a line break.
/// Text a spreadsheet would take for a formula (`=`, `+`, `@`, a non-numeric `-`) gets a
/// leading apostrophe: these files are made to be opened in Excel.
fn csv_field(out: &mut String, s: &str) {
    let s = nfc(s);
    let s: Cow<str> = match s.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        Some('-') if number(&s).is_none() => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(&s),
    };
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&s);
    }
}

fn csv_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// The values of `form` as CSV, one line per row and column: `ma_so,chi_tieu,cot,gia_tri`
/// (the column by its label, as the form prints it), UTF-8 with a byte-order mark so that
/// Excel reads the Vietnamese right, CRLF line ends, a blank value where no record holds it.
pub fn form_csv(form: &FormDef, values: &FormValues) -> String {
    let mut out = String::new();
    out.push(BOM);
    csv_line(&mut out, ["ma_so", "chi_tieu", "cot", "gia_tri"]);
    for (section, sv) in form.sections.iter().zip(&values.sections) {
        for (r, rv) in section.rows.iter().zip(&sv.rows) {
            for (c, v) in section.columns.iter().zip(&rv.cells) {
                let v = v.map(|v| v.to_string()).unwrap_or_default();
                csv_line(&mut out, [r.code.as_str(), &r.label, &c.label, &v]);
            }
        }
    }
    out
}

/// A number in a dynamic report's cell: an integer, or a decimal with a comma ("12,35"), with
/// its count of decimals. A leading zero ("01", a code) and a dot ("1.234", which Vietnamese
/// reads as a thousands separator) keep the cell text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Int(i64),
    Decimal(f64, usize),
}

fn number(s: &str) -> Option<Number> {
    let s = s.trim();
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once(',') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let frac_len = frac.map_or(0, str::len);
    if frac.is_some_and(|f| !digits(f)) || int.len() + frac_len > 15 {
        return None;
    }
    match frac {
        None => s.parse().ok().map(Number::Int),
        Some(f) => {
            let sign = if body.len() < s.len() { "-" } else { "" };
            format!("{sign}{int}.{f}")
                .parse()
                .ok()
                .map(|v| Number::Decimal(v, f.len()))
        }
    }
}

/// A dynamic report as an XLSX workbook of one sheet named after `title`: the title, the
/// header row (frozen, with a filter), then the rows, numbers as numbers.
pub fn table_xlsx(title: &str, headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, ExportError> {
    if rows.len() + 2 > MAX_ROWS {
        return Err(ExportError(format!("more than {} rows", MAX_ROWS - 2)));
    }
    let ncols = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(headers.len())
        .max(1);
    if ncols > usize::from(u16::MAX) {
        return Err(ExportError("too many columns".into()));
    }
    Ok(build_table(title, headers, rows, ncols)?)
}

fn build_table(
    title: &str,
    headers: &[String],
    rows: &[Vec<String>],
    ncols: usize,
) -> Result<Vec<u8>, XlsxError> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let title = nfc(title.trim());
    ws.set_name(sheet_name(&title))?;
    let last = (ncols - 1) as u16;
    let title_format = st.title.clone().set_align(FormatAlign::Left);
    across(ws, 0, 0, last, &title, &title_format)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, nfc(h), &st.head)?;
    }
    let text = st.blank.clone().set_text_wrap();
    let int = st.blank.clone().set_num_format("0");
    let mut widths = vec![8.0f64; ncols];
    for (c, h) in headers.iter().enumerate() {
        widths[c] = widths[c].max(width_of(h));
    }
    let mut decimal_formats: Vec<Option<Format>> = vec![];
    for (i, cells) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        for (c, width) in widths.iter_mut().enumerate() {
            let col = c as u16;
            let s = cells.get(c).map_or("", String::as_str);
            match number(s) {
                // No thousands separator: a report may group by a year.
                Some(Number::Int(v)) if v.unsigned_abs() <= MAX_EXACT => {
                    ws.write_number_with_format(row, col, v as f64, &int)?;
                }
                Some(Number::Decimal(v, places)) => {
                    if decimal_formats.len() <= places {
                        decimal_formats.resize(places + 1, None);
                    }
                    let f = decimal_formats[places].get_or_insert_with(|| {
                        st.blank
                            .clone()
                            .set_num_format(format!("#,##0.{}", "0".repeat(places)))
                    });
                    ws.write_number_with_format(row, col, v, f)?;
                }
                _ if s.is_empty() => {
                    ws.write_blank(row, col, &st.blank)?;
                }
                _ => {
                    ws.write_string_with_format(row, col, nfc(s), &text)?;
                }
            }
            *width = width.max(width_of(s));
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, w.min(50.0))?;
    }
    ws.set_row_height(1, 32)?;
    ws.set_freeze_panes(2, 0)?;
    ws.autofilter(1, 0, 1 + rows.len() as u32, last)?;
    ws.set_paper_size(A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(1, 1)?;
    ws.set_footer("&CTrang &P/&N");
    wb.save_to_buffer()
}

/// A dynamic report as CSV: the header line, then the rows as given; UTF-8 with a byte-order
/// mark, RFC 4180 quoting, CRLF line ends.
pub fn table_csv(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push(BOM);
    csv_line(&mut out, headers.iter().map(String::as_str));
    for r in rows {
        csv_line(&mut out, r.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{BorderStyle, Data, Reader, Xlsx};
    use std::io::{Cursor, Read};
    use truongso_core::stats::built_in::by_id;
    use truongso_core::stats::compute::compute;
    use truongso_core::stats::facts::{Entity, Fact, Facts, Val};

    const FORM: &str = "tt25-2024/02-th-dn";

    fn school(facts: &mut Facts, ownership_group: &str, region_band: &str) -> usize {
        let mut f = Fact::new(Entity::School, 0, None);
        f.set("ownership_group", Val::code(ownership_group))
            .set("region_band", Val::code(region_band))
            .set("classes", Val::Int(10))
            .set("sites", Val::Int(1))
            .set("levels", Val::Codes(vec!["TH".into()]));
        facts.add_school(Default::default(), "Trường".into(), "p".into(), f)
    }

    fn learner(facts: &mut Facts, s: usize, grade: i64, female: bool, minority: bool, on_roll: bool) {
        let mut f = Fact::new(Entity::Learner, s, None);
        f.set("level", Val::code("TH"))
            .set("grade", Val::Int(grade))
            .set("age", Val::Int(grade + 5))
            .set("sex", Val::code(if female { "female" } else { "male" }))
            .set("minority", Val::Bool(minority))
            .set("on_roll", Val::Bool(on_roll));
        facts.facts.push(f);
    }

    /// A public school in the delta with three pupils on the roll (two girls, one of them of an
    /// ethnic minority) and one who left; a private school in the mountains with one girl.
    fn filled() -> (FormDef, FormValues) {
        let form = by_id(FORM).expect("the built-in TT 25/2024 primary form");
        let mut facts = Facts::default();
        let a = school(&mut facts, "cong_lap", "delta");
        let b = school(&mut facts, "tu_thuc", "mountain");
        learner(&mut facts, a, 1, true, false, true);
        learner(&mut facts, a, 1, true, true, true);
        learner(&mut facts, a, 2, false, false, true);
        learner(&mut facts, a, 3, false, false, false);
        learner(&mut facts, b, 1, true, false, true);
        let values = compute(&form, &facts);
        (form, values)
    }

    fn header() -> FormHeader {
        FormHeader {
            unit_name: "Sở Giáo dục và Đào tạo tỉnh Bến Tre".into(),
            receiver: "Bộ Giáo dục và Đào tạo".into(),
            reference_date: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
            school_year: "2026-2027".into(),
            generated_at: "2026-10-05 14:30".into(),
        }
    }

    fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
        Xlsx::new(Cursor::new(bytes.to_vec())).expect("a workbook")
    }

    fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
        range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
    }

    fn text(s: &str) -> Data {
        Data::String(s.into())
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    /// Where a text stands on the sheet.
    fn find(range: &calamine::Range<Data>, want: &str) -> Option<(u32, u32)> {
        range
            .cells()
            .find(|(_, _, v)| **v == text(want))
            .map(|(r, c, _)| (r as u32, c as u32))
    }

    /// The sheet row of a row code (column B).
    fn row_of(range: &calamine::Range<Data>, code: &str) -> u32 {
        (0..range.height() as u32)
            .find(|r| cell(range, *r, u32::from(CODE_COL)) == text(code))
            .unwrap_or_else(|| panic!("row code {code} not on the sheet"))
    }

    fn value_col(form: &FormDef, section: &str, key: &str) -> u32 {
        let s = form.section(section).unwrap();
        u32::from(FIRST_VALUE_COL) + s.columns.iter().position(|c| c.key == key).unwrap() as u32
    }

    #[test]
    fn a_form_in_the_official_layout() {
        let (form, values) = filled();
        let bytes = form_xlsx(&form, &values, &header()).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(wb.sheet_names(), vec!["02.ĐN-TH".to_string()]);
        let ws = wb.worksheet_range("02.ĐN-TH").unwrap();

        // Title block.
        let (r, c) = find(&ws, "Biểu số 02.ĐN-TH").expect("form code");
        assert_eq!(r, ROW_UNIT);
        assert!(c >= u32::from(FIRST_VALUE_COL), "top right, column {c}");
        assert_eq!(
            find(&ws, "Ban hành kèm theo TT 25/2024/TT-BGDĐT"),
            Some((ROW_RECEIVER, c))
        );
        assert_eq!(
            cell(&ws, ROW_UNIT, 0),
            text("Đơn vị báo cáo: Sở Giáo dục và Đào tạo tỉnh Bến Tre")
        );
        assert_eq!(
            cell(&ws, ROW_RECEIVER, 0),
            text("Đơn vị nhận báo cáo: Bộ Giáo dục và Đào tạo")
        );
        assert_eq!(
            cell(&ws, ROW_TITLE, 0),
            text("BÁO CÁO THỐNG KÊ GIÁO DỤC TIỂU HỌC – KỲ ĐẦU NĂM HỌC 2026-2027")
        );
        assert_eq!(cell(&ws, ROW_DATE, 0), text("(Có đến ngày 30 tháng 9 năm 2026)"));
        let note = form.note.clone().expect("the TT 25/2024 copy says it is a copy");
        assert_eq!(cell(&ws, ROW_DATE + 1, 0), text(&note));

        // Every row code in column B, in the form's order.
        let header_cells = [text("Mã số")];
        let codes: Vec<Data> = (ROW_DATE + 2..ws.height() as u32)
            .map(|r| cell(&ws, r, u32::from(CODE_COL)))
            .filter(|d| *d != Data::Empty && !header_cells.contains(d))
            .collect();
        let want: Vec<Data> = form
            .sections
            .iter()
            .flat_map(|s| s.rows.iter().map(|r| text(&r.code)))
            .collect();
        assert_eq!(codes.len(), 132);
        assert_eq!(codes, want);
        assert_eq!(
            (ROW_DATE + 2..ws.height() as u32)
                .filter(|r| cell(&ws, *r, u32::from(CODE_COL)) == text("Mã số"))
                .count(),
            form.sections.len(),
            "one column header per section"
        );

        // Row 37: four pupils on the roll, three in public schools, one private; as numbers.
        let r37 = row_of(&ws, "37");
        assert_eq!(cell(&ws, r37, 0), text("Tổng số học sinh"));
        let total = cell(&ws, r37, value_col(&form, "III", "total.all"));
        assert_eq!(total, Data::Float(4.0));
        assert_eq!(Some(4), values.cell("37", "total.all"));
        assert_eq!(
            cell(&ws, r37, value_col(&form, "III", "cl.all")),
            Data::Float(3.0)
        );
        assert_eq!(cell(&ws, r37, value_col(&form, "III", "tt.nu")), Data::Float(1.0));
        assert_eq!(
            cell(&ws, r37, value_col(&form, "III", "total.dtts")),
            Data::Float(1.0)
        );
        // Counted zero is 0, not blank.
        assert_eq!(
            cell(&ws, r37, value_col(&form, "III", "tt.dtts")),
            Data::Float(0.0)
        );

        // Row 22 is asked for but not recorded: blank in every column, never 0.
        let r22 = row_of(&ws, "22");
        let section_i = form.section("I").unwrap();
        assert_eq!(values.cell("22", "total"), None);
        for k in 0..section_i.columns.len() as u32 {
            assert_eq!(
                cell(&ws, r22, u32::from(FIRST_VALUE_COL) + k),
                Data::Empty,
                "column {k}"
            );
        }
        assert_eq!(cell(&ws, row_of(&ws, "1"), 2), Data::Float(2.0));

        // Totals bold, others not; labels indented; value cells framed and formatted.
        let styles = wb.worksheet_style("02.ĐN-TH").unwrap();
        let bold = |r: u32, c: u32| {
            styles
                .get((r, c))
                .and_then(|s| s.font.as_ref())
                .is_some_and(|f| f.is_bold())
        };
        let r40 = row_of(&ws, "40");
        assert!(bold(r37, 0) && bold(r37, 2));
        assert!(!bold(r40, 0) && !bold(r40, 2));
        let indent = |r: u32| {
            styles
                .get((r, 0))
                .and_then(|s| s.alignment.as_ref())
                .and_then(|a| a.indent)
                .unwrap_or(0)
        };
        assert_eq!((indent(r37), indent(r40)), (0, 1));
        let s22 = styles.get((r22, 2)).expect("a blank cell keeps its frame");
        assert_eq!(s22.borders.as_ref().unwrap().left.style, BorderStyle::Thin);
        let fmt = styles
            .get((r37, 2))
            .and_then(|s| s.number_format.as_ref())
            .map(|f| f.format_code.clone());
        assert_eq!(fmt.as_deref(), Some("#,##0"));

        // Footer: place and date, the two signature blocks.
        assert!(find(&ws, "……………, ngày 05 tháng 10 năm 2026").is_some());
        let (rs, cs) = find(&ws, "Người lập biểu").expect("preparer");
        assert_eq!(cs, 0);
        assert_eq!(find(&ws, "Thủ trưởng đơn vị").map(|p| p.0), Some(rs));
        assert!(rs > row_of(&ws, "132"));

        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(r#"state="frozen""#), "{xml}");
        assert!(
            xml.contains(r#"topLeftCell="C6""#),
            "below the title block: {xml}"
        );
        assert!(xml.contains(r#"paperSize="9""#) && xml.contains(r#"orientation="landscape""#));
        assert!(xml.contains(r#"fitToHeight="0""#) && xml.contains(r#"fitToPage="1""#));
        assert!(xml.contains("<oddFooter>"), "{xml}");
        assert!(
            xml.contains("2026-10-05 14:30"),
            "the time made in the page footer"
        );
        // Label, code and the staff section's 15 value columns are sized (Excel groups equal
        // widths into one `<col>`, so the last one ends at column 17).
        let cols = &xml[xml.find("<cols>").unwrap()..xml.find("</cols>").unwrap()];
        assert!(cols.starts_with(r#"<cols><col min="1" max="1""#), "{cols}");
        assert!(
            cols.contains(r#"max="17""#) && !cols.contains(r#"max="18""#),
            "{cols}"
        );
    }

    #[test]
    fn grouped_columns_get_a_two_level_merged_header() {
        let (form, values) = filled();
        let bytes = form_xlsx(&form, &values, &header()).unwrap();
        let mut wb = open(&bytes);
        let ws = wb.worksheet_range("02.ĐN-TH").unwrap();
        let merged: Vec<((u32, u32), (u32, u32))> = wb
            .merge_cells_by_sheet_name("02.ĐN-TH")
            .unwrap()
            .into_iter()
            .map(|d| (d.start, d.end))
            .collect();

        // Section III (learners): Tổng số / Công lập / Tư thục, each over four measures.
        let h = row_of(&ws, "37") - 2;
        assert_eq!(cell(&ws, h - 1, 0), text("III. Học sinh"));
        assert_eq!(cell(&ws, h, 0), text("Tên chỉ tiêu"));
        for (first, group) in [(2, "Tổng số"), (6, "Công lập"), (10, "Tư thục")] {
            assert_eq!(cell(&ws, h, first), text(group));
            assert!(
                merged.contains(&((h, first), (h, first + 3))),
                "{group}: {merged:?}"
            );
            let measures: Vec<Data> = (first..first + 4).map(|c| cell(&ws, h + 1, c)).collect();
            assert_eq!(
                measures,
                vec![text("Tổng số"), text("Nữ"), text("DTTS"), text("DTTS nữ")]
            );
        }
        assert!(merged.contains(&((h, 0), (h + 1, 0))), "{merged:?}");
        assert!(merged.contains(&((h, 1), (h + 1, 1))), "{merged:?}");

        // Section I (plain columns): one header row, nothing merged down.
        let h1 = row_of(&ws, "1") - 1;
        assert_eq!(cell(&ws, h1, 1), text("Mã số"));
        let plain: Vec<Data> = (2..5).map(|c| cell(&ws, h1, c)).collect();
        assert_eq!(plain, vec![text("Tổng số"), text("Công lập"), text("Tư thục")]);
        assert!(!merged.iter().any(|(s, e)| s.0 == h1 && e.0 > h1), "{merged:?}");

        // Section IV (staff) has plain keys only: its 15 labels on one row.
        let h4 = row_of(&ws, "78") - 1;
        let staff = form.section("IV").unwrap();
        for (k, c) in staff.columns.iter().enumerate() {
            assert_eq!(cell(&ws, h4, 2 + k as u32), text(&c.label));
        }
    }

    #[test]
    fn text_is_written_in_nfc() {
        let (mut form, values) = filled();
        // "Tổng số học sinh" and "Bến Tre" decomposed, as a macOS editor may save them.
        form.sections[2].rows[0].label = "To\u{0302}\u{0309}ng so\u{0302}\u{0301} ho\u{0323}c sinh".into();
        let mut h = header();
        h.unit_name = "Sở Giáo dục và Đào tạo tỉnh Be\u{0302}\u{0301}n Tre".into();
        let bytes = form_xlsx(&form, &values, &h).unwrap();
        let ws = open(&bytes).worksheet_range("02.ĐN-TH").unwrap();
        assert_eq!(cell(&ws, row_of(&ws, "37"), 0), text("Tổng số học sinh"));
        assert_eq!(
            cell(&ws, ROW_UNIT, 0),
            text("Đơn vị báo cáo: Sở Giáo dục và Đào tạo tỉnh Bến Tre")
        );
    }

    #[test]
    fn values_of_another_form_are_refused() {
        let (_, values) = filled();
        let other = by_id("tt25-2024/01-mn-dn").unwrap();
        let e = form_xlsx(&other, &values, &header()).unwrap_err();
        assert!(e.0.contains("tt25-2024/01-mn-dn"), "{e}");
    }

    #[test]
    fn a_form_without_a_note_starts_its_sections_right_below_the_date() {
        let (mut form, values) = filled();
        form.note = None;
        let bytes = form_xlsx(&form, &values, &header()).unwrap();
        let ws = open(&bytes).worksheet_range("02.ĐN-TH").unwrap();
        assert_eq!(cell(&ws, ROW_DATE + 1, 0), Data::Empty);
        assert_eq!(cell(&ws, ROW_DATE + 2, 0), text("I. Trường"));
    }

    /// Splits CSV text into records of fields (RFC 4180), to check the quoting by reading back.
    fn read_csv(s: &str) -> Vec<Vec<String>> {
        let mut records = vec![];
        let mut record = vec![];
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        assert!(
            field.is_empty() && record.is_empty(),
            "the text ends with a line break"
        );
        records
    }

    #[test]
    fn a_form_as_csv() {
        let (form, values) = filled();
        let csv = form_csv(&form, &values);
        assert!(csv.starts_with("\u{FEFF}ma_so,chi_tieu,cot,gia_tri\r\n"));
        let cells: usize = form.sections.iter().map(|s| s.rows.len() * s.columns.len()).sum();
        assert_eq!(csv.matches("\r\n").count(), cells + 1);
        // A label with commas is quoted and reads back whole.
        assert!(
            csv.contains("\r\n2,\"Trung du, đồng bằng, thành phố\",Tổng số,1\r\n"),
            "{csv}"
        );
        let records = read_csv(csv.trim_start_matches(BOM));
        assert_eq!(records.len(), cells + 1);
        assert!(records.iter().all(|r| r.len() == 4));
        let find = |code: &str, col: &str| {
            records
                .iter()
                .find(|r| r[0] == code && r[2] == col)
                .map(|r| r[3].clone())
                .unwrap()
        };
        assert_eq!(
            find("37", "Tổng số – Tổng số"),
            values.cell("37", "total.all").unwrap().to_string()
        );
        assert_eq!(find("37", "Công lập – Tổng số"), "3");
        assert_eq!(find("22", "Tổng số"), "", "not recorded is blank");
        assert_eq!(find("40", "Tư thục – Nữ"), "1");
    }

    #[test]
    fn numbers_in_report_cells() {
        assert_eq!(number("12,35"), Some(Number::Decimal(12.35, 2)));
        assert_eq!(number("-0,5"), Some(Number::Decimal(-0.5, 1)));
        assert_eq!(number("37"), Some(Number::Int(37)));
        assert_eq!(number("-7"), Some(Number::Int(-7)));
        assert_eq!(number("0"), Some(Number::Int(0)));
        for text in [
            "01",
            "1.234",
            "12.35",
            "1,2,3",
            ",5",
            "5,",
            "",
            "-",
            "12a",
            "1 000",
            "1234567890123456",
        ] {
            assert_eq!(number(text), None, "{text:?}");
        }
    }

    fn report() -> (Vec<String>, Vec<Vec<String>>) {
        let headers = vec![
            "Trường".into(),
            "Mã".into(),
            "Học sinh".into(),
            "Tỷ lệ (%)".into(),
        ];
        let rows = vec![
            vec![
                "Trường TH Nguyễn Du".into(),
                "01".into(),
                "412".into(),
                "12,35".into(),
            ],
            vec![
                "Trường TH \"Bình Minh\", xã An".into(),
                "02".into(),
                "".into(),
                "7,5".into(),
            ],
            vec!["=1+1".into(), "03".into(), "-3".into(), "".into()],
        ];
        (headers, rows)
    }

    #[test]
    fn a_dynamic_report_as_xlsx() {
        let (headers, rows) = report();
        let bytes = table_xlsx("Học sinh theo trường: tháng 9/2026", &headers, &rows).unwrap();
        let mut wb = open(&bytes);
        let name = "Học sinh theo trường_ tháng 9_2";
        assert_eq!(wb.sheet_names(), vec![name.to_string()]);
        let ws = wb.worksheet_range(name).unwrap();
        assert_eq!(cell(&ws, 0, 0), text("Học sinh theo trường: tháng 9/2026"));
        let head: Vec<Data> = (0..4).map(|c| cell(&ws, 1, c)).collect();
        assert_eq!(head, headers.iter().map(|h| text(h)).collect::<Vec<_>>());
        assert_eq!(cell(&ws, 2, 1), text("01"), "a code keeps its leading zero");
        assert_eq!(cell(&ws, 2, 2), Data::Float(412.0));
        assert_eq!(cell(&ws, 2, 3), Data::Float(12.35));
        assert_eq!(cell(&ws, 3, 0), text("Trường TH \"Bình Minh\", xã An"));
        assert_eq!(cell(&ws, 3, 2), Data::Empty);
        assert_eq!(cell(&ws, 4, 0), text("=1+1"), "text, not a formula");
        assert_eq!(cell(&ws, 4, 2), Data::Float(-3.0));
        let styles = wb.worksheet_style(name).unwrap();
        let fmt = |r, c| {
            styles
                .get((r, c))
                .and_then(|s| s.number_format.as_ref())
                .map(|f| f.format_code.clone())
        };
        assert_eq!(fmt(2, 3).as_deref(), Some("#,##0.00"));
        assert_eq!(fmt(3, 3).as_deref(), Some("#,##0.0"));
        assert_eq!(fmt(2, 2).as_deref(), Some("0"));
        let merged = wb.merge_cells_by_sheet_name(name).unwrap();
        assert!(
            merged.iter().any(|d| d.start == (0, 0) && d.end == (0, 3)),
            "{merged:?}"
        );
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(r#"topLeftCell="A3""#), "{xml}");
        assert!(xml.contains(r#"<autoFilter ref="A2:D5"/>"#), "{xml}");
        assert!(xml.contains(r#"orientation="landscape""#));
        let formulas = xml.matches("<f>").count();
        assert_eq!(formulas, 0);
    }

    #[test]
    fn a_dynamic_report_as_csv() {
        let (headers, rows) = report();
        let csv = table_csv(&headers, &rows);
        assert!(csv.starts_with("\u{FEFF}Trường,Mã,Học sinh,Tỷ lệ (%)\r\n"));
        assert_eq!(csv.matches("\r\n").count(), rows.len() + 1);
        assert!(
            csv.contains("\r\n\"Trường TH \"\"Bình Minh\"\", xã An\",02,,\"7,5\"\r\n"),
            "{csv}"
        );
        // A cell Excel would run as a formula is defused; a negative number is left alone.
        assert!(csv.contains("\r\n'=1+1,03,-3,\r\n"), "{csv}");
        let back = read_csv(csv.trim_start_matches(BOM));
        assert_eq!(back[1], rows[0]);
        assert_eq!(back[2], rows[1]);
    }

    #[test]
    fn tables_too_large_for_a_sheet_are_refused() {
        let rows = vec![vec![]; MAX_ROWS - 1];
        assert!(table_xlsx("x", &[], &rows).is_err());
    }
}
