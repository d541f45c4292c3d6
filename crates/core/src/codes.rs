//! Shared code lists of the sector database (danh mục dùng chung, statistics.md §5). Codes are
//! authoritative; Vietnamese labels were written from the workbook's glosses where the source
//! gives only English (wording UNCERTAIN, codes not). Lists the source marks as partial accept
//! only the codes listed; add codes here as data when the official list is confirmed.

use crate::DomainError;

#[derive(Debug, Clone, Copy)]
pub struct CodeList {
    /// The sector database's list name, e.g. `DM_DAN_TOC`.
    pub id: &'static str,
    pub entries: &'static [(&'static str, &'static str)],
}

impl CodeList {
    pub fn label(&self, code: &str) -> Option<&'static str> {
        self.entries.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
    }

    /// Accepts a code (`"5"` and `"05"` alike) or a label (case and diacritics ignored) and
    /// returns the canonical code.
    pub fn parse(&self, input: &str) -> Result<&'static str, DomainError> {
        let t = input.trim();
        let padded = if t.len() == 1 && t.chars().all(|c| c.is_ascii_digit()) {
            format!("0{t}")
        } else {
            t.to_string()
        };
        if let Some((c, _)) = self.entries.iter().find(|(c, _)| *c == padded) {
            return Ok(c);
        }
        let folded = crate::text::fold(t);
        self.entries
            .iter()
            .find(|(_, l)| crate::text::fold(l) == folded)
            .map(|(c, _)| *c)
            .ok_or(DomainError::UnknownCode)
    }
}

macro_rules! list {
    ($name:ident, $id:literal, [$(($c:literal, $l:literal)),* $(,)?]) => {
        pub const $name: CodeList = CodeList { id: $id, entries: &[$(($c, $l)),*] };
    };
}

list!(
    DAN_TOC,
    "DM_DAN_TOC",
    [
        ("01", "Kinh"),
        ("02", "Tày"),
        ("03", "Thái"),
        ("04", "Hoa"),
        ("05", "Khơ-me"),
        ("06", "Mường"),
        ("07", "Nùng"),
        ("08", "Hmông"),
        ("09", "Dao"),
        ("10", "Gia-rai"),
        ("11", "Ngái"),
        ("12", "Ê-đê"),
        ("13", "Ba-na"),
        ("14", "Xơ-đăng"),
        ("15", "Sán Chay"),
        ("16", "Cơ-ho"),
        ("17", "Chăm"),
        ("18", "Sán Dìu"),
        ("19", "Hrê"),
        ("20", "Mnông"),
        ("21", "Ra-glai"),
        ("22", "Xtiêng"),
        ("23", "Bru-Vân Kiều"),
        ("24", "Thổ"),
        ("25", "Giáy"),
        ("26", "Cơ-tu"),
        ("27", "Gié-Triêng"),
        ("28", "Mạ"),
        ("29", "Khơ-mú"),
        ("30", "Co"),
        ("31", "Ta-ôi"),
        ("32", "Chơ-ro"),
        ("33", "Kháng"),
        ("34", "Xinh-mun"),
        ("35", "Hà Nhì"),
        ("36", "Chu-ru"),
        ("37", "Lào"),
        ("38", "La Chi"),
        ("39", "La Ha"),
        ("40", "Phù Lá"),
        ("41", "La Hủ"),
        ("42", "Lự"),
        ("43", "Lô Lô"),
        ("44", "Chứt"),
        ("45", "Mảng"),
        ("46", "Pà Thẻn"),
        ("47", "Cơ Lao"),
        ("48", "Cống"),
        ("49", "Bố Y"),
        ("50", "Si La"),
        ("51", "Pu Péo"),
        ("52", "Brâu"),
        ("53", "Ơ Đu"),
        ("54", "Rơ-măm"),
        ("55", "Người nước ngoài"),
    ]
);

/// An ethnic minority learner (dân tộc thiểu số): any ethnicity but Kinh and foreigners.
pub fn is_ethnic_minority(code: &str) -> bool {
    DAN_TOC.label(code).is_some() && code != "01" && code != "55"
}

list!(GIOI_TINH, "DM_GIOI_TINH", [("01", "Nam"), ("02", "Nữ")]);

list!(
    LOAI_KHUYET_TAT,
    "DM_LOAI_KHUYET_TAT",
    [
        ("01", "Khuyết tật vận động"),
        ("02", "Khuyết tật nghe, nói"),
        ("03", "Khuyết tật nhìn"),
        ("04", "Khuyết tật thần kinh, tâm thần"),
        ("05", "Khuyết tật trí tuệ"),
        ("06", "Khuyết tật khác"),
    ]
);

list!(
    TRANG_THAI_HOC_SINH,
    "DM_TRANG_THAI_HOC_SINH",
    [
        ("01", "Đang học"),
        ("02", "Chuyển đến trong học kỳ I"),
        ("03", "Đi học lại trong học kỳ I"),
        ("04", "Chuyển đi trong học kỳ I"),
        ("05", "Thôi học trong học kỳ I"),
        ("06", "Chuyển đến trong học kỳ II"),
        ("07", "Đi học lại trong học kỳ II"),
        ("08", "Chuyển đi trong học kỳ II"),
        ("09", "Thôi học trong học kỳ II"),
        ("10", "Chuyển đến trong hè"),
        ("11", "Chuyển đi trong hè"),
        ("12", "Thôi học trong hè"),
    ]
);

list!(
    LY_DO_THOI_HOC,
    "DM_LY_DO_THOI_HOC",
    [
        ("01", "Hoàn cảnh gia đình khó khăn"),
        ("02", "Học lực yếu, kém"),
        ("03", "Xa trường, đi lại khó khăn"),
        ("04", "Thiên tai, dịch bệnh"),
        ("05", "Bị kỳ thị, phân biệt đối xử"),
        ("06", "Lý do khác"),
        ("07", "Bảo lưu kết quả"),
        ("08", "Chuyển sang học nghề"),
        ("09", "Ốm đau, bệnh tật"),
        ("10", "Mất tích, qua đời"),
    ]
);

list!(
    HOC_BAN_TRU,
    "DM_HOC_BAN_TRU",
    [("01", "Đối tượng chính sách"), ("02", "Tự nguyện")]
);

list!(
    DIEN_CHINH_SACH,
    "DM_DIEN_CHINH_SACH",
    [
        ("01", "Con người có công với cách mạng"),
        ("02", "Con Anh hùng"),
        ("03", "Con liệt sĩ"),
        ("04", "Con thương binh"),
        ("05", "Mồ côi cả cha lẫn mẹ"),
        ("06", "Khuyết tật"),
        ("07", "Bị bỏ rơi"),
        ("08", "Hộ nghèo"),
        ("09", "Hộ cận nghèo"),
        ("10", "Con hạ sĩ quan, binh sĩ tại ngũ"),
        ("11", "Dân tộc thiểu số ở vùng đặc biệt khó khăn"),
        ("12", "Cha mẹ bị tai nạn lao động hoặc bệnh nghề nghiệp"),
        (
            "13",
            "Cha mẹ thường trú ở xã biên giới, vùng cao, hải đảo, xã đặc biệt khó khăn"
        ),
        ("14", "Thu nhập không quá 150% chuẩn nghèo"),
        ("15", "Hộ nghèo thuộc Chương trình 135"),
        ("16", "Khác"),
    ]
);

list!(
    NHOM_CAN_BO,
    "DM_NHOM_CAN_BO",
    [
        ("01", "Cán bộ quản lý"),
        ("02", "Nhân viên"),
        ("03", "Giáo viên"),
        ("06", "Giáo viên dạy nghề"),
        ("07", "Lãnh đạo Sở"),
        ("08", "Trưởng, phó phòng"),
        ("09", "Chuyên viên"),
        ("10", "Giáo viên biệt phái"),
    ]
);

list!(
    LOAI_CAN_BO,
    "DM_LOAI_CAN_BO",
    [
        ("01", "Hiệu trưởng"),
        ("02", "Phó hiệu trưởng"),
        ("03", "Tổ trưởng chuyên môn"),
        ("04", "Tổ phó chuyên môn"),
        ("09", "Nhân viên thư viện"),
        ("10", "Nhân viên thiết bị"),
        ("11", "Nhân viên y tế"),
        ("12", "Khác"),
        ("13", "Nhân viên thí nghiệm"),
        ("15", "Kế toán"),
        ("16", "Văn thư"),
        ("17", "Bảo vệ"),
        ("18", "Trợ giảng ngôn ngữ thứ nhất"),
        ("19", "Trợ giảng ngôn ngữ thứ hai"),
        ("20", "Cấp dưỡng"),
        ("21", "Bảo mẫu"),
        ("25", "Thủ quỹ"),
        ("31", "Cấp dưỡng (mầm non)"),
        ("32", "Công nghệ thông tin"),
        ("33", "Hỗ trợ giáo dục người khuyết tật"),
        ("34", "Giáo vụ"),
    ]
);

list!(
    HINH_THUC_HOP_DONG,
    "DM_HINH_THUC_HOP_DONG",
    [
        ("02", "Hợp đồng theo Nghị định 68"),
        ("03", "Hợp đồng lao động trên 1 năm"),
        ("04", "Hợp đồng lao động dưới 1 năm"),
        ("05", "Hợp đồng vụ việc"),
        ("06", "Thỉnh giảng"),
        ("07", "Viên chức hợp đồng không xác định thời hạn"),
        ("08", "Viên chức hợp đồng xác định thời hạn"),
    ]
);

list!(
    TRINH_DO_CHUYEN_MON,
    "DM_TRINH_DO_CHUYEN_MON",
    [
        ("01", "Tiến sĩ"),
        ("02", "Thạc sĩ"),
        ("03", "Đại học"),
        ("04", "Cao đẳng"),
        ("05", "Trung cấp"),
        ("06", "Khác"),
        ("13", "Đại học và chứng chỉ sư phạm"),
        ("14", "Cao đẳng và chứng chỉ sư phạm"),
        ("15", "Trung cấp và chứng chỉ sư phạm"),
    ]
);

list!(
    KQ_CHUAN_NGHE_NGHIEP,
    "DM_KQ_CHUAN_NGHE_NGHIEP",
    [
        ("01", "Tốt"),
        ("02", "Khá"),
        ("03", "Đạt"),
        ("04", "Chưa đánh giá"),
        ("05", "Chưa đạt"),
    ]
);

list!(
    TRANG_THAI_CAN_BO,
    "DM_TRANG_THAI_CAN_BO",
    [
        ("01", "Đang làm việc"),
        ("02", "Chuyển đi"),
        ("03", "Điều động, luân chuyển"),
        ("04", "Chờ nghỉ hưu"),
        ("05", "Đã nghỉ hưu"),
        ("06", "Biệt phái"),
        ("07", "Chuyển đến"),
    ]
);

list!(
    KHOI,
    "DM_KHOI",
    [
        ("01", "Lớp 1"),
        ("02", "Lớp 2"),
        ("03", "Lớp 3"),
        ("04", "Lớp 4"),
        ("05", "Lớp 5"),
        ("06", "Lớp 6"),
        ("07", "Lớp 7"),
        ("08", "Lớp 8"),
        ("09", "Lớp 9"),
        ("10", "Lớp 10"),
        ("11", "Lớp 11"),
        ("12", "Lớp 12"),
        ("13", "GDTX lớp 10"),
        ("14", "GDTX lớp 11"),
        ("15", "GDTX lớp 12"),
        ("16", "Nhóm trẻ"),
        ("17", "Lớp mẫu giáo"),
        ("18", "Xóa mù chữ"),
        ("19", "Sau xóa mù chữ"),
        ("20", "GDTX lớp 6"),
        ("21", "GDTX lớp 7"),
        ("22", "GDTX lớp 8"),
        ("23", "GDTX lớp 9"),
        ("24", "GDTX lớp 1"),
        ("25", "GDTX lớp 2"),
        ("26", "GDTX lớp 3"),
        ("27", "GDTX lớp 4"),
        ("28", "GDTX lớp 5"),
    ]
);

list!(
    NHOM_TUOI_MN,
    "DM_NHOM_TUOI_MN",
    [
        ("01", "3–12 tháng"),
        ("02", "13–24 tháng"),
        ("03", "25–36 tháng"),
        ("04", "3–4 tuổi"),
        ("05", "4–5 tuổi"),
        ("06", "5–6 tuổi"),
    ]
);

list!(
    LOAI_HINH,
    "DM_LOAI_HINH",
    [
        ("01", "Công lập"),
        ("02", "Ngoài công lập"),
        ("03", "Dân lập"),
        ("09", "Tư thục")
    ]
);

list!(
    VUNG,
    "DM_VUNG",
    [
        ("01", "Trung du"),
        ("02", "Đồng bằng"),
        ("03", "Thành phố"),
        ("04", "Miền núi"),
        ("05", "Hải đảo"),
        ("06", "Vùng sâu"),
    ]
);

list!(
    KHU_VUC,
    "DM_KHU_VUC",
    [
        ("01", "Biên giới – hải đảo"),
        ("02", "Đô thị"),
        ("03", "Đồng bằng"),
        ("04", "Miền núi – vùng sâu"),
    ]
);

list!(
    LOAI_TRUONG,
    "DM_LOAI_TRUONG",
    [
        ("01", "Phổ thông dân tộc bán trú"),
        ("02", "Phổ thông dân tộc nội trú tỉnh"),
        ("03", "Phổ thông dân tộc nội trú huyện"),
        ("04", "Dành cho trẻ khuyết tật"),
        ("05", "Năng khiếu nghệ thuật"),
        ("06", "Năng khiếu thể dục thể thao"),
        ("07", "Phổ thông"),
        ("08", "Dành cho trẻ có hoàn cảnh khó khăn"),
        ("09", "Chuyên"),
        ("10", "Trung học phổ thông kỹ thuật"),
        ("13", "Mầm non"),
        ("15", "Trung tâm GDTX"),
        ("16", "Trung tâm GDNN-GDTX"),
        ("17", "Trung tâm GDTX-DN-HN"),
        ("18", "Khuyết tật"),
    ]
);

/// Learner statuses that keep a learner on a class roll: studying, transferred in, back after
/// absence. Transferred out, dropped out and completed are off the roll.
pub const ON_ROLL: [&str; 6] = ["01", "02", "03", "06", "07", "10"];

/// Trường Số's own status for a learner who finished the last grade of the level (the sector
/// list has no such code; the sync layer reports these learners as leaving at year end).
pub const COMPLETED_LEVEL: &str = "90";

/// Label of a learner status, the sector list or the local "completed" code.
pub fn learner_status_label(code: &str) -> Option<&'static str> {
    if code == COMPLETED_LEVEL {
        Some("Hoàn thành chương trình cấp học")
    } else {
        TRANG_THAI_HOC_SINH.label(code)
    }
}

/// Every list, for the code-list API and the import templates.
pub const ALL: [CodeList; 19] = [
    DAN_TOC,
    GIOI_TINH,
    LOAI_KHUYET_TAT,
    TRANG_THAI_HOC_SINH,
    LY_DO_THOI_HOC,
    HOC_BAN_TRU,
    DIEN_CHINH_SACH,
    NHOM_CAN_BO,
    LOAI_CAN_BO,
    HINH_THUC_HOP_DONG,
    TRINH_DO_CHUYEN_MON,
    KQ_CHUAN_NGHE_NGHIEP,
    TRANG_THAI_CAN_BO,
    KHOI,
    NHOM_TUOI_MN,
    LOAI_HINH,
    VUNG,
    KHU_VUC,
    LOAI_TRUONG,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_well_formed() {
        for list in ALL {
            assert!(list.id.starts_with("DM_"), "{}", list.id);
            assert!(!list.entries.is_empty());
            for (i, (code, label)) in list.entries.iter().enumerate() {
                assert!(
                    code.len() == 2 && code.chars().all(|c| c.is_ascii_digit()),
                    "{} {code}",
                    list.id
                );
                assert_eq!(crate::text::nfc(label), *label, "labels are NFC");
                assert!(
                    list.entries[i + 1..].iter().all(|(c, _)| c != code),
                    "{} repeats {code}",
                    list.id
                );
            }
        }
        assert_eq!(DAN_TOC.entries.len(), 55);
        assert_eq!(KHOI.entries.len(), 28);
        assert_eq!(TRANG_THAI_HOC_SINH.entries.len(), 12);
    }

    #[test]
    fn parse_by_code_or_label() {
        assert_eq!(DAN_TOC.parse("2"), Ok("02"));
        assert_eq!(DAN_TOC.parse("tay"), Ok("02"));
        assert_eq!(DAN_TOC.parse("HMÔNG"), Ok("08"));
        assert_eq!(DAN_TOC.parse("56"), Err(DomainError::UnknownCode));
        assert_eq!(LY_DO_THOI_HOC.parse("Học lực yếu, kém"), Ok("02"));
        assert_eq!(DAN_TOC.label("23"), Some("Bru-Vân Kiều"));
    }

    #[test]
    fn ethnic_minority_rule() {
        assert!(!is_ethnic_minority("01"));
        assert!(!is_ethnic_minority("55"));
        assert!(is_ethnic_minority("02"));
        assert!(is_ethnic_minority("54"));
        assert!(!is_ethnic_minority("99"));
    }
}
