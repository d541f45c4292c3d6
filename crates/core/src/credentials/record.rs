//! The signed records. Versioned by `schema`; a new version gets a new schema string and the old
//! one stays readable forever, because a học bạ must verify decades later.
//!
//! Values are what the paper học bạ prints, as machine codes: marks as decimal strings with a
//! point ("7.7"), levels as codes ("tot", "kha", "dat", "chua_dat"; primary "T"/"H"/"C"),
//! decisions as codes ("promoted", "retained", ...). Subject names travel with their codes so a
//! record reads without our curriculum file. docs/credentials.md documents every field.

use serde::{Deserialize, Serialize};

pub const HOC_BA_SCHEMA: &str = "truongso.vn/hoc-ba/v1";
pub const VAN_BANG_SCHEMA: &str = "truongso.vn/van-bang/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// One school year of a learner's học bạ.
    HocBa,
    /// A diploma (bằng tốt nghiệp THCS / THPT).
    VanBang,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::HocBa => "hoc_ba",
            DocKind::VanBang => "van_bang",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hoc_ba" => Some(DocKind::HocBa),
            "van_bang" => Some(DocKind::VanBang),
            _ => None,
        }
    }
}

/// The unit that issues the record, with the chain of units above it (Sở ... ) as they stood on
/// the day of issue: the organisation tree changes (provinces merged in 2025), the record must not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    pub code: String,
    pub name: String,
    /// Names of the units above, nearest first (e.g. ["Sở Giáo dục và Đào tạo tỉnh Bắc Ninh"]).
    pub parents: Vec<String>,
    /// Place printed before the date ("Bắc Ninh, ngày … tháng … năm …").
    pub place: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learner {
    /// Số định danh cá nhân (12 digits), when known.
    pub personal_id: Option<String>,
    /// Mã học sinh in the sector database (CSDL ngành), when known.
    pub moet_code: Option<String>,
    pub full_name: String,
    /// YYYY-MM-DD.
    pub date_of_birth: String,
    /// "nam" | "nu".
    pub sex: String,
    pub ethnicity: Option<String>,
    pub place_of_birth: Option<String>,
}

/// One school year of a học bạ (TT 22/2021 layout for THCS/THPT, TT 27/2020 for primary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HocBa {
    pub schema: String,
    pub doc_id: String,
    pub issuer: Issuer,
    pub learner: Learner,
    /// "2025-2026".
    pub school_year: String,
    pub grade: u8,
    pub class_name: String,
    /// Rule set code, e.g. "tt22_2021", "tt27_2020".
    pub rules: String,
    pub homeroom_teacher: String,
    pub principal: String,
    pub results: YearResults,
    /// Nhận xét của giáo viên chủ nhiệm.
    pub homeroom_remark: Option<String>,
    /// YYYY-MM-DD.
    pub issued_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum YearResults {
    Secondary(SecondaryYear),
    Primary(PrimaryYear),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondaryYear {
    pub subjects: Vec<SecondarySubject>,
    /// Kết quả rèn luyện.
    pub conduct: Terms,
    /// Kết quả học tập.
    pub learning: Terms,
    /// Kết quả học tập after summer re-tests, when any.
    pub learning_after_retest: Option<String>,
    pub absences: u32,
    /// "promoted" | "retest" | "summer_training" | "retained" | "retained_absences" | null.
    pub decision: Option<String>,
    pub retest_subjects: Vec<String>,
    /// "xuat_sac" | "gioi" | null.
    pub award: Option<String>,
    /// Hoàn thành chương trình THCS / THPT (promoted from grade 9 / 12).
    pub completes_level: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondarySubject {
    pub code: String,
    pub name: String,
    /// A mark "7.7" or a comment result "D" (Đạt) / "CD" (Chưa đạt); null when not assessed.
    pub hk1: Option<String>,
    pub hk2: Option<String>,
    pub year: Option<String>,
    /// Điểm hoặc mức đánh giá lại (summer re-test).
    pub retest: Option<String>,
    /// The subject teacher's remark.
    pub remark: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub hk1: Option<String>,
    pub hk2: Option<String>,
    pub year: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryYear {
    pub subjects: Vec<PrimarySubject>,
    /// Phẩm chất chủ yếu, in học bạ order, each "tot" | "dat" | "can_co_gang".
    pub qualities: Vec<Rated>,
    /// Năng lực cốt lõi, in học bạ order.
    pub competencies: Vec<Rated>,
    /// "htxs" | "htt" | "ht" | "cht".
    pub evaluation: Option<String>,
    pub award: Option<String>,
    /// Hoàn thành chương trình lớp học (grade 5: chương trình tiểu học).
    pub completes: Option<bool>,
    pub absences: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimarySubject {
    pub code: String,
    pub name: String,
    /// "T" | "H" | "C".
    pub level: Option<String>,
    /// Điểm kiểm tra định kì cuối năm.
    pub test: Option<u8>,
    pub remark: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rated {
    pub code: String,
    pub name: String,
    pub level: Option<String>,
}

/// A diploma as the master register (sổ gốc cấp văn bằng, Thông tư 21/2019) records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VanBang {
    pub schema: String,
    pub doc_id: String,
    /// "tot_nghiep_thcs" | "tot_nghiep_thpt".
    pub diploma_type: String,
    pub issuer: Issuer,
    pub learner: Learner,
    /// The school the learner graduated from.
    pub school_name: String,
    pub graduation_year: u16,
    /// Xếp loại tốt nghiệp where the diploma carries one.
    pub classification: Option<String>,
    /// Hình thức đào tạo: "chinh_quy" | "giao_duc_thuong_xuyen".
    pub training_mode: String,
    /// Số hiệu văn bằng (serial of the blank form).
    pub serial: String,
    /// Số vào sổ gốc cấp văn bằng.
    pub register_no: String,
    pub decision_no: String,
    /// YYYY-MM-DD.
    pub decision_date: String,
    pub signer_title: String,
    pub signer_name: String,
    /// YYYY-MM-DD.
    pub issued_on: String,
}

impl HocBa {
    pub fn canonical(&self) -> Result<Vec<u8>, super::CanonicalError> {
        super::canonical_bytes(self)
    }
}

impl VanBang {
    pub fn canonical(&self) -> Result<Vec<u8>, super::CanonicalError> {
        super::canonical_bytes(self)
    }
}

/// Either record, read back from canonical bytes (e.g. the JSON embedded in a PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    HocBa(Box<HocBa>),
    VanBang(Box<VanBang>),
}

impl Record {
    pub fn parse(bytes: &[u8]) -> Result<Record, super::CanonicalError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| super::CanonicalError::NotJson(e.to_string()))?;
        let bad = |e: serde_json::Error| super::CanonicalError::NotJson(e.to_string());
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(HOC_BA_SCHEMA) => Ok(Record::HocBa(Box::new(
                serde_json::from_value(value).map_err(bad)?,
            ))),
            Some(VAN_BANG_SCHEMA) => Ok(Record::VanBang(Box::new(
                serde_json::from_value(value).map_err(bad)?,
            ))),
            other => Err(super::CanonicalError::NotJson(format!(
                "unknown schema {other:?}"
            ))),
        }
    }

    pub fn doc_id(&self) -> &str {
        match self {
            Record::HocBa(r) => &r.doc_id,
            Record::VanBang(r) => &r.doc_id,
        }
    }

    pub fn kind(&self) -> DocKind {
        match self {
            Record::HocBa(_) => DocKind::HocBa,
            Record::VanBang(_) => DocKind::VanBang,
        }
    }
}

/// A document id: the kind's prefix and a random part, nothing personal (it is printed in the QR
/// code and appears in the public log).
pub fn doc_id(kind: DocKind, random: [u8; 10]) -> String {
    let prefix = match kind {
        DocKind::HocBa => "HB",
        DocKind::VanBang => "VB",
    };
    format!("{prefix}-{}", base32(&random))
}

/// Checks the shape of a document id (the verify page and API take it from strangers).
pub fn valid_doc_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("HB-").or_else(|| s.strip_prefix("VB-")) else {
        return false;
    };
    rest.len() == 16 && rest.bytes().all(|b| ALPHABET.contains(&b))
}

/// Crockford base32: no I, L, O, U, so an id read aloud or typed from paper survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn base32(bytes: &[u8; 10]) -> String {
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(*b);
    }
    (0..16)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_hoc_ba() -> HocBa {
        HocBa {
            schema: HOC_BA_SCHEMA.into(),
            doc_id: doc_id(DocKind::HocBa, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            issuer: Issuer {
                code: "27001".into(),
                name: "Trường THCS Suối Hoa".into(),
                parents: vec!["Sở Giáo dục và Đào tạo tỉnh Bắc Ninh".into()],
                place: "Bắc Ninh".into(),
            },
            learner: Learner {
                personal_id: Some("027212000123".into()),
                moet_code: None,
                full_name: "Nguyễn Thị Ngọc Ánh".into(),
                date_of_birth: "2012-09-05".into(),
                sex: "nu".into(),
                ethnicity: Some("Kinh".into()),
                place_of_birth: None,
            },
            school_year: "2025-2026".into(),
            grade: 8,
            class_name: "8A1".into(),
            rules: "tt22_2021".into(),
            homeroom_teacher: "Trần Văn Dũng".into(),
            principal: "Lê Thị Hồng".into(),
            results: YearResults::Secondary(SecondaryYear {
                subjects: vec![SecondarySubject {
                    code: "toan".into(),
                    name: "Toán".into(),
                    hk1: Some("7.2".into()),
                    hk2: Some("8.0".into()),
                    year: Some("7.7".into()),
                    retest: None,
                    remark: None,
                }],
                conduct: Terms {
                    hk1: Some("tot".into()),
                    hk2: Some("tot".into()),
                    year: Some("tot".into()),
                },
                learning: Terms {
                    hk1: Some("kha".into()),
                    hk2: Some("kha".into()),
                    year: Some("kha".into()),
                },
                learning_after_retest: None,
                absences: 2,
                decision: Some("promoted".into()),
                retest_subjects: vec![],
                award: None,
                completes_level: false,
            }),
            homeroom_remark: Some("Chăm ngoan, tiến bộ.".into()),
            issued_on: "2026-05-31".into(),
        }
    }

    #[test]
    fn doc_ids_are_crockford_base32() {
        assert_eq!(doc_id(DocKind::HocBa, [0; 10]), "HB-0000000000000000");
        assert_eq!(doc_id(DocKind::VanBang, [0xff; 10]), "VB-ZZZZZZZZZZZZZZZZ");
        let id = doc_id(DocKind::HocBa, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(id, "HB-041061050R3GG28A");
        assert!(valid_doc_id(&id));
        assert!(!valid_doc_id("HB-041061050R3GG28"));
        assert!(!valid_doc_id("HB-041061050R3GG28I"));
        assert!(!valid_doc_id("XX-041061050R3GG28A"));
    }

    #[test]
    fn record_round_trips_through_canonical_bytes() {
        let r = sample_hoc_ba();
        let bytes = r.canonical().unwrap();
        assert!(super::super::canonical::require_canonical(&bytes).is_ok());
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with(r#"{"class_name":"8A1","doc_id":"HB-041061050R3GG28A","grade":8,"#));
        assert!(text.contains(r#""results":{"absences":2,"award":null,"completes_level":false,"#));
        assert!(text.contains(r#""layout":"secondary""#));
        match Record::parse(&bytes).unwrap() {
            Record::HocBa(back) => assert_eq!(*back, r),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_schema_refused() {
        let err = Record::parse(br#"{"schema":"other/v9","doc_id":"HB-0000000000000000"}"#).unwrap_err();
        assert_eq!(err.code(), "not_json");
    }
}
