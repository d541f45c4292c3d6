//! Canonical bytes of a record: every string (keys included) in Unicode NFC, then RFC 8785 (JCS).
//!
//! NFC first because Vietnamese text arrives both precomposed and decomposed ("Unicode dựng sẵn"
//! and "tổ hợp") and the two render alike but hash differently. Records hold no floating-point
//! numbers (marks are strings such as "7.7"), so JCS number formatting never comes into play;
//! a float is refused rather than trusted to serialise identically everywhere.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("floating-point number at {0}")]
    Float(String),
    #[error("the document is not in canonical form")]
    NotCanonical,
}

impl CanonicalError {
    pub fn code(&self) -> &'static str {
        match self {
            CanonicalError::NotJson(_) => "not_json",
            CanonicalError::Float(_) => "float",
            CanonicalError::NotCanonical => "not_canonical",
        }
    }
}

/// Canonical bytes of any serialisable record.
pub fn canonical_bytes<T: Serialize>(record: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(record).map_err(|e| CanonicalError::NotJson(e.to_string()))?;
    to_jcs(normalise(value, "$")?)
}

/// Canonical bytes of a JSON document given as bytes (whatever its key order or normalisation).
pub fn canonicalise(bytes: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| CanonicalError::NotJson(e.to_string()))?;
    to_jcs(normalise(value, "$")?)
}

/// The bytes unchanged when they already are canonical; a verifier refuses anything else, so that
/// one record has exactly one byte form and one hash.
pub fn require_canonical(bytes: &[u8]) -> Result<&[u8], CanonicalError> {
    if canonicalise(bytes)? == bytes {
        Ok(bytes)
    } else {
        Err(CanonicalError::NotCanonical)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn to_jcs(value: Value) -> Result<Vec<u8>, CanonicalError> {
    serde_jcs::to_vec(&value).map_err(|e| CanonicalError::NotJson(e.to_string()))
}

fn normalise(value: Value, path: &str) -> Result<Value, CanonicalError> {
    Ok(match value {
        Value::String(s) => Value::String(s.nfc().collect()),
        Value::Number(n) if n.is_f64() => return Err(CanonicalError::Float(path.to_string())),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| normalise(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key: String = k.nfc().collect();
                let v = normalise(v, &format!("{path}.{key}"))?;
                out.insert(key, v);
            }
            Value::Object(out)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_no_whitespace_and_nfc() {
        // "Nguyễn" decomposed: e + circumflex + tilde.
        let decomposed = "Nguye\u{0302}\u{0303}n";
        let doc = json!({"b": 1, "a": decomposed, "c": {"z": true, "y": null}});
        let bytes = canonical_bytes(&doc).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"a":"Nguyễn","b":1,"c":{"y":null,"z":true}}"#
        );
    }

    #[test]
    fn composed_and_decomposed_hash_alike() {
        let a = canonical_bytes(&json!({"ten": "Trần Thị Ánh"})).unwrap();
        let b = canonical_bytes(&json!({"ten": "Tra\u{0302}\u{0300}n Thi\u{0323} A\u{0301}nh"})).unwrap();
        assert_eq!(a, b);
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
    }

    #[test]
    fn rfc8785_escapes_and_key_order_by_utf16() {
        // RFC 8785 §3.2.3 sorts by UTF-16 code units; control characters are escaped as \u00XX
        // except the short forms. (U+FB01 rather than the RFC's U+FB33, which NFC rewrites.)
        let doc = json!({"\u{20ac}": 1, "\r": 2, "1": 3, "\u{10000}": 4, "\u{fb01}": 5});
        let text = String::from_utf8(canonical_bytes(&doc).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"\\r\":2,\"1\":3,\"\u{20ac}\":1,\"\u{10000}\":4,\"\u{fb01}\":5}"
        );
        let text = String::from_utf8(canonical_bytes(&json!({"s": "a\u{1}\"\\\n"})).unwrap()).unwrap();
        assert_eq!(text, r#"{"s":"a\u0001\"\\\n"}"#);
    }

    #[test]
    fn floats_refused_with_their_path() {
        let err = canonical_bytes(&json!({"marks": [{"v": 7.5}]})).unwrap_err();
        assert_eq!(err, CanonicalError::Float("$.marks[0].v".into()));
    }

    #[test]
    fn require_canonical_accepts_only_the_one_form() {
        let good = canonical_bytes(&json!({"a": 1, "b": "x"})).unwrap();
        assert!(require_canonical(&good).is_ok());
        assert_eq!(
            require_canonical(br#"{"b":"x","a":1}"#),
            Err(CanonicalError::NotCanonical)
        );
        assert_eq!(
            require_canonical(br#"{"a": 1,"b":"x"}"#),
            Err(CanonicalError::NotCanonical)
        );
        assert!(matches!(
            require_canonical(b"{nope"),
            Err(CanonicalError::NotJson(_))
        ));
    }
}
