//! Gradebook exports in the layouts schools print and file: the subject page of the class
//! gradebook for one term (*Sổ theo dõi và đánh giá học sinh (theo lớp học)*, TT 22/2021; for
//! primary the subject's periodic levels and tests of the *Bảng tổng hợp kết quả đánh giá giáo
//! dục của lớp*, TT 27/2020), and the class's year results summary with a sheet of per-subject
//! statistics.
//!
//! Pure: plain data in, XLSX bytes out. Marks are written as numbers (shown with one decimal)
//! so that a school's own Excel formulas work on them; Đ/CĐ and levels are text. Every sheet
//! has the title block of the form, a two-row header (groups such as ĐĐGtx over their
//! columns), the header and the names frozen, and is set up to print on A4 landscape, one page
//! wide, repeating the header on every page.

use crate::export::{ExportError, sheet_name};
use crate::template::width_of;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use truongso_core::gradebook::Mark;

/// The title block both exports start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heading {
    pub school: String,
    pub class_name: String,
    /// "2026-2027".
    pub school_year: String,
    /// The rule set as printed on records, e.g. "Thông tư 22/2021/TT-BGDĐT".
    pub rules: String,
}

/// One value of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A mark on the 10-point scale in tenths (77 → 7.7): a number shown with one decimal.
    Score(u16),
    /// A whole number (a primary test score, a count): a number shown without decimals.
    Whole(i64),
    /// Text as it is: "Đ", "CĐ", a level "T" / "H" / "C".
    Text(String),
    Empty,
}

impl Value {
    /// A result as the gradebook shows it: "7.7" (or "7,7") → `Score(77)`, "" → `Empty`,
    /// anything else ("Đ", "CĐ") → `Text`.
    pub fn shown(s: &str) -> Value {
        let s = s.trim();
        if s.is_empty() {
            return Value::Empty;
        }
        match Mark::parse(s) {
            Ok(m) => Value::Score(m.tenths().into()),
            Err(_) => Value::Text(s.to_string()),
        }
    }
}

/// How a subject is assessed, which decides the result column of its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMode {
    /// Nhận xét kết hợp điểm số: the result is ĐTBmhk (ĐTBmcn for the year).
    Score,
    /// Đánh giá bằng nhận xét: the result is Đ / CĐ.
    Comment,
    /// Primary (TT 27/2020): levels and tests only, the end-of-term level is the result.
    Level,
}

/// One column of a subject page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectColumn {
    /// ĐĐGtx number k (from 1).
    Regular(u8),
    /// A chuyên đề result counted as one more ĐĐGtx (THPT).
    ChuyenDe(u8),
    /// ĐĐGgk.
    Mid,
    /// ĐĐGck.
    End,
    /// Primary: the level reached at mid-term, and the mid-term test.
    MidLevel,
    MidTest,
    /// Primary: the level reached at the end of the term (of the year in term 2), and its test.
    EndLevel,
    EndTest,
    /// The summer re-test (term 0).
    Retest,
}

impl SubjectColumn {
    /// The column of a stored gradebook slot: `tx1`…, `cd1`…, `gk`, `ck`, `mid_level`,
    /// `mid_test`, `end_level`, `end_test`, `retest`.
    pub fn from_slot(slot: &str) -> Option<Self> {
        let nth = |prefix: &str| slot.strip_prefix(prefix).and_then(|k| k.parse::<u8>().ok());
        Some(match slot {
            "gk" => Self::Mid,
            "ck" => Self::End,
            "mid_level" => Self::MidLevel,
            "mid_test" => Self::MidTest,
            "end_level" => Self::EndLevel,
            "end_test" => Self::EndTest,
            "retest" => Self::Retest,
            _ => match (nth("tx"), nth("cd")) {
                (Some(k), _) => Self::Regular(k),
                (_, Some(k)) => Self::ChuyenDe(k),
                _ => return None,
            },
        })
    }

    /// The header over a group of columns, if this column belongs to one.
    fn group(self, term: u8) -> Option<String> {
        let part = match (self, term) {
            (Self::Regular(_) | Self::ChuyenDe(_), _) => return Some("ĐĐGtx".into()),
            (Self::MidLevel | Self::MidTest, 2) => "Giữa học kì II",
            (Self::MidLevel | Self::MidTest, _) => "Giữa học kì I",
            (Self::EndLevel | Self::EndTest, 2) => "Cuối năm học",
            (Self::EndLevel | Self::EndTest, _) => "Cuối học kì I",
            _ => return None,
        };
        Some(part.into())
    }

    fn head(self) -> String {
        match self {
            Self::Regular(k) => k.to_string(),
            Self::ChuyenDe(_) => "Chuyên đề".into(),
            Self::Mid => "ĐĐGgk".into(),
            Self::End => "ĐĐGck".into(),
            Self::MidLevel | Self::EndLevel => "Mức đạt được".into(),
            Self::MidTest | Self::EndTest => "Điểm KTĐK".into(),
            Self::Retest => "Kiểm tra lại".into(),
        }
    }
}

/// One learner's row of a subject page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    pub name: String,
    /// Has left the class (kept, read-only, with a note after the name).
    pub left: bool,
    /// One value per column of the page.
    pub values: Vec<Value>,
    /// The term's result (ĐTBmhk, Đ/CĐ); not written for `SubjectMode::Level`.
    pub result: Value,
}

/// The subject page of the class gradebook for one term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSheet {
    pub heading: Heading,
    /// The subject's name, "Toán".
    pub subject: String,
    /// 1 (HK I), 2 (HK II), 0 (the year: the summer re-test).
    pub term: u8,
    pub mode: SubjectMode,
    pub columns: Vec<SubjectColumn>,
    pub rows: Vec<SubjectRow>,
}

impl SubjectSheet {
    fn primary(&self) -> bool {
        self.mode == SubjectMode::Level
    }

    /// "so-diem-toan-6A1-hk1.xlsx".
    pub fn file_name(&self) -> String {
        let term = match self.term {
            1 => "hk1",
            2 => "hk2",
            _ => "ca-nam",
        };
        format!(
            "so-diem-{}-{}-{term}.xlsx",
            file_part(&self.subject).to_lowercase(),
            file_part(&self.heading.class_name)
        )
    }

    fn result_head(&self) -> Option<&'static str> {
        match (self.mode, self.term) {
            (SubjectMode::Level, _) => None,
            (SubjectMode::Score, 0) => Some("ĐTBmcn"),
            (SubjectMode::Score, _) => Some("ĐTBmhk"),
            (SubjectMode::Comment, 0) => Some("Kết quả cả năm"),
            (SubjectMode::Comment, _) => Some("Kết quả học kì"),
        }
    }
}

/// One learner's row of the year results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub name: String,
    /// One value per subject: ĐTBmcn, or Đ/CĐ.
    pub subjects: Vec<Value>,
    /// Học tập (primary: the education result, e.g. "Hoàn thành tốt").
    pub learning: String,
    /// The learning level was adjusted by the one-subject rule (marked "*", noted below).
    pub adjusted: bool,
    /// Rèn luyện (not written for primary).
    pub conduct: String,
    pub absences: i64,
    /// Lên lớp / Hoàn thành.
    pub decision: String,
    pub award: String,
}

/// One subject's line of the statistics sheet: how many learners in each band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub subject: String,
    pub counts: Vec<u32>,
}

/// The class's year results summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsSheet {
    pub heading: Heading,
    /// Primary (TT 27/2020): the education result instead of Học tập, no Rèn luyện.
    pub primary: bool,
    /// Subject names in column order.
    pub subjects: Vec<String>,
    pub rows: Vec<ResultRow>,
    /// The bands counted on the "Thống kê" sheet ("≥ 8,0", …, "Đ", "CĐ").
    pub stat_heads: Vec<String>,
    pub stats: Vec<StatRow>,
}

impl ResultsSheet {
    /// "ket-qua-6A1-2026-2027.xlsx".
    pub fn file_name(&self) -> String {
        format!(
            "ket-qua-{}-{}.xlsx",
            file_part(&self.heading.class_name),
            file_part(&self.heading.school_year)
        )
    }
}

/// Name of the statistics sheet of the results workbook.
pub const STATS_SHEET: &str = "Thống kê";
/// Name of the summary sheet of the results workbook.
pub const RESULTS_SHEET: &str = "Tổng hợp";

/// A piece of a download's file name: ASCII letters and digits (Vietnamese letters without
/// their marks, đ → d, case kept), everything else a single "-".
pub fn file_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let base = match c {
            'đ' => "d".to_string(),
            'Đ' => "D".to_string(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => {
                let f = truongso_core::text::fold(&c.to_string());
                if c.is_uppercase() { f.to_uppercase() } else { f }
            }
        };
        if !base.is_empty() && base.chars().all(|b| b.is_ascii_alphanumeric()) {
            out.push_str(&base);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Header row of the table (the title block takes the rows above).
const HEAD: u32 = 4;
/// First data row.
const DATA: u32 = HEAD + 2;
/// Excel's paper size index of A4.
const A4: u8 = 9;

/// The formats of one workbook.
struct Styles {
    school: Format,
    title: Format,
    line: Format,
    rules: Format,
    head: Format,
    head_turned: Format,
    text: Format,
    center: Format,
    score: Format,
    whole: Format,
    note: Format,
    sign: Format,
}

impl Styles {
    fn new() -> Self {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let center = cell.clone().set_align(FormatAlign::Center);
        let head = center.clone().set_bold().set_text_wrap();
        Styles {
            school: Format::new().set_bold(),
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            line: Format::new().set_align(FormatAlign::Center),
            rules: Format::new().set_italic().set_align(FormatAlign::Center),
            head_turned: head.clone().set_rotation(90),
            head,
            text: cell,
            score: center.clone().set_num_format("0.0"),
            whole: center.clone().set_num_format("0"),
            center,
            note: Format::new().set_italic(),
            sign: Format::new().set_bold().set_align(FormatAlign::Center),
        }
    }
}

/// One column of a table: its header (under `group` when it has one), width and whether the
/// header is turned upright to keep a narrow column.
struct Head {
    group: Option<String>,
    label: String,
    width: f64,
    turned: bool,
}

impl Head {
    fn single(label: &str, width: f64) -> Self {
        Head {
            group: None,
            label: label.into(),
            width,
            turned: false,
        }
    }

    fn grouped(group: &str, label: &str, width: f64) -> Self {
        Head {
            group: Some(group.into()),
            ..Head::single(label, width)
        }
    }
}

/// Writes across columns `0..=last` of `row`: merged when the table is wider than one column.
fn across(ws: &mut Worksheet, row: u32, last: u16, text: &str, f: &Format) -> Result<(), XlsxError> {
    if last == 0 {
        ws.write_string_with_format(row, 0, text, f)?;
    } else {
        ws.merge_range(row, 0, row, last, text, f)?;
    }
    Ok(())
}

/// The title block (school, title, what the table covers, the rules), the two header rows,
/// the column widths, frozen panes and the print setup.
fn frame(
    ws: &mut Worksheet,
    st: &Styles,
    h: &Heading,
    title: &str,
    line: &str,
    heads: &[Head],
) -> Result<(), XlsxError> {
    let last = heads.len().saturating_sub(1) as u16;
    across(ws, 0, last, &h.school.to_uppercase(), &st.school)?;
    across(ws, 1, last, title, &st.title)?;
    across(ws, 2, last, line, &st.line)?;
    if !h.rules.is_empty() {
        across(ws, 3, last, &format!("Đánh giá theo {}", h.rules), &st.rules)?;
    }
    ws.set_row_height(1, 22)?;
    let mut c = 0usize;
    while c < heads.len() {
        let head = &heads[c];
        let col = c as u16;
        ws.set_column_width(col, head.width)?;
        let f = if head.turned { &st.head_turned } else { &st.head };
        match &head.group {
            None => {
                ws.merge_range(HEAD, col, HEAD + 1, col, &head.label, f)?;
                c += 1;
            }
            Some(g) => {
                let run = heads[c..]
                    .iter()
                    .take_while(|x| x.group.as_ref() == Some(g))
                    .count();
                let end = col + run as u16 - 1;
                if run > 1 {
                    ws.merge_range(HEAD, col, HEAD, end, g, &st.head)?;
                } else {
                    ws.write_string_with_format(HEAD, col, g, &st.head)?;
                }
                for (k, x) in heads[c..c + run].iter().enumerate() {
                    let k = col + k as u16;
                    ws.set_column_width(k, x.width)?;
                    let f = if x.turned { &st.head_turned } else { &st.head };
                    ws.write_string_with_format(HEAD + 1, k, &x.label, f)?;
                }
                c += run;
            }
        }
    }
    if heads.iter().any(|x| x.turned) {
        ws.set_row_height(HEAD + 1, 96)?;
    } else {
        ws.set_row_height(HEAD + 1, 32)?;
    }
    ws.set_freeze_panes(DATA, 2.min(heads.len() as u16))?;
    ws.set_paper_size(A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(HEAD, HEAD + 1)?;
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}

fn write_value(ws: &mut Worksheet, st: &Styles, row: u32, col: u16, v: &Value) -> Result<(), XlsxError> {
    match v {
        Value::Score(t) => ws.write_number_with_format(row, col, f64::from(*t) / 10.0, &st.score)?,
        Value::Whole(n) => ws.write_number_with_format(row, col, *n as f64, &st.whole)?,
        Value::Text(s) => ws.write_string_with_format(row, col, s, &st.center)?,
        Value::Empty => ws.write_blank(row, col, &st.center)?,
    };
    Ok(())
}

/// STT and the name, the first two cells of every row of a table.
fn numbered(ws: &mut Worksheet, st: &Styles, row: u32, n: usize, name: &str) -> Result<(), XlsxError> {
    ws.write_number_with_format(row, 0, n as f64, &st.whole)?;
    ws.write_string_with_format(row, 1, name, &st.text)?;
    Ok(())
}

/// The width of the name column: the longest name, within reason.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> f64 {
    names.map(width_of).fold(24.0, f64::max).min(40.0)
}

/// Signature lines below a table: titles in bold, "(Ký và ghi rõ họ tên)" under each.
fn signatures(
    ws: &mut Worksheet,
    st: &Styles,
    row: u32,
    places: &[(u16, u16, &str)],
) -> Result<(), XlsxError> {
    for (first, last, who) in places {
        for (r, text, f) in [
            (row, *who, &st.sign),
            (row + 1, "(Ký và ghi rõ họ tên)", &st.note),
        ] {
            if first < last {
                ws.merge_range(r, *first, r, *last, text, f)?;
            } else {
                ws.write_string_with_format(r, *first, text, f)?;
            }
        }
    }
    Ok(())
}

fn term_name(term: u8) -> &'static str {
    match term {
        1 => "Học kì I",
        2 => "Học kì II",
        _ => "Cả năm (kiểm tra lại)",
    }
}

/// The subject page of the class gradebook for one term, as an XLSX workbook of one sheet.
pub fn subject_sheet(s: &SubjectSheet) -> Result<Vec<u8>, ExportError> {
    Ok(build_subject(s)?)
}

fn build_subject(s: &SubjectSheet) -> Result<Vec<u8>, XlsxError> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let short_term = match s.term {
        1 => "HKI",
        2 => "HKII",
        _ => "KT lại",
    };
    ws.set_name(sheet_name(&format!("{} {short_term}", s.subject)))?;
    let names = s.rows.iter().map(|r| r.name.as_str());
    let mut heads = vec![
        Head::single("STT", 5.0),
        Head::single("Họ và tên", name_width(names) + 4.0),
    ];
    for c in &s.columns {
        let width = match c {
            SubjectColumn::MidLevel
            | SubjectColumn::EndLevel
            | SubjectColumn::MidTest
            | SubjectColumn::EndTest => 9.0,
            SubjectColumn::ChuyenDe(_) | SubjectColumn::Retest => 10.0,
            _ => 7.0,
        };
        heads.push(match c.group(s.term) {
            Some(g) => Head::grouped(&g, &c.head(), width),
            None => Head::single(&c.head(), width),
        });
    }
    let result = s.result_head();
    if let Some(r) = result {
        heads.push(Head::single(r, 10.0));
    }
    let title = if s.primary() {
        "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CỦA LỚP"
    } else {
        "SỔ THEO DÕI VÀ ĐÁNH GIÁ HỌC SINH (THEO LỚP HỌC)"
    };
    let line = format!(
        "Môn học: {}    Lớp: {}    {}    Năm học: {}",
        s.subject,
        s.heading.class_name,
        term_name(s.term),
        s.heading.school_year
    );
    frame(ws, &st, &s.heading, title, &line, &heads)?;
    let mut row = DATA;
    for (i, r) in s.rows.iter().enumerate() {
        let name = if r.left {
            format!("{} (đã chuyển lớp)", r.name)
        } else {
            r.name.clone()
        };
        numbered(ws, &st, row, i + 1, &name)?;
        for (k, _) in s.columns.iter().enumerate() {
            let v = r.values.get(k).unwrap_or(&Value::Empty);
            write_value(ws, &st, row, 2 + k as u16, v)?;
        }
        if result.is_some() {
            write_value(ws, &st, row, 2 + s.columns.len() as u16, &r.result)?;
        }
        row += 1;
    }
    let last = heads.len().saturating_sub(1) as u16;
    let teacher = if s.primary() {
        "GIÁO VIÊN"
    } else {
        "GIÁO VIÊN BỘ MÔN"
    };
    signatures(
        ws,
        &st,
        row + 1,
        &[(last.saturating_sub(3).max(2), last, teacher)],
    )?;
    wb.save_to_buffer()
}

/// The class's year results: the summary sheet, then "Thống kê" with the per-subject counts.
pub fn results_sheet(r: &ResultsSheet) -> Result<Vec<u8>, ExportError> {
    Ok(build_results(r)?)
}

fn build_results(r: &ResultsSheet) -> Result<Vec<u8>, XlsxError> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let line = format!(
        "Lớp: {}    Năm học: {}",
        r.heading.class_name, r.heading.school_year
    );

    let ws = wb.add_worksheet();
    ws.set_name(RESULTS_SHEET)?;
    let names = r.rows.iter().map(|x| x.name.as_str());
    let mut heads = vec![
        Head::single("STT", 5.0),
        Head::single("Họ và tên", name_width(names) + 4.0),
    ];
    let group = if r.primary {
        "Môn học và hoạt động giáo dục"
    } else {
        "Kết quả các môn học cả năm (ĐTBmcn hoặc Đ/CĐ)"
    };
    for s in &r.subjects {
        heads.push(Head {
            turned: true,
            ..Head::grouped(group, s, 6.5)
        });
    }
    let texts = |f: fn(&ResultRow) -> &str, head: &str| {
        r.rows
            .iter()
            .map(|x| width_of(f(x)))
            .fold(width_of(head), f64::max)
            .clamp(10.0, 28.0)
    };
    let learning = if r.primary {
        "Kết quả giáo dục"
    } else {
        "Học tập"
    };
    heads.push(Head::single(learning, texts(|x| x.learning.as_str(), learning)));
    if !r.primary {
        heads.push(Head::single(
            "Rèn luyện",
            texts(|x| x.conduct.as_str(), "Rèn luyện"),
        ));
    }
    heads.push(Head::single("Số buổi nghỉ", 8.0));
    let decision = if r.primary { "Hoàn thành" } else { "Lên lớp" };
    heads.push(Head::single(decision, texts(|x| x.decision.as_str(), decision)));
    heads.push(Head::single(
        "Khen thưởng",
        texts(|x| x.award.as_str(), "Khen thưởng"),
    ));
    let title = if r.primary {
        "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CỦA LỚP CUỐI NĂM HỌC"
    } else {
        "BẢNG TỔNG HỢP KẾT QUẢ HỌC TẬP VÀ RÈN LUYỆN CẢ NĂM"
    };
    frame(ws, &st, &r.heading, title, &line, &heads)?;
    let mut row = DATA;
    for (i, x) in r.rows.iter().enumerate() {
        numbered(ws, &st, row, i + 1, &x.name)?;
        let mut col = 2u16;
        for k in 0..r.subjects.len() {
            write_value(ws, &st, row, col, x.subjects.get(k).unwrap_or(&Value::Empty))?;
            col += 1;
        }
        let learning = if x.adjusted {
            format!("{}*", x.learning)
        } else {
            x.learning.clone()
        };
        ws.write_string_with_format(row, col, learning, &st.text)?;
        col += 1;
        if !r.primary {
            ws.write_string_with_format(row, col, &x.conduct, &st.text)?;
            col += 1;
        }
        write_value(ws, &st, row, col, &Value::Whole(x.absences))?;
        ws.write_string_with_format(row, col + 1, &x.decision, &st.text)?;
        ws.write_string_with_format(row, col + 2, &x.award, &st.text)?;
        row += 1;
    }
    if r.rows.iter().any(|x| x.adjusted) {
        ws.write_string_with_format(
            row,
            1,
            "* Mức Học tập đã được điều chỉnh theo khoản 3 Điều 9 Thông tư 22/2021/TT-BGDĐT.",
            &st.note,
        )?;
    }
    let last = heads.len().saturating_sub(1) as u16;
    signatures(
        ws,
        &st,
        row + 2,
        &[
            (1, 1, "GIÁO VIÊN CHỦ NHIỆM"),
            (last.saturating_sub(3).max(2), last, "HIỆU TRƯỞNG"),
        ],
    )?;
    ws.set_active(true);

    let ws = wb.add_worksheet();
    ws.set_name(STATS_SHEET)?;
    let mut heads = vec![
        Head::single("STT", 5.0),
        Head::single("Môn học", name_width(r.stats.iter().map(|s| s.subject.as_str()))),
    ];
    for h in &r.stat_heads {
        heads.push(Head::grouped("Số học sinh theo kết quả cả năm", h, 10.0));
    }
    heads.push(Head::single("Tổng số", 9.0));
    frame(
        ws,
        &st,
        &r.heading,
        "THỐNG KÊ KẾT QUẢ CÁC MÔN HỌC CẢ NĂM",
        &line,
        &heads,
    )?;
    for (row, (i, s)) in (DATA..).zip(r.stats.iter().enumerate()) {
        numbered(ws, &st, row, i + 1, &s.subject)?;
        for k in 0..r.stat_heads.len() {
            let n = s.counts.get(k).copied().unwrap_or(0);
            write_value(ws, &st, row, 2 + k as u16, &Value::Whole(n.into()))?;
        }
        let total: u32 = s.counts.iter().sum();
        write_value(
            ws,
            &st,
            row,
            2 + r.stat_heads.len() as u16,
            &Value::Whole(total.into()),
        )?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::{Cursor, Read};

    fn heading() -> Heading {
        Heading {
            school: "Trường THCS Nguyễn Du".into(),
            class_name: "6A1".into(),
            school_year: "2026-2027".into(),
            rules: "Thông tư 22/2021/TT-BGDĐT".into(),
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

    fn toan() -> SubjectSheet {
        let score = |t: u16| Value::Score(t);
        SubjectSheet {
            heading: heading(),
            subject: "Toán".into(),
            term: 1,
            mode: SubjectMode::Score,
            columns: ["tx1", "tx2", "tx3", "tx4", "gk", "ck"]
                .iter()
                .map(|s| SubjectColumn::from_slot(s).unwrap())
                .collect(),
            rows: vec![
                SubjectRow {
                    name: "Nguyễn Thị Minh Anh".into(),
                    left: false,
                    // TT 22 §1.2 worked example 1: 7; 8.5; 9; 6 · gk 7.5 · ck 8 → 7.7.
                    values: vec![score(70), score(85), score(90), score(60), score(75), score(80)],
                    result: Value::shown("7.7"),
                },
                SubjectRow {
                    name: "Trần Văn Bình".into(),
                    left: true,
                    values: vec![score(60), Value::Empty],
                    result: Value::Empty,
                },
            ],
        }
    }

    #[test]
    fn slots_map_to_columns() {
        assert_eq!(SubjectColumn::from_slot("tx3"), Some(SubjectColumn::Regular(3)));
        assert_eq!(SubjectColumn::from_slot("cd1"), Some(SubjectColumn::ChuyenDe(1)));
        assert_eq!(SubjectColumn::from_slot("gk"), Some(SubjectColumn::Mid));
        assert_eq!(SubjectColumn::from_slot("end_test"), Some(SubjectColumn::EndTest));
        assert_eq!(SubjectColumn::from_slot("txa"), None);
        assert_eq!(SubjectColumn::from_slot("nope"), None);
        assert_eq!(Value::shown("7,7"), Value::Score(77));
        assert_eq!(Value::shown(" Đ "), Value::Text("Đ".into()));
        assert_eq!(Value::shown(""), Value::Empty);
    }

    #[test]
    fn file_names_are_ascii() {
        assert_eq!(toan().file_name(), "so-diem-toan-6A1-hk1.xlsx");
        let r = ResultsSheet {
            heading: heading(),
            primary: false,
            subjects: vec![],
            rows: vec![],
            stat_heads: vec![],
            stats: vec![],
        };
        assert_eq!(r.file_name(), "ket-qua-6A1-2026-2027.xlsx");
        assert_eq!(file_part("Ngữ văn & Đời sống"), "Ngu-van-Doi-song");
        assert_eq!(file_part("  Giáo dục công dân "), "Giao-duc-cong-dan");
    }

    #[test]
    fn subject_sheet_in_the_gradebook_layout() {
        let bytes = subject_sheet(&toan()).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(wb.sheet_names(), vec!["Toán HKI".to_string()]);
        let ws = wb.worksheet_range("Toán HKI").unwrap();
        assert_eq!(cell(&ws, 0, 0), text("TRƯỜNG THCS NGUYỄN DU"));
        assert_eq!(
            cell(&ws, 1, 0),
            text("SỔ THEO DÕI VÀ ĐÁNH GIÁ HỌC SINH (THEO LỚP HỌC)")
        );
        assert_eq!(
            cell(&ws, 2, 0),
            text("Môn học: Toán    Lớp: 6A1    Học kì I    Năm học: 2026-2027")
        );
        assert_eq!(cell(&ws, 3, 0), text("Đánh giá theo Thông tư 22/2021/TT-BGDĐT"));
        let h = HEAD;
        assert_eq!(cell(&ws, h, 0), text("STT"));
        assert_eq!(cell(&ws, h, 1), text("Họ và tên"));
        assert_eq!(cell(&ws, h, 2), text("ĐĐGtx"));
        let subs: Vec<Data> = (2..6).map(|c| cell(&ws, h + 1, c)).collect();
        assert_eq!(subs, vec![text("1"), text("2"), text("3"), text("4")]);
        assert_eq!(cell(&ws, h, 6), text("ĐĐGgk"));
        assert_eq!(cell(&ws, h, 7), text("ĐĐGck"));
        assert_eq!(cell(&ws, h, 8), text("ĐTBmhk"));

        let d = DATA;
        assert_eq!(cell(&ws, d, 0), Data::Float(1.0));
        assert_eq!(cell(&ws, d, 1), text("Nguyễn Thị Minh Anh"));
        assert_eq!(cell(&ws, d, 3), Data::Float(8.5));
        assert_eq!(cell(&ws, d, 8), Data::Float(7.7));
        assert_eq!(cell(&ws, d + 1, 1), text("Trần Văn Bình (đã chuyển lớp)"));
        assert_eq!(cell(&ws, d + 1, 3), Data::Empty);

        let styles = wb.worksheet_style("Toán HKI").unwrap();
        let fmt = |r, c| {
            styles
                .get((r, c))
                .and_then(|s| s.number_format.as_ref())
                .map(|f| f.format_code.clone())
        };
        assert_eq!(fmt(d, 8).as_deref(), Some("0.0"));
        assert_eq!(fmt(d, 2).as_deref(), Some("0.0"));

        let merged: Vec<_> = wb
            .merge_cells_by_sheet_name("Toán HKI")
            .unwrap()
            .into_iter()
            .map(|d| (d.start, d.end))
            .collect();
        assert!(merged.contains(&((h, 2), (h, 5))), "{merged:?}");
        assert!(merged.contains(&((h, 1), (h + 1, 1))), "{merged:?}");

        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(r#"state="frozen""#), "{xml}");
        assert!(xml.contains(r#"topLeftCell="C7""#), "{xml}");
        assert!(xml.contains(r#"paperSize="9""#) && xml.contains(r#"orientation="landscape""#));
        assert!(xml.contains(r#"fitToHeight="0""#) && xml.contains(r#"fitToPage="1""#));
        let book = part(&bytes, "xl/workbook.xml");
        assert!(book.contains("_xlnm.Print_Titles"), "{book}");
        assert!(book.contains("$5:$6"), "{book}");
    }

    #[test]
    fn comment_and_primary_pages() {
        let mut s = toan();
        s.subject = "Giáo dục thể chất".into();
        s.mode = SubjectMode::Comment;
        s.columns = ["tx1", "tx2", "gk", "ck"]
            .iter()
            .filter_map(|x| SubjectColumn::from_slot(x))
            .collect();
        let d = || Value::Text("Đ".into());
        s.rows = vec![SubjectRow {
            name: "Nguyễn Thị Minh Anh".into(),
            left: false,
            values: vec![d(), d(), d(), Value::Text("CĐ".into())],
            result: Value::shown("CĐ"),
        }];
        let bytes = subject_sheet(&s).unwrap();
        let mut wb = open(&bytes);
        let ws = wb.worksheet_range("Giáo dục thể chất HKI").unwrap();
        assert_eq!(cell(&ws, HEAD, 6), text("Kết quả học kì"));
        assert_eq!(cell(&ws, DATA, 2), text("Đ"));
        assert_eq!(cell(&ws, DATA, 5), text("CĐ"));
        assert_eq!(cell(&ws, DATA, 6), text("CĐ"));
        assert_eq!(s.file_name(), "so-diem-giao-duc-the-chat-6A1-hk1.xlsx");

        let p = SubjectSheet {
            heading: Heading {
                rules: "Thông tư 27/2020/TT-BGDĐT".into(),
                class_name: "4A".into(),
                ..heading()
            },
            subject: "Tiếng Việt".into(),
            term: 2,
            mode: SubjectMode::Level,
            columns: ["mid_level", "mid_test", "end_level", "end_test"]
                .iter()
                .filter_map(|x| SubjectColumn::from_slot(x))
                .collect(),
            rows: vec![SubjectRow {
                name: "Lê Thu Hà".into(),
                left: false,
                values: vec![
                    Value::Text("T".into()),
                    Value::Whole(9),
                    Value::Text("H".into()),
                    Value::Whole(8),
                ],
                result: Value::Text("H".into()),
            }],
        };
        let bytes = subject_sheet(&p).unwrap();
        let mut wb = open(&bytes);
        let ws = wb.worksheet_range("Tiếng Việt HKII").unwrap();
        assert_eq!(
            cell(&ws, 1, 0),
            text("BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC CỦA LỚP")
        );
        assert_eq!(cell(&ws, HEAD, 2), text("Giữa học kì II"));
        assert_eq!(cell(&ws, HEAD, 4), text("Cuối năm học"));
        assert_eq!(cell(&ws, HEAD + 1, 2), text("Mức đạt được"));
        assert_eq!(cell(&ws, HEAD + 1, 3), text("Điểm KTĐK"));
        assert_eq!(cell(&ws, DATA, 3), Data::Float(9.0));
        assert_eq!(cell(&ws, DATA, 4), text("H"));
        // No result column: the end-of-year level is the result.
        assert_eq!(ws.get_size().1, 6);
    }

    fn results() -> ResultsSheet {
        ResultsSheet {
            heading: heading(),
            primary: false,
            subjects: vec!["Toán".into(), "Ngữ văn".into(), "Giáo dục thể chất".into()],
            rows: vec![
                ResultRow {
                    name: "Nguyễn Thị Minh Anh".into(),
                    subjects: vec![Value::shown("7.7"), Value::shown("8.2"), Value::shown("Đ")],
                    learning: "Khá".into(),
                    adjusted: false,
                    conduct: "Tốt".into(),
                    absences: 2,
                    decision: "Lên lớp".into(),
                    award: String::new(),
                },
                ResultRow {
                    name: "Trần Văn Bình".into(),
                    subjects: vec![Value::shown("4.9"), Value::Empty, Value::shown("CĐ")],
                    learning: "Đạt".into(),
                    adjusted: true,
                    conduct: "Khá".into(),
                    absences: 0,
                    decision: "Kiểm tra lại trong hè".into(),
                    award: String::new(),
                },
            ],
            stat_heads: ["≥ 8,0", "6,5–7,9", "5,0–6,4", "3,5–4,9", "< 3,5", "Đ", "CĐ"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            stats: vec![
                StatRow {
                    subject: "Toán".into(),
                    counts: vec![0, 1, 0, 1, 0, 0, 0],
                },
                StatRow {
                    subject: "Giáo dục thể chất".into(),
                    counts: vec![0, 0, 0, 0, 0, 1, 1],
                },
            ],
        }
    }

    #[test]
    fn results_summary_and_statistics() {
        let bytes = results_sheet(&results()).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(
            wb.sheet_names(),
            vec![RESULTS_SHEET.to_string(), STATS_SHEET.to_string()]
        );
        let ws = wb.worksheet_range(RESULTS_SHEET).unwrap();
        assert_eq!(
            cell(&ws, 1, 0),
            text("BẢNG TỔNG HỢP KẾT QUẢ HỌC TẬP VÀ RÈN LUYỆN CẢ NĂM")
        );
        assert_eq!(cell(&ws, 2, 0), text("Lớp: 6A1    Năm học: 2026-2027"));
        let h = HEAD;
        let heads: Vec<Data> = (0..11)
            .map(|c| {
                let top = cell(&ws, h, c);
                if (2..5).contains(&c) {
                    cell(&ws, h + 1, c)
                } else {
                    top
                }
            })
            .collect();
        assert_eq!(
            heads,
            [
                "STT",
                "Họ và tên",
                "Toán",
                "Ngữ văn",
                "Giáo dục thể chất",
                "Học tập",
                "Rèn luyện",
                "Số buổi nghỉ",
                "Lên lớp",
                "Khen thưởng",
            ]
            .iter()
            .map(|s| text(s))
            .chain([Data::Empty])
            .collect::<Vec<_>>()
        );
        assert_eq!(
            cell(&ws, h, 2),
            text("Kết quả các môn học cả năm (ĐTBmcn hoặc Đ/CĐ)")
        );
        let d = DATA;
        assert_eq!(cell(&ws, d, 2), Data::Float(7.7));
        assert_eq!(cell(&ws, d, 3), Data::Float(8.2));
        assert_eq!(cell(&ws, d, 4), text("Đ"));
        assert_eq!(cell(&ws, d, 5), text("Khá"));
        assert_eq!(cell(&ws, d, 6), text("Tốt"));
        assert_eq!(cell(&ws, d, 7), Data::Float(2.0));
        assert_eq!(cell(&ws, d, 8), text("Lên lớp"));
        assert_eq!(cell(&ws, d + 1, 3), Data::Empty);
        assert_eq!(cell(&ws, d + 1, 4), text("CĐ"));
        assert_eq!(cell(&ws, d + 1, 5), text("Đạt*"));
        assert_eq!(
            cell(&ws, d + 2, 1),
            text("* Mức Học tập đã được điều chỉnh theo khoản 3 Điều 9 Thông tư 22/2021/TT-BGDĐT.")
        );
        let styles = wb.worksheet_style(RESULTS_SHEET).unwrap();
        let code = styles
            .get((d, 2))
            .and_then(|s| s.number_format.as_ref())
            .map(|f| f.format_code.clone());
        assert_eq!(code.as_deref(), Some("0.0"));

        let stats = wb.worksheet_range(STATS_SHEET).unwrap();
        assert_eq!(cell(&stats, h, 1), text("Môn học"));
        assert_eq!(cell(&stats, h, 2), text("Số học sinh theo kết quả cả năm"));
        assert_eq!(cell(&stats, h + 1, 2), text("≥ 8,0"));
        assert_eq!(cell(&stats, h + 1, 8), text("CĐ"));
        assert_eq!(cell(&stats, h, 9), text("Tổng số"));
        assert_eq!(cell(&stats, d, 1), text("Toán"));
        assert_eq!(cell(&stats, d, 3), Data::Float(1.0));
        assert_eq!(cell(&stats, d, 9), Data::Float(2.0));
        assert_eq!(cell(&stats, d + 1, 7), Data::Float(1.0));
        for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
            let xml = part(&bytes, sheet);
            assert!(xml.contains(r#"state="frozen""#) && xml.contains(r#"orientation="landscape""#));
        }
    }

    #[test]
    fn primary_results_have_no_conduct_column() {
        let mut r = results();
        r.primary = true;
        r.subjects.truncate(1);
        r.stats.clear();
        for x in &mut r.rows {
            x.subjects.truncate(1);
            x.learning = "Hoàn thành tốt".into();
            x.adjusted = false;
            x.decision = "Hoàn thành chương trình lớp học".into();
        }
        let bytes = results_sheet(&r).unwrap();
        let mut wb = open(&bytes);
        let ws = wb.worksheet_range(RESULTS_SHEET).unwrap();
        let heads: Vec<Data> = (3..7).map(|c| cell(&ws, HEAD, c)).collect();
        assert_eq!(
            heads,
            vec![
                text("Kết quả giáo dục"),
                text("Số buổi nghỉ"),
                text("Hoàn thành"),
                text("Khen thưởng")
            ]
        );
        assert_eq!(cell(&ws, DATA, 3), text("Hoàn thành tốt"));
        assert!(wb.worksheet_range(STATS_SHEET).is_ok());
    }
}
