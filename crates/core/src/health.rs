//! School health (y tế trường học): check-ups with height, weight, BMI-for-age, vision and
//! dental status; vaccinations; conditions to watch (allergies, chronic conditions, medication).
//!
//! Stored values are integers: heights in millimetres (typed in cm with one decimal), weights in
//! tenths of a kilogram (hectograms), BMI in tenths, visual acuity in tenths. The only floating
//! point is inside [`bmi_for_age_z`]: the WHO LMS z-score needs a real power `(BMI/M)^L` with a
//! non-integer `L`, which integer arithmetic cannot express exactly; the result is used to pick a
//! category and is reported rounded to hundredths.
//!
//! BMI-for-age follows the WHO references used by Vietnamese school health: the WHO Child Growth
//! Standards (2006) for 0–60 months and the WHO Growth Reference (2007) for 61–228 months
//! (5–19 years), by sex and completed month of age (data in `health/who_bmi.rs`, with sources).

mod who_bmi;

use crate::error::{FieldError, OnField};
use crate::i18n::{self, Locale};
use crate::people::Sex;
use crate::{DomainError, text};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// An enum with stable codes (stored, sent in the API, never renamed) and labels in the message
/// catalogue under `<prefix>.<code>`. `parse` accepts the code or the Vietnamese or English
/// label (case and diacritics ignored).
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident, $prefix:literal, { $($(#[$vm:meta])* $v:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $code)] $v),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// Stable code, part of the public API: never renamed.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$v => $code),+
                }
            }

            /// Message-catalogue key of the label.
            pub fn label_key(self) -> &'static str {
                match self {
                    $($name::$v => concat!($prefix, ".", $code)),+
                }
            }

            /// The code, or the label in either locale (case and diacritics ignored).
            pub fn parse(input: &str) -> Result<Self, crate::DomainError> {
                crate::health::parse_coded(Self::ALL, input, Self::code, Self::label_key)
            }
        }
    };
}
pub(crate) use coded_enum;

pub(crate) fn parse_coded<T: Copy>(
    all: &[T],
    input: &str,
    code: fn(T) -> &'static str,
    key: fn(T) -> &'static str,
) -> Result<T, DomainError> {
    let folded = text::fold(input);
    if folded.is_empty() {
        return Err(DomainError::Required);
    }
    all.iter()
        .copied()
        .find(|v| {
            code(*v) == folded
                || [Locale::Vi, Locale::En]
                    .iter()
                    .any(|l| text::fold(i18n::t(*l, key(*v))) == folded)
        })
        .ok_or(DomainError::UnknownCode)
}

/// A non-negative decimal with at most one significant decimal, as typed in Vietnamese records
/// (`132,5` or `132.5`; trailing zeros past the first decimal are tolerated: `28,40`), with an
/// optional unit suffix. Returns tenths.
fn parse_tenths(input: &str, unit: &str) -> Result<u32, DomainError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(DomainError::Required);
    }
    let lower = t.to_lowercase();
    let t = lower.strip_suffix(unit).map(str::trim_end).unwrap_or(&lower);
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let (int, frac) = match t.find([',', '.']) {
        Some(i) if digits(&t[i + 1..]) => (&t[..i], &t[i + 1..]),
        Some(_) => return Err(DomainError::InvalidNumber),
        None => (t, ""),
    };
    if !digits(int) || int.len() > 6 {
        return Err(DomainError::InvalidNumber);
    }
    if frac.len() > 1 && frac[1..].chars().any(|c| c != '0') {
        return Err(DomainError::InvalidNumber);
    }
    let whole: u32 = int.parse().map_err(|_| DomainError::InvalidNumber)?;
    let tenth = frac.chars().next().map_or(0, |c| c as u32 - '0' as u32);
    Ok(whole * 10 + tenth)
}

/// Height in millimetres, typed in centimetres with at most one decimal (`132,5` → 1325 mm).
/// Plausible range 40–220 cm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct HeightMm(u16);

impl HeightMm {
    pub const MIN_CM: u16 = 40;
    pub const MAX_CM: u16 = 220;

    /// `132,5`, `132.5`, `132`, `132,5 cm`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let tenths_cm = parse_tenths(input, "cm")?;
        Self::from_mm(tenths_cm)
    }

    /// A stored value, range-checked.
    pub fn from_mm(mm: u32) -> Result<Self, DomainError> {
        if mm < Self::MIN_CM as u32 * 10 || mm > Self::MAX_CM as u32 * 10 {
            return Err(DomainError::OutOfRange {
                min: Self::MIN_CM as i64,
                max: Self::MAX_CM as i64,
            });
        }
        Ok(HeightMm(mm as u16))
    }

    pub fn mm(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for HeightMm {
    type Error = DomainError;
    fn try_from(mm: u16) -> Result<Self, DomainError> {
        Self::from_mm(mm as u32)
    }
}

impl From<HeightMm> for u16 {
    fn from(h: HeightMm) -> u16 {
        h.0
    }
}

/// Weight in tenths of a kilogram (hectograms), typed in kilograms with at most one decimal
/// (`28,4` → 284). Plausible range 2–200 kg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct WeightHg(u16);

impl WeightHg {
    pub const MIN_KG: u16 = 2;
    pub const MAX_KG: u16 = 200;

    /// `28,4`, `28.4`, `28`, `28,4 kg`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Self::from_tenths_kg(parse_tenths(input, "kg")?)
    }

    /// A stored value, range-checked.
    pub fn from_tenths_kg(tenths: u32) -> Result<Self, DomainError> {
        if tenths < Self::MIN_KG as u32 * 10 || tenths > Self::MAX_KG as u32 * 10 {
            return Err(DomainError::OutOfRange {
                min: Self::MIN_KG as i64,
                max: Self::MAX_KG as i64,
            });
        }
        Ok(WeightHg(tenths as u16))
    }

    pub fn tenths_kg(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for WeightHg {
    type Error = DomainError;
    fn try_from(tenths: u16) -> Result<Self, DomainError> {
        Self::from_tenths_kg(tenths as u32)
    }
}

impl From<WeightHg> for u16 {
    fn from(w: WeightHg) -> u16 {
        w.0
    }
}

/// BMI (kg/m²) in tenths, rounded half-up exactly: weight_kg / height_m² =
/// (hg / 10) / (mm / 1000)² = hg · 10⁵ / mm², so tenths = hg · 10⁶ / mm².
pub fn bmi_tenths(height: HeightMm, weight: WeightHg) -> u32 {
    let num = weight.0 as u64 * 1_000_000;
    let den = height.0 as u64 * height.0 as u64;
    ((2 * num + den) / (2 * den)) as u32
}

/// Months completed between `date_of_birth` and `on`: the largest `n` such that the birth date
/// plus `n` calendar months (clamped to the end of a shorter month, so a child born on 31/1 has
/// completed one month on 28/2) is not after `on`. `None` when `on` is before birth.
pub fn age_in_completed_months(date_of_birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < date_of_birth {
        return None;
    }
    let mut n = ((on.year() - date_of_birth.year()) * 12 + on.month() as i32 - date_of_birth.month() as i32)
        .max(0) as u32;
    while n > 0
        && date_of_birth
            .checked_add_months(Months::new(n))
            .is_none_or(|d| d > on)
    {
        n -= 1;
    }
    Some(n)
}

/// The last month of age the WHO references cover (19 years).
pub const MAX_AGE_MONTHS: u32 = 228;
/// The last month of the WHO 2006 standards; the WHO 2007 reference takes over from 61 months.
pub const UNDER_FIVE_LAST_MONTH: u32 = 60;

coded_enum!(
    /// BMI-for-age category (WHO cut-offs on the z-score).
    BmiCategory,
    "health.bmi",
    {
        /// z < −3.
        SevereThinness => "severe_thinness",
        /// −3 ≤ z < −2.
        Thinness => "thinness",
        Normal => "normal",
        /// 5–19 years: +1 < z ≤ +2; under 5: +2 < z ≤ +3.
        Overweight => "overweight",
        /// 5–19 years: z > +2; under 5: z > +3.
        Obesity => "obesity",
    }
);

/// The WHO LMS z-score of a BMI for a sex and completed month of age (0–228), `None` outside.
///
/// z = ((BMI/M)^L − 1) / (L·S) (Cole's LMS method; `L` is never 0 in these tables). As in WHO's
/// own software (anthro, anthroplus: `anthro_api_compute_zscore_adjusted`) for this
/// weight-based indicator, beyond ±3 the scale is linear in the distance between the ±2 and ±3
/// SD curves: z = 3 + (BMI − SD3)/(SD3 − SD2) above, z = −3 + (BMI − SD3neg)/(SD2neg − SD3neg)
/// below, where SDk = M(1 + L·S·k)^(1/L). The adjustment is monotone and leaves ±3 in place, so
/// it changes reported values beyond ±3 but never a category.
///
/// The BMI used is the exact quotient of the measured weight and height, not the rounded tenths.
/// Floats are confined here: `(BMI/M)^L` with fractional `L` has no exact integer form.
pub fn bmi_for_age_z(sex: Sex, age_months: u32, height: HeightMm, weight: WeightHg) -> Option<f64> {
    let bmi = weight.0 as f64 * 100_000.0 / (height.0 as f64 * height.0 as f64);
    z_of_bmi(sex, age_months, bmi)
}

fn z_of_bmi(sex: Sex, age_months: u32, bmi: f64) -> Option<f64> {
    let table = match sex {
        Sex::Male => &who_bmi::BOYS,
        Sex::Female => &who_bmi::GIRLS,
    };
    let &(_, l, m, s) = table.get(age_months as usize)?;
    let z = ((bmi / m).powf(l) - 1.0) / (l * s);
    let sd = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);
    Some(if z > 3.0 {
        3.0 + (bmi - sd(3.0)) / (sd(3.0) - sd(2.0))
    } else if z < -3.0 {
        -3.0 + (bmi - sd(-3.0)) / (sd(-2.0) - sd(-3.0))
    } else {
        z
    })
}

/// The category of a BMI-for-age z-score. Under 5 (0–60 months, WHO 2006): overweight above +2,
/// obesity above +3; 5–19 years (61–228 months, WHO 2007): overweight above +1, obesity above
/// +2. Thinness below −2, severe thinness below −3 at every age. `None` past 228 months.
pub fn classify_bmi_z(z: f64, age_months: u32) -> Option<BmiCategory> {
    if age_months > MAX_AGE_MONTHS || z.is_nan() {
        return None;
    }
    let (over, obese) = if age_months <= UNDER_FIVE_LAST_MONTH {
        (2.0, 3.0)
    } else {
        (1.0, 2.0)
    };
    Some(if z < -3.0 {
        BmiCategory::SevereThinness
    } else if z < -2.0 {
        BmiCategory::Thinness
    } else if z > obese {
        BmiCategory::Obesity
    } else if z > over {
        BmiCategory::Overweight
    } else {
        BmiCategory::Normal
    })
}

/// The BMI-for-age assessment of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BmiForAge {
    pub age_months: u32,
    pub bmi_tenths: u32,
    /// The z-score rounded to hundredths (as WHO software reports it); the category is decided on
    /// the unrounded value.
    pub z_hundredths: i32,
    pub category: BmiCategory,
}

/// BMI-for-age at a check-up: `None` when the check-up is before birth or past 19 years.
pub fn bmi_for_age(
    sex: Sex,
    date_of_birth: NaiveDate,
    on: NaiveDate,
    height: HeightMm,
    weight: WeightHg,
) -> Option<BmiForAge> {
    let age_months = age_in_completed_months(date_of_birth, on)?;
    let z = bmi_for_age_z(sex, age_months, height, weight)?;
    Some(BmiForAge {
        age_months,
        bmi_tenths: bmi_tenths(height, weight),
        z_hundredths: (z * 100.0).round() as i32,
        category: classify_bmi_z(z, age_months)?,
    })
}

/// Visual acuity of one eye in tenths (1/10 … 10/10), as school records write it: `8/10`, or
/// as a decimal `0,8` / `1,0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct VisualAcuity(u8);

impl VisualAcuity {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let t: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() {
            return Err(DomainError::Required);
        }
        let tenths = if let Some((num, den)) = t.split_once('/') {
            if den != "10" || num.is_empty() || num.len() > 2 || !num.chars().all(|c| c.is_ascii_digit()) {
                return Err(DomainError::InvalidNumber);
            }
            num.parse::<u32>().map_err(|_| DomainError::InvalidNumber)?
        } else if t.contains([',', '.']) {
            // A bare integer is ambiguous (is "1" 1/10 or 1,0?): decimals must show the separator.
            parse_tenths(&t, "")?
        } else {
            return Err(DomainError::InvalidNumber);
        };
        Self::from_tenths(tenths)
    }

    pub fn from_tenths(tenths: u32) -> Result<Self, DomainError> {
        if !(1..=10).contains(&tenths) {
            return Err(DomainError::OutOfRange { min: 1, max: 10 });
        }
        Ok(VisualAcuity(tenths as u8))
    }

    pub fn tenths(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for VisualAcuity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/10", self.0)
    }
}

impl TryFrom<u8> for VisualAcuity {
    type Error = DomainError;
    fn try_from(t: u8) -> Result<Self, DomainError> {
        Self::from_tenths(t as u32)
    }
}

impl From<VisualAcuity> for u8 {
    fn from(v: VisualAcuity) -> u8 {
        v.0
    }
}

/// Both eyes (mắt phải, mắt trái); an eye not measured is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Vision {
    pub right: Option<VisualAcuity>,
    pub left: Option<VisualAcuity>,
}

/// Thresholds no source in the domain files fixes: configurable per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthPolicy {
    /// An eye below this many tenths flags the learner for referral (khám chuyên khoa mắt).
    /// UNCERTAIN: 8/10 is common practice in school eye screening, not a text we have.
    pub vision_flag_below_tenths: u8,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            vision_flag_below_tenths: 8,
        }
    }
}

/// True when either measured eye is below the policy threshold.
pub fn vision_flag(vision: &Vision, policy: &HealthPolicy) -> bool {
    [vision.right, vision.left]
        .into_iter()
        .flatten()
        .any(|eye| eye.0 < policy.vision_flag_below_tenths)
}

coded_enum!(
    /// Dental status at a check-up (răng miệng).
    DentalStatus,
    "health.dental",
    {
        Healthy => "healthy",
        /// Sâu răng.
        Caries => "caries",
        Other => "other",
    }
);

coded_enum!(
    /// Kind of check-up.
    CheckupKind,
    "health.checkup_kind",
    {
        /// Khám sức khỏe đầu năm học.
        StartOfYear => "start_of_year",
        /// Khám định kỳ.
        Periodic => "periodic",
        /// Khám đột xuất (illness, accident, a complaint).
        AdHoc => "ad_hoc",
    }
);

coded_enum!(
    /// Kind of a health condition the school must know about.
    ConditionKind,
    "health.condition",
    {
        Allergy => "allergy",
        /// Bệnh mãn tính (asthma, epilepsy, diabetes, heart disease…).
        Chronic => "chronic",
        /// Medication to take or to avoid at school.
        Medication => "medication",
    }
);

/// A condition with its free-text detail (sensitive: encrypted at rest, never logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCondition {
    pub kind: ConditionKind,
    pub detail: String,
}

impl HealthCondition {
    pub const DETAIL_MAX: usize = 500;

    pub fn parse(kind: &str, detail: &str) -> Result<Self, FieldError> {
        Ok(HealthCondition {
            kind: ConditionKind::parse(kind).on("kind")?,
            detail: text::parse_name(detail, Self::DETAIL_MAX).on("detail")?,
        })
    }
}

/// A vaccine name: free text, normalised (NFC, white space collapsed, no spaces around `-` or
/// `/`), with common abbreviations and unaccented spellings of the expanded-programme vaccines
/// mapped to one spelling so the same vaccine is counted once. Unknown names are kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VaccineName {
    name: String,
    key: String,
}

/// Canonical spelling and folded aliases. A convenience for matching, not an official list.
const VACCINES: &[(&str, &[&str])] = &[
    ("BCG", &["bcg", "lao", "vac xin lao", "vaccine lao"]),
    (
        "Viêm gan B",
        &["viem gan b", "vgb", "hepb", "hep b", "hepatitis b"],
    ),
    ("Bại liệt", &["bai liet", "polio"]),
    ("Sởi", &["soi", "measles"]),
    ("Sởi-Rubella", &["soi-rubella", "mr", "rubella-soi"]),
    ("Sởi-Quai bị-Rubella", &["soi-quai bi-rubella", "mmr"]),
    ("Viêm não Nhật Bản", &["viem nao nhat ban", "vnnb", "je"]),
    (
        "Bạch hầu-Uốn ván (Td)",
        &[
            "td",
            "bach hau-uon van",
            "uon van-bach hau",
            "bach hau-uon van (td)",
        ],
    ),
    ("Uốn ván", &["uon van", "vat", "tt"]),
    ("HPV", &["hpv"]),
    ("Cúm", &["cum", "influenza", "flu"]),
    ("COVID-19", &["covid", "covid-19", "covid 19", "sars-cov-2"]),
];

impl VaccineName {
    pub const MAX: usize = 100;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let cleaned = text::parse_name(input, Self::MAX)?;
        let mut name = String::with_capacity(cleaned.len());
        let mut after_separator = false;
        for c in cleaned.chars() {
            if c == '-' || c == '/' {
                name.truncate(name.trim_end().len());
                name.push(c);
                after_separator = true;
            } else if !(after_separator && c == ' ') {
                name.push(c);
                after_separator = false;
            }
        }
        let key = text::fold(&name);
        if let Some((canon, _)) = VACCINES
            .iter()
            .find(|(canon, aliases)| text::fold(canon) == key || aliases.contains(&key.as_str()))
        {
            return Ok(VaccineName {
                name: canon.to_string(),
                key: text::fold(canon),
            });
        }
        Ok(VaccineName { name, key })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Folded form (lowercase, unaccented): two records name the same vaccine when keys match.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A list typed in one field, separated by `;`, `,` or new lines; duplicates (same key) dropped.
pub fn parse_vaccine_list(input: &str) -> Result<Vec<VaccineName>, DomainError> {
    let mut out: Vec<VaccineName> = vec![];
    for part in input.split([';', ',', '\n']).filter(|p| !p.trim().is_empty()) {
        let v = VaccineName::parse(part)?;
        if !out.iter().any(|o| o.key == v.key) {
            out.push(v);
        }
    }
    Ok(out)
}

/// A check-up as typed in the form or an import row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckupInput {
    pub kind: String,
    /// `dd/mm/yyyy` or `yyyy-mm-dd`.
    pub date: String,
    /// Centimetres, optional.
    pub height_cm: String,
    /// Kilograms, optional.
    pub weight_kg: String,
    /// `8/10` or `0,8`, optional.
    pub vision_right: String,
    pub vision_left: String,
    /// A [`DentalStatus`] code or label, optional.
    pub dental: String,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkup {
    pub kind: CheckupKind,
    pub date: NaiveDate,
    pub height: Option<HeightMm>,
    pub weight: Option<WeightHg>,
    pub vision: Vision,
    pub dental: Option<DentalStatus>,
    pub notes: Option<String>,
}

impl Checkup {
    pub const NOTES_MAX: usize = 1000;

    /// Parses a check-up of a learner born on `date_of_birth`. The date must not be before birth
    /// nor after `today`; both are reported as `date_range_reversed` on `date` (the error list
    /// has no dedicated variant yet). Empty optional fields give `None`.
    pub fn parse(
        input: &CheckupInput,
        date_of_birth: NaiveDate,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        fn optional<T>(
            s: &str,
            f: impl Fn(&str) -> Result<T, DomainError>,
        ) -> Result<Option<T>, DomainError> {
            if s.trim().is_empty() {
                Ok(None)
            } else {
                f(s).map(Some)
            }
        }
        let kind = CheckupKind::parse(&input.kind).on("kind")?;
        if input.date.trim().is_empty() {
            return Err(FieldError::new("date", DomainError::Required));
        }
        let date = crate::org::parse_date(&input.date).on("date")?;
        if date < date_of_birth || date > today {
            return Err(FieldError::new("date", DomainError::DateRangeReversed));
        }
        let notes = optional(&input.notes, |s| text::parse_name(s, Self::NOTES_MAX)).on("notes")?;
        Ok(Checkup {
            kind,
            date,
            height: optional(&input.height_cm, HeightMm::parse).on("height_cm")?,
            weight: optional(&input.weight_kg, WeightHg::parse).on("weight_kg")?,
            vision: Vision {
                right: optional(&input.vision_right, VisualAcuity::parse).on("vision_right")?,
                left: optional(&input.vision_left, VisualAcuity::parse).on("vision_left")?,
            },
            dental: optional(&input.dental, DentalStatus::parse).on("dental")?,
            notes,
        })
    }

    /// BMI-for-age of this check-up when both height and weight were measured.
    pub fn bmi_for_age(&self, sex: Sex, date_of_birth: NaiveDate) -> Option<BmiForAge> {
        bmi_for_age(sex, date_of_birth, self.date, self.height?, self.weight?)
    }
}

#[cfg(test)]
mod tests;
