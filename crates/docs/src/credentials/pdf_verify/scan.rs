//! Byte-level scanning of a PDF file, independent of any object parser: the header, `%%EOF`
//! markers, `startxref` values and every `/ByteRange [a b c d]` written in the clear. A parser
//! shows one revision's view of the objects; the bytes show what each signature actually covers.

use crate::credentials::trust::find;

/// The PDF header must start within the first 1024 bytes (ISO 32000-1 §7.5.2, implementation
/// note honoured by every reader).
const HEADER_WINDOW: usize = 1024;

pub(super) fn is_pdf_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// The version written in the `%PDF-x.y` header, if the file has one.
pub(super) fn header_version(bytes: &[u8]) -> Option<String> {
    let window = &bytes[..bytes.len().min(HEADER_WINDOW)];
    let at = find(window, b"%PDF-")?;
    let rest = &bytes[at + 5..];
    let len = rest
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    if len == 0 {
        return None;
    }
    Some(String::from_utf8_lossy(&rest[..len]).into_owned())
}

/// Whether `bytes`, ignoring trailing whitespace, ends with `%%EOF`: the end of a revision.
pub(super) fn ends_with_eof(bytes: &[u8]) -> bool {
    let trimmed = trim_end(bytes);
    trimmed.ends_with(b"%%EOF")
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let keep = bytes
        .iter()
        .rposition(|&b| !is_pdf_whitespace(b))
        .map_or(0, |p| p + 1);
    &bytes[..keep]
}

/// Offsets just past each `%%EOF` marker and its end-of-line: where revisions end.
pub(super) fn revision_ends(bytes: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = find(&bytes[from..], b"%%EOF") {
        let mut end = from + p + 5;
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        out.push(end as u64);
        from = from + p + 5;
    }
    out
}

/// A `/ByteRange` array written literally in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ByteRangeText {
    /// Offset of the `/ByteRange` key.
    pub(super) offset: usize,
    pub(super) values: [u64; 4],
}

/// Every literal `/ByteRange [a b c d]` (four non-negative integers) in the file, in file order.
/// Occurrences with another shape (negative numbers, indirect arrays) are not signatures we can
/// check and show up instead as parsed signature dictionaries without a literal match.
pub(super) fn byte_ranges(bytes: &[u8]) -> Vec<ByteRangeText> {
    const KEY: &[u8] = b"/ByteRange";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = find(&bytes[from..], KEY) {
        let offset = from + p;
        from = offset + KEY.len();
        if let Some(values) = parse_array4(&bytes[from..]) {
            out.push(ByteRangeText { offset, values });
        }
    }
    out
}

fn parse_array4(input: &[u8]) -> Option<[u64; 4]> {
    let mut i = skip_ws(input, 0);
    if input.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut values = [0u64; 4];
    for v in &mut values {
        i = skip_ws(input, i);
        let start = i;
        let mut n: u64 = 0;
        while let Some(&d) = input.get(i).filter(|d| d.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            i += 1;
            // More digits than any file offset could need.
            if i - start > 15 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        *v = n;
    }
    i = skip_ws(input, i);
    (input.get(i) == Some(&b']')).then_some(values)
}

fn skip_ws(input: &[u8], mut i: usize) -> usize {
    while input.get(i).is_some_and(|&b| is_pdf_whitespace(b)) {
        i += 1;
    }
    i
}

/// The offset named by the last `startxref` of `bytes`, if it parses.
pub(super) fn last_startxref(bytes: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"startxref";
    let mut last = None;
    let mut from = 0;
    while let Some(p) = find(&bytes[from..], KEY) {
        last = Some(from + p);
        from = from + p + KEY.len();
    }
    let mut i = skip_ws(bytes, last? + KEY.len());
    let start = i;
    let mut n: u64 = 0;
    while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        i += 1;
        if i - start > 15 {
            return None;
        }
    }
    (i > start).then_some(n)
}

/// Whether a cross-reference section starts at `offset`: a classic `xref` table or an
/// `N G obj` header of a cross-reference stream.
pub(super) fn xref_section_at(bytes: &[u8], offset: usize) -> bool {
    let Some(rest) = bytes.get(offset..) else {
        return false;
    };
    if rest.starts_with(b"xref") {
        return true;
    }
    let mut i = 0;
    for _ in 0..2 {
        let start = i;
        while rest.get(i).is_some_and(|d| d.is_ascii_digit()) {
            i += 1;
        }
        if i == start || !rest.get(i).is_some_and(|&b| is_pdf_whitespace(b)) {
            return false;
        }
        i = skip_ws(rest, i);
    }
    rest[i..].starts_with(b"obj")
}

/// Whether `bytes` contain PDF file-structure keywords: the start of a revision, as opposed to
/// arbitrary appended data.
pub(super) fn has_structure_keywords(bytes: &[u8]) -> bool {
    [&b" obj"[..], b"endobj", b"xref", b"trailer", b"startxref"]
        .iter()
        .any(|k| find(bytes, k).is_some())
}

/// Decodes the hexadecimal string that must exactly fill a signature's gap: `<` hex digits `>`,
/// nothing else (no whitespace, an even number of digits).
pub(super) fn gap_contents(gap: &[u8]) -> Option<Vec<u8>> {
    let inner = gap.strip_prefix(b"<")?.strip_suffix(b">")?;
    if inner.is_empty() || inner.len() % 2 != 0 || !inner.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    hex::decode(inner).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_found_with_any_whitespace() {
        let text = b"<< /ByteRange [0 10 20\n30] /X 1 >> /ByteRange[ 0  5 9 1 ] /ByteRange [0 -1 2 3]";
        let found = byte_ranges(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].values, [0, 10, 20, 30]);
        assert_eq!(found[0].offset, 3);
        assert_eq!(found[1].values, [0, 5, 9, 1]);
    }

    #[test]
    fn revision_markers() {
        let text = b"%PDF-1.7\nabc\n%%EOF\nmore\n%%EOF\r\n";
        assert_eq!(header_version(text).as_deref(), Some("1.7"));
        assert_eq!(revision_ends(text), vec![19, 31]);
        assert!(ends_with_eof(text));
        assert!(!ends_with_eof(b"%%EOF\ngarbage"));
        assert_eq!(
            last_startxref(b"startxref\n12\n%%EOF startxref 345\n%%EOF"),
            Some(345)
        );
        assert!(xref_section_at(b"..12 0 obj <<", 2));
        assert!(xref_section_at(b"xref\n0 1", 0));
        assert!(!xref_section_at(b"12 x obj", 0));
    }

    #[test]
    fn gap_must_be_exactly_one_hex_string() {
        assert_eq!(gap_contents(b"<30a0>"), Some(vec![0x30, 0xa0]));
        assert_eq!(gap_contents(b"<30a>"), None);
        assert_eq!(gap_contents(b"<30 a0>"), None);
        assert_eq!(gap_contents(b"(30a0)"), None);
        assert_eq!(gap_contents(b"<>"), None);
    }
}
