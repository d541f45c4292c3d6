//! Import templates: which columns a school fills in for each kind of record, and the blank
//! workbook it downloads. The data sheet holds only the header row (required columns end in
//! " *"); a second sheet, `HuongDan`, lists every column with an example and a note.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

/// One column of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Stable key the import code reads the value by.
    pub key: &'static str,
    pub header_vi: &'static str,
    pub header_en: &'static str,
    pub required: bool,
    pub example: &'static str,
    pub note_vi: &'static str,
}

/// One kind of import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Stable id, e.g. "learners".
    pub id: &'static str,
    /// Name of the data sheet; ASCII so that every tool keeps it intact.
    pub sheet_vi: &'static str,
    pub title_vi: &'static str,
    pub title_en: &'static str,
    pub columns: &'static [Column],
}

/// Excel's built-in number format 49, "@": the cell keeps what is typed as text.
const TEXT_FORMAT: u8 = 49;

/// Name of the guide sheet written after the data sheet.
pub const GUIDE_SHEET: &str = "HuongDan";

const fn col(
    key: &'static str,
    header_vi: &'static str,
    header_en: &'static str,
    required: bool,
    example: &'static str,
    note_vi: &'static str,
) -> Column {
    Column {
        key,
        header_vi,
        header_en,
        required,
        example,
        note_vi,
    }
}

const NAME_NOTE: &str = "Viết có dấu, đúng như giấy khai sinh.";
const DATE_NOTE: &str = "Ngày/tháng/năm, ví dụ 05/09/2015.";
const SEX_NOTE: &str = "Nam hoặc Nữ.";
const CCCD_NOTE: &str = "12 chữ số (căn cước/mã định danh cá nhân); giữ nguyên số 0 ở đầu.";
const PHONE_NOTE: &str = "Số di động 10 chữ số; giữ nguyên số 0 ở đầu.";

pub const LEARNERS: Template = Template {
    id: "learners",
    sheet_vi: "HocSinh",
    title_vi: "Danh sách học sinh",
    title_en: "Learners",
    columns: &[
        col(
            "moet_code",
            "Mã học sinh",
            "Learner code",
            false,
            "0101234567",
            "Mã định danh học sinh trên CSDL ngành; để trống nếu chưa có.",
        ),
        col(
            "full_name",
            "Họ và tên",
            "Full name",
            true,
            "Nguyễn Thị Minh Anh",
            NAME_NOTE,
        ),
        col(
            "date_of_birth",
            "Ngày sinh (dd/mm/yyyy)",
            "Date of birth (dd/mm/yyyy)",
            true,
            "05/09/2015",
            DATE_NOTE,
        ),
        col("sex", "Giới tính", "Sex", true, "Nữ", SEX_NOTE),
        col(
            "cccd",
            "Số định danh cá nhân",
            "Personal ID number",
            false,
            "001315012345",
            CCCD_NOTE,
        ),
        col(
            "ethnicity",
            "Dân tộc",
            "Ethnicity",
            false,
            "Kinh",
            "Theo danh mục DM_DAN_TOC (mã hoặc tên).",
        ),
        col(
            "religion",
            "Tôn giáo",
            "Religion",
            false,
            "Không",
            "Để trống hoặc ghi “Không” nếu không theo tôn giáo.",
        ),
        col(
            "nationality",
            "Quốc tịch",
            "Nationality",
            false,
            "Việt Nam",
            "Để trống nếu là Việt Nam.",
        ),
        col(
            "disability_type",
            "Loại khuyết tật",
            "Disability type",
            false,
            "",
            "Theo danh mục DM_LOAI_KHUYET_TAT; để trống nếu không có.",
        ),
        col(
            "policy_codes",
            "Diện chính sách",
            "Policy groups",
            false,
            "03",
            "Mã theo danh mục DM_DIEN_CHINH_SACH, nhiều mã cách nhau bởi dấu phẩy.",
        ),
        col(
            "boarding",
            "Học bán trú",
            "Semi-boarding",
            false,
            "Tự nguyện",
            "Theo danh mục DM_HOC_BAN_TRU; để trống nếu không học bán trú.",
        ),
        col(
            "class_name",
            "Lớp",
            "Class",
            false,
            "5A",
            "Tên lớp đã có trong năm học, ví dụ 5A.",
        ),
        col(
            "province_code",
            "Mã tỉnh/thành phố",
            "Province code",
            false,
            "01",
            "Mã tỉnh nơi thường trú.",
        ),
        col(
            "commune_code",
            "Mã xã/phường",
            "Commune code",
            false,
            "00004",
            "Mã xã/phường nơi thường trú.",
        ),
        col(
            "address_line",
            "Địa chỉ (số nhà, thôn/tổ)",
            "Address line",
            false,
            "Số 12, tổ 3",
            "Số nhà, đường, thôn/xóm/tổ dân phố.",
        ),
        col(
            "father_name",
            "Họ tên cha",
            "Father's name",
            false,
            "Nguyễn Văn Bình",
            "",
        ),
        col(
            "father_phone",
            "Điện thoại cha",
            "Father's phone",
            false,
            "0912345678",
            PHONE_NOTE,
        ),
        col(
            "mother_name",
            "Họ tên mẹ",
            "Mother's name",
            false,
            "Trần Thị Cúc",
            "",
        ),
        col(
            "mother_phone",
            "Điện thoại mẹ",
            "Mother's phone",
            false,
            "0987654321",
            PHONE_NOTE,
        ),
        col(
            "guardian_name",
            "Họ tên người giám hộ",
            "Guardian's name",
            false,
            "",
            "Chỉ ghi khi người giám hộ không phải cha hoặc mẹ.",
        ),
        col(
            "guardian_phone",
            "Điện thoại người giám hộ",
            "Guardian's phone",
            false,
            "",
            PHONE_NOTE,
        ),
        col(
            "guardian_email",
            "Thư điện tử người giám hộ",
            "Guardian's email",
            false,
            "",
            "",
        ),
    ],
};

pub const GUARDIANS: Template = Template {
    id: "guardians",
    sheet_vi: "PhuHuynh",
    title_vi: "Danh sách cha mẹ, người giám hộ",
    title_en: "Parents and guardians",
    columns: &[
        col(
            "learner_moet_code",
            "Mã học sinh",
            "Learner code",
            false,
            "0101234567",
            "Mã học sinh; nếu chưa có, ghi họ tên và ngày sinh của học sinh.",
        ),
        col(
            "learner_full_name",
            "Họ và tên học sinh",
            "Learner's full name",
            false,
            "Nguyễn Thị Minh Anh",
            "Dùng để tìm học sinh khi không có mã học sinh.",
        ),
        col(
            "learner_date_of_birth",
            "Ngày sinh học sinh (dd/mm/yyyy)",
            "Learner's date of birth (dd/mm/yyyy)",
            false,
            "05/09/2015",
            DATE_NOTE,
        ),
        col(
            "relation",
            "Quan hệ",
            "Relation",
            true,
            "Mẹ",
            "Cha, Mẹ hoặc Người giám hộ.",
        ),
        col("full_name", "Họ và tên", "Full name", true, "Trần Thị Cúc", ""),
        col("phone", "Điện thoại", "Phone", false, "0987654321", PHONE_NOTE),
        col("email", "Thư điện tử", "Email", false, "cuc.tran@example.com", ""),
        col(
            "cccd",
            "Số định danh cá nhân",
            "Personal ID number",
            false,
            "001185004321",
            CCCD_NOTE,
        ),
    ],
};

pub const STAFF: Template = Template {
    id: "staff",
    sheet_vi: "CanBo",
    title_vi: "Danh sách cán bộ, giáo viên, nhân viên",
    title_en: "Staff",
    columns: &[
        col(
            "staff_code",
            "Mã cán bộ",
            "Staff code",
            true,
            "GV0012",
            "Mã trên CSDL ngành hoặc mã do trường đặt; dùng khi phân công giảng dạy.",
        ),
        col(
            "full_name",
            "Họ và tên",
            "Full name",
            true,
            "Lê Văn Dũng",
            NAME_NOTE,
        ),
        col(
            "date_of_birth",
            "Ngày sinh (dd/mm/yyyy)",
            "Date of birth (dd/mm/yyyy)",
            true,
            "12/03/1988",
            DATE_NOTE,
        ),
        col("sex", "Giới tính", "Sex", true, "Nam", SEX_NOTE),
        col(
            "cccd",
            "Số định danh cá nhân",
            "Personal ID number",
            false,
            "001088001234",
            CCCD_NOTE,
        ),
        col(
            "ethnicity",
            "Dân tộc",
            "Ethnicity",
            false,
            "Kinh",
            "Theo danh mục DM_DAN_TOC (mã hoặc tên).",
        ),
        col(
            "staff_group",
            "Nhóm cán bộ",
            "Staff group",
            true,
            "Giáo viên",
            "Theo danh mục DM_NHOM_CAN_BO (mã hoặc tên).",
        ),
        col(
            "position",
            "Loại cán bộ",
            "Position",
            false,
            "Tổ trưởng chuyên môn",
            "Theo danh mục DM_LOAI_CAN_BO (mã hoặc tên).",
        ),
        col(
            "contract",
            "Hình thức hợp đồng",
            "Contract",
            false,
            "Viên chức hợp đồng không xác định thời hạn",
            "Theo danh mục DM_HINH_THUC_HOP_DONG (mã hoặc tên).",
        ),
        col(
            "qualification",
            "Trình độ chuyên môn",
            "Qualification",
            false,
            "Đại học",
            "Theo danh mục DM_TRINH_DO_CHUYEN_MON (mã hoặc tên).",
        ),
        col(
            "main_subject",
            "Môn dạy chính",
            "Main subject",
            false,
            "Toán",
            "Tên môn theo chương trình 2018.",
        ),
        col(
            "second_subject",
            "Môn dạy thứ hai",
            "Second subject",
            false,
            "Tin học",
            "",
        ),
        col(
            "periods_per_week",
            "Số tiết/tuần",
            "Periods per week",
            false,
            "17",
            "Số tiết dạy mỗi tuần (số nguyên).",
        ),
        col(
            "standard_rating",
            "Đánh giá chuẩn nghề nghiệp",
            "Professional standard rating",
            false,
            "Khá",
            "Theo danh mục DM_KQ_CHUAN_NGHE_NGHIEP (mã hoặc tên).",
        ),
        col(
            "status",
            "Trạng thái",
            "Status",
            false,
            "Đang làm việc",
            "Theo danh mục DM_TRANG_THAI_CAN_BO; để trống nghĩa là đang làm việc.",
        ),
        col("phone", "Điện thoại", "Phone", false, "0912345678", PHONE_NOTE),
        col("email", "Thư điện tử", "Email", false, "dung.le@example.com", ""),
    ],
};

pub const CLASSES: Template = Template {
    id: "classes",
    sheet_vi: "LopHoc",
    title_vi: "Danh sách lớp học",
    title_en: "Classes",
    columns: &[
        col(
            "grade",
            "Khối",
            "Grade",
            true,
            "5",
            "Khối lớp, ví dụ 5 hoặc Lớp 5.",
        ),
        col(
            "name",
            "Tên lớp",
            "Class name",
            true,
            "5A",
            "Tên lớp, duy nhất trong năm học.",
        ),
        col(
            "homeroom_staff_code",
            "Mã giáo viên chủ nhiệm",
            "Homeroom teacher's staff code",
            false,
            "GV0012",
            "Mã cán bộ của giáo viên chủ nhiệm.",
        ),
        col(
            "multigrade",
            "Lớp ghép",
            "Multigrade",
            false,
            "Không",
            "Có hoặc Không.",
        ),
        col(
            "specialist",
            "Lớp chuyên",
            "Specialist class",
            false,
            "Không",
            "Có hoặc Không.",
        ),
        col(
            "boarding",
            "Lớp bán trú",
            "Semi-boarding class",
            false,
            "Có",
            "Có hoặc Không.",
        ),
        col(
            "two_sessions",
            "Học 2 buổi/ngày",
            "Two sessions a day",
            false,
            "Có",
            "Có hoặc Không.",
        ),
        col(
            "capacity",
            "Sĩ số tối đa",
            "Capacity",
            false,
            "35",
            "Số học sinh tối đa (số nguyên).",
        ),
    ],
};

pub const ASSIGNMENTS: Template = Template {
    id: "assignments",
    sheet_vi: "PhanCong",
    title_vi: "Phân công giảng dạy",
    title_en: "Teaching assignments",
    columns: &[
        col(
            "staff_code",
            "Mã cán bộ",
            "Staff code",
            true,
            "GV0012",
            "Mã cán bộ của giáo viên.",
        ),
        col(
            "subject",
            "Môn học",
            "Subject",
            true,
            "Toán",
            "Tên môn theo chương trình 2018.",
        ),
        col(
            "class_name",
            "Lớp",
            "Class",
            true,
            "5A",
            "Tên lớp đã có trong năm học.",
        ),
        col(
            "term",
            "Học kỳ",
            "Term",
            false,
            "CN",
            "HK1, HK2 hoặc CN (cả năm); để trống nghĩa là cả năm.",
        ),
    ],
};

/// Every template, in the order the import page lists them.
pub const ALL: [&Template; 5] = [&LEARNERS, &GUARDIANS, &STAFF, &CLASSES, &ASSIGNMENTS];

/// The template with this id.
pub fn by_id(id: &str) -> Option<&'static Template> {
    ALL.into_iter().find(|t| t.id == id)
}

impl Template {
    pub fn column(&self, key: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.key == key)
    }

    /// File name offered for download, e.g. "mau_nhap_learners.xlsx".
    pub fn file_name(&self) -> String {
        format!("mau_nhap_{}.xlsx", self.id)
    }
}

impl Column {
    /// The header as written in the template: required columns end in " *".
    pub fn header_cell(&self) -> String {
        if self.required {
            format!("{} *", self.header_vi)
        } else {
            self.header_vi.to_string()
        }
    }
}

/// Display width of a string in Excel character units, roughly.
pub(crate) fn width_of(s: &str) -> f64 {
    s.chars().count() as f64 * 1.1 + 2.0
}

/// The blank template workbook for `t`: the data sheet with the header row (bold, frozen, every
/// column formatted as text so leading zeros and dd/mm/yyyy survive), then the guide sheet.
pub fn write_template(t: &Template) -> Vec<u8> {
    build_template(t).expect("an in-memory template workbook always builds")
}

fn build_template(t: &Template) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format_index(TEXT_FORMAT);
    let header = Format::new()
        .set_bold()
        .set_num_format_index(TEXT_FORMAT)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xDDEBF7));
    let header_required = header.clone().set_background_color(Color::RGB(0xFCE4D6));

    let sheet = wb.add_worksheet();
    sheet.set_name(t.sheet_vi)?;
    for (i, c) in t.columns.iter().enumerate() {
        let i = i as u16;
        let h = c.header_cell();
        let w = width_of(&h).max(width_of(c.example)).clamp(10.0, 40.0);
        sheet.set_column_width(i, w)?;
        sheet.set_column_format(i, &text)?;
        let f = if c.required { &header_required } else { &header };
        sheet.write_string_with_format(0, i, &h, f)?;
    }
    sheet.set_row_height(0, 32)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_active(true);

    let guide = wb.add_worksheet();
    guide.set_name(GUIDE_SHEET)?;
    write_guide(guide, t, &header)?;
    wb.save_to_buffer()
}

fn write_guide(ws: &mut Worksheet, t: &Template, header: &Format) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format_index(TEXT_FORMAT).set_text_wrap();
    ws.write_string_with_format(0, 0, t.title_vi, &bold.clone().set_font_size(14))?;
    ws.write_string(
        1,
        0,
        format!(
            "Nhập dữ liệu vào trang “{}”, bắt đầu từ dòng 2, mỗi dòng một bản ghi. Cột có dấu * là bắt buộc. \
             Không gộp ô, không dùng công thức, không đổi tên cột. Ngày ghi theo dạng dd/mm/yyyy.",
            t.sheet_vi
        ),
    )?;
    let heads = ["Cột", "Tiêu đề", "Bắt buộc", "Ví dụ", "Ghi chú"];
    for (i, h) in heads.iter().enumerate() {
        ws.write_string_with_format(3, i as u16, *h, header)?;
    }
    for (i, c) in t.columns.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write_string(r, 0, crate::column_letter(i as u32))?;
        ws.write_string_with_format(r, 1, c.header_vi, &text)?;
        ws.write_string(r, 2, if c.required { "Có" } else { "Không" })?;
        ws.write_string_with_format(r, 3, c.example, &text)?;
        ws.write_string_with_format(r, 4, c.note_vi, &text)?;
    }
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 32)?;
    ws.set_column_width(2, 10)?;
    ws.set_column_width(3, 28)?;
    ws.set_column_width(4, 60)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_headers_distinct_per_template() {
        for t in ALL {
            let mut keys: Vec<_> = t.columns.iter().map(|c| c.key).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), t.columns.len(), "{}", t.id);
            let mut heads: Vec<_> = t
                .columns
                .iter()
                .map(|c| crate::import::header_fold(c.header_vi))
                .collect();
            heads.sort();
            heads.dedup();
            assert_eq!(heads.len(), t.columns.len(), "{}", t.id);
            assert!(t.sheet_vi.is_ascii() && t.sheet_vi.len() <= 31);
            assert!(t.columns.iter().any(|c| c.required));
        }
        assert_eq!(by_id("staff"), Some(&STAFF));
        assert_eq!(by_id("nope"), None);
    }

    #[test]
    fn learner_template_has_the_sector_fields_in_order() {
        let keys: Vec<_> = LEARNERS.columns.iter().map(|c| c.key).collect();
        assert_eq!(
            keys,
            [
                "moet_code",
                "full_name",
                "date_of_birth",
                "sex",
                "cccd",
                "ethnicity",
                "religion",
                "nationality",
                "disability_type",
                "policy_codes",
                "boarding",
                "class_name",
                "province_code",
                "commune_code",
                "address_line",
                "father_name",
                "father_phone",
                "mother_name",
                "mother_phone",
                "guardian_name",
                "guardian_phone",
                "guardian_email",
            ]
        );
        assert_eq!(LEARNERS.column("full_name").unwrap().header_cell(), "Họ và tên *");
        assert_eq!(
            LEARNERS.column("cccd").unwrap().header_cell(),
            "Số định danh cá nhân"
        );
    }
}
