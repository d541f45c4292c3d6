//! The organisation tree: any depth, any kind, effective-dated names and codes. Levels are data:
//! the 2025 reform merged provinces and removed districts, so nothing here assumes a fixed depth.

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// Bộ GDĐT.
    Ministry,
    /// Sở GDĐT of a province or centrally-run city.
    ProvinceDept,
    /// Education office of a commune or ward (after 2025).
    CommuneOffice,
    /// Phòng GDĐT of a district: legacy, dissolved by the 2025 reform but kept for history.
    DistrictOffice,
    School,
    /// Điểm trường: a satellite site of a school.
    SatelliteSite,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::Ministry,
        OrgKind::ProvinceDept,
        OrgKind::CommuneOffice,
        OrgKind::DistrictOffice,
        OrgKind::School,
        OrgKind::SatelliteSite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Ministry => "ministry",
            OrgKind::ProvinceDept => "province_dept",
            OrgKind::CommuneOffice => "commune_office",
            OrgKind::DistrictOffice => "district_office",
            OrgKind::School => "school",
            OrgKind::SatelliteSite => "satellite_site",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(DomainError::UnknownOrgKind)
    }

    /// Offices supervise other units; schools and sites are supervised.
    pub fn is_office(self) -> bool {
        matches!(
            self,
            OrgKind::Ministry | OrgKind::ProvinceDept | OrgKind::CommuneOffice | OrgKind::DistrictOffice
        )
    }

    /// Which parent a unit may hang under (`None` = a root). Offices may nest in any office so a
    /// future reform needs no code change; schools hang under an office; sites under a school.
    pub fn may_have_parent(self, parent: Option<OrgKind>) -> bool {
        match (self, parent) {
            (OrgKind::Ministry | OrgKind::ProvinceDept, None) => true,
            (_, None) => false,
            (OrgKind::Ministry, Some(_)) => false,
            (OrgKind::SatelliteSite, Some(p)) => p == OrgKind::School,
            (_, Some(p)) => p.is_office(),
        }
    }
}

/// A basic level of schooling (DM_CAP_HOC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum SchoolLevel {
    /// Mầm non.
    MN,
    /// Tiểu học.
    TH,
    THCS,
    THPT,
    /// Giáo dục thường xuyên.
    GDTX,
}

impl SchoolLevel {
    pub const ALL: [SchoolLevel; 5] = [
        SchoolLevel::MN,
        SchoolLevel::TH,
        SchoolLevel::THCS,
        SchoolLevel::THPT,
        SchoolLevel::GDTX,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SchoolLevel::MN => "MN",
            SchoolLevel::TH => "TH",
            SchoolLevel::THCS => "THCS",
            SchoolLevel::THPT => "THPT",
            SchoolLevel::GDTX => "GDTX",
        }
    }

    /// Code in the sector database list DM_CAP_HOC.
    pub fn moet_code(self) -> &'static str {
        match self {
            SchoolLevel::MN => "01",
            SchoolLevel::TH => "02",
            SchoolLevel::THCS => "03",
            SchoolLevel::THPT => "04",
            SchoolLevel::GDTX => "05",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t) || l.moet_code() == t)
            .ok_or(DomainError::UnknownSchoolLevel)
    }
}

/// The levels a school teaches; more than one makes it a multi-level school (e.g. TH+THCS).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SchoolLevels(Vec<SchoolLevel>);

impl SchoolLevels {
    pub fn new(mut levels: Vec<SchoolLevel>) -> Result<Self, DomainError> {
        levels.sort();
        levels.dedup();
        if levels.is_empty() {
            return Err(DomainError::SchoolLevelsRequired);
        }
        Ok(Self(levels))
    }

    /// Parses the stored form `TH+THCS` (also accepts commas).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let levels = s
            .split(['+', ','])
            .filter(|p| !p.trim().is_empty())
            .map(SchoolLevel::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(levels)
    }

    pub fn levels(&self) -> &[SchoolLevel] {
        &self.0
    }

    pub fn is_multi_level(&self) -> bool {
        self.0.len() > 1
    }

    pub fn to_stored(&self) -> String {
        self.0.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("+")
    }
}

/// An official code (mã đơn vị / mã trường). The national format is not fixed for every level
/// (see statistics.md §5.2, UNCERTAIN), so it accepts 1–20 ASCII letters, digits, '-' or '_' and
/// stores them upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if t.is_empty() || t.len() > 20 {
            return Err(DomainError::InvalidOrgCode);
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::InvalidOrgCode);
        }
        Ok(Self(t.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Materialised path of a unit: `/<root id>/…/<own id>/`. A unit is inside a subtree iff its path
/// starts with the subtree root's path, which keeps authorisation a pure string test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(id: Uuid) -> Self {
        Self(format!("/{id}/"))
    }

    pub fn child(&self, id: Uuid) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Accepts a stored path; rejects anything that is not a sequence of UUIDs.
    pub fn parse(s: &str) -> Option<Self> {
        let inner = s.strip_prefix('/')?.strip_suffix('/')?;
        if inner.is_empty() || inner.split('/').any(|p| Uuid::parse_str(p).is_err()) {
            return None;
        }
        Some(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &OrgPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count() - 1
    }

    pub fn ids(&self) -> Vec<Uuid> {
        self.0
            .split('/')
            .filter(|p| !p.is_empty())
            .filter_map(|p| Uuid::parse_str(p).ok())
            .collect()
    }

    pub fn last_id(&self) -> Uuid {
        *self.ids().last().expect("a parsed path has at least one id")
    }
}

/// A half-open validity period `[from, to)`; `to = None` means still in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Effective {
    pub fn new(from: NaiveDate, to: Option<NaiveDate>) -> Result<Self, DomainError> {
        if let Some(to) = to
            && to <= from
        {
            return Err(DomainError::DateRangeReversed);
        }
        Ok(Self { from, to })
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day < to)
    }

    pub fn overlaps(&self, other: &Effective) -> bool {
        let a_before_b = self.to.is_some_and(|to| to <= other.from);
        let b_before_a = other.to.is_some_and(|to| to <= self.from);
        !(a_before_b || b_before_a)
    }
}

/// One effective-dated version of a unit's name, official code and parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgVersion {
    pub name: String,
    pub code: Option<OrgCode>,
    pub parent_id: Option<Uuid>,
    pub effective: Effective,
}

/// Checks a unit's version history: periods must not overlap.
pub fn check_versions(versions: &[OrgVersion]) -> Result<(), DomainError> {
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            if a.effective.overlaps(&b.effective) {
                return Err(DomainError::PeriodsOverlap);
            }
        }
    }
    Ok(())
}

/// The version in force on `day`, if any.
pub fn version_on(versions: &[OrgVersion], day: NaiveDate) -> Option<&OrgVersion> {
    versions.iter().find(|v| v.effective.contains(day))
}

/// Parses `dd/mm/yyyy` (Vietnamese usage) or ISO `yyyy-mm-dd`.
pub fn parse_date(s: &str) -> Result<NaiveDate, DomainError> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| DomainError::InvalidDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parent_rules() {
        use OrgKind::*;
        assert!(Ministry.may_have_parent(None));
        assert!(ProvinceDept.may_have_parent(None));
        assert!(ProvinceDept.may_have_parent(Some(Ministry)));
        assert!(CommuneOffice.may_have_parent(Some(ProvinceDept)));
        assert!(DistrictOffice.may_have_parent(Some(ProvinceDept)));
        assert!(School.may_have_parent(Some(CommuneOffice)));
        assert!(School.may_have_parent(Some(ProvinceDept)));
        assert!(SatelliteSite.may_have_parent(Some(School)));
        assert!(!School.may_have_parent(None));
        assert!(!School.may_have_parent(Some(School)));
        assert!(!SatelliteSite.may_have_parent(Some(CommuneOffice)));
        assert!(!CommuneOffice.may_have_parent(Some(School)));
        assert!(!Ministry.may_have_parent(Some(ProvinceDept)));
    }

    #[test]
    fn kinds_round_trip() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Ok(k));
        }
        assert_eq!(OrgKind::parse("district"), Err(DomainError::UnknownOrgKind));
    }

    #[test]
    fn school_levels_parse_and_sort() {
        let l = SchoolLevels::parse("THCS+th").unwrap();
        assert_eq!(l.levels(), &[SchoolLevel::TH, SchoolLevel::THCS]);
        assert!(l.is_multi_level());
        assert_eq!(l.to_stored(), "TH+THCS");
        assert_eq!(SchoolLevels::parse("04").unwrap().levels(), &[SchoolLevel::THPT]);
        assert_eq!(SchoolLevels::parse(""), Err(DomainError::SchoolLevelsRequired));
        assert_eq!(SchoolLevels::parse("TH+ĐH"), Err(DomainError::UnknownSchoolLevel));
    }

    #[test]
    fn org_code_validation() {
        assert_eq!(OrgCode::parse(" 08ab12 ").unwrap().as_str(), "08AB12");
        assert!(OrgCode::parse("").is_err());
        assert!(OrgCode::parse("mã trường").is_err());
        assert!(OrgCode::parse(&"1".repeat(21)).is_err());
    }

    #[test]
    fn paths_nest() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let c = Uuid::now_v7();
        let pa = OrgPath::root(a);
        let pb = pa.child(b);
        let pc = pa.child(c);
        assert!(pb.is_within(&pa));
        assert!(pa.is_within(&pa));
        assert!(!pa.is_within(&pb));
        assert!(!pb.is_within(&pc));
        assert_eq!(pb.depth(), 2);
        assert_eq!(pb.ids(), vec![a, b]);
        assert_eq!(OrgPath::parse(pb.as_str()), Some(pb.clone()));
        assert_eq!(OrgPath::parse("/x/"), None);
        assert_eq!(OrgPath::parse("//"), None);
    }

    #[test]
    fn effective_periods() {
        // The 2025 reform: the district office was in force until 1/7/2025.
        let old = Effective::new(d(2008, 1, 1), Some(d(2025, 7, 1))).unwrap();
        let new = Effective::new(d(2025, 7, 1), None).unwrap();
        assert!(old.contains(d(2025, 6, 30)));
        assert!(!old.contains(d(2025, 7, 1)));
        assert!(new.contains(d(2025, 7, 1)));
        assert!(!old.overlaps(&new));
        let bad = Effective::new(d(2025, 1, 1), None).unwrap();
        assert!(bad.overlaps(&old));
        assert_eq!(
            Effective::new(d(2025, 1, 1), Some(d(2025, 1, 1))),
            Err(DomainError::DateRangeReversed)
        );
        let versions = vec![
            OrgVersion {
                name: "Phòng GDĐT huyện Yên Sơn".into(),
                code: None,
                parent_id: None,
                effective: old,
            },
            OrgVersion {
                name: "Sở GDĐT Tuyên Quang".into(),
                code: None,
                parent_id: None,
                effective: new,
            },
        ];
        assert!(check_versions(&versions).is_ok());
        assert_eq!(
            version_on(&versions, d(2020, 1, 1)).unwrap().name,
            "Phòng GDĐT huyện Yên Sơn"
        );
        let mut overlapping = versions.clone();
        overlapping.push(OrgVersion {
            name: "x".into(),
            code: None,
            parent_id: None,
            effective: bad,
        });
        assert_eq!(check_versions(&overlapping), Err(DomainError::PeriodsOverlap));
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(parse_date("30/09/2025"), Ok(d(2025, 9, 30)));
        assert_eq!(parse_date("2025-09-30"), Ok(d(2025, 9, 30)));
        assert_eq!(parse_date("31/02/2025"), Err(DomainError::InvalidDate));
    }
}
