//! The CMS half of a PDF signature: decode the SignedData found in `/Contents`, check its message
//! digest against the signed byte ranges, verify the signer's signature over the signed attributes
//! and compare the ESS signing-certificate-v2 hash with the signer certificate.
//!
//! The signed attributes and the certificates are sliced from the received bytes (the signature
//! and the ESS hash cover those exact bytes); typed decoding is only used to read values.

use chrono::{DateTime, Utc};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode, Tag, TagNumber};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::{Check, EssCheck, SignatureProblem};
use crate::credentials::trust::{
    HashAlgorithm, VerifyError, combined_signature_algorithm, key_only_signature_algorithm, raw,
    verify_prehashed,
};

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// Everything learnt from one CMS signature.
#[derive(Debug, Default)]
pub(super) struct CmsOutcome {
    /// The signer certificate (DER as embedded), when the CMS names one it also carries.
    pub(super) signer_der: Option<Vec<u8>>,
    /// All certificates embedded in the CMS, DER as embedded.
    pub(super) certificates: Vec<Vec<u8>>,
    pub(super) digest_algorithm: Option<HashAlgorithm>,
    pub(super) digest: Check,
    pub(super) signature: Check,
    pub(super) ess: EssCheck,
    pub(super) signing_time: Option<DateTime<Utc>>,
    pub(super) problems: Vec<SignatureProblem>,
}

struct RawSignedData<'a> {
    certificates: Vec<&'a [u8]>,
    signer_info: &'a [u8],
    signed_attrs: Option<&'a [u8]>,
}

/// Verifies the CMS `contents` (which may carry the zero padding of the `/Contents` placeholder)
/// over the concatenation of `signed_parts`.
pub(super) fn verify(contents: &[u8], signed_parts: &[&[u8]]) -> CmsOutcome {
    let mut out = CmsOutcome::default();
    let raw = match split_signed_data(contents) {
        Ok(raw) => raw,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    out.certificates = raw.certificates.iter().map(|c| c.to_vec()).collect();
    let signer = match SignerInfo::from_der(raw.signer_info) {
        Ok(s) => s,
        Err(e) => {
            out.problems
                .push(SignatureProblem::CmsMalformed(format!("signer info: {e}")));
            return out;
        }
    };

    let signer_der = find_signer_certificate(&signer.sid, &raw.certificates);
    if signer_der.is_none() {
        out.problems.push(SignatureProblem::SignerCertificateMissing);
    }
    out.signer_der = signer_der.map(<[u8]>::to_vec);

    let Some(hash) = HashAlgorithm::from_oid(signer.digest_alg.oid) else {
        out.problems.push(SignatureProblem::UnsupportedAlgorithm(format!(
            "digest {}",
            signer.digest_alg.oid
        )));
        return out;
    };
    out.digest_algorithm = Some(hash);
    let content_digest = hash.digest(signed_parts);

    // What the signature covers: the signed attributes re-tagged as a SET OF (RFC 5652 §5.4), or,
    // without signed attributes, the content itself.
    let to_be_signed_digest = match (&signer.signed_attrs, raw.signed_attrs) {
        (Some(attrs), Some(raw_attrs)) => {
            check_signed_attributes(attrs, &content_digest, &mut out);
            if let Some(cert) = out.signer_der.as_deref() {
                out.ess = check_ess(attrs, cert);
            }
            let mut set = raw_attrs.to_vec();
            set[0] = 0x31;
            hash.digest(&[&set])
        }
        (None, None) => {
            // Nothing separates a digest failure from a signature failure here.
            content_digest.clone()
        }
        _ => {
            out.problems
                .push(SignatureProblem::CmsMalformed("signed attributes".into()));
            return out;
        }
    };

    let scheme = match combined_signature_algorithm(signer.signature_algorithm.oid) {
        Some((scheme, sig_hash)) if sig_hash == hash => Some(scheme),
        Some(_) => None,
        None => key_only_signature_algorithm(signer.signature_algorithm.oid),
    };
    let Some(scheme) = scheme else {
        out.problems.push(SignatureProblem::UnsupportedAlgorithm(format!(
            "signature {} with digest {}",
            signer.signature_algorithm.oid,
            hash.name()
        )));
        return out;
    };
    let Some(signer_der) = out.signer_der.as_deref() else {
        return out;
    };
    let cert = match Certificate::from_der(signer_der) {
        Ok(c) => c,
        Err(e) => {
            out.problems
                .push(SignatureProblem::CmsMalformed(format!("signer certificate: {e}")));
            return out;
        }
    };
    let result = verify_prehashed(
        &cert.tbs_certificate.subject_public_key_info,
        scheme,
        hash,
        &to_be_signed_digest,
        signer.signature.as_bytes(),
    );
    out.signature = match result {
        Ok(()) => Check::Passed,
        Err(VerifyError::Invalid) => Check::Failed,
        Err(VerifyError::Unsupported(what)) => {
            out.problems.push(SignatureProblem::UnsupportedAlgorithm(what));
            Check::NotChecked
        }
    };
    if signer.signed_attrs.is_none() {
        out.digest = out.signature;
    }
    out
}

/// Walks ContentInfo → SignedData by hand, keeping the exact bytes of the certificates, of the
/// single SignerInfo and of its signed attributes.
fn split_signed_data(contents: &[u8]) -> Result<RawSignedData<'_>, SignatureProblem> {
    let malformed = |what: &str, e: der::Error| SignatureProblem::CmsMalformed(format!("{what}: {e}"));
    let ctx = |n: TagNumber| Tag::ContextSpecific {
        constructed: true,
        number: n,
    };

    let mut input = contents;
    let content_info = raw::expect(&mut input, Tag::Sequence).map_err(|e| malformed("content info", e))?;
    // The placeholder reserved in /Contents is larger than the CMS: only zero padding may follow.
    if input.iter().any(|&b| b != 0) {
        return Err(SignatureProblem::CmsMalformed("data after the signature".into()));
    }
    let mut ci = content_info.value;
    let oid = raw::expect(&mut ci, Tag::ObjectIdentifier).map_err(|e| malformed("content type", e))?;
    let oid = ObjectIdentifier::from_der(oid.whole).map_err(|e| malformed("content type", e))?;
    if oid != OID_SIGNED_DATA {
        return Err(SignatureProblem::CmsNotSignedData);
    }
    let explicit = raw::expect(&mut ci, ctx(TagNumber::N0)).map_err(|e| malformed("content", e))?;
    let mut explicit_value = explicit.value;
    let signed_data =
        raw::expect(&mut explicit_value, Tag::Sequence).map_err(|e| malformed("signed data", e))?;
    let mut sd = signed_data.value;
    raw::expect(&mut sd, Tag::Integer).map_err(|e| malformed("version", e))?;
    raw::expect(&mut sd, Tag::Set).map_err(|e| malformed("digest algorithms", e))?;
    let eci = raw::expect(&mut sd, Tag::Sequence).map_err(|e| malformed("encapsulated content", e))?;
    let eci =
        EncapsulatedContentInfo::from_der(eci.whole).map_err(|e| malformed("encapsulated content", e))?;
    if eci.econtent.is_some() {
        return Err(SignatureProblem::NotDetached);
    }
    if eci.econtent_type != OID_DATA {
        return Err(SignatureProblem::ContentTypeMismatch);
    }

    let mut certificates = Vec::new();
    let mut next = raw::next(&mut sd).map_err(|e| malformed("signer infos", e))?;
    if next.tag == ctx(TagNumber::N0) {
        let mut certs = next.value;
        while !certs.is_empty() {
            let c = raw::next(&mut certs).map_err(|e| malformed("certificates", e))?;
            // Other CertificateChoices (attribute certificates and the like) cannot sign.
            if c.tag == Tag::Sequence {
                certificates.push(c.whole);
            }
        }
        next = raw::next(&mut sd).map_err(|e| malformed("signer infos", e))?;
    }
    if next.tag == ctx(TagNumber::N1) {
        next = raw::next(&mut sd).map_err(|e| malformed("signer infos", e))?;
    }
    if next.tag != Tag::Set || !sd.is_empty() {
        return Err(SignatureProblem::CmsMalformed("signer infos".into()));
    }
    let mut infos = next.value;
    let mut signer_infos = Vec::new();
    while !infos.is_empty() {
        signer_infos.push(raw::expect(&mut infos, Tag::Sequence).map_err(|e| malformed("signer info", e))?);
    }
    // PAdES (ETSI EN 319 142-1 §6.3) and adbe.pkcs7.detached both carry exactly one signer.
    if signer_infos.len() != 1 {
        return Err(SignatureProblem::SignerCount(signer_infos.len()));
    }
    let signer_info = &signer_infos[0];
    let mut si = signer_info.value;
    raw::expect(&mut si, Tag::Integer).map_err(|e| malformed("signer version", e))?;
    raw::next(&mut si).map_err(|e| malformed("signer identifier", e))?;
    raw::expect(&mut si, Tag::Sequence).map_err(|e| malformed("digest algorithm", e))?;
    let mut rest = si;
    let signed_attrs = match raw::next(&mut rest) {
        Ok(t) if t.tag == ctx(TagNumber::N0) => Some(t.whole),
        Ok(_) => None,
        Err(e) => return Err(malformed("signer info", e)),
    };
    Ok(RawSignedData {
        certificates,
        signer_info: signer_info.whole,
        signed_attrs,
    })
}

fn find_signer_certificate<'a>(sid: &SignerIdentifier, certificates: &[&'a [u8]]) -> Option<&'a [u8]> {
    certificates.iter().copied().find(|der| {
        let Ok(cert) = Certificate::from_der(der) else {
            return false;
        };
        let tbs = &cert.tbs_certificate;
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
                .extensions
                .iter()
                .flatten()
                .filter(|e| e.extn_id == OID_SUBJECT_KEY_ID)
                .filter_map(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
                .any(|k| k == *ski),
        }
    })
}

fn single_value(
    attrs: &cms::signed_data::SignedAttributes,
    oid: ObjectIdentifier,
) -> Option<Result<&der::Any, ()>> {
    let attr = attrs.iter().find(|a| a.oid == oid)?;
    let mut values = attr.values.iter();
    Some(match (values.next(), values.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(()),
    })
}

fn check_signed_attributes(
    attrs: &cms::signed_data::SignedAttributes,
    content_digest: &[u8],
    out: &mut CmsOutcome,
) {
    // content-type must be present and name id-data (RFC 5652 §11.1).
    let content_type = single_value(attrs, OID_CONTENT_TYPE)
        .and_then(Result::ok)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
    if content_type != Some(OID_DATA) {
        out.problems.push(SignatureProblem::ContentTypeMismatch);
    }
    match single_value(attrs, OID_MESSAGE_DIGEST) {
        Some(Ok(v)) => match v.decode_as::<OctetString>() {
            Ok(d) => {
                out.digest = if d.as_bytes() == content_digest {
                    Check::Passed
                } else {
                    Check::Failed
                };
            }
            Err(_) => out.problems.push(SignatureProblem::MissingMessageDigest),
        },
        _ => out.problems.push(SignatureProblem::MissingMessageDigest),
    }
    if let Some(Ok(v)) = single_value(attrs, OID_SIGNING_TIME)
        && let Ok(bytes) = v.to_der()
        && let Ok(t) = x509_cert::time::Time::from_der(&bytes)
    {
        let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        out.signing_time = DateTime::<Utc>::from_timestamp(secs, 0);
    }
}

/// ESS signing-certificate-v2 (RFC 5035): the first ESSCertIDv2 must hash the signer certificate.
/// Only SHA-2 hashes are checked; another hash algorithm counts as a mismatch, since the binding
/// it claims cannot be confirmed.
fn check_ess(attrs: &cms::signed_data::SignedAttributes, signer_der: &[u8]) -> EssCheck {
    let value = match single_value(attrs, OID_SIGNING_CERTIFICATE_V2) {
        None => return EssCheck::Absent,
        Some(Err(())) => return EssCheck::Mismatch,
        Some(Ok(v)) => v,
    };
    let Ok(encoded) = value.to_der() else {
        return EssCheck::Mismatch;
    };
    let first_cert_hash = || -> Result<(HashAlgorithm, Vec<u8>), der::Error> {
        let mut input = encoded.as_slice();
        let signing_cert = raw::expect(&mut input, Tag::Sequence)?;
        let mut sc = signing_cert.value;
        let certs = raw::expect(&mut sc, Tag::Sequence)?;
        let mut ids = certs.value;
        let id = raw::expect(&mut ids, Tag::Sequence)?;
        let mut fields = id.value;
        let first = raw::next(&mut fields)?;
        let (alg, hash_tlv) = if first.tag == Tag::Sequence {
            let alg = spki::AlgorithmIdentifierOwned::from_der(first.whole)?;
            let hash = raw::expect(&mut fields, Tag::OctetString)?;
            (HashAlgorithm::from_oid(alg.oid), hash)
        } else {
            // hashAlgorithm DEFAULT id-sha256.
            (Some(HashAlgorithm::Sha256), first)
        };
        if hash_tlv.tag != Tag::OctetString {
            return Err(der::ErrorKind::TagUnexpected {
                expected: Some(Tag::OctetString),
                actual: hash_tlv.tag,
            }
            .into());
        }
        let alg = alg.ok_or_else(|| {
            der::Error::from(der::ErrorKind::OidUnknown {
                oid: OID_SIGNING_CERTIFICATE_V2,
            })
        })?;
        Ok((alg, hash_tlv.value.to_vec()))
    };
    match first_cert_hash() {
        Ok((alg, hash)) => {
            if alg.digest(&[signer_der]) == hash {
                EssCheck::Matches
            } else {
                EssCheck::Mismatch
            }
        }
        Err(_) => EssCheck::Mismatch,
    }
}
