//! What the record's machine codes print as. These are document content, the words of the paper
//! học bạ and diploma (Thông tư 22/2021, 27/2020, 21/2019), printed exactly; they are not UI
//! strings and do not go through the translation catalogue. An unknown code is an error rather
//! than something printed raw: a signed document must never show "chua_dat".

use super::RenderError;

/// A code → label table.
pub type Table = &'static [(&'static str, &'static str)];

/// Kết quả rèn luyện / Kết quả học tập (TT 22/2021 Điều 8, 9).
pub const LEVELS: Table = &[
    ("tot", "Tốt"),
    ("kha", "Khá"),
    ("dat", "Đạt"),
    ("chua_dat", "Chưa đạt"),
];

/// Subjects assessed by comment (TT 22/2021 Điều 5): the symbols the học bạ prints.
pub const COMMENT_RESULTS: Table = &[("D", "Đ"), ("CD", "CĐ")];

/// Primary subject levels (TT 27/2020 Điều 6).
pub const SUBJECT_LEVELS: Table = &[
    ("T", "Hoàn thành tốt"),
    ("H", "Hoàn thành"),
    ("C", "Chưa hoàn thành"),
];

/// Primary qualities and competencies (TT 27/2020 Điều 6).
pub const TRAIT_LEVELS: Table = &[("tot", "Tốt"), ("dat", "Đạt"), ("can_co_gang", "Cần cố gắng")];

/// Đánh giá kết quả giáo dục (TT 27/2020 Điều 9).
pub const EVALUATIONS: Table = &[
    ("htxs", "Hoàn thành xuất sắc"),
    ("htt", "Hoàn thành tốt"),
    ("ht", "Hoàn thành"),
    ("cht", "Chưa hoàn thành"),
];

/// Year-end decisions (TT 22/2021 Điều 12–14).
pub const DECISIONS: Table = &[
    ("promoted", "Được lên lớp"),
    ("retest", "Kiểm tra lại các môn học"),
    ("summer_training", "Rèn luyện trong kì nghỉ hè"),
    ("retained", "Ở lại lớp"),
    (
        "retained_absences",
        "Ở lại lớp (nghỉ học quá 45 buổi trong năm học)",
    ),
];

/// Danh hiệu (TT 22/2021 Điều 15).
pub const SECONDARY_AWARDS: Table = &[("xuat_sac", "Học sinh Xuất sắc"), ("gioi", "Học sinh Giỏi")];

/// Khen thưởng (TT 27/2020 Điều 13).
pub const PRIMARY_AWARDS: Table = &[
    ("xuat_sac", "Học sinh Xuất sắc"),
    (
        "tieu_bieu",
        "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
    ),
];

pub const SEXES: Table = &[("nam", "Nam"), ("nu", "Nữ")];

/// The diploma's title line (TT 21/2019).
pub const DIPLOMA_TITLES: Table = &[
    ("tot_nghiep_thcs", "BẰNG TỐT NGHIỆP TRUNG HỌC CƠ SỞ"),
    ("tot_nghiep_thpt", "BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG"),
];

/// Xếp loại tốt nghiệp.
pub const CLASSIFICATIONS: Table = &[
    ("xuat_sac", "Xuất sắc"),
    ("gioi", "Giỏi"),
    ("kha", "Khá"),
    ("trung_binh", "Trung bình"),
];

/// Hình thức đào tạo.
pub const TRAINING_MODES: Table = &[
    ("chinh_quy", "Chính quy"),
    ("giao_duc_thuong_xuyen", "Giáo dục thường xuyên"),
];

/// The label of `code` in `table`; `field` names the record field in the error.
pub fn label(table: Table, field: &'static str, code: &str) -> Result<&'static str, RenderError> {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .ok_or_else(|| RenderError::UnknownCode {
            field,
            code: code.to_string(),
        })
}

/// An optional code: absent prints nothing.
pub fn label_opt(table: Table, field: &'static str, code: Option<&str>) -> Result<&'static str, RenderError> {
    code.map_or(Ok(""), |c| label(table, field, c))
}

/// A secondary subject result: a mark "7.7" prints "7,7", a comment result "D"/"CD" prints
/// "Đ"/"CĐ". Marks are 0–10 with at most one decimal, as the gradebook produces them.
pub fn subject_result(field: &'static str, value: Option<&str>) -> Result<String, RenderError> {
    let Some(v) = value else {
        return Ok(String::new());
    };
    if let Some((_, l)) = COMMENT_RESULTS.iter().find(|(c, _)| *c == v) {
        return Ok((*l).to_string());
    }
    mark(field, v)
}

/// "7.7" → "7,7", "10" → "10".
pub fn mark(field: &'static str, value: &str) -> Result<String, RenderError> {
    let bad = || RenderError::BadValue {
        field,
        value: value.to_string(),
    };
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 2 || !digits(int) || frac.len() > 2 || !digits(frac) {
        return Err(bad());
    }
    if value.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    let whole: u32 = int.parse().map_err(|_| bad())?;
    if whole > 10 || (whole == 10 && frac.bytes().any(|b| b != b'0')) {
        return Err(bad());
    }
    Ok(if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int},{frac}")
    })
}

/// A calendar date "YYYY-MM-DD", checked.
fn ymd(field: &'static str, value: &str) -> Result<(u32, u32, u32), RenderError> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| value.len() == 10)
        .map(|d| {
            use chrono::Datelike;
            (d.year() as u32, d.month(), d.day())
        })
        .ok_or_else(|| RenderError::BadValue {
            field,
            value: value.to_string(),
        })
}

/// "ngày 31 tháng 5 năm 2026". Days below 10 and months below 3 take a leading zero, the
/// convention of Nghị định 30/2020 for dates in administrative documents ("ngày 05 tháng 02").
pub fn date_long(field: &'static str, value: &str) -> Result<String, RenderError> {
    let (y, m, d) = ymd(field, value)?;
    let day = if d < 10 { format!("0{d}") } else { d.to_string() };
    let month = if m < 3 { format!("0{m}") } else { m.to_string() };
    Ok(format!("ngày {day} tháng {month} năm {y}"))
}

/// "05/09/2012", as dates of birth print.
pub fn date_short(field: &'static str, value: &str) -> Result<String, RenderError> {
    let (y, m, d) = ymd(field, value)?;
    Ok(format!("{d:02}/{m:02}/{y}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_print_with_a_decimal_comma() {
        assert_eq!(mark("m", "7.7").unwrap(), "7,7");
        assert_eq!(mark("m", "8.0").unwrap(), "8,0");
        assert_eq!(mark("m", "10").unwrap(), "10");
        assert_eq!(mark("m", "10.0").unwrap(), "10,0");
        assert_eq!(mark("m", "6.25").unwrap(), "6,25");
        for bad in ["", "7.", ".5", "10.5", "11", "7,7", "a", "-1", "7.7.7", "100"] {
            assert_eq!(mark("m", bad).unwrap_err().code(), "bad_value", "{bad}");
        }
        assert_eq!(subject_result("s", Some("D")).unwrap(), "Đ");
        assert_eq!(subject_result("s", Some("CD")).unwrap(), "CĐ");
        assert_eq!(subject_result("s", None).unwrap(), "");
    }

    #[test]
    fn dates_the_vietnamese_way() {
        assert_eq!(date_long("d", "2026-05-31").unwrap(), "ngày 31 tháng 5 năm 2026");
        assert_eq!(date_long("d", "2026-02-05").unwrap(), "ngày 05 tháng 02 năm 2026");
        assert_eq!(date_long("d", "2026-12-10").unwrap(), "ngày 10 tháng 12 năm 2026");
        assert_eq!(date_short("d", "2012-09-05").unwrap(), "05/09/2012");
        for bad in ["2026-02-30", "2026-5-31", "31/05/2026", ""] {
            assert!(date_long("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_codes_are_errors_not_text() {
        assert_eq!(label(LEVELS, "conduct", "chua_dat").unwrap(), "Chưa đạt");
        assert_eq!(label(SUBJECT_LEVELS, "level", "T").unwrap(), "Hoàn thành tốt");
        let err = label(LEVELS, "conduct", "gioi").unwrap_err();
        assert_eq!(err.code(), "unknown_code");
        assert_eq!(label_opt(LEVELS, "conduct", None).unwrap(), "");
    }
}
