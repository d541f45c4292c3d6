//! PAdES B-B signatures (`/SubFilter /ETSI.CAdES.detached`), each in its own incremental update,
//! so a học bạ can be signed by the GVCN, then the Hiệu trưởng, then the school's organisation
//! certificate without invalidating the earlier signatures.
//!
//! Signing is split in two so that any backend can produce the signature value, at once or much
//! later: [`prepare`] writes the update with a zero-filled `/Contents` placeholder, fixes the
//! `/ByteRange`, and builds the CMS signed attributes; [`Prepared::digest_to_sign`] is what the
//! key signs; [`Prepared::finish`] assembles the CMS `SignedData` around the signature value and
//! writes it into the placeholder. [`sign`] does the three steps with a [`Signer`].
//!
//! The CMS is assembled from the `cms` crate's types (its builder signs synchronously inside
//! itself, which a remote approval flow cannot do). Signed attributes: content-type,
//! message-digest and ESS signing-certificate-v2; no signing-time attribute, as PAdES baseline
//! puts the claimed time in the signature dictionary's `/M`.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, FixedOffset, Utc};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo,
    SignerInfos,
};
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
};
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, StringFormat};
use serde::{Deserialize, Serialize};
use sha2_legacy::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use super::signer::{SignatureAlgorithm, Signer, SignerError, verify_digest_signature};

/// Default room for the CMS: enough for a chain of three RSA-4096 certificates, and later a
/// timestamp token (B-T), which Vietnamese CA chains need.
pub const DEFAULT_CONTENTS_RESERVE: usize = 16 * 1024;

/// The `/ByteRange` written first, wide enough (10 digits) for any real offset, then overwritten
/// in place and padded with spaces, so no offset in the file moves.
const BYTE_RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Vietnam's offset (no daylight saving): `/M` shows the local time the signer saw.
const VIETNAM_OFFSET_SECONDS: i32 = 7 * 3600;

/// The signature field a signature goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureField {
    /// The field's name, e.g. `GVCN`, `HieuTruong`, `ConDau`: unique in the document, no `.`.
    pub name: String,
    /// Why the document is signed (Vietnamese text is fine; written as UTF-16BE).
    pub reason: Option<String>,
    /// Where it was signed, e.g. `Hà Nội`.
    pub location: Option<String>,
    /// The claimed signing time, written to `/M` with the Vietnam offset.
    pub signing_time: DateTime<Utc>,
    /// Bytes reserved for the CMS in `/Contents` (the hex string is twice as long).
    pub contents_reserve: usize,
}

impl SignatureField {
    /// A field with no reason or location and the default reserve.
    pub fn new(name: impl Into<String>, signing_time: DateTime<Utc>) -> Self {
        Self {
            name: name.into(),
            reason: None,
            location: None,
            signing_time,
            contents_reserve: DEFAULT_CONTENTS_RESERVE,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn with_contents_reserve(mut self, bytes: usize) -> Self {
        self.contents_reserve = bytes;
        self
    }
}

/// A PDF with its signature update written and the signature value still missing.
#[derive(Debug, Clone)]
pub struct Prepared {
    pdf: Vec<u8>,
    /// Offset of the first hex digit inside `/Contents <…>`.
    contents_start: usize,
    contents_reserve: usize,
    byte_range: [usize; 4],
    document_digest: [u8; 32],
    signed_attributes: SignedAttributes,
    signed_attributes_der: Vec<u8>,
    digest_to_sign: [u8; 32],
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
}

impl Prepared {
    /// SHA-256 of the DER of the signed attributes: what the key signs.
    pub fn digest_to_sign(&self) -> [u8; 32] {
        self.digest_to_sign
    }

    /// The DER (`SET OF Attribute`) whose hash is [`Self::digest_to_sign`], for services that
    /// want the to-be-signed bytes rather than the hash.
    pub fn signed_attributes_der(&self) -> &[u8] {
        &self.signed_attributes_der
    }

    /// SHA-256 of the bytes the signature covers (the message-digest attribute).
    pub fn document_digest(&self) -> [u8; 32] {
        self.document_digest
    }

    /// `[0, a, b, c]`: bytes `0..a` and `b..b+c` are signed; `a..b` is the `/Contents` string.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The signer certificate and the rest of the chain that goes into the CMS.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// Serialises the prepared state so the signature can be finished by another process much
    /// later (a signing job waiting for a remote approval, surviving a restart).
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = StoredPrepared {
            version: STORED_VERSION,
            algorithm: self.algorithm.as_str().to_owned(),
            contents_start: self.contents_start,
            contents_reserve: self.contents_reserve,
            byte_range: self.byte_range,
            signed_attributes: B64.encode(&self.signed_attributes_der),
            chain: self
                .chain
                .iter()
                .map(|c| B64.encode(c.to_der().expect("parsed certificates encode")))
                .collect(),
            pdf: B64.encode(&self.pdf),
        };
        serde_json::to_vec(&stored).expect("plain data serialises")
    }

    /// Reads what [`Self::to_bytes`] wrote, checking that it is consistent: the signed
    /// attributes still bind this PDF's byte range and the placeholder is still empty.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PadesError> {
        let bad = |what: &str| PadesError::StoredState(what.to_owned());
        let stored: StoredPrepared = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
        if stored.version != STORED_VERSION {
            return Err(bad("unknown version"));
        }
        let decode = |b64: &str| B64.decode(b64).map_err(|_| bad("base64"));
        let pdf = decode(&stored.pdf)?;
        let signed_attributes_der = decode(&stored.signed_attributes)?;
        let chain = stored
            .chain
            .iter()
            .map(|c| Certificate::from_der(&decode(c)?).map_err(|_| bad("certificate")))
            .collect::<Result<Vec<_>, _>>()?;
        let algorithm: SignatureAlgorithm = stored.algorithm.parse().map_err(|_| bad("algorithm"))?;
        let signer = chain.first().ok_or(PadesError::EmptyChain)?;
        if SignatureAlgorithm::for_certificate(signer)? != algorithm {
            return Err(PadesError::AlgorithmMismatch);
        }
        let [start, first_len, second_start, second_len] = stored.byte_range;
        let hex_len = 2 * stored.contents_reserve;
        let consistent = start == 0
            && stored.contents_start == first_len + 1
            && second_start == stored.contents_start + hex_len + 1
            && second_start.checked_add(second_len) == Some(pdf.len())
            && pdf.get(first_len) == Some(&b'<')
            && pdf.get(second_start - 1) == Some(&b'>')
            && pdf[stored.contents_start..second_start - 1]
                .iter()
                .all(|&b| b == b'0');
        if !consistent {
            return Err(bad("byte range and placeholder do not match the PDF"));
        }
        let mut hasher = Sha256::new();
        hasher.update(&pdf[..first_len]);
        hasher.update(&pdf[second_start..]);
        let document_digest: [u8; 32] = hasher.finalize().into();
        let signed_attributes = SignedAttributes::from_der(&signed_attributes_der)?;
        if signed_attributes != self::signed_attributes(signer, &document_digest)? {
            return Err(bad("the signed attributes do not bind this PDF and signer"));
        }
        Ok(Self {
            digest_to_sign: Sha256::digest(&signed_attributes_der).into(),
            pdf,
            contents_start: stored.contents_start,
            contents_reserve: stored.contents_reserve,
            byte_range: stored.byte_range,
            document_digest,
            signed_attributes,
            signed_attributes_der,
            chain,
            algorithm,
        })
    }

    /// Writes the CMS with `signature` (PKCS#1 v1.5 bytes or a DER ECDSA-Sig-Value over
    /// [`Self::digest_to_sign`]) into the placeholder and returns the signed PDF.
    ///
    /// The value is checked against the signer certificate first, so a wrong key or a corrupted
    /// answer from a remote service fails here rather than in a verifier's hands.
    pub fn finish(&self, signature: &[u8]) -> Result<Vec<u8>, PadesError> {
        verify_digest_signature(&self.chain[0], self.algorithm, &self.digest_to_sign, signature).map_err(
            |e| match e {
                SignerError::SignatureMismatch => PadesError::InvalidSignature,
                other => PadesError::Signer(other),
            },
        )?;
        let cms = build_cms(&self.chain, self.algorithm, &self.signed_attributes, signature)?;
        if cms.len() > self.contents_reserve {
            return Err(PadesError::ReserveTooSmall {
                needed: cms.len(),
                reserve: self.contents_reserve,
            });
        }
        let mut pdf = self.pdf.clone();
        let hex = hex::encode_upper(&cms);
        pdf[self.contents_start..self.contents_start + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(pdf)
    }
}

const STORED_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StoredPrepared {
    version: u32,
    algorithm: String,
    contents_start: usize,
    contents_reserve: usize,
    byte_range: [usize; 4],
    signed_attributes: String,
    chain: Vec<String>,
    pdf: String,
}

/// Signs `pdf` in one go with `signer` (see [`prepare`] for the checks made).
pub fn sign(pdf: &[u8], field: &SignatureField, signer: &dyn Signer) -> Result<Vec<u8>, PadesError> {
    let prepared = prepare(pdf, field, signer.chain(), signer.algorithm())?;
    let signature = signer.sign_digest(&prepared.digest_to_sign())?;
    prepared.finish(&signature)
}

/// Appends an incremental update with a new, invisible signature field and its placeholder
/// signature dictionary, and computes what must be signed.
///
/// Refuses input that is not a PDF, is encrypted, already has a field called `field.name`,
/// or whose CMS could not fit `field.contents_reserve` (checked with the largest signature the
/// key can produce, before anyone is asked to sign).
pub fn prepare(
    pdf: &[u8],
    field: &SignatureField,
    chain: &[Certificate],
    algorithm: SignatureAlgorithm,
) -> Result<Prepared, PadesError> {
    if field.name.is_empty() || field.name.contains('.') || field.name.chars().any(char::is_control) {
        return Err(PadesError::InvalidFieldName(field.name.clone()));
    }
    let signer_certificate = chain.first().ok_or(PadesError::EmptyChain)?;
    if SignatureAlgorithm::for_certificate(signer_certificate)? != algorithm {
        return Err(PadesError::AlgorithmMismatch);
    }
    let chain = chain.to_vec();

    // ISO 32000 lets the header sit anywhere in the first 1024 bytes.
    if !pdf[..pdf.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(PadesError::NotPdf);
    }
    let document = Document::load_mem(pdf).map_err(|e| {
        if contains(pdf, b"/Encrypt") {
            PadesError::Encrypted
        } else {
            PadesError::Malformed(e.to_string())
        }
    })?;
    if document.is_encrypted() || document.was_encrypted() {
        return Err(PadesError::Encrypted);
    }
    if field_names(&document).contains(&field.name) {
        return Err(PadesError::DuplicateField(field.name.clone()));
    }
    let page_id = *document.get_pages().values().next().ok_or(PadesError::NoPages)?;
    let catalog_id = document
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|e| PadesError::Malformed(format!("trailer /Root: {e}")))?;

    // Fail before the holder is asked to approve anything.
    let max_signature = vec![0xff; algorithm.max_signature_len(signer_certificate)?];
    let estimate = build_cms(
        &chain,
        algorithm,
        &signed_attributes(signer_certificate, &[0; 32])?,
        &max_signature,
    )?;
    if estimate.len() > field.contents_reserve {
        return Err(PadesError::ReserveTooSmall {
            needed: estimate.len(),
            reserve: field.contents_reserve,
        });
    }

    let mut update = IncrementalDocument::create_from(pdf.to_vec(), document);
    let mut signature = Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    signature.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
        ]),
    );
    signature.set(
        "Contents",
        Object::String(vec![0; field.contents_reserve], StringFormat::Hexadecimal),
    );
    signature.set("M", Object::string_literal(pdf_date(field.signing_time)));
    if let Some(reason) = &field.reason {
        signature.set("Reason", text_string(reason));
    }
    if let Some(location) = &field.location {
        signature.set("Location", text_string(location));
    }
    let signature_id = update.new_document.add_object(Object::Dictionary(signature));

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    // Invisible: a zero rectangle needs no appearance stream, also under PDF/A.
    widget.set(
        "Rect",
        Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
    );
    widget.set("V", Object::Reference(signature_id));
    widget.set("T", text_string(&field.name));
    // Print (4) + Locked (128): PDF/A requires Print; Locked keeps viewers from moving it.
    widget.set("F", Object::Integer(132));
    widget.set("P", Object::Reference(page_id));
    let widget_id = update.new_document.add_object(Object::Dictionary(widget));

    add_to_acroform(&mut update, catalog_id, widget_id)?;
    add_annotation(&mut update, page_id, widget_id)?;

    let mut out = Vec::with_capacity(pdf.len() + 2 * field.contents_reserve + 4096);
    update
        .save_to(&mut out)
        .map_err(|e| PadesError::Malformed(format!("writing the update: {e}")))?;

    // Only the appended update is searched: the earlier revisions hold other signatures'
    // placeholders. The zero-filled hex string of exactly this length is the signature's own.
    let update_start = pdf.len();
    let hex_len = 2 * field.contents_reserve;
    let open = find_placeholder(&out, update_start, hex_len)
        .ok_or_else(|| PadesError::Malformed("placeholder /Contents not written".into()))?;
    let close = open + 1 + hex_len;
    let byte_range = [0, open, close + 1, out.len() - (close + 1)];
    let range_key = find(&out, b"/ByteRange", update_start)
        .ok_or_else(|| PadesError::Malformed("placeholder /ByteRange not written".into()))?;
    let range_open = find(&out, b"[", range_key).expect("array follows /ByteRange");
    let range_close = find(&out, b"]", range_open).expect("array is closed");
    let mut patched = format!(
        "[{} {} {} {}",
        byte_range[0], byte_range[1], byte_range[2], byte_range[3]
    )
    .into_bytes();
    let width = range_close - range_open;
    if patched.len() > width {
        return Err(PadesError::Malformed(
            "document too large for the /ByteRange placeholder".into(),
        ));
    }
    patched.resize(width, b' ');
    out[range_open..range_close].copy_from_slice(&patched);

    let mut hasher = Sha256::new();
    hasher.update(&out[..byte_range[1]]);
    hasher.update(&out[byte_range[2]..]);
    let document_digest: [u8; 32] = hasher.finalize().into();

    let attributes = signed_attributes(signer_certificate, &document_digest)?;
    let signed_attributes_der = attributes.to_der()?;
    let digest_to_sign: [u8; 32] = Sha256::digest(&signed_attributes_der).into();

    Ok(Prepared {
        pdf: out,
        contents_start: open + 1,
        contents_reserve: field.contents_reserve,
        byte_range,
        document_digest,
        signed_attributes: attributes,
        signed_attributes_der,
        digest_to_sign,
        chain,
        algorithm,
    })
}

/// content-type, message-digest, ESS signing-certificate-v2 (binds the signer certificate).
fn signed_attributes(
    signer: &Certificate,
    document_digest: &[u8; 32],
) -> Result<SignedAttributes, PadesError> {
    let certificate_hash = Sha256::digest(signer.to_der()?);
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }, and
    // ESSCertIDv2 ::= SEQUENCE { certHash OCTET STRING } (hashAlgorithm defaults to SHA-256, no
    // issuerSerial): three nested sequences around the hash.
    let signing_certificate = vec![vec![vec![OctetString::new(certificate_hash.as_slice())?]]];
    let attribute = |oid, value: Any| -> Result<Attribute, PadesError> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value])?,
        })
    };
    Ok(SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(document_digest.as_slice())?)?,
        )?,
        attribute(
            ID_AA_SIGNING_CERTIFICATE_V_2,
            Any::encode_from(&signing_certificate)?,
        )?,
    ])?)
}

fn build_cms(
    chain: &[Certificate],
    algorithm: SignatureAlgorithm,
    signed_attributes: &SignedAttributes,
    signature: &[u8],
) -> Result<Vec<u8>, PadesError> {
    let signer = &chain[0];
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        // Version 1 goes with an IssuerAndSerialNumber signer identifier (RFC 5652 §5.3).
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attributes.clone()),
        signature_algorithm: algorithm.signature_algorithm_identifier(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut certificates = Vec::new();
    for certificate in chain {
        let choice = CertificateChoices::Certificate(certificate.clone());
        if !certificates.contains(&choice) {
            certificates.push(choice);
        }
    }
    let signed_data = SignedData {
        // Version 1: id-data content, no attribute certificates, version-1 signer infos.
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let content_info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(content_info.to_der()?)
}

fn add_to_acroform(
    update: &mut IncrementalDocument,
    catalog_id: ObjectId,
    widget_id: ObjectId,
) -> Result<(), PadesError> {
    let malformed = |what: &str| PadesError::Malformed(format!("/AcroForm: {what}"));
    let acroform = update
        .get_prev_documents()
        .get_dictionary(catalog_id)?
        .get(b"AcroForm")
        .ok()
        .cloned();
    match acroform {
        Some(Object::Reference(acroform_id)) => {
            // Only the AcroForm object changes; the catalog stays as it was.
            update.opt_clone_object_to_new_document(acroform_id)?;
            let fields = update
                .new_document
                .get_dictionary(acroform_id)?
                .get(b"Fields")
                .ok()
                .cloned();
            if let Some(Object::Reference(fields_id)) = fields {
                update.opt_clone_object_to_new_document(fields_id)?;
                match update.new_document.get_object_mut(fields_id)? {
                    Object::Array(fields) => fields.push(Object::Reference(widget_id)),
                    _ => return Err(malformed("/Fields is not an array")),
                }
            }
            let form = update.new_document.get_dictionary_mut(acroform_id)?;
            extend_form(form, widget_id).ok_or_else(|| malformed("/Fields is not an array"))?;
        }
        Some(Object::Dictionary(form)) => {
            if let Ok(Object::Reference(fields_id)) = form.get(b"Fields") {
                update.opt_clone_object_to_new_document(*fields_id)?;
                match update.new_document.get_object_mut(*fields_id)? {
                    Object::Array(fields) => fields.push(Object::Reference(widget_id)),
                    _ => return Err(malformed("/Fields is not an array")),
                }
            }
            update.opt_clone_object_to_new_document(catalog_id)?;
            let catalog = update.new_document.get_dictionary_mut(catalog_id)?;
            let form = catalog.get_mut(b"AcroForm")?.as_dict_mut()?;
            extend_form(form, widget_id).ok_or_else(|| malformed("/Fields is not an array"))?;
        }
        Some(_) => return Err(malformed("not a dictionary")),
        None => {
            let mut form = Dictionary::new();
            form.set("Fields", Object::Array(vec![Object::Reference(widget_id)]));
            form.set("SigFlags", Object::Integer(3));
            let form_id = update.new_document.add_object(Object::Dictionary(form));
            update.opt_clone_object_to_new_document(catalog_id)?;
            update
                .new_document
                .get_dictionary_mut(catalog_id)?
                .set("AcroForm", Object::Reference(form_id));
        }
    }
    Ok(())
}

/// Adds the widget to an AcroForm whose `/Fields` is direct (or was already extended through
/// its own object) and sets SigFlags 3 (SignaturesExist | AppendOnly).
fn extend_form(form: &mut Dictionary, widget_id: ObjectId) -> Option<()> {
    match form.get_mut(b"Fields") {
        Ok(Object::Array(fields)) => fields.push(Object::Reference(widget_id)),
        Ok(Object::Reference(_)) => {}
        Ok(_) => return None,
        Err(_) => form.set("Fields", Object::Array(vec![Object::Reference(widget_id)])),
    }
    form.set("SigFlags", Object::Integer(3));
    // PDF/A forbids NeedAppearances true, and signature fields never need it.
    form.remove(b"NeedAppearances");
    Some(())
}

fn add_annotation(
    update: &mut IncrementalDocument,
    page_id: ObjectId,
    widget_id: ObjectId,
) -> Result<(), PadesError> {
    let annots = update
        .get_prev_documents()
        .get_dictionary(page_id)?
        .get(b"Annots")
        .ok()
        .cloned();
    match annots {
        Some(Object::Reference(annots_id)) => {
            update.opt_clone_object_to_new_document(annots_id)?;
            match update.new_document.get_object_mut(annots_id)? {
                Object::Array(annots) => annots.push(Object::Reference(widget_id)),
                _ => return Err(PadesError::Malformed("page /Annots is not an array".into())),
            }
        }
        Some(Object::Array(mut annots)) => {
            annots.push(Object::Reference(widget_id));
            update.opt_clone_object_to_new_document(page_id)?;
            update
                .new_document
                .get_dictionary_mut(page_id)?
                .set("Annots", Object::Array(annots));
        }
        Some(_) => return Err(PadesError::Malformed("page /Annots is not an array".into())),
        None => {
            update.opt_clone_object_to_new_document(page_id)?;
            update
                .new_document
                .get_dictionary_mut(page_id)?
                .set("Annots", Object::Array(vec![Object::Reference(widget_id)]));
        }
    }
    Ok(())
}

/// Fully qualified names of all form fields (`parent.child`).
pub fn field_names(document: &Document) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let fields = document
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| document.dereference(f).ok())
        .and_then(|(_, f)| f.as_dict().ok())
        .and_then(|f| f.get(b"Fields").ok())
        .and_then(|f| document.dereference(f).ok())
        .and_then(|(_, f)| f.as_array().ok());
    if let Some(fields) = fields {
        for field in fields {
            collect_field_names(document, field, None, &mut names, 0);
        }
    }
    names
}

fn collect_field_names(
    document: &Document,
    field: &Object,
    parent: Option<&str>,
    names: &mut BTreeSet<String>,
    depth: usize,
) {
    // A cyclic /Kids chain in a hostile file must not recurse forever.
    if depth > 32 {
        return;
    }
    let Some(dict) = document
        .dereference(field)
        .ok()
        .and_then(|(_, f)| f.as_dict().ok())
    else {
        return;
    };
    let own = dict
        .get(b"T")
        .ok()
        .and_then(|t| t.as_str().ok())
        .map(decode_text_string);
    let name = match (parent, own) {
        (Some(p), Some(o)) => Some(format!("{p}.{o}")),
        (None, Some(o)) => Some(o),
        (p, None) => p.map(str::to_owned),
    };
    if let Some(name) = &name {
        names.insert(name.clone());
    }
    if let Ok(kids) = dict
        .get(b"Kids")
        .and_then(|k| document.dereference(k))
        .and_then(|(_, k)| k.as_array())
    {
        for kid in kids {
            collect_field_names(document, kid, name.as_deref(), names, depth + 1);
        }
    }
}

/// A PDF text string: plain ASCII stays a literal, anything else is UTF-16BE with a BOM.
fn text_string(text: &str) -> Object {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        // PDFDocEncoding agrees with Latin-1 on every byte a field name realistically uses.
        bytes.iter().map(|&b| b as char).collect()
    }
}

/// `D:YYYYMMDDHHmmSS+07'00'`.
fn pdf_date(time: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(VIETNAM_OFFSET_SECONDS).expect("valid offset");
    time.with_timezone(&offset)
        .format("D:%Y%m%d%H%M%S+07'00'")
        .to_string()
}

/// Offset of the `<` of a hex string made of exactly `hex_len` zeros.
fn find_placeholder(haystack: &[u8], from: usize, hex_len: usize) -> Option<usize> {
    let mut at = from;
    while let Some(open) = find(haystack, b"<", at) {
        let close = open + 1 + hex_len;
        if haystack.get(close) == Some(&b'>') && haystack[open + 1..close].iter().all(|&b| b == b'0') {
            return Some(open);
        }
        at = open + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

/// Why a PDF could not be signed. [`PadesError::code`] is the stable key the web layer maps to
/// a message.
#[derive(Debug, thiserror::Error)]
pub enum PadesError {
    #[error("not a PDF file")]
    NotPdf,
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF cannot be processed: {0}")]
    Malformed(String),
    #[error("the PDF has no pages")]
    NoPages,
    #[error("invalid signature field name {0:?}")]
    InvalidFieldName(String),
    #[error("the PDF already has a field named {0:?}")]
    DuplicateField(String),
    #[error("no signer certificate")]
    EmptyChain,
    #[error("the signature algorithm does not match the signer certificate's key")]
    AlgorithmMismatch,
    #[error("the signature needs {needed} bytes but only {reserve} are reserved")]
    ReserveTooSmall { needed: usize, reserve: usize },
    #[error("the signature value does not match the signer certificate and the document")]
    InvalidSignature,
    #[error("CMS encoding: {0}")]
    Encoding(String),
    #[error("stored signing state is unusable: {0}")]
    StoredState(String),
    #[error(transparent)]
    Signer(#[from] SignerError),
}

impl PadesError {
    /// A stable machine code, e.g. `pades.duplicate_field`; signer failures keep their own
    /// `signer.*` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPdf => "pades.not_pdf",
            Self::Encrypted => "pades.encrypted",
            Self::Malformed(_) => "pades.malformed",
            Self::NoPages => "pades.no_pages",
            Self::InvalidFieldName(_) => "pades.invalid_field_name",
            Self::DuplicateField(_) => "pades.duplicate_field",
            Self::EmptyChain => "pades.empty_chain",
            Self::AlgorithmMismatch => "pades.algorithm_mismatch",
            Self::ReserveTooSmall { .. } => "pades.reserve_too_small",
            Self::InvalidSignature => "pades.invalid_signature",
            Self::Encoding(_) => "pades.encoding",
            Self::StoredState(_) => "pades.stored_state",
            Self::Signer(e) => e.code(),
        }
    }
}

impl From<der::Error> for PadesError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}

impl From<lopdf::Error> for PadesError {
    fn from(e: lopdf::Error) -> Self {
        Self::Malformed(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_date_uses_vietnam_offset() {
        let time = DateTime::parse_from_rfc3339("2026-11-23T20:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(pdf_date(time), "D:20261124033005+07'00'");
    }

    #[test]
    fn text_strings_round_trip() {
        assert_eq!(
            text_string("GVCN"),
            Object::String(b"GVCN".to_vec(), StringFormat::Literal)
        );
        let Object::String(bytes, StringFormat::Hexadecimal) = text_string("Hiệu trưởng") else {
            panic!("non-ASCII must be a hex UTF-16BE string");
        };
        assert_eq!(&bytes[..4], &[0xfe, 0xff, 0x00, b'H']);
        assert_eq!(decode_text_string(&bytes), "Hiệu trưởng");
    }
}
