//! The object-level view of one revision, through lopdf: signature dictionaries and the fields
//! that hold them, text strings and dates, and the embedded files.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use sha2_legacy::{Digest, Sha256};

use super::{EmbeddedFile, EmbeddedFileProblem};

/// How deep nested direct objects, field parents and name trees are followed.
const MAX_DEPTH: usize = 16;

/// The result of loading one revision (a prefix of the file, or the whole file).
pub(super) enum Loaded {
    Ok(Box<Document>),
    /// Encrypted with a password we do not have.
    Locked,
    Failed(String),
}

impl Loaded {
    pub(super) fn error(&self) -> Option<&str> {
        match self {
            Loaded::Ok(_) => None,
            Loaded::Locked => Some("encrypted"),
            Loaded::Failed(e) => Some(e),
        }
    }

    pub(super) fn doc(&self) -> Option<&Document> {
        match self {
            Loaded::Ok(doc) => Some(doc),
            Loaded::Locked | Loaded::Failed(_) => None,
        }
    }

    /// Whether the revision loaded from its cross-reference data as written.
    pub(super) fn intact(&self) -> bool {
        matches!(self, Loaded::Ok(doc) if doc.xref_recovery.is_none())
    }
}

/// Loads `bytes` with stream decompression bounded by `max_stream`. lopdf is a general parser
/// and this input is hostile, so a panic inside it is contained and reported like any other
/// parse failure.
pub(super) fn load(bytes: &[u8], max_stream: usize) -> Loaded {
    let options = LoadOptions {
        max_decompressed_size: Some(max_stream),
        ..Default::default()
    };
    match catch_unwind(AssertUnwindSafe(|| {
        Document::load_mem_with_options(bytes, options)
    })) {
        Ok(Ok(doc)) => Loaded::Ok(Box::new(doc)),
        Ok(Err(lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword)) => Loaded::Locked,
        Ok(Err(e)) => Loaded::Failed(e.to_string()),
        Err(_) => Loaded::Failed("parser panicked".into()),
    }
}

/// Whether the revision is encrypted, readable (empty user password) or not.
pub(super) fn is_encrypted(loaded: &Loaded) -> bool {
    match loaded {
        Loaded::Ok(doc) => doc.trailer.get(b"Encrypt").is_ok() || doc.encryption_state.is_some(),
        Loaded::Locked => true,
        Loaded::Failed(_) => false,
    }
}

/// A signature dictionary as one revision sees it.
#[derive(Clone, Debug, Default)]
pub(super) struct SigDict {
    pub(super) byte_range: Option<[i64; 4]>,
    pub(super) contents: Option<Vec<u8>>,
    pub(super) filter: Option<String>,
    pub(super) sub_filter: Option<String>,
    pub(super) m: Option<String>,
    pub(super) reason: Option<String>,
    pub(super) location: Option<String>,
    pub(super) contact_info: Option<String>,
    pub(super) name: Option<String>,
    pub(super) field_name: Option<String>,
}

/// Every signature dictionary of the document (dictionaries carrying both `/ByteRange` and
/// `/Contents`, indirect or nested), with the name of the field whose `/V` is it.
pub(super) fn signature_dicts(doc: &Document) -> Vec<SigDict> {
    let mut found: Vec<(Option<ObjectId>, SigDict)> = Vec::new();
    for (id, obj) in &doc.objects {
        collect_sig_dicts(doc, Some(*id), obj, 0, &mut found);
    }
    // Field names: a field's /V names its signature, by reference or directly.
    for obj in doc.objects.values() {
        let Object::Dictionary(field) = obj else { continue };
        let Ok(v) = field.get(b"V") else { continue };
        let target = match v {
            Object::Reference(id) => found.iter_mut().find(|(fid, _)| *fid == Some(*id)),
            Object::Dictionary(d) => {
                let br = byte_range_of(doc, d);
                found
                    .iter_mut()
                    .find(|(fid, s)| fid.is_none() && br.is_some() && s.byte_range == br)
            }
            _ => None,
        };
        if let Some((_, sig)) = target
            && sig.field_name.is_none()
        {
            sig.field_name = field_name(doc, field);
        }
    }
    found.into_iter().map(|(_, s)| s).collect()
}

fn collect_sig_dicts(
    doc: &Document,
    id: Option<ObjectId>,
    obj: &Object,
    depth: usize,
    out: &mut Vec<(Option<ObjectId>, SigDict)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let dict = match obj {
        Object::Dictionary(d) => d,
        Object::Array(items) => {
            for item in items {
                collect_sig_dicts(doc, None, item, depth + 1, out);
            }
            return;
        }
        _ => return,
    };
    if dict.has(b"ByteRange") && dict.has(b"Contents") {
        out.push((id, sig_dict(doc, dict)));
        return;
    }
    for (_, value) in dict.iter() {
        collect_sig_dicts(doc, None, value, depth + 1, out);
    }
}

fn sig_dict(doc: &Document, d: &Dictionary) -> SigDict {
    SigDict {
        byte_range: byte_range_of(doc, d),
        contents: match deref(doc, d.get(b"Contents").ok()) {
            Some(Object::String(bytes, _)) => Some(bytes.clone()),
            _ => None,
        },
        filter: name_of(doc, d, b"Filter"),
        sub_filter: name_of(doc, d, b"SubFilter"),
        m: text_of(doc, d, b"M"),
        reason: text_of(doc, d, b"Reason"),
        location: text_of(doc, d, b"Location"),
        contact_info: text_of(doc, d, b"ContactInfo"),
        name: text_of(doc, d, b"Name"),
        field_name: None,
    }
}

fn byte_range_of(doc: &Document, d: &Dictionary) -> Option<[i64; 4]> {
    let Some(Object::Array(items)) = deref(doc, d.get(b"ByteRange").ok()) else {
        return None;
    };
    if items.len() != 4 {
        return None;
    }
    let mut out = [0i64; 4];
    for (slot, item) in out.iter_mut().zip(items) {
        match deref(doc, Some(item)) {
            Some(Object::Integer(n)) => *slot = *n,
            _ => return None,
        }
    }
    Some(out)
}

/// The fully qualified field name: the `/T` of the field and its parents, joined by dots.
fn field_name(doc: &Document, field: &Dictionary) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = Some(field);
    let mut seen = HashSet::new();
    for _ in 0..MAX_DEPTH {
        let Some(d) = current else { break };
        if let Some(t) = text_of(doc, d, b"T") {
            parts.push(t);
        }
        current = match d.get(b"Parent") {
            Ok(Object::Reference(id)) if seen.insert(*id) => match doc.objects.get(id) {
                Some(Object::Dictionary(p)) => Some(p),
                _ => None,
            },
            _ => None,
        };
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some(parts.join("."))
}

fn deref<'a>(doc: &'a Document, obj: Option<&'a Object>) -> Option<&'a Object> {
    doc.dereference(obj?).ok().map(|(_, o)| o)
}

fn name_of(doc: &Document, d: &Dictionary, key: &[u8]) -> Option<String> {
    match deref(doc, d.get(key).ok()) {
        Some(Object::Name(n)) => Some(String::from_utf8_lossy(n).into_owned()),
        _ => None,
    }
}

fn text_of(doc: &Document, d: &Dictionary, key: &[u8]) -> Option<String> {
    let obj = deref(doc, d.get(key).ok())?;
    match obj {
        Object::String(bytes, _) => Some(
            lopdf::decode_text_string(obj).unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
        ),
        _ => None,
    }
}

/// Parses a PDF date (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, every part after the year
/// optional. A date without a zone is read as UTC, the only choice that does not depend on where
/// the verifier runs.
pub(super) fn parse_pdf_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let mut pos = 4;
    let mut fields = [1u32, 1, 0, 0, 0];
    for f in &mut fields {
        match num(pos, 2) {
            Some(v) => {
                *f = v;
                pos += 2;
            }
            None => break,
        }
    }
    let [month, day, hour, minute, second] = fields;
    let offset_secs = match b.get(pos) {
        None | Some(b'Z') => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let hours = i32::try_from(num(pos + 1, 2)?).ok()?;
            let mut rest = pos + 3;
            if b.get(rest) == Some(&b'\'') {
                rest += 1;
            }
            let minutes = num(rest, 2).map_or(0, |m| i32::try_from(m).unwrap_or(0));
            let total = hours * 3600 + minutes * 60;
            if sign == b'-' { -total } else { total }
        }
        Some(_) => return None,
    };
    let offset = FixedOffset::east_opt(offset_secs)?;
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second.min(59))?;
    offset.from_local_datetime(&naive).single()
}

/// Limits on what embedded-file extraction may decode.
pub(super) struct EmbeddedLimits {
    pub(super) max_file: usize,
    pub(super) max_total: usize,
    pub(super) max_count: usize,
}

/// The embedded files reachable from the catalog's `/AF` array and its `/Names /EmbeddedFiles`
/// tree, each decoded once, with problems for those that cannot be.
pub(super) fn embedded_files(
    doc: &Document,
    limits: &EmbeddedLimits,
) -> (Vec<EmbeddedFile>, Vec<EmbeddedFileProblem>) {
    let mut specs: Vec<Spec<'_>> = Vec::new();
    let Ok(catalog) = doc.catalog() else {
        return (
            vec![],
            vec![EmbeddedFileProblem {
                name: None,
                code: "catalog_unreadable".into(),
            }],
        );
    };
    if let Some(Object::Array(items)) = deref(doc, catalog.get(b"AF").ok()) {
        for item in items {
            if let Some((id, d)) = dict_with_id(doc, item) {
                add_spec(&mut specs, id, d, None, true, false);
            }
        }
    }
    if let Some(Object::Dictionary(names)) = deref(doc, catalog.get(b"Names").ok())
        && let Some(tree) = names.get(b"EmbeddedFiles").ok()
    {
        let mut seen = HashSet::new();
        walk_name_tree(doc, tree, 0, &mut seen, &mut |key, value| {
            if let Some((id, d)) = dict_with_id(doc, value) {
                add_spec(&mut specs, id, d, Some(key), false, true);
            }
        });
    }

    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut total = 0usize;
    for (_, spec, key, in_af, in_names) in specs {
        let name = text_of(doc, spec, b"UF")
            .or_else(|| text_of(doc, spec, b"F"))
            .or(key);
        if files.len() >= limits.max_count {
            problems.push(EmbeddedFileProblem {
                name,
                code: "too_many_files".into(),
            });
            continue;
        }
        let stream = match deref(doc, spec.get(b"EF").ok()) {
            Some(Object::Dictionary(ef)) => {
                match deref(doc, ef.get(b"UF").ok().or_else(|| ef.get(b"F").ok())) {
                    Some(Object::Stream(s)) => s,
                    _ => {
                        problems.push(EmbeddedFileProblem {
                            name,
                            code: "missing_stream".into(),
                        });
                        continue;
                    }
                }
            }
            _ => {
                problems.push(EmbeddedFileProblem {
                    name,
                    code: "missing_stream".into(),
                });
                continue;
            }
        };
        let limit = limits.max_file.min(limits.max_total.saturating_sub(total));
        let data = match catch_unwind(AssertUnwindSafe(|| stream.decompressed_content_with_limit(limit))) {
            Ok(Ok(data)) => data,
            Ok(Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }))) => {
                problems.push(EmbeddedFileProblem {
                    name,
                    code: "too_large".into(),
                });
                continue;
            }
            Ok(Err(_)) | Err(_) => {
                problems.push(EmbeddedFileProblem {
                    name,
                    code: "undecodable".into(),
                });
                continue;
            }
        };
        total += data.len();
        let params = match deref(doc, stream.dict.get(b"Params").ok()) {
            Some(Object::Dictionary(p)) => Some(p),
            _ => None,
        };
        let declared_size = params.and_then(|p| match deref(doc, p.get(b"Size").ok()) {
            Some(Object::Integer(n)) => u64::try_from(*n).ok(),
            _ => None,
        });
        files.push(EmbeddedFile {
            name,
            relationship: name_of(doc, spec, b"AFRelationship"),
            mime_type: name_of(doc, &stream.dict, b"Subtype"),
            description: text_of(doc, spec, b"Desc"),
            in_associated_files: in_af,
            in_name_tree: in_names,
            declared_size,
            sha256_hex: hex::encode(Sha256::digest(&data)),
            data,
        });
    }
    (files, problems)
}

fn dict_with_id<'a>(doc: &'a Document, obj: &'a Object) -> Option<(Option<ObjectId>, &'a Dictionary)> {
    match doc.dereference(obj).ok()? {
        (id, Object::Dictionary(d)) => Some((id, d)),
        _ => None,
    }
}

type Spec<'a> = (Option<ObjectId>, &'a Dictionary, Option<String>, bool, bool);

fn add_spec<'a>(
    specs: &mut Vec<Spec<'a>>,
    id: Option<ObjectId>,
    d: &'a Dictionary,
    key: Option<String>,
    in_af: bool,
    in_names: bool,
) {
    // One file referenced from both /AF and the name tree is one file.
    if let Some(existing) = specs
        .iter_mut()
        .find(|s| (id.is_some() && s.0 == id) || std::ptr::eq(s.1, d))
    {
        existing.3 |= in_af;
        existing.4 |= in_names;
        if existing.2.is_none() {
            existing.2 = key;
        }
        return;
    }
    specs.push((id, d, key, in_af, in_names));
}

fn walk_name_tree<'a>(
    doc: &'a Document,
    node: &'a Object,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    visit: &mut dyn FnMut(String, &'a Object),
) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Object::Reference(id) = node
        && !seen.insert(*id)
    {
        return;
    }
    let Some(Object::Dictionary(d)) = deref(doc, Some(node)) else {
        return;
    };
    if let Some(Object::Array(pairs)) = deref(doc, d.get(b"Names").ok()) {
        for pair in pairs.chunks(2) {
            if let [key, value] = pair {
                let key = match deref(doc, Some(key)) {
                    Some(k @ Object::String(bytes, _)) => lopdf::decode_text_string(k)
                        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
                    _ => continue,
                };
                visit(key, value);
            }
        }
    }
    if let Some(Object::Array(kids)) = deref(doc, d.get(b"Kids").ok()) {
        for kid in kids {
            walk_name_tree(doc, kid, depth + 1, seen, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pdf_date;

    #[test]
    fn pdf_dates() {
        let d = parse_pdf_date("D:20261124043320Z").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-11-24T04:33:20+00:00");
        let d = parse_pdf_date("D:20250102030405+07'00'").unwrap();
        assert_eq!(d.to_rfc3339(), "2025-01-02T03:04:05+07:00");
        let d = parse_pdf_date("D:20250102030405-05'30").unwrap();
        assert_eq!(d.to_rfc3339(), "2025-01-02T03:04:05-05:30");
        assert_eq!(
            parse_pdf_date("D:2025").unwrap().to_rfc3339(),
            "2025-01-01T00:00:00+00:00"
        );
        assert!(parse_pdf_date("D:20251340").is_none());
        assert!(parse_pdf_date("yesterday").is_none());
    }
}
