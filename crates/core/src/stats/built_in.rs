//! The form definitions shipped with Trường Số (`crates/core/data/stats/`), one file per form
//! version.

use super::catalogue::FormDef;

/// The form files shipped with Trường Số.
pub const BUILT_IN: &[(&str, &str)] = &[(
    "tt24-2018-02-th-dn.toml",
    include_str!("../../data/stats/tt24-2018-02-th-dn.toml"),
)];

/// Every built-in form, checked (a broken file is a build-time bug caught by the tests).
pub fn built_in() -> Vec<FormDef> {
    BUILT_IN
        .iter()
        .map(|(name, src)| FormDef::parse_toml(src).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_form_parses_and_ids_are_unique() {
        let forms = built_in();
        assert!(!forms.is_empty());
        let mut ids: Vec<_> = forms.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), forms.len(), "form ids are unique");
    }
}
