//! The PDF/A-3b renditions checked with real tools: qpdf, poppler (pdffonts, pdftotext,
//! pdfdetach, pdfinfo, pdftoppm) and zbar's `zbarimg` (Debian package zbar-tools) to read the QR
//! code back from a 60 dpi raster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use truongso_core::credentials::record::{
    DocKind, HOC_BA_SCHEMA, HocBa, Issuer, Learner, PrimarySubject, PrimaryYear, Rated, SecondarySubject,
    SecondaryYear, Terms, VAN_BANG_SCHEMA, VanBang, YearResults, doc_id,
};
use truongso_core::credentials::sha256_hex;
use truongso_docs::credentials::render::{
    EMBEDDED_DESCRIPTION, FontFiles, Fonts, RenderError, RenderOptions, parse_qr_payload, qr_payload,
    render_hoc_ba, render_van_bang,
};

const BASE: &str = "https://truongso.example/xac-minh";

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::load(&FontFiles::default()).expect("apt-get install fonts-dejavu-core"))
}

fn opts() -> RenderOptions {
    let created = chrono::DateTime::parse_from_rfc3339("2026-05-31T09:30:00+07:00").unwrap();
    RenderOptions::new(BASE, created)
}

fn issuer() -> Issuer {
    Issuer {
        code: "27001".into(),
        name: "Trường THCS Suối Hoa".into(),
        parents: vec!["Sở Giáo dục và Đào tạo tỉnh Bắc Ninh".into()],
        place: "Bắc Ninh".into(),
    }
}

fn learner() -> Learner {
    Learner {
        personal_id: Some("027212000123".into()),
        moet_code: Some("2701234567".into()),
        full_name: "Nguyễn Thị Ngọc Ánh".into(),
        date_of_birth: "2012-09-05".into(),
        sex: "nu".into(),
        ethnicity: Some("Kinh".into()),
        place_of_birth: None,
    }
}

const LONG_REMARK: &str = "Em có ý thức tự học tốt, đọc hiểu văn bản nghị luận chắc chắn, biết liên hệ thực tế \
     khi trình bày; bài viết mạch lạc, giàu cảm xúc. Cần rèn luyện thêm kỹ năng lập dàn ý trước khi viết, \
     chú ý chính tả với các từ có dấu hỏi, dấu ngã và tránh lặp từ trong đoạn văn.";

fn subject(code: &str, name: &str, hk1: &str, hk2: &str, year: &str) -> SecondarySubject {
    SecondarySubject {
        code: code.into(),
        name: name.into(),
        hk1: Some(hk1.into()),
        hk2: Some(hk2.into()),
        year: Some(year.into()),
        retest: None,
        remark: None,
    }
}

/// A grade 8 year under TT 22: 14 subjects, four of them assessed by comment (one Chưa đạt in
/// the first term), one re-tested in summer, one long remark.
fn tt22_year() -> HocBa {
    let mut subjects = vec![
        subject("ngu_van", "Ngữ văn", "6.8", "7.4", "7.2"),
        subject("toan", "Toán", "7.2", "8.0", "7.7"),
        subject("ngoai_ngu_1", "Ngoại ngữ 1 (Tiếng Anh)", "8.1", "8.5", "8.4"),
        subject("gdcd", "Giáo dục công dân", "8.0", "8.6", "8.4"),
        subject("lich_su_dia_li", "Lịch sử và Địa lí", "6.5", "7.0", "6.8"),
        subject("khtn", "Khoa học tự nhiên", "4.2", "4.8", "4.6"),
        subject("cong_nghe", "Công nghệ", "7.5", "7.9", "7.8"),
        subject("tin_hoc", "Tin học", "9.0", "9.4", "9.3"),
        subject("gdtc", "Giáo dục thể chất", "CD", "D", "D"),
        subject("am_nhac", "Nghệ thuật (Âm nhạc)", "D", "D", "D"),
        subject("mi_thuat", "Nghệ thuật (Mĩ thuật)", "D", "D", "D"),
        subject("gddp", "Nội dung giáo dục của địa phương", "8.2", "8.0", "8.1"),
        subject("hdtn", "Hoạt động trải nghiệm, hướng nghiệp", "D", "D", "D"),
        subject("ngoai_ngu_2", "Ngoại ngữ 2 (Tiếng Hàn)", "6.0", "6.4", "6.3"),
    ];
    subjects[0].remark = Some(LONG_REMARK.into());
    subjects[5].retest = Some("5.5".into());
    subjects[5].remark = Some("Đã kiểm tra lại trong hè, có tiến bộ.".into());
    HocBa {
        schema: HOC_BA_SCHEMA.into(),
        doc_id: doc_id(DocKind::HocBa, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        issuer: issuer(),
        learner: learner(),
        school_year: "2025-2026".into(),
        grade: 8,
        class_name: "8A1".into(),
        rules: "tt22_2021".into(),
        homeroom_teacher: "Trần Văn Dũng".into(),
        principal: "Lê Thị Hồng".into(),
        results: YearResults::Secondary(SecondaryYear {
            subjects,
            conduct: Terms {
                hk1: Some("tot".into()),
                hk2: Some("tot".into()),
                year: Some("tot".into()),
            },
            learning: Terms {
                hk1: Some("dat".into()),
                hk2: Some("kha".into()),
                year: Some("chua_dat".into()),
            },
            learning_after_retest: Some("dat".into()),
            absences: 3,
            decision: Some("promoted".into()),
            retest_subjects: vec!["khtn".into()],
            award: None,
            completes_level: false,
        }),
        homeroom_remark: Some(
            "Chăm ngoan, lễ phép, tích cực tham gia hoạt động tập thể; cần mạnh dạn hơn.".into(),
        ),
        issued_on: "2026-05-31".into(),
    }
}

fn rated(list: &[(&str, &str)], level: &str) -> Vec<Rated> {
    list.iter()
        .map(|(code, name)| Rated {
            code: (*code).into(),
            name: (*name).into(),
            level: Some(level.into()),
        })
        .collect()
}

/// A grade 4 year under TT 27: subjects with levels, tests and remarks, 5 qualities, 10
/// competencies.
fn tt27_year() -> HocBa {
    use truongso_core::gradebook::tt27::{COMPETENCIES, QUALITIES};
    let s = |code: &str, name: &str, level: &str, test: Option<u8>, remark: &str| PrimarySubject {
        code: code.into(),
        name: name.into(),
        level: Some(level.into()),
        test,
        remark: Some(remark.into()),
    };
    let mut competencies = rated(&COMPETENCIES, "tot");
    competencies[4].level = Some("dat".into());
    let mut qualities = rated(&QUALITIES, "tot");
    qualities[2].level = Some("can_co_gang".into());
    HocBa {
        schema: HOC_BA_SCHEMA.into(),
        doc_id: doc_id(DocKind::HocBa, [9, 9, 9, 9, 9, 1, 2, 3, 4, 5]),
        issuer: Issuer {
            code: "27002".into(),
            name: "Trường Tiểu học Đông Ngàn".into(),
            parents: vec!["Sở Giáo dục và Đào tạo tỉnh Bắc Ninh".into()],
            place: "Bắc Ninh".into(),
        },
        learner: Learner {
            full_name: "Phạm Quốc Hưng".into(),
            sex: "nam".into(),
            date_of_birth: "2016-02-14".into(),
            ..learner()
        },
        school_year: "2025-2026".into(),
        grade: 4,
        class_name: "4B".into(),
        rules: "tt27_2020".into(),
        homeroom_teacher: "Đỗ Thị Thủy".into(),
        principal: "Vũ Đức Thắng".into(),
        results: YearResults::Primary(PrimaryYear {
            subjects: vec![
                s(
                    "tieng_viet",
                    "Tiếng Việt",
                    "T",
                    Some(9),
                    "Đọc diễn cảm, viết đúng chính tả.",
                ),
                s("toan", "Toán", "T", Some(10), "Tính nhanh, chính xác."),
                s(
                    "ngoai_ngu_1",
                    "Ngoại ngữ 1 (Tiếng Anh)",
                    "H",
                    Some(8),
                    "Nghe hiểu tốt.",
                ),
                s(
                    "lich_su_dia_li",
                    "Lịch sử và Địa lí",
                    "T",
                    Some(9),
                    "Nắm chắc kiến thức.",
                ),
                s("khoa_hoc", "Khoa học", "H", Some(7), "Cần chủ động hơn."),
                s(
                    "tin_hoc_cong_nghe",
                    "Tin học và Công nghệ",
                    "T",
                    Some(9),
                    "Thao tác thành thạo.",
                ),
                s("dao_duc", "Đạo đức", "T", None, "Lễ phép, biết giúp đỡ bạn."),
                s("gdtc", "Giáo dục thể chất", "H", None, "Tích cực tập luyện."),
                s("nghe_thuat", "Nghệ thuật", "T", None, "Hát hay, vẽ đẹp."),
                s("hdtn", "Hoạt động trải nghiệm", "T", None, "Hăng hái tham gia."),
            ],
            qualities,
            competencies,
            evaluation: Some("htt".into()),
            award: Some("tieu_bieu".into()),
            completes: Some(true),
            absences: 1,
        }),
        homeroom_remark: Some("Ngoan, học tốt.".into()),
        issued_on: "2026-05-25".into(),
    }
}

fn diploma() -> VanBang {
    VanBang {
        schema: VAN_BANG_SCHEMA.into(),
        doc_id: doc_id(DocKind::VanBang, [7, 7, 7, 7, 7, 7, 7, 7, 7, 7]),
        diploma_type: "tot_nghiep_thpt".into(),
        issuer: Issuer {
            code: "27".into(),
            name: "Sở Giáo dục và Đào tạo tỉnh Bắc Ninh".into(),
            parents: vec!["Ủy ban nhân dân tỉnh Bắc Ninh".into()],
            place: "Bắc Ninh".into(),
        },
        learner: Learner {
            place_of_birth: Some("Thành phố Bắc Ninh, tỉnh Bắc Ninh".into()),
            ..learner()
        },
        school_name: "Trường THPT Hàn Thuyên".into(),
        graduation_year: 2030,
        classification: None,
        training_mode: "chinh_quy".into(),
        serial: "B 0123456".into(),
        register_no: "2030/BN-0457".into(),
        decision_no: "1234/QĐ-SGDĐT".into(),
        decision_date: "2030-07-15".into(),
        signer_title: "Giám đốc".into(),
        signer_name: "Nguyễn Văn Quyết".into(),
        issued_on: "2030-07-20".into(),
    }
}

fn render(r: &HocBa) -> Vec<u8> {
    render_hoc_ba(r, &r.canonical().unwrap(), &opts(), fonts()).unwrap()
}

fn tmp_pdf(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs a tool that must be installed; its stdout as text.
fn run(tool: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} not runnable ({e}); poppler-utils, qpdf and zbar-tools are required")
    });
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 tool output");
    (out.status.code().unwrap_or(-1), stdout)
}

/// The text in content-stream order (`-raw`): a table row reads as one line, a wrapped cell's
/// lines follow each other.
fn text_of(pdf: &Path) -> String {
    let (code, text) = run(
        "pdftotext",
        &["-raw", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"],
    );
    assert_eq!(code, 0);
    text
}

/// The extracted text with every run of white space made one space: a cell's wrapped lines
/// (one per line in pdftotext's output) read as the sentence they are.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One `pdfinfo` field, e.g. "Pages" or "Page size".
fn info(pdf: &Path, key: &str) -> String {
    let (code, out) = run("pdfinfo", &[pdf.to_str().unwrap()]);
    assert_eq!(code, 0);
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in pdfinfo output:\n{out}"))
}

fn flat_str(s: &str) -> String {
    flat(s)
}

fn pages_of(pdf: &Path) -> usize {
    info(pdf, "Pages").parse().unwrap()
}

fn assert_qpdf_ok(pdf: &Path) {
    let (code, out) = run("qpdf", &["--check", pdf.to_str().unwrap()]);
    assert_eq!(code, 0, "qpdf --check: {out}");
    assert!(out.contains("No syntax or stream encoding errors found"), "{out}");
}

/// Every font embedded, subset, with a ToUnicode map, and only DejaVu Sans (regular, bold).
fn assert_subset_fonts(pdf: &Path) {
    let (code, out) = run("pdffonts", &[pdf.to_str().unwrap()]);
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().skip(2).filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(rows.len(), 2, "{out}");
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        let name = row.split_whitespace().next().unwrap();
        let (tag, base) = name
            .split_once('+')
            .unwrap_or_else(|| panic!("not a subset: {row}"));
        assert!(
            tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
            "{row}"
        );
        names.push(base);
        assert!(row.contains("CID TrueType"), "{row}");
        assert!(row.contains("Identity-H"), "{row}");
        assert!(row.contains(" yes yes yes "), "{row}");
    }
    names.sort();
    assert_eq!(names, ["DejaVuSans", "DejaVuSans-Bold"]);
}

#[test]
fn tt22_year_passes_qpdf_with_subset_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "hb.pdf", &render(&tt22_year()));
    assert_qpdf_ok(&pdf);
    assert_subset_fonts(&pdf);
    // A plain single revision without encryption: what the PAdES signer appends to.
    let bytes = std::fs::read(&pdf).unwrap();
    assert_eq!(bytes.windows(5).filter(|w| w == b"%%EOF").count(), 1);
    assert!(!bytes.windows(8).any(|w| w == b"/Encrypt"));
    assert_eq!(info(&pdf, "Encrypted"), "no");
    assert_eq!(info(&pdf, "Page size"), "595.28 x 841.89 pts (A4)");
    // A typical year fits on one page.
    assert_eq!(pages_of(&pdf), 1);
}

#[test]
fn tt22_year_text_is_vietnamese_nfc() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "hb.pdf", &render(&tt22_year()));
    let text = text_of(&pdf);
    let flat = flat(&text);
    for s in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH BẮC NINH",
        "TRƯỜNG THCS SUỐI HOA",
        "HỌC BẠ",
        "TRUNG HỌC CƠ SỞ",
        "Nguyễn Thị Ngọc Ánh",
        "05/09/2012",
        "Nữ",
        "Kinh",
        "027212000123",
        "8A1",
        "2025-2026",
        "Môn học và hoạt động giáo dục",
        "Điểm hoặc mức đánh giá lại (nếu có)",
        "Hoạt động trải nghiệm, hướng nghiệp",
        "7,7",
        "4,6",
        "5,5",
        "CĐ",
        "Kết quả rèn luyện",
        "Kết quả học tập",
        "Chưa đạt",
        "Kết quả học tập sau kiểm tra lại:",
        "Tổng số buổi nghỉ học cả năm học:",
        "Được lên lớp",
        "Khen thưởng:",
        "Nhận xét của giáo viên chủ nhiệm:",
        "cần mạnh dạn hơn.",
        "(Ký và ghi rõ họ tên)",
        "Xác nhận của Hiệu trưởng",
        "Bắc Ninh, ngày 31 tháng 5 năm 2026",
        "Trần Văn Dũng",
        "Lê Thị Hồng",
        "Tra cứu và xác minh tại: https://truongso.example/xac-minh",
        "HB-041061050R3GG28A",
    ] {
        assert!(flat.contains(s), "missing {s:?} in:\n{text}");
    }
    // Whole rows: marks with a decimal comma, comment subjects as Đ / CĐ, the re-test column.
    for row in [
        "Toán 7,2 8,0 7,7",
        "Giáo dục thể chất CĐ Đ Đ",
        "Nghệ thuật (Âm nhạc) Đ Đ Đ",
        "Khoa học tự nhiên 4,2 4,8 4,6 5,5 Đã kiểm tra lại trong hè, có tiến bộ.",
        "Kết quả rèn luyện Tốt Tốt Tốt",
        "Kết quả học tập Đạt Khá Chưa đạt",
    ] {
        assert!(text.lines().any(|l| l == row), "no row {row:?} in:\n{text}");
    }
    assert!(!text.contains("chua_dat") && !text.contains("promoted"));
    // Marks use the decimal comma, never the record's point.
    assert!(!text.contains("7.7"));
    // The long remark wraps inside its cell: several lines, all of its words, in order.
    let first_line = text.lines().find(|l| l.contains("Em có ý thức")).unwrap();
    assert!(
        first_line.starts_with("Ngữ văn 6,8 7,4 7,2 Em có ý thức"),
        "{first_line}"
    );
    assert!(!first_line.contains("đoạn văn."), "{first_line}");
    assert!(flat.contains(&flat_str(LONG_REMARK)));
    // Extracted text is NFC: no combining marks anywhere.
    assert!(!text.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)));
    // The SHA-256 prefix under the QR code.
    let hash = sha256_hex(&tt22_year().canonical().unwrap());
    assert!(flat.contains(&format!("SHA-256: {}", &hash[..16])), "{text}");
}

/// "Nguyễn Thị Ngọc Ánh" and friends typed on a keyboard that produces decomposed Unicode.
#[test]
fn nfd_record_extracts_as_nfc() {
    let mut r = tt22_year();
    r.learner.full_name = "Nguye\u{302}\u{303}n Thi\u{323} Ngo\u{323}c A\u{301}nh".into();
    r.homeroom_teacher = "Tra\u{302}\u{300}n Va\u{306}n Du\u{303}ng".into();
    r.homeroom_remark = Some("Cha\u{306}m ngoan, tie\u{302}\u{301}n bo\u{323}\u{302}.".into());
    assert_ne!(r.learner.full_name, "Nguyễn Thị Ngọc Ánh");
    let canonical = r.canonical().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(
        dir.path(),
        "nfd.pdf",
        &render_hoc_ba(&r, &canonical, &opts(), fonts()).unwrap(),
    );
    let text = text_of(&pdf);
    for s in ["Nguyễn Thị Ngọc Ánh", "Trần Văn Dũng", "Chăm ngoan, tiến bộ."] {
        assert!(text.contains(s), "missing {s:?} in:\n{text}");
    }
    assert!(!text.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)));
    // Same canonical bytes as the precomposed record, so same hash and same QR.
    let mut nfc = tt22_year();
    nfc.homeroom_remark = Some("Chăm ngoan, tiến bộ.".into());
    assert_eq!(canonical, nfc.canonical().unwrap());
}

#[test]
fn embedded_json_is_the_canonical_bytes() {
    let r = tt22_year();
    let canonical = r.canonical().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "hb.pdf", &render(&r));
    let (code, list) = run("pdfdetach", &["-list", pdf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(list, "1 embedded files\n1: HB-041061050R3GG28A.json\n");
    let out = dir.path().join("out.json");
    let (code, _) = run(
        "pdfdetach",
        &["-save", "1", "-o", out.to_str().unwrap(), pdf.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&out).unwrap(), canonical);

    // The file specification as PDF/A-3 wants it, read from an uncompressed copy.
    let qdf = dir.path().join("qdf.pdf");
    let (code, _) = run(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            pdf.to_str().unwrap(),
            qdf.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let raw = String::from_utf8_lossy(&std::fs::read(&qdf).unwrap()).into_owned();
    assert!(raw.contains("/AFRelationship /Data"), "no AFRelationship");
    assert!(raw.contains("/Subtype /application#2fjson"), "no MIME subtype");
    assert!(raw.contains("/AF ["), "no associated-files array");
    // The description is a UTF-16 text string; check it through its hex or literal form.
    let utf16: Vec<u8> = std::iter::once(0xFEFFu16)
        .chain(EMBEDDED_DESCRIPTION.encode_utf16())
        .flat_map(u16::to_be_bytes)
        .collect();
    let bytes = std::fs::read(&qdf).unwrap();
    let hex: String = utf16.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        bytes.windows(utf16.len()).any(|w| w == utf16.as_slice()) || raw.to_lowercase().contains(&hex),
        "embedded file description missing"
    );
}

#[test]
fn pdfa_3b_identification_in_xmp() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "hb.pdf", &render(&tt22_year()));
    let qdf = dir.path().join("qdf.pdf");
    let (code, _) = run(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            pdf.to_str().unwrap(),
            qdf.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let raw = String::from_utf8_lossy(&std::fs::read(&qdf).unwrap()).into_owned();
    let part = raw.contains("<pdfaid:part>3</pdfaid:part>") || raw.contains("pdfaid:part=\"3\"");
    let conf = raw.contains("<pdfaid:conformance>B</pdfaid:conformance>")
        || raw.contains("pdfaid:conformance=\"B\"");
    assert!(part && conf, "no PDF/A-3B identification in the XMP packet");
    assert!(raw.contains("/OutputIntents"), "PDF/A needs an output intent");
    assert_eq!(
        info(&pdf, "Title"),
        "Học bạ năm học 2025-2026 – Nguyễn Thị Ngọc Ánh – Lớp 8A1"
    );
    assert_eq!(info(&pdf, "Creator"), "Trường Số");
    assert_eq!(info(&pdf, "Author"), "Trường THCS Suối Hoa");
    // 09:30 in Vietnam (UTC+7), as the options say; never the clock.
    assert_eq!(info(&pdf, "CreationDate"), "Sun May 31 02:30:00 2026 UTC");
    assert_eq!(info(&pdf, "Tagged"), "no");
}

#[test]
fn rendering_is_reproducible() {
    let r = tt22_year();
    let a = render(&r);
    let b = render(&r);
    assert_eq!(a, b);
    // A second Fonts loaded separately gives the same bytes too (no hidden per-load state).
    let other = Fonts::load(&FontFiles::default()).unwrap();
    let c = render_hoc_ba(&r, &r.canonical().unwrap(), &opts(), &other).unwrap();
    assert_eq!(a, c);
    // And the date comes from the options: another date, other bytes.
    let mut later = opts();
    later.created = chrono::DateTime::parse_from_rfc3339("2026-06-01T08:00:00+07:00").unwrap();
    let d = render_hoc_ba(&r, &r.canonical().unwrap(), &later, fonts()).unwrap();
    assert_ne!(a, d);
}

#[test]
fn fonts_are_shared_between_threads() {
    let r = tt22_year();
    let expected = render(&r);
    let outputs: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| render(&r))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(outputs.iter().all(|o| *o == expected));
}

/// The QR code of a page, read back by zbar from a 60 dpi raster.
fn decode_qr(pdf: &Path, page: usize) -> String {
    let dir = pdf.parent().unwrap();
    let prefix = dir.join(format!("page{page}"));
    let p = page.to_string();
    let (code, _) = run(
        "pdftoppm",
        &[
            "-r",
            "60",
            "-png",
            "-f",
            &p,
            "-l",
            &p,
            "-singlefile",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let png = prefix.with_extension("png");
    let (code, out) = run("zbarimg", &["--raw", "-q", png.to_str().unwrap()]);
    assert_eq!(code, 0, "zbarimg found no code in {}", png.display());
    out.trim_end_matches('\n').to_string()
}

#[test]
fn qr_payload_round_trips_and_scans_at_60_dpi() {
    let r = tt22_year();
    let canonical = r.canonical().unwrap();
    let hash = sha256_hex(&canonical);
    let payload = qr_payload(BASE, &r.doc_id, &hash);
    assert_eq!(payload, format!("{BASE}?doc=HB-041061050R3GG28A&h={hash}"));
    assert_eq!(parse_qr_payload(&payload), Some((r.doc_id.clone(), hash.clone())));

    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "hb.pdf", &render(&r));
    // The code sits in the top right corner of the first page.
    let scanned = decode_qr(&pdf, 1);
    assert_eq!(scanned, payload);
    assert_eq!(parse_qr_payload(&scanned), Some((r.doc_id, hash)));
}

#[test]
fn tt27_primary_year() {
    let r = tt27_year();
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "tt27.pdf", &render(&r));
    assert_qpdf_ok(&pdf);
    assert_subset_fonts(&pdf);
    assert_eq!(pages_of(&pdf), 1);
    let text = text_of(&pdf);
    let flat = flat(&text);
    for s in [
        "HỌC BẠ",
        "TIỂU HỌC",
        "TRƯỜNG TIỂU HỌC ĐÔNG NGÀN",
        "Phạm Quốc Hưng",
        "14/02/2016",
        "Nam",
        "Mức đạt được",
        "Điểm KTĐK",
        "Hoàn thành tốt",
        "Hoàn thành",
        "Tin học và Công nghệ",
        "Phẩm chất chủ yếu",
        "Yêu nước",
        "Trách nhiệm",
        "Cần cố gắng",
        "Năng lực cốt lõi",
        "Năng lực chung",
        "Năng lực đặc thù",
        "Giải quyết vấn đề và sáng tạo",
        "Thẩm mĩ",
        "Thể chất",
        "Đánh giá kết quả giáo dục:",
        "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
        "Hoàn thành chương trình lớp 4",
        "Bắc Ninh, ngày 25 tháng 5 năm 2026",
        "Đỗ Thị Thủy",
        "Vũ Đức Thắng",
    ] {
        assert!(flat.contains(s), "missing {s:?} in:\n{text}");
    }
    // The general competencies are listed under their group, before the specific ones.
    let chung = flat.find("Năng lực chung").unwrap();
    let dac_thu = flat.find("Năng lực đặc thù").unwrap();
    let tu_hoc = flat.find("Tự chủ và tự học").unwrap();
    let ngon_ngu = flat.find("Ngôn ngữ").unwrap();
    assert!(chung < tu_hoc && tu_hoc < dac_thu && dac_thu < ngon_ngu);
    // Whole rows: level in words, the test score as a whole number, the remark.
    for row in [
        "Toán Hoàn thành tốt 10 Tính nhanh, chính xác.",
        "Khoa học Hoàn thành 7 Cần chủ động hơn.",
        "Đạo đức Hoàn thành tốt Lễ phép, biết giúp đỡ bạn.",
    ] {
        assert!(text.lines().any(|l| l == row), "no row {row:?} in:\n{text}");
    }
    let hash = sha256_hex(&r.canonical().unwrap());
    assert_eq!(decode_qr(&pdf, 1), qr_payload(BASE, &r.doc_id, &hash));
}

#[test]
fn diploma_on_a4_landscape() {
    let r = diploma();
    let canonical = r.canonical().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(
        dir.path(),
        "vb.pdf",
        &render_van_bang(&r, &canonical, &opts(), fonts()).unwrap(),
    );
    assert_qpdf_ok(&pdf);
    assert_subset_fonts(&pdf);
    assert_eq!(info(&pdf, "Page size"), "841.89 x 595.28 pts (A4)");
    assert_eq!(pages_of(&pdf), 1);
    let text = text_of(&pdf);
    let flat = flat(&text);
    for s in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ỦY BAN NHÂN DÂN TỈNH BẮC NINH",
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH BẮC NINH",
        "BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG",
        "Nguyễn Thị Ngọc Ánh",
        "05/09/2012",
        "Thành phố Bắc Ninh, tỉnh Bắc Ninh",
        "Trường THPT Hàn Thuyên",
        "Năm tốt nghiệp:",
        "2030",
        "Hình thức đào tạo:",
        "Chính quy",
        "Quyết định công nhận tốt nghiệp số 1234/QĐ-SGDĐT ngày 15 tháng 7 năm 2030",
        "Số hiệu:",
        "B 0123456",
        "Số vào sổ gốc cấp văn bằng:",
        "2030/BN-0457",
        "Bắc Ninh, ngày 20 tháng 7 năm 2030",
        "GIÁM ĐỐC",
        "Nguyễn Văn Quyết",
        "VB-0W3GE1R70W3GE1R7",
        "Tra cứu và xác minh tại: https://truongso.example/xac-minh",
    ] {
        assert!(flat.contains(s), "missing {s:?} in:\n{text}");
    }
    // No classification on this diploma, so no such line.
    assert!(!text.contains("Xếp loại tốt nghiệp"));
    let (_, list) = run("pdfdetach", &["-list", pdf.to_str().unwrap()]);
    assert_eq!(list, format!("1 embedded files\n1: {}.json\n", r.doc_id));
    let out = dir.path().join("vb.json");
    run(
        "pdfdetach",
        &["-save", "1", "-o", out.to_str().unwrap(), pdf.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&out).unwrap(), canonical);
    let hash = sha256_hex(&canonical);
    assert_eq!(decode_qr(&pdf, 1), qr_payload(BASE, &r.doc_id, &hash));
}

/// Every word's box as pdftotext -bbox reports it: (page, xMin, yMin, xMax, yMax, word).
fn word_boxes(pdf: &Path) -> Vec<(usize, f32, f32, f32, f32, String)> {
    let (code, html) = run("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]);
    assert_eq!(code, 0);
    let mut page = 0;
    let mut out = Vec::new();
    for line in html.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        }
        let Some(rest) = line.strip_prefix("<word ") else {
            continue;
        };
        let attr = |name: &str| -> f32 {
            let at = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            rest[at..].split('"').next().unwrap().parse().unwrap()
        };
        let word = rest
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        out.push((page, attr("xMin"), attr("yMin"), attr("xMax"), attr("yMax"), word));
    }
    out
}

/// The TT 22 year with 16 subjects, every one with the long remark.
fn long_tt22_year() -> HocBa {
    let mut r = tt22_year();
    let YearResults::Secondary(y) = &mut r.results else {
        unreachable!()
    };
    y.subjects
        .push(subject("tu_chon_1", "Nội dung tự chọn 1", "7.0", "7.0", "7.0"));
    y.subjects.push(subject(
        "tu_chon_2",
        "Chủ đề học tập lựa chọn về kĩ năng sống",
        "D",
        "D",
        "D",
    ));
    for s in &mut y.subjects {
        s.remark = Some(LONG_REMARK.into());
    }
    assert_eq!(y.subjects.len(), 16);
    r
}

#[test]
fn sixteen_subjects_with_long_remarks_continue_on_a_second_page() {
    let r = long_tt22_year();
    let dir = tempfile::tempdir().unwrap();
    let pdf = tmp_pdf(dir.path(), "long.pdf", &render(&r));
    assert_qpdf_ok(&pdf);
    let pages = pages_of(&pdf);
    assert!(pages >= 2, "{pages}");
    let boxes = word_boxes(&pdf);
    // Nothing outside the margins (left 42, right 36, top 36 pt; pdftotext's y grows
    // downwards), and nothing but the footer line below the body's end at 841.89 - 40 pt.
    for (page, x0, y0, x1, y1, word) in &boxes {
        assert!(
            *x0 >= 42.0 - 0.01 && *x1 <= 595.28 - 36.0,
            "word {word:?} on page {page} at x {x0}..{x1}"
        );
        assert!(*y0 >= 36.0, "word {word:?} on page {page} at y {y0}");
        let footer = *y0 > 841.89 - 40.0;
        assert!(
            *y1 <= if footer { 841.89 - 12.0 } else { 841.89 - 40.0 },
            "word {word:?} on page {page} at y {y1}"
        );
    }
    // The table header repeats on the continuation page, under the running head.
    let page2: String = boxes
        .iter()
        .filter(|b| b.0 == 2)
        .map(|b| b.5.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(page2.contains("(tiếp theo)"), "{page2}");
    assert!(page2.contains("Môn học và hoạt động giáo dục"), "{page2}");
    assert!(page2.contains("Trang 2/"), "{page2}");
    // Every subject printed exactly once, the last one included.
    let text = flat(&text_of(&pdf));
    assert_eq!(text.matches("Chủ đề học tập lựa chọn về kĩ năng sống").count(), 1);
    assert_eq!(text.matches(&flat_str(LONG_REMARK)).count(), 16);
    let hash = sha256_hex(&r.canonical().unwrap());
    assert_eq!(decode_qr(&pdf, 1), qr_payload(BASE, &r.doc_id, &hash));
}

#[test]
fn refuses_what_it_cannot_print_faithfully() {
    let r = tt22_year();
    let canonical = r.canonical().unwrap();
    // Bytes of another record: the QR hash would not describe this page.
    let other = tt27_year().canonical().unwrap();
    let err = render_hoc_ba(&r, &other, &opts(), fonts()).unwrap_err();
    assert_eq!(err, RenderError::CanonicalMismatch);
    // Same record, not canonical (whitespace): refused too.
    let mut spaced = canonical.clone();
    spaced.insert(1, b' ');
    assert_eq!(
        render_hoc_ba(&r, &spaced, &opts(), fonts()).unwrap_err().code(),
        "canonical_mismatch"
    );

    let mut bad = r.clone();
    let YearResults::Secondary(y) = &mut bad.results else {
        unreachable!()
    };
    y.conduct.year = Some("gioi".into());
    let err = render_hoc_ba(&bad, &bad.canonical().unwrap(), &opts(), fonts()).unwrap_err();
    assert_eq!(
        err,
        RenderError::UnknownCode {
            field: "conduct.year",
            code: "gioi".into()
        }
    );

    let mut bad = r.clone();
    let YearResults::Secondary(y) = &mut bad.results else {
        unreachable!()
    };
    y.subjects[1].year = Some("7,7".into());
    let err = render_hoc_ba(&bad, &bad.canonical().unwrap(), &opts(), fonts()).unwrap_err();
    assert_eq!(err.code(), "bad_value");

    let mut with_query = opts();
    with_query.verify_base_url = "https://truongso.example/xac-minh?x=1".into();
    assert_eq!(
        render_hoc_ba(&r, &canonical, &with_query, fonts())
            .unwrap_err()
            .code(),
        "bad_base_url"
    );

    let mut bad = r.clone();
    bad.doc_id = "HB-123".into();
    assert_eq!(
        render_hoc_ba(&bad, &bad.canonical().unwrap(), &opts(), fonts())
            .unwrap_err()
            .code(),
        "bad_doc_id"
    );

    // A character DejaVu Sans does not have (a CJK ideograph) is refused by name.
    let mut bad = r.clone();
    bad.homeroom_remark = Some("Tốt 好".into());
    let err = render_hoc_ba(&bad, &bad.canonical().unwrap(), &opts(), fonts()).unwrap_err();
    assert!(
        matches!(err, RenderError::MissingGlyph { ch: '好', .. }),
        "{err:?}"
    );

    let d = diploma();
    assert_eq!(
        render_van_bang(&d, &canonical, &opts(), fonts()).unwrap_err(),
        RenderError::CanonicalMismatch
    );
    let mut wrong = d.clone();
    wrong.schema = HOC_BA_SCHEMA.into();
    assert_eq!(
        render_van_bang(&wrong, &wrong.canonical().unwrap(), &opts(), fonts())
            .unwrap_err()
            .code(),
        "wrong_schema"
    );
}

/// Size and speed of a typical year; run with
/// `cargo test --release -p truongso-docs --test credentials_render -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, not a check"]
fn render_timing_report() {
    let r = tt22_year();
    let canonical = r.canonical().unwrap();
    let fonts = fonts();
    let o = opts();
    let first = render_hoc_ba(&r, &canonical, &o, fonts).unwrap();
    let n = 200;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let pdf = render_hoc_ba(&r, &canonical, &o, fonts).unwrap();
        assert_eq!(pdf.len(), first.len());
    }
    let per = start.elapsed() / n;
    let d = diploma();
    let vb = render_van_bang(&d, &d.canonical().unwrap(), &o, fonts).unwrap();
    let p = tt27_year();
    let tt27 = render_hoc_ba(&p, &p.canonical().unwrap(), &o, fonts).unwrap();
    // To look at the pages: RENDER_DUMP_DIR=/tmp/out.
    if let Some(dir) = std::env::var_os("RENDER_DUMP_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        tmp_pdf(&dir, "tt22.pdf", &first);
        tmp_pdf(&dir, "tt27.pdf", &tt27);
        tmp_pdf(&dir, "van_bang.pdf", &vb);
        tmp_pdf(&dir, "tt22_long.pdf", &render(&long_tt22_year()));
    }
    println!(
        "TT22 year: {} bytes, {per:?} per document; TT27 year: {} bytes; diploma: {} bytes",
        first.len(),
        tt27.len(),
        vb.len()
    );
}
