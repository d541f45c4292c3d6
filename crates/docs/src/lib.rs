//! Documents: XLSX templates, import parsing and export.
//!
//! Pure: bytes in, bytes or values out. No database, no async. Reading uses `calamine`, writing
//! `rust_xlsxwriter`; both share one `zip` crate, which is also used directly to bound how much
//! an uploaded workbook may inflate to before anything is parsed.

pub mod credentials;
pub mod export;
pub mod gradebook;
pub mod import;
pub mod stats;
pub mod template;

pub use export::{Cell, ExportError, write_table};
pub use import::{CellError, CellRef, ImportErrorCode, Parsed, Row, parse};
pub use template::{Column, Template, write_template};

/// The spreadsheet letter of a 0-based column index: 0 → "A", 25 → "Z", 26 → "AA".
pub fn column_letter(index: u32) -> String {
    let mut n = index as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::column_letter;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(51), "AZ");
        assert_eq!(column_letter(52), "BA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16_383), "XFD");
    }
}
