//! Real workbooks, generated here with rust_xlsxwriter (and hand-edited zip parts for the cases
//! no writer produces), read back through `truongso_docs::import::parse`.

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use truongso_core::i18n::Locale;
use truongso_docs::import::{self, CellError, ImportErrorCode as Code};
use truongso_docs::template::{self, ASSIGNMENTS, CLASSES, GUARDIANS, LEARNERS, STAFF, Template};
use truongso_docs::{Cell, write_table, write_template};

fn book(sheet: &str, fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    fill(ws);
    wb.save_to_buffer().unwrap()
}

fn headers(ws: &mut Worksheet, hs: &[&str]) {
    for (i, h) in hs.iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
}

fn row(ws: &mut Worksheet, r: u32, vs: &[&str]) {
    for (i, v) in vs.iter().enumerate() {
        if !v.is_empty() {
            ws.write_string(r, i as u16, *v).unwrap();
        }
    }
}

fn template_headers(t: &Template) -> Vec<String> {
    t.columns.iter().map(|c| c.header_cell()).collect()
}

fn errs(r: Result<import::Parsed, Vec<CellError>>) -> Vec<CellError> {
    match r {
        Ok(p) => panic!("expected errors, parsed {} rows", p.rows.len()),
        Err(e) => e,
    }
}

fn codes(e: &[CellError]) -> Vec<Code> {
    e.iter().map(|e| e.code).collect()
}

/// Rewrites one part of a zip, keeping the others.
fn replace_part(bytes: &[u8], name: &str, f: impl Fn(String) -> String) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for i in 0..zin.len() {
        let mut part = zin.by_index(i).unwrap();
        let pname = part.name().unwrap().to_string();
        let mut s = String::new();
        part.read_to_string(&mut s).unwrap();
        let s = if pname == name { f(s) } else { s };
        out.start_file(pname, opts).unwrap();
        out.write_all(s.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn part_text(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn template_has_bold_frozen_text_formatted_headers_and_a_guide() {
    let bytes = write_template(&LEARNERS);
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["HocSinh", "HuongDan"]);
    let range = wb.worksheet_range("HocSinh").unwrap();
    assert_eq!(range.height(), 1, "only the header row");
    let first: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(first, template_headers(&LEARNERS));
    assert_eq!(first[1], "Họ và tên *");
    assert_eq!(first[2], "Ngày sinh (dd/mm/yyyy) *");
    assert_eq!(first[4], "Số định danh cá nhân");

    let guide = wb.worksheet_range("HuongDan").unwrap();
    let cells: Vec<Vec<String>> = guide
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let cccd = cells
        .iter()
        .find(|r| r.get(1).map(String::as_str) == Some("Số định danh cá nhân"))
        .unwrap();
    assert_eq!(cccd[0], "E");
    assert_eq!(cccd[2], "Không");
    assert_eq!(cccd[3], "001315012345", "example keeps its leading zeros");
    let name = cells
        .iter()
        .find(|r| r.get(1).map(String::as_str) == Some("Họ và tên"))
        .unwrap();
    assert_eq!(name[2], "Có");

    let sheet = part_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"ySplit="1""#), "header row frozen: {sheet}");
    assert!(
        sheet.contains("<cols>") && sheet.contains(r#"style=""#),
        "columns carry a format"
    );
    let styles = part_text(&bytes, "xl/styles.xml");
    assert!(
        styles.contains(r#"numFmtId="49""#),
        "text format @ (built-in 49) used: {styles}"
    );
    assert!(styles.contains("<b/>"), "bold header");
}

#[test]
fn every_blank_template_is_recognised_and_reports_no_rows() {
    for t in template::ALL {
        let e = errs(import::parse(&write_template(t), t, 100));
        assert_eq!(codes(&e), [Code::NoRows], "{}: {e:?}", t.id);
        assert_eq!(e[0].sheet, t.sheet_vi);
        assert!(e[0].message(Locale::Vi).contains(t.sheet_vi));
    }
    // A template is not accepted as another one: its headers are unknown there.
    let e = errs(import::parse(&write_template(&CLASSES), &ASSIGNMENTS, 100));
    assert!(
        codes(&e).contains(&Code::UnknownColumn) || codes(&e).contains(&Code::SheetMissing),
        "{e:?}"
    );
}

#[test]
fn filled_template_round_trips_with_text_and_real_dates() {
    let bytes = book("HocSinh", |ws| {
        let hs = template_headers(&LEARNERS);
        headers(ws, &hs.iter().map(String::as_str).collect::<Vec<_>>());
        // Text cells, as typed into the template's "@" columns.
        row(
            ws,
            1,
            &[
                "0101234567",
                "  Nguyễn  Thị Minh Anh ",
                "05/09/2015",
                "Nữ",
                "001315012345",
                "Kinh",
            ],
        );
        // Row 3 left blank; row 4 has a real Excel date and a number.
        let date = Format::new().set_num_format("dd/mm/yyyy");
        ws.write_string(3, 1, "Hoa\u{300}ng Va\u{306}n Ba\u{301}ch")
            .unwrap(); // decomposed (NFD) marks
        ws.write_datetime_with_format(3, 2, ExcelDateTime::from_ymd(2014, 12, 31).unwrap(), &date)
            .unwrap();
        ws.write_string(3, 3, "Nam").unwrap();
        ws.write_number(3, 12, 1.0).unwrap(); // province code typed as a number
        ws.write_number(3, 13, 7.5).unwrap();
        // Row 5: only white space, counts as blank.
        ws.write_string(4, 1, "   ").unwrap();
        // Row 6: a date in a General cell is just its serial number, shown as Excel shows it.
        row(ws, 5, &["", "Lò Thị Mai", "", "nữ"]);
        ws.write_number(5, 2, 42252.0).unwrap();
    });
    let p = import::parse(&bytes, &LEARNERS, 100).unwrap();
    assert_eq!(p.sheet, "HocSinh");
    assert_eq!(p.rows.len(), 3, "{:?}", p.rows);
    let (a, b, c) = (&p.rows[0], &p.rows[1], &p.rows[2]);
    assert_eq!(a.number, 2);
    assert_eq!(a.get("moet_code"), Some("0101234567"));
    assert_eq!(a.get("full_name"), Some("Nguyễn Thị Minh Anh"));
    assert_eq!(a.get("date_of_birth"), Some("05/09/2015"));
    assert_eq!(a.get("cccd"), Some("001315012345"), "leading zeros kept");
    assert_eq!(a.get("religion"), None);
    assert_eq!(a.cells.len(), LEARNERS.columns.len());
    assert_eq!(a.cells[0], ("moet_code", "0101234567".to_string()));

    assert_eq!(b.number, 4, "blank row 3 skipped, numbering is the sheet's");
    assert_eq!(b.get("full_name"), Some("Hoàng Văn Bách"));
    assert_eq!(b.get("full_name").unwrap().chars().count(), 14, "NFC");
    assert_eq!(
        b.get("date_of_birth"),
        Some("31/12/2014"),
        "real date rendered dd/mm/yyyy"
    );
    assert_eq!(b.get("province_code"), Some("1"), "integer without .0");
    assert_eq!(b.get("commune_code"), Some("7.5"));

    assert_eq!(c.number, 6, "white-space row 5 skipped");
    assert_eq!(c.get("date_of_birth"), Some("42252"));
    assert_eq!(c.get("sex"), Some("nữ"));

    assert_eq!(p.column_letter("cccd"), Some("E"));
    assert_eq!(p.column_letter("guardian_email"), Some("V"));
    let r = p.cell_ref(4, "cccd");
    assert_eq!(
        (r.sheet.as_str(), r.row, r.column.as_deref()),
        ("HocSinh", 4, Some("E"))
    );
    assert_eq!(r.header, "Số định danh cá nhân");
    assert_eq!(
        r.describe(Locale::Vi, "Số định danh không hợp lệ."),
        "Trang HocSinh, dòng 4, cột E (Số định danh cá nhân): Số định danh không hợp lệ."
    );
}

#[test]
fn headers_match_without_diacritics_in_english_by_key_and_in_any_order() {
    let bytes = book("PhanCong", |ws| {
        headers(ws, &["HOC KY", "lop *", "Subject", "staff_code"]);
        row(ws, 1, &["HK1", "5A", "Toán", "GV0012"]);
    });
    let p = import::parse(&bytes, &ASSIGNMENTS, 10).unwrap();
    assert_eq!(
        p.columns,
        [
            ("staff_code", "D".to_string(), "staff_code".to_string()),
            ("subject", "C".to_string(), "Subject".to_string()),
            ("class_name", "B".to_string(), "lop *".to_string()),
            ("term", "A".to_string(), "HOC KY".to_string()),
        ]
    );
    assert_eq!(
        p.rows[0].cells,
        [
            ("staff_code", "GV0012".to_string()),
            ("subject", "Toán".to_string()),
            ("class_name", "5A".to_string()),
            ("term", "HK1".to_string()),
        ]
    );

    let bytes = book("CanBo", |ws| {
        let hs: Vec<String> = STAFF
            .columns
            .iter()
            .map(|c| truongso_core::text::fold(c.header_vi))
            .collect();
        headers(ws, &hs.iter().map(String::as_str).collect::<Vec<_>>());
        row(
            ws,
            1,
            &["GV0012", "Lê Văn Dũng", "12/03/1988", "Nam", "", "", "Giáo viên"],
        );
    });
    assert_eq!(
        import::parse(&bytes, &STAFF, 10).unwrap().rows[0].get("staff_group"),
        Some("Giáo viên")
    );
}

#[test]
fn header_problems_are_reported_with_their_columns() {
    let bytes = book("PhanCong", |ws| {
        headers(ws, &["Mã cán bộ", "Môn học", "Ghi chú", "Ma can bo", "Học kỳ"]);
        row(ws, 1, &["GV0012", "Toán", "x", "GV0013", "HK1", "", "stray"]);
    });
    let e = errs(import::parse(&bytes, &ASSIGNMENTS, 10));
    assert_eq!(
        codes(&e),
        [
            Code::MissingColumn,
            Code::UnknownColumn,
            Code::DuplicateColumn,
            Code::UnnamedColumn
        ]
    );
    assert_eq!(e[0].header.as_deref(), Some("Lớp"));
    assert_eq!(e[0].column, None);
    assert_eq!(
        (e[1].row, e[1].column.as_deref(), e[1].header.as_deref()),
        (Some(1), Some("C"), Some("Ghi chú"))
    );
    assert_eq!(
        (e[2].column.as_deref(), e[2].header.as_deref()),
        (Some("D"), Some("Ma can bo"))
    );
    assert_eq!(e[2].detail.as_deref(), Some("A"));
    assert_eq!((e[3].row, e[3].column.as_deref()), (Some(2), Some("G")));
    assert_eq!(
        e[0].message(Locale::Vi),
        "Trang PhanCong: thiếu cột bắt buộc “Lớp” ở dòng tiêu đề."
    );
    assert_eq!(
        e[2].message(Locale::Vi),
        "Trang PhanCong, cột D: cột “Ma can bo” bị lặp lại (đã có ở cột A)."
    );
    assert_eq!(
        e[1].message(Locale::En),
        "Sheet PhanCong, column C: header “Ghi chú” is not in the template."
    );
}

#[test]
fn merged_cells_are_refused_with_their_range() {
    let bytes = book("LopHoc", |ws| {
        headers(ws, &["Khối *", "Tên lớp *"]);
        row(ws, 1, &["5", "5A"]);
        ws.merge_range(2, 0, 3, 1, "6", &Format::new()).unwrap();
    });
    let e = errs(import::parse(&bytes, &CLASSES, 10));
    assert_eq!(codes(&e), [Code::MergedCells]);
    assert_eq!(
        (e[0].row, e[0].column.as_deref(), e[0].detail.as_deref()),
        (Some(3), Some("A"), Some("A3:B4"))
    );
    assert_eq!(
        e[0].message(Locale::Vi),
        "Trang LopHoc: có ô gộp A3:B4. Hãy bỏ gộp ô trước khi nhập."
    );
}

#[test]
fn formulas_are_refused_cell_by_cell() {
    let bytes = book("LopHoc", |ws| {
        headers(ws, &["Khối *", "Tên lớp *", "Sĩ số tối đa"]);
        row(ws, 1, &["5", "5A"]);
        ws.write_formula(1, 2, "=30+5").unwrap();
        row(ws, 2, &["5", "5B", "35"]);
        ws.write_formula(3, 1, "=B3&\"x\"").unwrap();
        ws.write_string(3, 0, "5").unwrap();
    });
    let e = errs(import::parse(&bytes, &CLASSES, 10));
    assert_eq!(codes(&e), [Code::Formula, Code::Formula], "{e:?}");
    assert_eq!((e[0].row, e[0].column.as_deref()), (Some(2), Some("C")));
    assert_eq!((e[1].row, e[1].column.as_deref()), (Some(4), Some("B")));
    assert!(
        e[0].message(Locale::Vi)
            .starts_with("Trang LopHoc, dòng 2, cột C: ô chứa công thức.")
    );
}

#[test]
fn required_cells_must_be_filled() {
    let bytes = book("LopHoc", |ws| {
        headers(ws, &["Khối *", "Tên lớp *", "Sĩ số tối đa"]);
        row(ws, 1, &["5", "5A", "35"]);
        row(ws, 2, &["5", "", "30"]);
        row(ws, 4, &["", "", "30"]);
    });
    let e = errs(import::parse(&bytes, &CLASSES, 10));
    assert_eq!(codes(&e), [Code::Required, Code::Required, Code::Required]);
    let at: Vec<_> = e
        .iter()
        .map(|e| (e.row.unwrap(), e.column.clone().unwrap()))
        .collect();
    assert_eq!(
        at,
        [(3, "B".to_string()), (5, "A".to_string()), (5, "B".to_string())]
    );
    assert_eq!(
        e[0].message(Locale::Vi),
        "Trang LopHoc, dòng 3, cột B (Tên lớp *): chưa nhập giá trị bắt buộc."
    );
}

#[test]
fn guardians_relation_column_reads_vietnamese_words() {
    let bytes = book("PhuHuynh", |ws| {
        headers(
            ws,
            &template_headers(&GUARDIANS)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        row(ws, 1, &["0101234567", "", "", "Mẹ", "Trần Thị Cúc", "0987654321"]);
        row(
            ws,
            2,
            &[
                "",
                "Nguyễn Thị Minh Anh",
                "05/09/2015",
                "Người giám hộ",
                "Lê Văn Tư",
            ],
        );
    });
    let p = import::parse(&bytes, &GUARDIANS, 10).unwrap();
    let rel: Vec<_> = p
        .rows
        .iter()
        .map(|r| truongso_core::people::parse_relation(r.get("relation").unwrap()).ok())
        .collect();
    assert_eq!(rel, [Some("mother"), Some("other")]);
    assert_eq!(p.rows[0].get("phone"), Some("0987654321"));
}

#[test]
fn not_an_xlsx_random_bytes_other_zip_truncated() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let mut other = zip::ZipWriter::new(Cursor::new(Vec::new()));
    other
        .start_file("hello.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    other.write_all(b"not a workbook").unwrap();
    let other = other.finish().unwrap().into_inner();
    let full = write_template(&LEARNERS);
    let truncated = &full[..full.len() / 2];
    // A zip whose local header claims to be one but whose central directory is cut off.
    for (what, bytes) in [
        ("empty", &[][..]),
        ("random", &random[..]),
        ("other zip", &other[..]),
        ("truncated", truncated),
    ] {
        let e = errs(import::parse(bytes, &LEARNERS, 10));
        assert_eq!(codes(&e), [Code::NotXlsx], "{what}: {e:?}");
        assert_eq!(e[0].row, None);
        assert!(
            e[0].message(Locale::Vi)
                .starts_with("Tệp không phải bảng tính Excel (.xlsx)"),
            "{what}"
        );
    }
    // A damaged part (corrupt deflate data) is caught too.
    let mut damaged = full.clone();
    let at = damaged.len() / 3;
    for b in &mut damaged[at..at + 64] {
        *b ^= 0x5a;
    }
    assert_eq!(
        codes(&errs(import::parse(&damaged, &LEARNERS, 10))),
        [Code::NotXlsx]
    );
}

#[test]
fn sheet_must_be_the_templates_unless_it_is_the_only_one() {
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Lop").unwrap();
    wb.add_worksheet().set_name("Khac").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let e = errs(import::parse(&bytes, &CLASSES, 10));
    assert_eq!(codes(&e), [Code::SheetMissing]);
    assert_eq!(
        (e[0].sheet.as_str(), e[0].detail.as_deref()),
        ("LopHoc", Some("Lop, Khac"))
    );
    assert_eq!(
        e[0].message(Locale::Vi),
        "Không tìm thấy trang tính “LopHoc”. Hãy dùng tệp mẫu tải từ hệ thống. Các trang có trong tệp: Lop, Khac."
    );

    let only = book("Sheet1", |ws| {
        headers(ws, &["Khối", "Tên lớp"]);
        row(ws, 1, &["5", "5A"]);
    });
    let p = import::parse(&only, &CLASSES, 10).unwrap();
    assert_eq!(p.sheet, "Sheet1");
    assert_eq!(p.rows[0].get("name"), Some("5A"));
}

fn many_rows(n: u32) -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.set_zip_compression_level(1);
    let ws = wb.add_worksheet_with_constant_memory().unwrap();
    ws.set_name("LopHoc").unwrap();
    headers(ws, &["Khối", "Tên lớp"]);
    for r in 1..=n {
        ws.write_number(r, 0, 5.0).unwrap();
        ws.write_string(r, 1, "5A").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_hundred_thousand_rows_fail_fast() {
    let bytes = many_rows(100_001);
    let started = Instant::now();
    let e = errs(import::parse(&bytes, &CLASSES, 5_000));
    let took = started.elapsed();
    assert_eq!(codes(&e), [Code::TooManyRows]);
    assert_eq!(e[0].detail.as_deref(), Some("5000"));
    assert_eq!(
        e[0].message(Locale::Vi),
        "Trang LopHoc có quá nhiều dòng: mỗi lần nhập tối đa 5000 dòng dữ liệu. Hãy chia thành nhiều tệp."
    );
    assert!(
        took < Duration::from_millis(500),
        "declared dimension checked first: {took:?}"
    );
}

#[test]
fn row_limit_is_exact_and_holds_when_the_dimension_lies() {
    let five = many_rows(5);
    assert_eq!(import::parse(&five, &CLASSES, 5).unwrap().rows.len(), 5);
    assert_eq!(
        codes(&errs(import::parse(&five, &CLASSES, 4))),
        [Code::TooManyRows]
    );

    // The same sheet claiming to be A1:B1: the streamed rows still stop at the limit.
    let liar = replace_part(&five, "xl/worksheets/sheet1.xml", |s| {
        let start = s.find("<dimension").unwrap();
        let end = start + s[start..].find("/>").unwrap() + 2;
        format!("{}<dimension ref=\"A1:B1\"/>{}", &s[..start], &s[end..])
    });
    assert!(part_text(&liar, "xl/worksheets/sheet1.xml").contains(r#"ref="A1:B1""#));
    assert_eq!(import::parse(&liar, &CLASSES, 5).unwrap().rows.len(), 5);
    assert_eq!(
        codes(&errs(import::parse(&liar, &CLASSES, 4))),
        [Code::TooManyRows]
    );
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_read() {
    let five = many_rows(5);
    // 80 MiB of white space in the workbook part, a few hundred KiB compressed.
    let pad = " ".repeat(80 << 20);
    let bomb = replace_part(&five, "xl/workbook.xml", |s| {
        s.replacen("<sheets>", &format!("{pad}<sheets>"), 1)
    });
    assert!(bomb.len() < 1 << 20, "compressed to {} bytes", bomb.len());
    let started = Instant::now();
    let e = errs(import::parse(&bomb, &CLASSES, 5));
    assert_eq!(codes(&e), [Code::TooLarge]);
    assert_eq!(e[0].detail.as_deref(), Some("64"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn error_values_are_reported() {
    let bytes = book("LopHoc", |ws| {
        headers(ws, &["Khối", "Tên lớp", "Sĩ số tối đa"]);
        row(ws, 1, &["5", "5A", "35"]);
    });
    let bytes = replace_part(&bytes, "xl/worksheets/sheet1.xml", |s| {
        s.replacen(
            "</row></sheetData>",
            r##"<c r="C2" t="e"><v>#N/A</v></c></row></sheetData>"##,
            1,
        )
        .replacen(r#"<c r="C2" t="s"><v>"#, r#"<c r="D2" t="s"><v>"#, 1)
    });
    let sheet = part_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("#N/A"), "{sheet}");
    let e = errs(import::parse(&bytes, &CLASSES, 5));
    assert!(codes(&e).contains(&Code::ErrorValue), "{e:?}");
    let ev = e.iter().find(|e| e.code == Code::ErrorValue).unwrap();
    assert_eq!(
        (ev.row, ev.column.as_deref(), ev.detail.as_deref()),
        (Some(2), Some("C"), Some("#N/A"))
    );
}

#[test]
fn export_writes_typed_cells_frozen_bold_and_filtered() {
    let d = chrono::NaiveDate::from_ymd_opt(2015, 9, 5).unwrap();
    let rows = vec![
        vec![
            Cell::from("Nguyễn Thị Minh Anh"),
            Cell::Date(d),
            Cell::Int(18),
            Cell::from("001315012345"),
        ],
        vec![
            Cell::from("=HYPERLINK(\"x\")"),
            Cell::Empty,
            Cell::Int(1_234_567_890_123_456_789),
            Cell::Empty,
        ],
    ];
    let bytes = write_table(
        "Học sinh/2025",
        &["Họ và tên", "Ngày sinh", "Số tiết", "Định danh"],
        rows,
    )
    .unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["Học sinh_2025"]);
    let range = wb.worksheet_range("Học sinh_2025").unwrap();
    let get = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(get(0, 0), Data::String("Họ và tên".into()));
    assert_eq!(get(1, 0), Data::String("Nguyễn Thị Minh Anh".into()));
    assert!(
        matches!(get(1, 1), Data::DateTime(x) if x.as_f64() == 42252.0),
        "{:?}",
        get(1, 1)
    );
    assert_eq!(get(1, 2), Data::Float(18.0));
    assert_eq!(get(1, 3), Data::String("001315012345".into()));
    assert_eq!(
        get(2, 0),
        Data::String("=HYPERLINK(\"x\")".into()),
        "text, never a formula"
    );
    assert_eq!(
        get(2, 2),
        Data::String("1234567890123456789".into()),
        "all digits kept"
    );
    assert_eq!(get(2, 1), Data::Empty);
    let sheet = part_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"ySplit="1""#));
    assert!(sheet.contains(r#"<autoFilter ref="A1:D3"/>"#), "{sheet}");
    assert!(!sheet.contains("<f>"));

    // Its output is importable as it is: export → import round trip.
    let rows = vec![vec![Cell::Int(5), Cell::from("5A"), Cell::from("GV0012")]];
    let bytes = write_table("LopHoc", &["Khối", "Tên lớp", "Mã giáo viên chủ nhiệm"], rows).unwrap();
    let p = import::parse(&bytes, &CLASSES, 10).unwrap();
    assert_eq!(
        p.rows[0].cells[..3],
        [
            ("grade", "5".to_string()),
            ("name", "5A".to_string()),
            ("homeroom_staff_code", "GV0012".to_string())
        ]
    );
}

#[test]
fn export_streams_a_hundred_thousand_rows() {
    let d = chrono::NaiveDate::from_ymd_opt(2015, 9, 5).unwrap();
    let rows =
        (0..100_000i64).map(|i| vec![Cell::Int(i), Cell::Text(format!("Học sinh {i}")), Cell::Date(d)]);
    let started = Instant::now();
    let bytes = write_table("HocSinh", &["STT", "Họ và tên", "Ngày sinh"], rows).unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("HocSinh").unwrap();
    assert_eq!(range.height(), 100_001);
    assert_eq!(
        range.get((100_000, 1)),
        Some(&Data::String("Học sinh 99999".into()))
    );
}
