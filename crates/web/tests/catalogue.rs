//! Every message key the web layer names (in templates and handlers) exists in the catalogue,
//! in both locales, so no page shows a raw key.

use std::path::Path;
use truongso_core::i18n::{Locale, keys};

const PREFIXES: &[&str] = &[
    "gradebook.",
    "app.",
    "learners.",
    "error.",
    "error_title.",
    "nav.",
    "login.",
    "password.",
    "dashboard.",
    "org.",
    "level.",
    "term.",
    "role.",
    "scope.",
    "users.",
    "tokens.",
    "audit.",
    "common.",
    "quality.",
    "classes.",
    "staff.",
    "import.",
    "health.",
    "guardians.",
    "facilities.",
    "credentials.",
    "verify.",
    "diploma_lookup.",
];

fn scan(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            scan(&p, out);
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let is_key = PREFIXES.iter().any(|pre| piece.starts_with(pre))
                && piece
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                && !piece.ends_with('.')
                && ![".html", ".css", ".js"].iter().any(|ext| piece.ends_with(ext));
            if is_key {
                out.push((p.display().to_string(), piece.to_string()));
            }
        }
    }
}

#[test]
fn every_named_key_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = vec![];
    scan(&root.join("templates"), &mut found);
    scan(&root.join("src"), &mut found);
    assert!(found.len() > 100, "the scan finds the keys ({})", found.len());
    for locale in [Locale::Vi, Locale::En] {
        let known = keys(locale);
        let missing: Vec<_> = found
            .iter()
            .filter(|(_, k)| !known.contains(&k.as_str()))
            .collect();
        assert!(missing.is_empty(), "{locale:?} misses {missing:?}");
    }
}
