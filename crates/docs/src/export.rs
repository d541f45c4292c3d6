//! Writing a table to XLSX: bold frozen header row with an autofilter, columns sized to their
//! content, rows streamed in constant-memory mode so a 100,000-row export stays small in memory.

use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook, XlsxError};

/// One value of an exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Date(chrono::NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }
}

impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}

impl From<chrono::NaiveDate> for Cell {
    fn from(d: chrono::NaiveDate) -> Self {
        Cell::Date(d)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Cell::Empty)
    }
}

/// Writing failed: the temporary file of constant-memory mode could not be created, or the
/// table does not fit in a sheet.
#[derive(Debug)]
pub struct ExportError(pub String);

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "xlsx export: {}", self.0)
    }
}

impl std::error::Error for ExportError {}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> Self {
        ExportError(e.to_string())
    }
}

/// Data rows a sheet can hold below its header row.
pub const MAX_EXPORT_ROWS: u32 = 1_048_575;
/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Rows looked at to size the columns before streaming the rest.
const SIZING_ROWS: usize = 200;
/// Integers beyond Excel's 15 significant digits are written as text to keep every digit.
const MAX_EXACT_INT: i64 = 999_999_999_999_999;

/// An Excel-safe sheet name: no `[]:*?/\`, at most 31 characters, not empty.
pub fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(31)
        .collect();
    let trimmed = cleaned.trim().trim_matches('\'').to_string();
    if trimmed.is_empty() {
        "Sheet1".to_string()
    } else {
        trimmed
    }
}

fn cell_width(c: &Cell) -> f64 {
    match c {
        Cell::Text(s) => crate::template::width_of(s),
        Cell::Int(i) => crate::template::width_of(&i.to_string()),
        Cell::Date(_) => 12.0,
        Cell::Empty => 0.0,
    }
}

/// The table as an XLSX workbook with one sheet: `headers` in bold in row 1 (frozen, with an
/// autofilter), then `rows` streamed in order. Dates are real Excel dates shown dd/mm/yyyy.
pub fn write_table<I>(sheet: &str, headers: &[&str], rows: I) -> Result<Vec<u8>, ExportError>
where
    I: IntoIterator<Item = Vec<Cell>>,
{
    let mut rows = rows.into_iter();
    let first: Vec<Vec<Cell>> = rows.by_ref().take(SIZING_ROWS).collect();
    let ncols = first.iter().map(Vec::len).max().unwrap_or(0).max(headers.len());

    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let int = Format::new().set_num_format("0");
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(sheet_name(sheet))?;
    for col in 0..ncols {
        let w = headers
            .get(col)
            .map(|h| crate::template::width_of(h) + 2.0)
            .into_iter()
            .chain(first.iter().filter_map(|r| r.get(col)).map(cell_width))
            .fold(8.0, f64::max)
            .min(60.0);
        ws.set_column_width(col as u16, w)?;
    }
    for (col, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    ws.set_freeze_panes(1, 0)?;

    let mut last_row = 0u32;
    for cells in first.into_iter().chain(rows) {
        if last_row >= MAX_EXPORT_ROWS {
            return Err(ExportError(format!("more than {MAX_EXPORT_ROWS} rows")));
        }
        last_row += 1;
        for (col, cell) in cells.into_iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| ExportError("too many columns".into()))?;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    if s.chars().count() > MAX_CELL_CHARS {
                        let cut: String = s.chars().take(MAX_CELL_CHARS).collect();
                        ws.write_string(last_row, col, cut)?;
                    } else {
                        ws.write_string(last_row, col, s)?;
                    }
                }
                Cell::Int(i) if (-MAX_EXACT_INT..=MAX_EXACT_INT).contains(&i) => {
                    ws.write_number_with_format(last_row, col, i as f64, &int)?;
                }
                Cell::Int(i) => {
                    ws.write_string(last_row, col, i.to_string())?;
                }
                Cell::Date(d) => {
                    let excel = u16::try_from(d.year())
                        .ok()
                        .and_then(|y| ExcelDateTime::from_ymd(y, d.month() as u8, d.day() as u8).ok())
                        .filter(|_| (1900..=9999).contains(&d.year()));
                    match excel {
                        Some(x) => ws.write_datetime_with_format(last_row, col, &x, &date)?,
                        None => ws.write_string(last_row, col, d.format("%d/%m/%Y").to_string())?,
                    };
                }
            }
        }
    }
    if ncols > 0 {
        ws.autofilter(0, 0, last_row, (ncols - 1) as u16)?;
    }
    Ok(wb.save_to_buffer()?)
}
