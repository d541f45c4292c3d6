//! Reading a filled-in template: structure checks first (is it an XLSX, the sheet, the header
//! row, merged cells, formulas, row count), then every row as `(key, text)` pairs exactly as the
//! user sees the cells. Domain parsing of the values happens in the caller, which maps its field
//! errors back to a cell with [`Parsed::cell_ref`].
//!
//! Bounded work: the zip parts that are read whole (shared strings, styles, workbook) are
//! inflated into a sink first and rejected past [`MAX_PART_BYTES`]; the declared sheet dimension
//! is checked against the row limit before any cell is read; cells are streamed and reading stops
//! at the first row past the limit.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};
use truongso_core::i18n::{self, Locale};
use truongso_core::text;

use crate::column_letter;
use crate::template::Template;

/// Largest size one part of the workbook may inflate to (64 MiB).
pub const MAX_PART_BYTES: u64 = 64 << 20;
/// Largest number of parts (files) inside the workbook.
const MAX_PARTS: usize = 10_000;
/// Errors reported at most; past this the file is clearly not the template.
pub const MAX_ERRORS: usize = 500;

/// Why a file cannot be imported. The code is stable: messages are `import.<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportErrorCode {
    /// Not an XLSX workbook, or a damaged one.
    NotXlsx,
    /// A part of the workbook inflates beyond the limit (zip bomb or an unreasonable file).
    TooLarge,
    /// The template's sheet is not in the workbook.
    SheetMissing,
    /// A header that matches no column of the template.
    UnknownColumn,
    /// Data in a column whose header cell is empty.
    UnnamedColumn,
    /// A required column is absent from the header row.
    MissingColumn,
    /// Two header cells name the same column.
    DuplicateColumn,
    /// Merged cells; the range is in `detail`.
    MergedCells,
    /// A cell holds a formula.
    Formula,
    /// A cell holds an error value such as #N/A.
    ErrorValue,
    /// More data rows than allowed; the limit is in `detail`.
    TooManyRows,
    /// The header is there but no data row follows.
    NoRows,
    /// A required cell is empty.
    Required,
}

impl ImportErrorCode {
    pub const ALL: [ImportErrorCode; 13] = [
        ImportErrorCode::NotXlsx,
        ImportErrorCode::TooLarge,
        ImportErrorCode::SheetMissing,
        ImportErrorCode::UnknownColumn,
        ImportErrorCode::UnnamedColumn,
        ImportErrorCode::MissingColumn,
        ImportErrorCode::DuplicateColumn,
        ImportErrorCode::MergedCells,
        ImportErrorCode::Formula,
        ImportErrorCode::ErrorValue,
        ImportErrorCode::TooManyRows,
        ImportErrorCode::NoRows,
        ImportErrorCode::Required,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportErrorCode::NotXlsx => "not_xlsx",
            ImportErrorCode::TooLarge => "too_large",
            ImportErrorCode::SheetMissing => "sheet_missing",
            ImportErrorCode::UnknownColumn => "unknown_column",
            ImportErrorCode::UnnamedColumn => "unnamed_column",
            ImportErrorCode::MissingColumn => "missing_column",
            ImportErrorCode::DuplicateColumn => "duplicate_column",
            ImportErrorCode::MergedCells => "merged_cells",
            ImportErrorCode::Formula => "formula",
            ImportErrorCode::ErrorValue => "error_value",
            ImportErrorCode::TooManyRows => "too_many_rows",
            ImportErrorCode::NoRows => "no_rows",
            ImportErrorCode::Required => "required",
        }
    }

    /// Catalogue key of the message.
    pub fn message_key(self) -> String {
        format!("import.{}", self.code())
    }
}

/// One problem with an uploaded file, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub sheet: String,
    /// 1-based sheet row.
    pub row: Option<u32>,
    /// Column letter, e.g. "D".
    pub column: Option<String>,
    /// The header as written in the file (or the template's header for a missing column).
    pub header: Option<String>,
    pub code: ImportErrorCode,
    pub detail: Option<String>,
}

impl CellError {
    fn new(sheet: &str, code: ImportErrorCode) -> Self {
        CellError {
            sheet: sheet.to_string(),
            row: None,
            column: None,
            header: None,
            code,
            detail: None,
        }
    }

    fn at(mut self, row: u32, col: u32) -> Self {
        self.row = Some(row + 1);
        self.column = Some(column_letter(col));
        self
    }

    fn header(mut self, h: impl Into<String>) -> Self {
        self.header = Some(h.into());
        self
    }

    fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    /// Placeholders for the message: `sheet`, `row`, `column`, `header`, `detail`, `limit`.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("sheet", self.sheet.clone()),
            ("row", self.row.map(|r| r.to_string()).unwrap_or_default()),
            ("column", self.column.clone().unwrap_or_default()),
            ("header", self.header.clone().unwrap_or_default()),
            ("detail", self.detail.clone().unwrap_or_default()),
        ];
        if matches!(
            self.code,
            ImportErrorCode::TooManyRows | ImportErrorCode::TooLarge
        ) {
            p.push(("limit", self.detail.clone().unwrap_or_default()));
        }
        p
    }

    /// The message in `locale`, naming the sheet, row and column.
    pub fn message(&self, locale: Locale) -> String {
        i18n::tf(locale, &self.code.message_key(), &self.params())
    }
}

/// One data row: its 1-based number in the sheet and the text of every template column present
/// in the file, in template order (empty string for an empty cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<(&'static str, String)>,
}

impl Row {
    /// The non-empty value of `key`; `None` when the cell is empty or the column is absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Where a value came from, to report a domain error on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    pub sheet: String,
    pub row: u32,
    /// Column letter; `None` when the column is not in the file.
    pub column: Option<String>,
    pub header: String,
}

impl CellRef {
    /// "Trang {sheet}, dòng {row}, cột {column} ({header}): {reason}".
    pub fn describe(&self, locale: Locale, reason: &str) -> String {
        i18n::tf(
            locale,
            "import.row_error",
            &[
                ("sheet", self.sheet.clone()),
                ("row", self.row.to_string()),
                ("column", self.column.clone().unwrap_or_default()),
                ("header", self.header.clone()),
                ("reason", reason.to_string()),
            ],
        )
    }
}

/// A structurally valid file: the sheet read, where each template column was found, the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub sheet: String,
    /// Template key → (column letter, header as written), for the columns present.
    pub columns: Vec<(&'static str, String, String)>,
    pub rows: Vec<Row>,
}

impl Parsed {
    /// The column letter `key` was found in.
    pub fn column_letter(&self, key: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, l, _)| l.as_str())
    }

    /// The cell of `key` in sheet row `row` (1-based), for reporting a domain error there.
    pub fn cell_ref(&self, row: u32, key: &str) -> CellRef {
        let found = self.columns.iter().find(|(k, _, _)| *k == key);
        CellRef {
            sheet: self.sheet.clone(),
            row,
            column: found.map(|(_, l, _)| l.clone()),
            header: found
                .map(|(_, _, h)| h.clone())
                .unwrap_or_else(|| key.to_string()),
        }
    }
}

/// Header text reduced for matching: "(...)" parts and "*" removed, folded (lowercase, no
/// diacritics, đ→d), white space collapsed.
pub fn header_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '*' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    text::fold(&out)
}

fn header_matches(folded: &str, c: &crate::template::Column) -> bool {
    !folded.is_empty()
        && (folded == header_fold(c.header_vi)
            || folded == header_fold(c.header_en)
            || folded == c.key
            || folded == c.key.replace('_', " "))
}

/// Reads `bytes` as a filled-in `t`. At most `max_rows` data rows (after the header row) are
/// accepted. Either every row, or every problem found.
pub fn parse(bytes: &[u8], t: &Template, max_rows: usize) -> Result<Parsed, Vec<CellError>> {
    let max_rows = u32::try_from(max_rows).unwrap_or(u32::MAX - 1);
    let not_xlsx = |d: String| vec![CellError::new(t.sheet_vi, ImportErrorCode::NotXlsx).detail(d)];

    // 1. The zip container, and what its parts inflate to.
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_xlsx("not a zip container".into()));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_xlsx(e.to_string()))?;
    if zip.len() > MAX_PARTS {
        return Err(not_xlsx(format!("{} parts", zip.len())));
    }
    let worksheets = check_parts(&mut zip, t, |name| !name.starts_with("xl/worksheets/"))?;

    // 2. The workbook.
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| not_xlsx(e.to_string()))?;
    let is_1904 = wb.has_1904_epoch();
    let names = wb.sheet_names();
    let sheet = names
        .iter()
        .find(|n| *n == t.sheet_vi)
        .or_else(|| names.iter().find(|n| n.trim().eq_ignore_ascii_case(t.sheet_vi)))
        .or_else(|| if names.len() == 1 { names.first() } else { None })
        .cloned()
        .ok_or_else(|| {
            vec![CellError::new(t.sheet_vi, ImportErrorCode::SheetMissing).detail(names.join(", "))]
        })?;
    let too_many = || vec![CellError::new(&sheet, ImportErrorCode::TooManyRows).detail(max_rows.to_string())];

    // 3. The declared size, then the sheets' real size, then the cells, streamed.
    let mut errors = Vec::new();
    let mut headers: BTreeMap<u32, String> = BTreeMap::new();
    let mut data: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    // Cells already reported (formulas, error values, merged areas): no "required" on them too.
    let mut reported: HashSet<(u32, u32)> = HashSet::new();
    let mut merged_areas: Vec<calamine::Dimensions> = Vec::new();
    {
        let reader = wb
            .worksheet_cells_reader(&sheet)
            .map_err(|e| not_xlsx(e.to_string()))?;
        if reader.dimensions().end.0 > max_rows {
            return Err(too_many());
        }
        drop(reader);
        check_parts(&mut zip, t, |name| worksheets.iter().any(|w| w == name))?;
        let mut reader = wb
            .worksheet_cells_reader(&sheet)
            .map_err(|e| not_xlsx(e.to_string()))?;
        loop {
            let cell = match reader.next_cell_with_formula_metadata() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => return Err(not_xlsx(e.to_string())),
            };
            let (row, col) = cell.pos;
            if cell.formula.is_some() {
                reported.insert((row, col));
                push(
                    &mut errors,
                    CellError::new(&sheet, ImportErrorCode::Formula).at(row, col),
                );
                continue;
            }
            if matches!(cell.value, DataRef::Empty) {
                continue;
            }
            if row > max_rows {
                return Err(too_many());
            }
            let value = match display(&cell.value, is_1904) {
                Ok(v) => v,
                Err(e) => {
                    reported.insert((row, col));
                    push(
                        &mut errors,
                        CellError::new(&sheet, ImportErrorCode::ErrorValue)
                            .at(row, col)
                            .detail(e),
                    );
                    continue;
                }
            };
            if value.is_empty() {
                continue;
            }
            if row == 0 {
                headers.insert(col, value);
            } else {
                data.entry(row).or_default().push((col, value));
            }
        }
    }

    // 4. Merged cells anywhere on the sheet.
    let merged = wb
        .merge_cells_by_sheet_name(&sheet)
        .map_err(|e| not_xlsx(e.to_string()))?;
    for m in merged {
        if merged_areas.len() < MAX_ERRORS {
            merged_areas.push(m);
        }
        let range = format!(
            "{}{}:{}{}",
            column_letter(m.start.1),
            m.start.0 + 1,
            column_letter(m.end.1),
            m.end.0 + 1
        );
        push(
            &mut errors,
            CellError::new(&sheet, ImportErrorCode::MergedCells)
                .at(m.start.0, m.start.1)
                .detail(range),
        );
    }

    // 5. The header row.
    let mut mapping: Vec<(u32, &'static crate::template::Column)> = Vec::new();
    for (&col, h) in &headers {
        let folded = header_fold(h);
        match t.columns.iter().find(|c| header_matches(&folded, c)) {
            Some(c) => {
                if let Some((first, _)) = mapping.iter().find(|(_, m)| m.key == c.key) {
                    push(
                        &mut errors,
                        CellError::new(&sheet, ImportErrorCode::DuplicateColumn)
                            .at(0, col)
                            .header(h.clone())
                            .detail(column_letter(*first)),
                    );
                } else {
                    mapping.push((col, c));
                }
            }
            None => {
                push(
                    &mut errors,
                    CellError::new(&sheet, ImportErrorCode::UnknownColumn)
                        .at(0, col)
                        .header(h.clone()),
                );
            }
        }
    }
    for c in t.columns.iter().filter(|c| c.required) {
        if !mapping.iter().any(|(_, m)| m.key == c.key) {
            push(
                &mut errors,
                CellError::new(&sheet, ImportErrorCode::MissingColumn).header(c.header_vi),
            );
        }
    }
    mapping.sort_by_key(|(_, c)| t.columns.iter().position(|x| x.key == c.key));

    // 6. The rows.
    let mut rows = Vec::with_capacity(data.len());
    let mut unnamed_reported: Vec<u32> = Vec::new();
    for (row, cells) in data {
        for (col, _) in &cells {
            if !headers.contains_key(col) && !unnamed_reported.contains(col) {
                unnamed_reported.push(*col);
                push(
                    &mut errors,
                    CellError::new(&sheet, ImportErrorCode::UnnamedColumn).at(row, *col),
                );
            }
        }
        let value_of = |col: u32| cells.iter().find(|(c, _)| *c == col).map(|(_, v)| v.clone());
        let mut out = Vec::with_capacity(mapping.len());
        for (col, c) in &mapping {
            let v = value_of(*col).unwrap_or_default();
            if c.required
                && v.is_empty()
                && !reported.contains(&(row, *col))
                && !merged_areas.iter().any(|d| d.contains(row, *col))
            {
                push(
                    &mut errors,
                    CellError::new(&sheet, ImportErrorCode::Required)
                        .at(row, *col)
                        .header(headers[col].clone()),
                );
            }
            out.push((c.key, v));
        }
        rows.push(Row {
            number: row + 1,
            cells: out,
        });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(CellError::new(&sheet, ImportErrorCode::NoRows));
    }

    if errors.is_empty() {
        let columns = mapping
            .iter()
            .map(|(col, c)| (c.key, column_letter(*col), headers[col].clone()))
            .collect();
        Ok(Parsed { sheet, columns, rows })
    } else {
        errors.sort_by_key(|e| {
            (
                e.row.unwrap_or(0),
                e.column.as_ref().map(|c| (c.len(), c.clone())),
            )
        });
        Err(errors)
    }
}

fn push(errors: &mut Vec<CellError>, e: CellError) {
    if errors.len() < MAX_ERRORS {
        errors.push(e);
    }
}

/// Inflates every part `select`ed into a sink, refusing any past [`MAX_PART_BYTES`]. Returns the
/// names of the worksheet parts.
fn check_parts(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    t: &Template,
    select: impl Fn(&str) -> bool,
) -> Result<Vec<String>, Vec<CellError>> {
    let mut worksheets = Vec::new();
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| vec![CellError::new(t.sheet_vi, ImportErrorCode::NotXlsx).detail(e.to_string())])?;
        let name = part.name().map(|n| n.to_string()).unwrap_or_default();
        if name.starts_with("xl/worksheets/") {
            worksheets.push(name.clone());
        }
        if !select(&name) {
            continue;
        }
        let too_large = || {
            vec![
                CellError::new(t.sheet_vi, ImportErrorCode::TooLarge)
                    .detail((MAX_PART_BYTES >> 20).to_string()),
            ]
        };
        if part.size() > MAX_PART_BYTES {
            return Err(too_large());
        }
        let n = std::io::copy(&mut (&mut part).take(MAX_PART_BYTES + 1), &mut std::io::sink())
            .map_err(|e| vec![CellError::new(t.sheet_vi, ImportErrorCode::NotXlsx).detail(e.to_string())])?;
        if n > MAX_PART_BYTES {
            return Err(too_large());
        }
    }
    Ok(worksheets)
}

/// The text a cell shows: integers without ".0", dates as dd/mm/yyyy, text trimmed and NFC.
/// An error value (#N/A…) is returned as `Err` with its text.
fn display(v: &DataRef<'_>, is_1904: bool) -> Result<String, String> {
    Ok(match v {
        DataRef::Empty => String::new(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::String(s) => text::clean(s),
        DataRef::SharedString(s) => text::clean(s),
        DataRef::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
        DataRef::DateTime(d) if d.is_datetime() => {
            excel_date(d.as_f64(), is_1904).unwrap_or_else(|| number(d.as_f64()))
        }
        DataRef::DateTime(d) => number(d.as_f64()),
        DataRef::DateTimeIso(s) => iso_date(s).unwrap_or_else(|| text::clean(s)),
        DataRef::DurationIso(s) => text::clean(s),
        DataRef::Error(e) => return Err(e.to_string()),
    })
}

/// A number as Excel shows it in a General cell: 15 significant digits, no trailing ".0".
fn number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// An Excel date serial as dd/mm/yyyy (with " HH:MM" or " HH:MM:SS" when it has a time).
fn excel_date(serial: f64, is_1904: bool) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let (days, secs) = if secs >= 86_400 {
        (days + 1, 0)
    } else {
        (days, secs)
    };
    let date = if is_1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)? + chrono::Days::new(days as u64)
    } else if days >= 61 {
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)? + chrono::Days::new(days as u64)
    } else if days >= 1 && days != 60 {
        // Before Excel's phantom 29/02/1900.
        chrono::NaiveDate::from_ymd_opt(1899, 12, 31)? + chrono::Days::new(days as u64)
    } else {
        return None;
    };
    let mut out = date.format("%d/%m/%Y").to_string();
    if secs != 0 {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        out.push_str(&format!(" {h:02}:{m:02}"));
        if s != 0 {
            out.push_str(&format!(":{s:02}"));
        }
    }
    Some(out)
}

/// An ISO 8601 date (strict OOXML cells) as dd/mm/yyyy.
fn iso_date(s: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let rest = s.get(10..).unwrap_or("");
    if rest.is_empty()
        || rest
            .trim_start_matches('T')
            .trim_start_matches(['0', ':'])
            .is_empty()
    {
        Some(d.format("%d/%m/%Y").to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_as_in_excel() {
        assert_eq!(number(18.0), "18");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(7.5), "7.5");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(1234567890123.0), "1234567890123");
    }

    #[test]
    fn excel_serials_become_civil_dates() {
        assert_eq!(excel_date(42252.0, false).as_deref(), Some("05/09/2015"));
        assert_eq!(excel_date(61.0, false).as_deref(), Some("01/03/1900"));
        assert_eq!(excel_date(1.0, false).as_deref(), Some("01/01/1900"));
        assert_eq!(excel_date(42252.5, false).as_deref(), Some("05/09/2015 12:00"));
        assert_eq!(excel_date(0.0, true).as_deref(), Some("01/01/1904"));
        assert_eq!(excel_date(-1.0, false), None);
        assert_eq!(iso_date("2015-09-05T00:00:00").as_deref(), Some("05/09/2015"));
        assert_eq!(iso_date("2015-09-05").as_deref(), Some("05/09/2015"));
    }

    #[test]
    fn headers_fold_without_marks_stars_or_notes() {
        assert_eq!(header_fold("Ngày sinh (dd/mm/yyyy) *"), "ngay sinh");
        assert_eq!(header_fold("  HỌ VÀ TÊN* "), "ho va ten");
        assert_eq!(header_fold("Số định danh cá nhân"), "so dinh danh ca nhan");
        assert_eq!(
            header_fold("Đánh giá chuẩn nghề nghiệp"),
            "danh gia chuan nghe nghiep"
        );
    }

    #[test]
    fn every_code_has_a_message_in_both_locales() {
        for code in ImportErrorCode::ALL {
            for locale in [Locale::Vi, Locale::En] {
                let key = code.message_key();
                assert_ne!(i18n::t(locale, &key), key, "{key} missing in {locale:?}");
            }
        }
        let mut codes: Vec<_> = ImportErrorCode::ALL.iter().map(|c| c.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ImportErrorCode::ALL.len());
    }
}
