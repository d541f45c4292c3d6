//! The population table imported from the commune household survey (phiếu điều tra hộ gia
//! đình): one row per commune, year and age. Universal-education denominators come from it, not
//! from school rolls (statistics.md §3.3), together with what the schools cannot know: who
//! holds a diploma or completed a programme outside the records, who studies elsewhere, who is
//! literate.
//!
//! The table is refused as a whole when any cell is wrong, with every error listed, so a
//! commune's rates are never computed from half a sheet.

use crate::text::fold;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Highest age a row may give: older survey rows are typing errors, not people.
pub const MAX_AGE: u8 = 120;

/// One commune's survey counts for one age in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationRow {
    /// 5-digit GSO commune code.
    pub commune: String,
    pub year: i32,
    /// Calendar-year age (year − birth year), the cohort convention of §3.3.
    pub age: u8,
    pub population: u64,
    /// Disabled people unable to study, left out of denominators when the thresholds say so.
    pub excluded: u64,
    /// `None` when the sheet has no such column or leaves the cell blank (a survey asks
    /// literacy of adults only, preschool completion of 5-year-olds only).
    pub completed_preschool: Option<u64>,
    /// THCS diploma holders no longer at school (the schools count the others).
    pub thcs_diploma_out: Option<u64>,
    /// Primary completers no longer at school.
    pub completed_primary_out: Option<u64>,
    /// Studying upper-secondary, GDTX or vocational outside the records (other provinces,
    /// vocational schools).
    pub studying_elsewhere: Option<u64>,
    /// People at literacy level 1 **or above**: level-2 people are counted here too, which is
    /// why the table refuses a row where level 2 exceeds level 1.
    pub literate_l1: Option<u64>,
    pub literate_l2: Option<u64>,
}

/// Why one cell (or row, or column) of an imported sheet was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// 1-based spreadsheet row; the header is row 1.
    pub row: usize,
    /// The header text of the column, or its letter when the header cell is blank; the
    /// expected header for a missing column.
    pub column: String,
    /// Stable code, also the message key `stats.population.error.<code>`: `missing_column`,
    /// `duplicate_column`, `empty`, `not_a_number`, `negative`, `decimal`, `invalid_year`,
    /// `age_out_of_range`, `invalid_commune`, `duplicate`, `excluded_exceeds_population`,
    /// `exceeds_population`, `literacy_levels`, `missing_age`.
    pub code: &'static str,
    pub detail: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} column {}: {} ({})",
            self.row, self.column, self.code, self.detail
        )
    }
}

impl std::error::Error for CellError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Col {
    Commune,
    Year,
    Age,
    Population,
    Excluded,
    CompletedPreschool,
    ThcsDiplomaOut,
    CompletedPrimaryOut,
    StudyingElsewhere,
    LiterateL1,
    LiterateL2,
}

impl Col {
    const ALL: [Col; 11] = [
        Col::Commune,
        Col::Year,
        Col::Age,
        Col::Population,
        Col::Excluded,
        Col::CompletedPreschool,
        Col::ThcsDiplomaOut,
        Col::CompletedPrimaryOut,
        Col::StudyingElsewhere,
        Col::LiterateL1,
        Col::LiterateL2,
    ];

    /// The header as printed on the import template.
    fn header(self) -> &'static str {
        match self {
            Col::Commune => "Mã xã",
            Col::Year => "Năm",
            Col::Age => "Tuổi",
            Col::Population => "Dân số",
            Col::Excluded => "Khuyết tật không có khả năng học",
            Col::CompletedPreschool => "Hoàn thành CT mầm non",
            Col::ThcsDiplomaOut => "Có bằng THCS (ngoài nhà trường)",
            Col::CompletedPrimaryOut => "Hoàn thành tiểu học (ngoài nhà trường)",
            Col::StudyingElsewhere => "Đang học nơi khác",
            Col::LiterateL1 => "Biết chữ mức 1",
            Col::LiterateL2 => "Biết chữ mức 2",
        }
    }

    fn required(self) -> bool {
        matches!(self, Col::Commune | Col::Year | Col::Age | Col::Population)
    }

    /// The counts that are a part of the age's population.
    fn is_outcome(self) -> bool {
        !matches!(
            self,
            Col::Commune | Col::Year | Col::Age | Col::Population | Col::Excluded
        )
    }
}

/// Header comparison key: diacritics, case, spaces and punctuation do not matter, so
/// `MA XA`, `Mã  xã` and `ma_xa` all name the commune column.
fn header_key(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Spreadsheet column letter of a 0-based index: A … Z, AA …
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = vec![];
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(char::from(b'A' + r as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// Lists ages compactly: `3, 7, 10–12`.
fn ranges(ages: &[u8]) -> String {
    let mut parts = vec![];
    let mut i = 0;
    while i < ages.len() {
        let start = ages[i];
        let mut end = start;
        while i + 1 < ages.len() && ages[i + 1] == end + 1 {
            i += 1;
            end = ages[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// Reads a count: digits only. A sign, separator or fraction is refused rather than guessed
/// (`1.000` is a thousand in Vietnamese notation and one in English).
fn count(cell: &str) -> Result<u64, (&'static str, String)> {
    let s = cell.trim();
    if s.is_empty() {
        return Err(("empty", "the cell is empty".into()));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map_err(|_| ("not_a_number", format!("{s} is too large")));
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let numeric = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',');
    if s.starts_with('-') && numeric(body) {
        return Err(("negative", format!("{s} is negative")));
    }
    if numeric(body) && body.bytes().any(|b| b.is_ascii_digit()) {
        return Err((
            "decimal",
            format!("{s} is not a whole number (write counts without separators or decimals)"),
        ));
    }
    Err(("not_a_number", format!("{s} is not a number")))
}

/// The survey counts of every commune, year and age of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PopulationTable {
    rows: BTreeMap<(String, i32, u8), PopulationRow>,
}

impl PopulationTable {
    /// Reads a sheet: `header` names the columns (Vietnamese, with or without diacritics, any
    /// case; unknown columns such as a commune name are ignored), `rows` are the data rows
    /// below it (spreadsheet rows 2, 3, …). Entirely blank rows are skipped. Blank cells of
    /// an optional column read as "not surveyed" (`None`; 0 for the excluded count); blank
    /// cells of a required column are errors.
    pub fn from_rows(header: &[String], rows: &[Vec<String>]) -> Result<PopulationTable, Vec<CellError>> {
        let mut errors = vec![];
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = h.trim();
                if h.is_empty() {
                    column_letter(i)
                } else {
                    h.to_string()
                }
            })
            .collect();
        let mut index: BTreeMap<Col, usize> = BTreeMap::new();
        for (i, h) in header.iter().enumerate() {
            let key = header_key(h);
            let Some(col) = Col::ALL.into_iter().find(|c| header_key(c.header()) == key) else {
                continue;
            };
            if let Some(first) = index.get(&col) {
                errors.push(CellError {
                    row: 1,
                    column: names[i].clone(),
                    code: "duplicate_column",
                    detail: format!(
                        "{} is already column {} ({})",
                        col.header(),
                        column_letter(*first),
                        names[*first]
                    ),
                });
            } else {
                index.insert(col, i);
            }
        }
        for col in Col::ALL.into_iter().filter(|c| c.required()) {
            if !index.contains_key(&col) {
                errors.push(CellError {
                    row: 1,
                    column: col.header().to_string(),
                    code: "missing_column",
                    detail: format!("the sheet has no column {}", col.header()),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let name = |col: Col| names[index[&col]].clone();
        let mut table = BTreeMap::new();
        // First spreadsheet row of each (commune, year), for the missing-age report.
        let mut first_row: BTreeMap<(String, i32), usize> = BTreeMap::new();
        for (i, cells) in rows.iter().enumerate() {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let row = i + 2;
            let cell = |col: Col| {
                index
                    .get(&col)
                    .and_then(|&j| cells.get(j))
                    .map_or("", String::as_str)
            };
            let mut fail = |col: Col, code: &'static str, detail: String| {
                errors.push(CellError {
                    row,
                    column: name(col),
                    code,
                    detail,
                })
            };

            let commune = cell(Col::Commune).trim();
            let commune_ok = commune.len() == 5 && commune.bytes().all(|b| b.is_ascii_digit());
            if commune.is_empty() {
                fail(Col::Commune, "empty", "the cell is empty".into());
            } else if !commune_ok {
                fail(
                    Col::Commune,
                    "invalid_commune",
                    format!("{commune} is not a 5-digit GSO commune code (keep the leading zeros)"),
                );
            }
            let year = match count(cell(Col::Year)) {
                Ok(y) if (1900..=2200).contains(&y) => Some(y as i32),
                Ok(y) => {
                    fail(Col::Year, "invalid_year", format!("{y} is not a year"));
                    None
                }
                Err((code, detail)) => {
                    fail(Col::Year, code, detail);
                    None
                }
            };
            let age = match count(cell(Col::Age)) {
                Ok(a) if a <= u64::from(MAX_AGE) => Some(a as u8),
                Ok(a) => {
                    fail(Col::Age, "age_out_of_range", format!("{a} is above {MAX_AGE}"));
                    None
                }
                Err((code, detail)) => {
                    fail(Col::Age, code, detail);
                    None
                }
            };
            let population = match count(cell(Col::Population)) {
                Ok(n) => Some(n),
                Err((code, detail)) => {
                    fail(Col::Population, code, detail);
                    None
                }
            };
            let mut optional = BTreeMap::new();
            for col in Col::ALL
                .into_iter()
                .filter(|c| !c.required() && index.contains_key(c))
            {
                let text = cell(col);
                if text.trim().is_empty() {
                    continue;
                }
                match count(text) {
                    Ok(n) => {
                        optional.insert(col, n);
                    }
                    Err((code, detail)) => fail(col, code, detail),
                }
            }
            if let Some(pop) = population {
                for (&col, &n) in &optional {
                    if n <= pop {
                        continue;
                    }
                    if col == Col::Excluded {
                        fail(
                            col,
                            "excluded_exceeds_population",
                            format!("{n} excluded but the population is {pop}"),
                        );
                    } else if col.is_outcome() {
                        fail(
                            col,
                            "exceeds_population",
                            format!("{n} is above the population {pop}"),
                        );
                    }
                }
            }
            if let (Some(l1), Some(l2)) = (optional.get(&Col::LiterateL1), optional.get(&Col::LiterateL2))
                && l2 > l1
            {
                fail(
                    Col::LiterateL2,
                    "literacy_levels",
                    format!("{l2} at level 2 but {l1} at level 1 or above (level 1 counts level 2 too)"),
                );
            }

            let (Some(year), Some(age)) = (year, age) else {
                continue;
            };
            if !commune_ok {
                continue;
            }
            let key = (commune.to_string(), year, age);
            if let Some(first) = table.get(&key).map(|(r, _): &(usize, PopulationRow)| *r) {
                fail(
                    Col::Age,
                    "duplicate",
                    format!("commune {commune}, year {year}, age {age} is already row {first}"),
                );
                continue;
            }
            first_row.entry((commune.to_string(), year)).or_insert(row);
            let Some(population) = population else {
                // Keep the key so a later duplicate is still reported, with a placeholder row
                // that is never returned (an error exists).
                table.insert(key, (row, placeholder()));
                continue;
            };
            let get = |c: Col| optional.get(&c).copied();
            table.insert(
                key,
                (
                    row,
                    PopulationRow {
                        commune: commune.to_string(),
                        year,
                        age,
                        population,
                        excluded: get(Col::Excluded).unwrap_or(0),
                        completed_preschool: get(Col::CompletedPreschool),
                        thcs_diploma_out: get(Col::ThcsDiplomaOut),
                        completed_primary_out: get(Col::CompletedPrimaryOut),
                        studying_elsewhere: get(Col::StudyingElsewhere),
                        literate_l1: get(Col::LiterateL1),
                        literate_l2: get(Col::LiterateL2),
                    },
                ),
            );
        }

        // A missing age would silently shrink a band's denominator (15–35 without 20 is not
        // the 15–35 population), so every age up to the highest given must be there.
        let mut ages: BTreeMap<(String, i32), BTreeSet<u8>> = BTreeMap::new();
        for (commune, year, age) in table.keys() {
            ages.entry((commune.clone(), *year)).or_default().insert(*age);
        }
        for ((commune, year), present) in ages {
            let max = *present.last().expect("at least one age");
            let missing: Vec<u8> = (0..=max).filter(|a| !present.contains(a)).collect();
            if !missing.is_empty() {
                errors.push(CellError {
                    row: first_row[&(commune.clone(), year)],
                    column: name(Col::Age),
                    code: "missing_age",
                    detail: format!(
                        "commune {commune}, year {year}: no row for age {} (every age from 0 to {max} is needed)",
                        ranges(&missing)
                    ),
                });
            }
        }

        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(errors);
        }
        Ok(PopulationTable {
            rows: table.into_iter().map(|(k, (_, r))| (k, r)).collect(),
        })
    }

    pub fn get(&self, commune: &str, year: i32, age: u8) -> Option<&PopulationRow> {
        self.rows.get(&(commune.to_string(), year, age))
    }

    /// The communes surveyed in `year`, in code order.
    pub fn communes(&self, year: i32) -> Vec<String> {
        let set: BTreeSet<&String> = self.rows.keys().filter(|k| k.1 == year).map(|k| &k.0).collect();
        set.into_iter().cloned().collect()
    }

    pub fn years(&self) -> Vec<i32> {
        let set: BTreeSet<i32> = self.rows.keys().map(|k| k.1).collect();
        set.into_iter().collect()
    }

    /// Every age row of one commune and year, youngest first.
    pub fn rows_of(&self, commune: &str, year: i32) -> impl Iterator<Item = &PopulationRow> {
        self.rows
            .values()
            .filter(move |r| r.commune == commune && r.year == year)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

fn placeholder() -> PopulationRow {
    PopulationRow {
        commune: String::new(),
        year: 0,
        age: 0,
        population: 0,
        excluded: 0,
        completed_preschool: None,
        thcs_diploma_out: None,
        completed_primary_out: None,
        studying_elsewhere: None,
        literate_l1: None,
        literate_l2: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const HEADER: &[&str] = &[
        "Mã xã",
        "Năm",
        "Tuổi",
        "Dân số",
        "Khuyết tật không có khả năng học",
        "Biết chữ mức 1",
        "Biết chữ mức 2",
    ];

    /// Ages 0..=n of one commune with population 10 + age and 1 excluded.
    fn commune_rows(code: &str, year: i32, n: u8) -> Vec<Vec<String>> {
        (0..=n)
            .map(|a| {
                let pop = 10 + u64::from(a);
                strings(&[
                    code,
                    &year.to_string(),
                    &a.to_string(),
                    &pop.to_string(),
                    "1",
                    "",
                    "",
                ])
            })
            .collect()
    }

    fn parse(rows: &[Vec<String>]) -> Result<PopulationTable, Vec<CellError>> {
        PopulationTable::from_rows(&strings(HEADER), rows)
    }

    fn codes(errors: &[CellError]) -> Vec<(usize, &str, &'static str)> {
        errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.code))
            .collect()
    }

    #[test]
    fn a_good_sheet_reads_with_lookups() {
        let mut rows = commune_rows("00001", 2025, 20);
        rows.extend(commune_rows("00004", 2025, 3));
        rows.extend(commune_rows("00001", 2024, 2));
        rows[18][5] = "25".into();
        rows[18][6] = "20".into();
        rows.push(strings(&["", "", ""]));
        let t = parse(&rows).unwrap();
        assert_eq!(t.len(), 21 + 4 + 3);
        let r = t.get("00001", 2025, 18).unwrap();
        assert_eq!((r.population, r.excluded), (28, 1));
        assert_eq!((r.literate_l1, r.literate_l2), (Some(25), Some(20)));
        assert_eq!(t.get("00001", 2025, 17).unwrap().literate_l1, None);
        assert_eq!(r.thcs_diploma_out, None);
        assert!(t.get("00001", 2025, 21).is_none());
        assert_eq!(t.communes(2025), vec!["00001", "00004"]);
        assert_eq!(t.communes(2024), vec!["00001"]);
        assert!(t.communes(2023).is_empty());
        assert_eq!(t.years(), vec![2024, 2025]);
        assert_eq!(
            t.rows_of("00004", 2025).map(|r| r.age).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn headers_match_without_diacritics_or_case() {
        let header = strings(&[
            "MA XA",
            "nam",
            "TUỔI",
            "dan  so",
            "Tên xã",
            "co bang thcs (ngoai nha truong)",
        ]);
        let rows: Vec<Vec<String>> = (0..=1)
            .map(|a| strings(&["12345", "2025", &a.to_string(), "7", "Xã A", "0"]))
            .collect();
        let t = PopulationTable::from_rows(&header, &rows).unwrap();
        assert_eq!(t.get("12345", 2025, 1).unwrap().thcs_diploma_out, Some(0));
        assert_eq!(t.get("12345", 2025, 1).unwrap().excluded, 0);
    }

    #[test]
    fn missing_required_columns_are_all_named() {
        let header = strings(&["Mã xã", "Năm", "Ghi chú"]);
        let e = PopulationTable::from_rows(&header, &[]).unwrap_err();
        assert_eq!(
            codes(&e),
            vec![(1, "Tuổi", "missing_column"), (1, "Dân số", "missing_column")]
        );
        let header = strings(&["Mã xã", "Năm", "Tuổi", "Dân số", "", "DAN SO"]);
        let e = PopulationTable::from_rows(&header, &[]).unwrap_err();
        assert_eq!(codes(&e), vec![(1, "DAN SO", "duplicate_column")]);
        assert!(e[0].detail.contains("column D"), "{}", e[0].detail);
    }

    #[test]
    fn every_bad_cell_is_reported_with_row_and_column() {
        let mut rows = commune_rows("00001", 2025, 5);
        rows[0][3] = "".into(); // row 2: empty population
        rows[1][3] = "mười".into(); // row 3
        rows[2][4] = "-3".into(); // row 4
        rows[3][3] = "12.5".into(); // row 5
        rows[4][4] = "99".into(); // row 6: excluded above population 14
        rows[5][5] = "16".into(); // row 7: literate above population 15
        let mut more = commune_rows("1", 2025, 0); // row 8: commune code not 5 digits
        more.extend(commune_rows("00002", 2025, 0));
        more[1][2] = "121".into(); // row 9
        more.push(strings(&["00003", "2025", "0", "5", "0", "3", "4"])); // row 10
        more.push(strings(&["00003", "25", "0", "5", "0", "", ""])); // row 11
        rows.extend(more);
        let e = parse(&rows).unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                (2, "Dân số", "empty"),
                (3, "Dân số", "not_a_number"),
                (4, "Khuyết tật không có khả năng học", "negative"),
                (5, "Dân số", "decimal"),
                (
                    6,
                    "Khuyết tật không có khả năng học",
                    "excluded_exceeds_population"
                ),
                (7, "Biết chữ mức 1", "exceeds_population"),
                (8, "Mã xã", "invalid_commune"),
                (9, "Tuổi", "age_out_of_range"),
                (10, "Biết chữ mức 2", "literacy_levels"),
                (11, "Năm", "invalid_year"),
            ]
        );
    }

    #[test]
    fn duplicates_and_missing_ages_are_refused() {
        let mut rows = commune_rows("00001", 2025, 3);
        rows.push(rows[2].clone()); // row 6 repeats age 2 (row 4)
        let mut gaps = commune_rows("00002", 2025, 12);
        gaps.retain(|r| !["3", "7", "8", "9"].contains(&r[2].as_str()));
        rows.extend(gaps); // first row of 00002 is row 7
        let e = parse(&rows).unwrap_err();
        assert_eq!(
            codes(&e),
            vec![(6, "Tuổi", "duplicate"), (7, "Tuổi", "missing_age")]
        );
        assert!(e[0].detail.contains("row 4"), "{}", e[0].detail);
        assert!(e[1].detail.contains("3, 7–9"), "{}", e[1].detail);
        assert!(e[1].detail.contains("00002"), "{}", e[1].detail);
    }

    #[test]
    fn counts_and_letters() {
        assert_eq!(count(" 42 "), Ok(42));
        assert_eq!(count("-3").unwrap_err().0, "negative");
        assert_eq!(count("1.000").unwrap_err().0, "decimal");
        assert_eq!(count("2,5").unwrap_err().0, "decimal");
        assert_eq!(count("abc").unwrap_err().0, "not_a_number");
        assert_eq!(count("-").unwrap_err().0, "not_a_number");
        assert_eq!(count("").unwrap_err().0, "empty");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(ranges(&[0, 1, 2, 5]), "0–2, 5");
    }
}
