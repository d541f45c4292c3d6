//! The QR code: `<verify_base_url>?doc=<doc_id>&h=<sha256 hex of the canonical bytes>`.
//!
//! It carries nothing personal, only what a verifier needs to fetch the log entry and compare the
//! hash of the embedded JSON. Error correction M: a printed and re-photographed page survives a
//! crease or a stamp over up to 15 % of the code.

use qrcode::{Color, EcLevel, QrCode};
use truongso_core::credentials::record::valid_doc_id;

/// The text of the QR code. `base` must carry no query or fragment (the renderer refuses one).
pub fn qr_payload(base: &str, doc_id: &str, sha256_hex: &str) -> String {
    format!("{base}?doc={doc_id}&h={sha256_hex}")
}

/// The document id and hash from a QR payload, or `None` unless the query is exactly `doc` and
/// `h` (in either order, each once) with a well-formed id and 64 lowercase hex digits.
pub fn parse_qr_payload(payload: &str) -> Option<(String, String)> {
    let (base, query) = payload.split_once('?')?;
    if base.is_empty() || query.contains(['#', '?']) {
        return None;
    }
    let mut doc = None;
    let mut hash = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=')?;
        let slot = match key {
            "doc" => &mut doc,
            "h" => &mut hash,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let (doc, hash) = (doc?, hash?);
    let hex_ok = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (valid_doc_id(doc) && hex_ok).then(|| (doc.to_string(), hash.to_string()))
}

/// A base URL fit to prefix the query: absolute http(s), no query, no fragment, no spaces.
pub(crate) fn valid_base_url(base: &str) -> bool {
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty())
        && !base.contains(['?', '#', '&'])
        && base.bytes().all(|b| b.is_ascii_graphic())
}

/// A horizontal run of dark modules: row, first column, length.
pub(crate) type Run = (usize, usize, usize);

/// The dark modules of the code as horizontal runs, and the width in modules (without quiet
/// zone). Runs rather than single modules keep the content stream small and leave no hairline
/// seams between neighbouring squares in rasterisers.
pub(crate) fn dark_runs(payload: &str) -> Result<(usize, Vec<Run>), String> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| e.to_string())?;
    let width = code.width();
    let colors = code.to_colors();
    let mut runs = Vec::new();
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if colors[row * width + col] == Color::Dark {
                let start = col;
                while col < width && colors[row * width + col] == Color::Dark {
                    col += 1;
                }
                runs.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    Ok((width, runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "HB-041061050R3GG28A";
    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn payload_round_trips() {
        let p = qr_payload("https://truongso.example/xac-minh", ID, H);
        assert_eq!(p, format!("https://truongso.example/xac-minh?doc={ID}&h={H}"));
        assert_eq!(parse_qr_payload(&p), Some((ID.to_string(), H.to_string())));
        let swapped = format!("https://x.example/v?h={H}&doc={ID}");
        assert_eq!(parse_qr_payload(&swapped), Some((ID.to_string(), H.to_string())));
    }

    #[test]
    fn payload_parsing_is_strict() {
        let upper = H.to_uppercase();
        let short = &H[..63];
        for bad in [
            format!("https://x.example/v?doc={ID}"),
            format!("https://x.example/v?doc={ID}&h={upper}"),
            format!("https://x.example/v?doc={ID}&h={short}"),
            format!("https://x.example/v?doc={ID}&h={H}&x=1"),
            format!("https://x.example/v?doc={ID}&doc={ID}&h={H}"),
            format!("https://x.example/v?doc=HB-041061050R3GG28I&h={H}"),
            format!("https://x.example/v?doc={ID}&h={H}#frag"),
            format!("https://x.example/v?doc={ID}&h"),
            format!("?doc={ID}&h={H}"),
            format!("https://x.example/v#doc={ID}&h={H}"),
        ] {
            assert_eq!(parse_qr_payload(&bad), None, "{bad}");
        }
    }

    #[test]
    fn base_urls() {
        assert!(valid_base_url("https://truongso.example/xac-minh"));
        assert!(valid_base_url("http://localhost:8080/v"));
        assert!(!valid_base_url("https://x.example/v?a=1"));
        assert!(!valid_base_url("https://x.example/v#f"));
        assert!(!valid_base_url("ftp://x.example/v"));
        assert!(!valid_base_url("https://"));
        assert!(!valid_base_url("https://x.example/a b"));
    }

    #[test]
    fn runs_cover_the_finder_patterns() {
        let (width, runs) = dark_runs(&qr_payload("https://truongso.example/xac-minh", ID, H)).unwrap();
        // 124 bytes: too many for version 7-M in byte mode (122), but the encoder's mixed
        // segments (digit runs of the hash in numeric mode) bring it to version 7, 45 modules.
        assert_eq!(width, 45);
        // Top-left finder pattern: row 0 starts with a run of 7 dark modules.
        assert_eq!(runs[0], (0, 0, 7));
    }
}
