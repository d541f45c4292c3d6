//! The two faces every rendition uses, loaded once and shared by every document of a batch.
//!
//! krilla embeds and subsets the font per document, but it cannot tell us how wide a string is
//! before drawing it. Wrapping needs that, so loading also reads the `cmap` and `hmtx` tables into
//! a character → advance map. The map ignores kerning, which only ever narrows DejaVu text, so a
//! measured line is never narrower than the drawn one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::text::Font;

/// Where Debian's `fonts-dejavu-core` installs its fonts.
pub const DEJAVU_DIR: &str = "/usr/share/fonts/truetype/dejavu";

/// The Debian package that ships the default DejaVu fonts.
pub const DEJAVU_PACKAGE: &str = "fonts-dejavu-core";

/// The regular and bold font files of a rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontFiles {
    pub regular: PathBuf,
    pub bold: PathBuf,
}

impl FontFiles {
    /// DejaVu Sans and DejaVu Sans Bold in `dir` (the default face).
    pub fn dejavu_sans(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        FontFiles {
            regular: dir.join("DejaVuSans.ttf"),
            bold: dir.join("DejaVuSans-Bold.ttf"),
        }
    }

    /// DejaVu Serif and DejaVu Serif Bold in `dir`.
    pub fn dejavu_serif(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        FontFiles {
            regular: dir.join("DejaVuSerif.ttf"),
            bold: dir.join("DejaVuSerif-Bold.ttf"),
        }
    }
}

impl Default for FontFiles {
    fn default() -> Self {
        FontFiles::dejavu_sans(DEJAVU_DIR)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FontError {
    #[error("font file {path} not found{}", package_hint(.package))]
    Missing {
        path: PathBuf,
        package: Option<&'static str>,
    },
    #[error("font file {path} could not be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path} is not a TrueType/OpenType font ({reason})")]
    NotAFont { path: PathBuf, reason: String },
    #[error("font {path} has no glyph for {ch:?} (U+{:04X}), needed for Vietnamese", *.ch as u32)]
    NoVietnamese { path: PathBuf, ch: char },
}

fn package_hint(package: &Option<&'static str>) -> String {
    match package {
        Some(p) => format!(" (install the Debian package {p})"),
        None => String::new(),
    }
}

impl FontError {
    pub fn code(&self) -> &'static str {
        match self {
            FontError::Missing { .. } => "font_missing",
            FontError::Unreadable { .. } => "font_unreadable",
            FontError::NotAFont { .. } => "font_invalid",
            FontError::NoVietnamese { .. } => "font_no_vietnamese",
        }
    }
}

/// One face: krilla's font plus the advance widths used for wrapping.
#[derive(Clone)]
pub(crate) struct Face {
    pub(crate) font: Font,
    units_per_em: f32,
    advances: Arc<HashMap<char, u16>>,
}

impl Face {
    fn load(path: &Path) -> Result<Face, FontError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FontError::Missing {
                path: path.to_path_buf(),
                package: debian_package(path),
            },
            _ => FontError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            },
        })?;
        let not_a_font = |reason: &str| FontError::NotAFont {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let metrics = Metrics::parse(&bytes).map_err(not_a_font)?;
        let advances: HashMap<char, u16> = metrics
            .cmap
            .iter()
            .map(|(ch, glyph)| (*ch, metrics.advance(*glyph)))
            .collect();
        for ch in vietnamese_letters() {
            if !advances.contains_key(&ch) {
                return Err(FontError::NoVietnamese {
                    path: path.to_path_buf(),
                    ch,
                });
            }
        }
        let font = Font::new(bytes.into(), 0).ok_or_else(|| not_a_font("krilla cannot read it"))?;
        Ok(Face {
            font,
            units_per_em: f32::from(metrics.units_per_em),
            advances: Arc::new(advances),
        })
    }

    pub(crate) fn has(&self, ch: char) -> bool {
        self.advances.contains_key(&ch)
    }

    /// Width of `text` at `size` points. Characters without a glyph count as zero: they are
    /// refused before anything is drawn.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.advances.get(&c).copied().unwrap_or(0)))
            .sum();
        units as f32 * size / self.units_per_em
    }
}

/// Regular and bold faces, parsed once. Cloning is cheap (shared data), and a `Fonts` may be used
/// from several threads at once.
#[derive(Clone)]
pub struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").finish_non_exhaustive()
    }
}

impl Fonts {
    /// Loads the given files and checks that both cover every Vietnamese letter.
    pub fn load(files: &FontFiles) -> Result<Fonts, FontError> {
        Ok(Fonts {
            regular: Face::load(&files.regular)?,
            bold: Face::load(&files.bold)?,
        })
    }

    /// DejaVu Sans (regular and bold) from `dir`.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Fonts, FontError> {
        Fonts::load(&FontFiles::dejavu_sans(dir))
    }

    /// DejaVu Sans from the Debian location ([`DEJAVU_DIR`]).
    pub fn system_default() -> Result<Fonts, FontError> {
        Fonts::load(&FontFiles::default())
    }

    pub(crate) fn face(&self, bold: bool) -> &Face {
        if bold { &self.bold } else { &self.regular }
    }

    /// Width in points of `text` (already NFC) set in the given face and size.
    pub fn text_width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.face(bold).width(text, size)
    }
}

fn debian_package(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    name.starts_with("DejaVu").then_some(DEJAVU_PACKAGE)
}

/// Every precomposed Vietnamese letter (a ă â e ê i o ô ơ u ư y with the five tone marks, đ),
/// both cases, and the en dash the layouts print.
fn vietnamese_letters() -> impl Iterator<Item = char> {
    const BASES: [&str; 12] = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"];
    // Grave, acute, tilde, hook above, dot below.
    const TONES: [char; 6] = ['\0', '\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let mut out: Vec<char> = vec!['đ', 'Đ', '–'];
    for base in BASES {
        for tone in TONES {
            let mut s = base.to_string();
            if tone != '\0' {
                s.push(tone);
            }
            let lower = truongso_core::text::nfc(&s);
            let upper = truongso_core::text::nfc(&lower.to_uppercase());
            out.extend(lower.chars().chain(upper.chars()));
        }
    }
    out.into_iter()
}

/// The few sfnt tables wrapping needs.
struct Metrics {
    units_per_em: u16,
    /// Advance widths of the first `numberOfHMetrics` glyphs; later glyphs repeat the last one.
    hmetrics: Vec<u16>,
    cmap: Vec<(char, u16)>,
}

impl Metrics {
    fn parse(data: &[u8]) -> Result<Metrics, &'static str> {
        let version = be_u32(data, 0).ok_or("file too short")?;
        if !matches!(version, 0x0001_0000 | 0x7472_7565 | 0x4F54_544F) {
            return Err("not a single TrueType/OpenType font");
        }
        let num_tables = usize::from(be_u16(data, 4).ok_or("truncated header")?);
        let mut tables: HashMap<[u8; 4], &[u8]> = HashMap::new();
        for i in 0..num_tables {
            let rec = 12 + i * 16;
            let tag: [u8; 4] = data
                .get(rec..rec + 4)
                .and_then(|t| t.try_into().ok())
                .ok_or("truncated table directory")?;
            let offset = be_u32(data, rec + 8).ok_or("truncated table directory")? as usize;
            let length = be_u32(data, rec + 12).ok_or("truncated table directory")? as usize;
            let table = data
                .get(offset..offset.checked_add(length).ok_or("bad table length")?)
                .ok_or("table outside the file")?;
            tables.insert(tag, table);
        }
        let table = |tag: &[u8; 4]| tables.get(tag).copied().ok_or("missing table");
        let head = table(b"head")?;
        let hhea = table(b"hhea")?;
        let hmtx = table(b"hmtx")?;
        let cmap = table(b"cmap")?;
        let units_per_em = be_u16(head, 18).filter(|u| *u > 0).ok_or("bad head table")?;
        let count = usize::from(be_u16(hhea, 34).ok_or("bad hhea table")?);
        let hmetrics = (0..count)
            .map(|i| be_u16(hmtx, i * 4).ok_or("truncated hmtx table"))
            .collect::<Result<Vec<_>, _>>()?;
        if hmetrics.is_empty() {
            return Err("no horizontal metrics");
        }
        Ok(Metrics {
            units_per_em,
            hmetrics,
            cmap: parse_cmap(cmap)?,
        })
    }

    fn advance(&self, glyph: u16) -> u16 {
        let last = self.hmetrics[self.hmetrics.len() - 1];
        self.hmetrics.get(usize::from(glyph)).copied().unwrap_or(last)
    }
}

/// The Unicode subtable: format 12 (full repertoire) when present, else format 4 (BMP).
fn parse_cmap(cmap: &[u8]) -> Result<Vec<(char, u16)>, &'static str> {
    let count = usize::from(be_u16(cmap, 2).ok_or("bad cmap table")?);
    let mut format4 = None;
    let mut format12 = None;
    for i in 0..count {
        let rec = 4 + i * 8;
        let platform = be_u16(cmap, rec).ok_or("bad cmap table")?;
        let encoding = be_u16(cmap, rec + 2).ok_or("bad cmap table")?;
        let offset = be_u32(cmap, rec + 4).ok_or("bad cmap table")? as usize;
        let unicode = platform == 0 || (platform == 3 && matches!(encoding, 1 | 10));
        if !unicode {
            continue;
        }
        let sub = cmap.get(offset..).ok_or("bad cmap subtable")?;
        match be_u16(sub, 0) {
            Some(4) => format4 = Some(sub),
            Some(12) => format12 = Some(sub),
            _ => {}
        }
    }
    if let Some(sub) = format12 {
        return parse_format12(sub);
    }
    parse_format4(format4.ok_or("no Unicode cmap")?)
}

fn parse_format12(sub: &[u8]) -> Result<Vec<(char, u16)>, &'static str> {
    let groups = be_u32(sub, 12).ok_or("bad cmap format 12")? as usize;
    let mut out = Vec::new();
    for g in 0..groups {
        let at = 16 + g * 12;
        let (Some(start), Some(end), Some(glyph)) =
            (be_u32(sub, at), be_u32(sub, at + 4), be_u32(sub, at + 8))
        else {
            return Err("truncated cmap format 12");
        };
        if end < start || end - start > 0x10_FFFF {
            return Err("bad cmap format 12 group");
        }
        for (k, code) in (start..=end).enumerate() {
            if let (Some(ch), Ok(gid)) = (char::from_u32(code), u16::try_from(glyph as usize + k))
                && gid != 0
            {
                out.push((ch, gid));
            }
        }
    }
    Ok(out)
}

fn parse_format4(sub: &[u8]) -> Result<Vec<(char, u16)>, &'static str> {
    let bad = "truncated cmap format 4";
    let seg_count = usize::from(be_u16(sub, 6).ok_or(bad)? / 2);
    let ends = 14;
    let starts = ends + seg_count * 2 + 2;
    let deltas = starts + seg_count * 2;
    let range_offsets = deltas + seg_count * 2;
    let mut out = Vec::new();
    for s in 0..seg_count {
        let end = be_u16(sub, ends + s * 2).ok_or(bad)?;
        let start = be_u16(sub, starts + s * 2).ok_or(bad)?;
        let delta = be_u16(sub, deltas + s * 2).ok_or(bad)?;
        let range_offset = usize::from(be_u16(sub, range_offsets + s * 2).ok_or(bad)?);
        if start > end {
            continue;
        }
        for code in start..=end {
            if code == 0xFFFF {
                break;
            }
            let glyph = if range_offset == 0 {
                code.wrapping_add(delta)
            } else {
                let at = range_offsets + s * 2 + range_offset + usize::from(code - start) * 2;
                match be_u16(sub, at).ok_or(bad)? {
                    0 => 0,
                    g => g.wrapping_add(delta),
                }
            };
            if let (Some(ch), true) = (char::from_u32(u32::from(code)), glyph != 0) {
                out.push((ch, glyph));
            }
        }
    }
    Ok(out)
}

fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_repertoire_is_precomposed() {
        let letters: Vec<char> = vietnamese_letters().collect();
        // 12 bases × 6 tone forms × 2 cases, đ, Đ and the en dash.
        assert_eq!(letters.len(), 12 * 6 * 2 + 3);
        assert!(letters.contains(&'ẫ') && letters.contains(&'Ự') && letters.contains(&'ỹ'));
    }

    #[test]
    fn dejavu_widths_match_the_font() {
        let Ok(fonts) = Fonts::system_default() else {
            panic!("DejaVu fonts missing: apt-get install {DEJAVU_PACKAGE}");
        };
        // DejaVu Sans: 2048 units per em, "M" advances 1767 units, space 651.
        let m = fonts.text_width("M", 2048.0, false);
        assert!((m - 1767.0).abs() < 0.01, "{m}");
        assert!((fonts.text_width(" ", 2048.0, false) - 651.0).abs() < 0.01);
        assert!(fonts.text_width("Nguyễn", 10.0, true) > fonts.text_width("Nguyễn", 10.0, false));
    }

    #[test]
    fn missing_font_names_file_and_package() {
        let err = Fonts::load_dir("/nonexistent/fonts").unwrap_err();
        assert_eq!(err.code(), "font_missing");
        assert_eq!(
            err,
            FontError::Missing {
                path: PathBuf::from("/nonexistent/fonts/DejaVuSans.ttf"),
                package: Some(DEJAVU_PACKAGE),
            }
        );
        assert!(err.to_string().contains("fonts-dejavu-core"));
    }
}
