//! A small flow layout: text wrapped greedily on measured widths, side-by-side blocks kept on one
//! page, and ruled tables whose rows continue on a new page under a repeated header.
//!
//! Layout produces a display list per page ([`Item`]s in points, origin top left, y down, as
//! krilla's surface uses); drawing it is a separate pass, so pagination can be decided (and page
//! numbers known) before krilla sees anything. Every string is NFC-normalised on the way in.

use super::fonts::Fonts;
use truongso_core::text::nfc;

/// Line height as a multiple of the font size: room for Vietnamese stacked marks above capitals
/// ("Ấ", "Ỗ") and descenders below.
const LEADING: f32 = 1.3;
/// Baseline below the top of a line box, as a multiple of the font size.
const ASCENT: f32 = 1.0;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    /// Filled black rectangles `(x, y, w, h)`: the QR code's modules.
    Dark(Vec<(f32, f32, f32, f32)>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub width: f32,
    pub height: f32,
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
}

impl Geometry {
    pub(crate) fn body_width(&self) -> f32 {
        self.width - self.left - self.right
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
}

/// One element of a block column.
#[derive(Debug, Clone)]
pub(crate) enum Span {
    Text {
        text: String,
        size: f32,
        bold: bool,
        align: Align,
    },
    /// "Label: value" with the value in bold, wrapping under itself.
    Field {
        label: String,
        value: String,
        size: f32,
    },
    Space(f32),
    /// Nested side-by-side columns `(x offset within this column, width, spans)`.
    Columns(Vec<(f32, f32, Vec<Span>)>),
    /// A QR code: its width in modules, the dark runs `(row, column, length)`, the module size.
    Qr {
        modules: usize,
        runs: Vec<super::qr::Run>,
        module: f32,
    },
}

impl Span {
    pub(crate) fn text(text: impl Into<String>, size: f32, bold: bool, align: Align) -> Span {
        Span::Text {
            text: text.into(),
            size,
            bold,
            align,
        }
    }

    pub(crate) fn field(label: impl Into<String>, value: impl Into<String>, size: f32) -> Span {
        Span::Field {
            label: label.into(),
            value: value.into(),
            size,
        }
    }
}

/// A table cell.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub text: String,
    pub bold: bool,
    pub align: Align,
}

impl Cell {
    pub(crate) fn new(text: impl Into<String>, align: Align) -> Cell {
        Cell {
            text: text.into(),
            bold: false,
            align,
        }
    }

    pub(crate) fn bold(text: impl Into<String>, align: Align) -> Cell {
        Cell {
            text: text.into(),
            bold: true,
            align,
        }
    }
}

pub(crate) struct Table<'t> {
    /// Offset of the table's left edge from the left margin.
    pub x: f32,
    pub widths: &'t [f32],
    pub header: &'t [&'t str],
    pub rows: Vec<Vec<Cell>>,
    pub size: f32,
}

const CELL_PAD: f32 = 2.2;
const RULE: f32 = 0.5;

pub(crate) struct Flow<'f> {
    fonts: &'f Fonts,
    pub(crate) geo: Geometry,
    pub(crate) pages: Vec<Vec<Item>>,
    /// Top of the next thing to place.
    pub(crate) y: f32,
    /// Printed at the top of every page after the first.
    running_head: Option<String>,
    /// Where content starts on the current page (below the running head).
    page_top: f32,
}

impl<'f> Flow<'f> {
    pub(crate) fn new(fonts: &'f Fonts, geo: Geometry, running_head: Option<String>) -> Flow<'f> {
        Flow {
            fonts,
            geo,
            pages: vec![Vec::new()],
            y: geo.top,
            running_head: running_head.map(|h| nfc(&h)),
            page_top: geo.top,
        }
    }

    fn limit(&self) -> f32 {
        self.geo.height - self.geo.bottom
    }

    /// Room left on the current page.
    pub(crate) fn remaining(&self) -> f32 {
        self.limit() - self.y
    }

    /// Room on a fresh continuation page.
    fn page_capacity(&self) -> f32 {
        self.limit() - self.geo.top - self.running_head_height()
    }

    fn running_head_height(&self) -> f32 {
        if self.running_head.is_some() { 18.0 } else { 0.0 }
    }

    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.geo.top;
        if let Some(head) = self.running_head.clone() {
            let size = 8.0;
            let x = self.geo.left;
            self.push(Item::Text {
                x,
                y: self.y + size * ASCENT,
                size,
                bold: false,
                text: head,
            });
            let rule_y = self.y + size * LEADING + 2.0;
            self.rule(x, x + self.geo.body_width(), rule_y, RULE);
            self.y += self.running_head_height();
        }
        self.page_top = self.y;
    }

    /// Starts a new page unless `height` fits on this one (or this page is still empty).
    pub(crate) fn ensure(&mut self, height: f32) {
        if self.y + height > self.limit() && self.y > self.page_top {
            self.new_page();
        }
    }

    pub(crate) fn gap(&mut self, height: f32) {
        self.y = (self.y + height).min(self.limit());
    }

    pub(crate) fn push(&mut self, item: Item) {
        self.pages.last_mut().expect("a page").push(item);
    }

    pub(crate) fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.push(Item::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
        });
    }

    pub(crate) fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.fonts.text_width(text, size, bold)
    }

    /// Greedy word wrap of NFC `text` into lines no wider than `max` (a word wider than `max`
    /// is cut between characters). Line breaks in the text are kept; empty text gives no line.
    pub(crate) fn wrap(&self, text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
        let face = self.fonts.face(bold);
        let space = face.width(" ", size);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in para.split_whitespace() {
                let w = face.width(word, size);
                let extra = if line.is_empty() { w } else { space + w };
                if line_w + extra <= max {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_w += extra;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                if w <= max {
                    line.push_str(word);
                    line_w = w;
                    continue;
                }
                for ch in word.chars() {
                    let cw = face.width(ch.encode_utf8(&mut [0; 4]), size);
                    if line_w + cw > max && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(ch);
                    line_w += cw;
                }
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    /// Puts one line of text in the box `x..x + width` whose top is `top`.
    fn place(
        &mut self,
        (x, width, top): (f32, f32, f32),
        (size, bold, align): (f32, bool, Align),
        line: String,
    ) {
        let w = self.width(&line, size, bold);
        let x = match align {
            Align::Left => x,
            Align::Center => x + (width - w) / 2.0,
        };
        self.push(Item::Text {
            x,
            y: top + size * ASCENT,
            size,
            bold,
            text: line,
        });
    }

    /// Wrapped text across the body width, breaking pages between lines.
    pub(crate) fn paragraph(&mut self, text: &str, size: f32, bold: bool, align: Align) {
        let (x, width) = (self.geo.left, self.geo.body_width());
        for line in self.wrap(&nfc(text), size, bold, width) {
            self.ensure(size * LEADING);
            let top = self.y;
            self.place((x, width, top), (size, bold, align), line);
            self.y += size * LEADING;
        }
    }

    /// Side-by-side columns `(x offset from the left margin, width, spans)`, kept together on one
    /// page; the cursor moves below the tallest.
    pub(crate) fn block(&mut self, columns: Vec<(f32, f32, Vec<Span>)>) {
        let height = columns
            .iter()
            .map(|(_, w, spans)| self.spans_height(*w, spans))
            .fold(0.0, f32::max);
        self.ensure(height);
        let top = self.y;
        for (dx, w, spans) in columns {
            self.draw_spans(self.geo.left + dx, w, top, spans);
        }
        self.y = top + height;
    }

    /// The value's indent, whether it starts on the line below the label (a label wider than
    /// most of the column), and its wrapped lines.
    fn field_lines(&self, label: &str, value: &str, size: f32, width: f32) -> (f32, bool, Vec<String>) {
        let label_w = self.width(label, size, false);
        let below = label_w >= width * 0.6 && self.width(value, size, true) > width - label_w;
        let indent = if below { 0.0 } else { label_w };
        (indent, below, self.wrap(value, size, true, width - indent))
    }

    fn spans_height(&self, width: f32, spans: &[Span]) -> f32 {
        spans
            .iter()
            .map(|s| match s {
                Span::Text { text, size, bold, .. } => {
                    self.wrap(&nfc(text), *size, *bold, width).len() as f32 * size * LEADING
                }
                Span::Field { label, value, size } => {
                    let (_, below, lines) = self.field_lines(&nfc(label), &nfc(value), *size, width);
                    let extra = usize::from(below);
                    (lines.len().max(1) + extra) as f32 * size * LEADING
                }
                Span::Space(h) => *h,
                Span::Columns(cols) => cols
                    .iter()
                    .map(|(_, w, spans)| self.spans_height(*w, spans))
                    .fold(0.0, f32::max),
                Span::Qr { modules, module, .. } => *modules as f32 * module,
            })
            .sum()
    }

    fn draw_spans(&mut self, x: f32, width: f32, mut top: f32, spans: Vec<Span>) {
        for span in spans {
            match span {
                Span::Text {
                    text,
                    size,
                    bold,
                    align,
                } => {
                    for line in self.wrap(&nfc(&text), size, bold, width) {
                        self.place((x, width, top), (size, bold, align), line);
                        top += size * LEADING;
                    }
                }
                Span::Field { label, value, size } => {
                    let (label, value) = (nfc(&label), nfc(&value));
                    let (indent, below, lines) = self.field_lines(&label, &value, size, width);
                    if !label.is_empty() {
                        self.place((x, width, top), (size, false, Align::Left), label);
                    }
                    if below {
                        top += size * LEADING;
                    }
                    if lines.is_empty() {
                        top += size * LEADING;
                    }
                    for line in lines {
                        self.place((x + indent, width - indent, top), (size, true, Align::Left), line);
                        top += size * LEADING;
                    }
                }
                Span::Space(h) => top += h,
                Span::Columns(cols) => {
                    let height = cols
                        .iter()
                        .map(|(_, w, spans)| self.spans_height(*w, spans))
                        .fold(0.0, f32::max);
                    for (dx, w, spans) in cols {
                        self.draw_spans(x + dx, w, top, spans);
                    }
                    top += height;
                }
                Span::Qr {
                    modules,
                    runs,
                    module,
                } => {
                    let rects = runs
                        .into_iter()
                        .map(|(row, col, len)| {
                            (
                                x + col as f32 * module,
                                top + row as f32 * module,
                                len as f32 * module,
                                module,
                            )
                        })
                        .collect();
                    self.push(Item::Dark(rects));
                    top += modules as f32 * module;
                }
            }
        }
    }

    fn table_lines(&self, table: &Table<'_>) -> (Vec<Vec<String>>, Vec<Vec<Vec<String>>>) {
        let size = table.size;
        let header = table
            .header
            .iter()
            .zip(table.widths)
            .map(|(h, w)| self.wrap(&nfc(h), size, true, w - 2.0 * CELL_PAD))
            .collect();
        let rows = table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(table.widths)
                    .map(|(c, w)| self.wrap(&nfc(&c.text), size, c.bold, w - 2.0 * CELL_PAD))
                    .collect()
            })
            .collect();
        (header, rows)
    }

    fn table_height(&self, table: &Table<'_>) -> f32 {
        let line_h = table.size * LEADING;
        let (header, rows) = self.table_lines(table);
        rows_height(&header, line_h) + rows.iter().map(|r| rows_height(r, line_h)).sum::<f32>()
    }

    /// Two tables next to each other when both fit on this page or the next; otherwise one
    /// after the other.
    pub(crate) fn tables_side_by_side(&mut self, a: Table<'_>, b: Table<'_>, gap: f32) {
        let height = self.table_height(&a).max(self.table_height(&b));
        if height > self.page_capacity() {
            self.table(a);
            self.gap(gap);
            self.table(b);
            return;
        }
        self.ensure(height);
        let top = self.y;
        self.table(a);
        self.y = top;
        self.table(b);
        self.y = top + height;
    }

    /// A ruled table. A row that does not fit moves to the next page under a repeated header; a
    /// row taller than a whole page is split between its lines.
    pub(crate) fn table(&mut self, table: Table<'_>) {
        let size = table.size;
        let line_h = size * LEADING;
        let (header, rows) = self.table_lines(&table);
        let x0 = self.geo.left + table.x;
        let widths = table.widths;
        let header_h = rows_height(&header, line_h);
        let first_h = rows.first().map_or(0.0, |l| rows_height(l, line_h));
        self.ensure(header_h + first_h.min(self.page_capacity() - header_h));
        self.table_header(x0, widths, &header, size, header_h);
        for (mut lines, cells) in rows.into_iter().zip(&table.rows) {
            let cells: Vec<&Cell> = cells.iter().collect();
            loop {
                let h = rows_height(&lines, line_h);
                if h <= self.remaining() {
                    self.table_row(x0, widths, &lines, &cells, size, h);
                    break;
                }
                let fits_fresh = h <= self.page_capacity() - header_h;
                let room_lines = ((self.remaining() - 2.0 * CELL_PAD) / line_h).floor().max(0.0) as usize;
                let fresh = self.y <= self.page_top + header_h + 0.01;
                if !fresh && (fits_fresh || room_lines < 2) {
                    self.new_page();
                    self.table_header(x0, widths, &header, size, header_h);
                    continue;
                }
                // Taller than a page: fill this one, carry the rest of every cell over.
                let n = room_lines.max(1);
                let rest: Vec<Vec<String>> = lines
                    .iter_mut()
                    .map(|cell| {
                        if cell.len() > n {
                            cell.split_off(n)
                        } else {
                            Vec::new()
                        }
                    })
                    .collect();
                let h = rows_height(&lines, line_h);
                self.table_row(x0, widths, &lines, &cells, size, h);
                lines = rest;
                self.new_page();
                self.table_header(x0, widths, &header, size, header_h);
            }
        }
    }

    fn table_header(&mut self, x0: f32, widths: &[f32], header: &[Vec<String>], size: f32, h: f32) {
        let total: f32 = widths.iter().sum();
        let top = self.y;
        self.rule(x0, x0 + total, top, RULE);
        let bold = Cell::bold("", Align::Center);
        let cells: Vec<&Cell> = header.iter().map(|_| &bold).collect();
        self.table_row(x0, widths, header, &cells, size, h);
    }

    fn table_row(
        &mut self,
        x0: f32,
        widths: &[f32],
        lines: &[Vec<String>],
        cells: &[&Cell],
        size: f32,
        h: f32,
    ) {
        let top = self.y;
        let mut x = x0;
        for ((cell_lines, w), cell) in lines.iter().zip(widths).zip(cells) {
            let mut line_top = top + CELL_PAD;
            for line in cell_lines {
                self.place(
                    (x + CELL_PAD, w - 2.0 * CELL_PAD, line_top),
                    (size, cell.bold, cell.align),
                    line.clone(),
                );
                line_top += size * LEADING;
            }
            self.push(Item::Line {
                x1: x,
                y1: top,
                x2: x,
                y2: top + h,
                width: RULE,
            });
            x += w;
        }
        self.push(Item::Line {
            x1: x,
            y1: top,
            x2: x,
            y2: top + h,
            width: RULE,
        });
        self.rule(x0, x, top + h, RULE);
        self.y = top + h;
    }
}

fn rows_height(cells: &[Vec<String>], line_h: f32) -> f32 {
    cells.iter().map(Vec::len).max().unwrap_or(0).max(1) as f32 * line_h + 2.0 * CELL_PAD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::system_default().expect("apt-get install fonts-dejavu-core")
    }

    const A4: Geometry = Geometry {
        width: 595.28,
        height: 841.89,
        left: 42.0,
        right: 36.0,
        top: 36.0,
        bottom: 40.0,
    };

    #[test]
    fn wrap_is_greedy_and_never_overflows() {
        let fonts = fonts();
        let flow = Flow::new(&fonts, A4, None);
        let text = "Chăm chỉ, có ý thức tự học; cần rèn luyện thêm kỹ năng trình bày bài viết.";
        let lines = flow.wrap(text, 9.0, false, 120.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for l in &lines {
            assert!(flow.width(l, 9.0, false) <= 120.0, "{l}");
        }
        assert_eq!(lines.join(" "), text);
        // Greedy: the next word would not have fitted on any line.
        for pair in lines.windows(2) {
            let next = pair[1].split(' ').next().unwrap();
            assert!(flow.width(&format!("{} {next}", pair[0]), 9.0, false) > 120.0);
        }
        // A word wider than the column is cut between characters.
        let long = flow.wrap("Nghiêng-nghiêng-nghiêng-nghiêng", 9.0, false, 40.0);
        assert!(long.len() > 2 && long.iter().all(|l| flow.width(l, 9.0, false) <= 40.0));
        assert_eq!(long.concat(), "Nghiêng-nghiêng-nghiêng-nghiêng");
        assert_eq!(flow.wrap("a\nb", 9.0, false, 100.0), vec!["a", "b"]);
        assert!(flow.wrap("  ", 9.0, false, 100.0).is_empty());
    }

    #[test]
    fn long_tables_continue_under_a_repeated_header() {
        let fonts = fonts();
        let mut flow = Flow::new(&fonts, A4, Some("head".into()));
        let remark = "Nhận xét rất dài ".repeat(12);
        let rows = (0..16)
            .map(|i| {
                vec![
                    Cell::new(format!("Môn {i}"), Align::Left),
                    Cell::new(remark.clone(), Align::Left),
                ]
            })
            .collect();
        flow.table(Table {
            x: 0.0,
            widths: &[100.0, 150.0],
            header: &["Môn học", "Nhận xét"],
            rows,
            size: 9.0,
        });
        assert!(flow.pages.len() >= 2);
        for (i, page) in flow.pages.iter().enumerate() {
            let texts: Vec<&str> = page
                .iter()
                .filter_map(|it| match it {
                    Item::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(texts.iter().filter(|t| **t == "Môn học").count(), 1, "page {i}");
            assert_eq!(texts.contains(&"head"), i > 0);
            for it in page {
                if let Item::Text { y, .. } = it {
                    assert!(*y <= A4.height - A4.bottom, "page {i} overflows at {y}");
                }
            }
        }
        let all: Vec<&Item> = flow.pages.iter().flatten().collect();
        for i in 0..16 {
            let label = format!("Môn {i}");
            assert_eq!(
                all.iter()
                    .filter(|it| matches!(it, Item::Text { text, .. } if *text == label))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn a_row_taller_than_a_page_is_split() {
        let fonts = fonts();
        let mut flow = Flow::new(&fonts, A4, None);
        let remark = "từ ".repeat(2000);
        flow.table(Table {
            x: 0.0,
            widths: &[100.0, 150.0],
            header: &["A", "B"],
            rows: vec![vec![Cell::new("x", Align::Left), Cell::new(remark, Align::Left)]],
            size: 9.0,
        });
        assert!(flow.pages.len() >= 3, "{}", flow.pages.len());
        let words: usize = flow
            .pages
            .iter()
            .flatten()
            .filter_map(|it| match it {
                Item::Text { text, .. } => Some(text.matches("từ").count()),
                _ => None,
            })
            .sum();
        assert_eq!(words, 2000);
    }
}
