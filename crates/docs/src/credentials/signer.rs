//! Who produces the signature value of a PAdES signature.
//!
//! The PDF side ([`super::pades`]) only ever needs "sign these 32 bytes": the SHA-256 of the DER
//! of the CMS signed attributes. That keeps every backend interchangeable and lets a slow one
//! (a remote service waiting for the holder to approve on a phone) sign long after the PDF was
//! prepared. Three backends exist:
//!
//! * [`Pkcs12Signer`]: a `.p12`/`.pfx` file as Vietnamese CAs hand them out (PBES2 or legacy PBES1);
//! * [`Pkcs11Signer`]: a USB token or HSM through its PKCS#11 module (the school's "con dấu" token);
//! * [`RemoteSigner`]: "hash in, signature out" over HTTPS (SmartCA, MySign style), see
//!   `docs/signing.md` for the protocol.
//!
//! All calls are blocking: web handlers run them on a blocking thread.

mod pkcs11;
mod pkcs12;
mod remote;

pub use pkcs11::Pkcs11Signer;
pub use pkcs12::Pkcs12Signer;
pub use remote::{RemoteSigner, RemoteSignerConfig};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SHA_256_WITH_RSA_ENCRYPTION,
};
use der::{Any, Decode, Encode};
use rsa::Pkcs1v15Sign;
use rsa::pkcs8::DecodePublicKey;
use signature::hazmat::PrehashVerifier;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// A signing key with its certificate chain, able to sign a SHA-256 digest.
pub trait Signer {
    /// The signer's certificate first, then intermediates and (optionally) the root.
    fn chain(&self) -> &[Certificate];

    /// The signature scheme of the key, which must match the signer certificate's key.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// Signs a SHA-256 digest and returns the value as it goes into `SignerInfo.signature`:
    /// PKCS#1 v1.5 bytes for RSA, a DER `ECDSA-Sig-Value` for ECDSA.
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError>;
}

/// The signature schemes the PAdES signatures use. SHA-256 is the only digest: it is what
/// Vietnamese CAs and the PAdES baseline profile require, and what every tool validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (most Vietnamese CA certificates and USB tokens).
    RsaPkcs1v15Sha256,
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    /// The scheme implied by a certificate's public key.
    pub fn for_certificate(certificate: &Certificate) -> Result<Self, SignerError> {
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        match spki.algorithm.oid {
            RSA_ENCRYPTION => Ok(Self::RsaPkcs1v15Sha256),
            ID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                if curve == Some(SECP_256_R_1) {
                    Ok(Self::EcdsaP256Sha256)
                } else {
                    Err(SignerError::UnsupportedKey(format!(
                        "EC key on curve {}",
                        curve.map(|c| c.to_string()).unwrap_or_else(|| "(none)".into())
                    )))
                }
            }
            other => Err(SignerError::UnsupportedKey(format!(
                "public key algorithm {other}"
            ))),
        }
    }

    /// The name used in the remote-signing protocol (`docs/signing.md`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaPkcs1v15Sha256 => "rsa-pkcs1v15-sha256",
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        }
    }

    /// `SignerInfo.signatureAlgorithm`.
    pub fn signature_algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            // RFC 4055: the parameters of sha256WithRSAEncryption are an explicit NULL.
            Self::RsaPkcs1v15Sha256 => AlgorithmIdentifierOwned {
                oid: SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            },
            // RFC 5758: ecdsa-with-SHA256 has no parameters at all.
            Self::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_256,
                parameters: None,
            },
        }
    }

    /// The largest signature value this scheme can produce with the given certificate's key, so
    /// the CMS size can be checked against the PDF's reserve before anyone is asked to sign.
    pub fn max_signature_len(self, certificate: &Certificate) -> Result<usize, SignerError> {
        match self {
            Self::RsaPkcs1v15Sha256 => {
                let key = rsa_public_key(certificate)?;
                Ok(rsa::traits::PublicKeyParts::size(&key))
            }
            // SEQUENCE { INTEGER r, INTEGER s }, each up to 33 bytes with a leading zero.
            Self::EcdsaP256Sha256 => Ok(72),
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SignatureAlgorithm {
    type Err = SignerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rsa-pkcs1v15-sha256" => Ok(Self::RsaPkcs1v15Sha256),
            "ecdsa-p256-sha256" => Ok(Self::EcdsaP256Sha256),
            other => Err(SignerError::UnsupportedKey(format!(
                "signature algorithm {other:?}"
            ))),
        }
    }
}

/// Checks a signature value over a SHA-256 digest against the certificate's public key.
///
/// Used on every value a backend returns before it is written into a PDF: a token with the
/// wrong key selected or a remote service answering for another key must not produce a
/// document that only fails later, in the hands of whoever verifies it.
pub fn verify_digest_signature(
    certificate: &Certificate,
    algorithm: SignatureAlgorithm,
    digest: &[u8; 32],
    signature: &[u8],
) -> Result<(), SignerError> {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15Sha256 => {
            let key = rsa_public_key(certificate)?;
            key.verify(Pkcs1v15Sign::new::<sha2_legacy::Sha256>(), digest, signature)
                .map_err(|_| SignerError::SignatureMismatch)
        }
        SignatureAlgorithm::EcdsaP256Sha256 => {
            let key = p256_public_key(certificate)?;
            let sig =
                p256::ecdsa::Signature::from_der(signature).map_err(|_| SignerError::SignatureMismatch)?;
            key.verify_prehash(digest, &sig)
                .map_err(|_| SignerError::SignatureMismatch)
        }
    }
}

fn spki_der(certificate: &Certificate) -> Result<Vec<u8>, SignerError> {
    certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| SignerError::Certificate(e.to_string()))
}

pub(crate) fn rsa_public_key(certificate: &Certificate) -> Result<rsa::RsaPublicKey, SignerError> {
    rsa::RsaPublicKey::from_public_key_der(&spki_der(certificate)?)
        .map_err(|e| SignerError::UnsupportedKey(format!("RSA public key: {e}")))
}

pub(crate) fn p256_public_key(certificate: &Certificate) -> Result<p256::ecdsa::VerifyingKey, SignerError> {
    p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der(certificate)?)
        .map_err(|e| SignerError::UnsupportedKey(format!("P-256 public key: {e}")))
}

/// Puts a chain in signer-first order: the certificate whose public key matches comes first,
/// then each issuer found among the others. Certificates that do not belong to the chain are
/// dropped.
pub(crate) fn order_chain(signer: Certificate, mut others: Vec<Certificate>) -> Vec<Certificate> {
    let mut chain = vec![signer];
    others.retain(|c| c != &chain[0]);
    loop {
        let last = chain.last().expect("chain starts non-empty");
        let issuer = &last.tbs_certificate.issuer;
        if issuer == &last.tbs_certificate.subject {
            break;
        }
        match others.iter().position(|c| &c.tbs_certificate.subject == issuer) {
            Some(i) => chain.push(others.swap_remove(i)),
            None => break,
        }
    }
    chain
}

/// Reads a certificate given as DER or PEM.
pub fn certificate_from_der_or_pem(bytes: &[u8]) -> Result<Certificate, SignerError> {
    use der::DecodePem;
    let trimmed = bytes.trim_ascii_start();
    let parsed = if trimmed.starts_with(b"-----BEGIN") {
        Certificate::from_pem(trimmed)
    } else {
        Certificate::from_der(bytes)
    };
    parsed.map_err(|e| SignerError::Certificate(e.to_string()))
}

/// Why a signature value could not be produced. [`SignerError::code`] is the stable key the web
/// layer maps to a message.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("not a readable PKCS#12 file: {0}")]
    Pkcs12Read(String),
    #[error("wrong PKCS#12 password")]
    Pkcs12Password,
    #[error("the PKCS#12 file holds no private key with a certificate")]
    Pkcs12NoKey,
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    #[error("bad certificate: {0}")]
    Certificate(String),
    #[error("the private key does not belong to the signer certificate")]
    KeyCertificateMismatch,
    #[error("cannot load the PKCS#11 module {module}: {message}")]
    Pkcs11Module { module: String, message: String },
    #[error("no PKCS#11 token labelled {0:?}")]
    Pkcs11TokenNotFound(String),
    #[error("the token refused the PIN")]
    Pkcs11PinIncorrect,
    #[error("the token's PIN is locked")]
    Pkcs11PinLocked,
    #[error("no private key labelled {0:?} on the token")]
    Pkcs11KeyNotFound(String),
    #[error("no certificate for key {0:?} on the token and none given")]
    Pkcs11CertificateNotFound(String),
    #[error("PKCS#11 error: {0}")]
    Pkcs11(String),
    #[error("remote signer configuration: {0}")]
    RemoteConfig(String),
    #[error("remote signer unreachable: {0}")]
    RemoteUnreachable(String),
    #[error("the remote signer refused the credentials")]
    RemoteUnauthorized,
    #[error("the remote signer does not know key {0:?}")]
    RemoteUnknownKey(String),
    #[error("the holder rejected the signing request")]
    RemoteRejected,
    #[error("no answer from the holder within {seconds} s")]
    RemoteTimeout { seconds: u64 },
    #[error("unexpected answer from the remote signer: {0}")]
    RemoteBadResponse(String),
    #[error("the signature value does not verify with the signer certificate")]
    SignatureMismatch,
    #[error("signing failed: {0}")]
    Signing(String),
}

impl SignerError {
    /// A stable machine code, e.g. `signer.remote_rejected`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "signer.io",
            Self::Pkcs12Read(_) => "signer.pkcs12_read",
            Self::Pkcs12Password => "signer.pkcs12_password",
            Self::Pkcs12NoKey => "signer.pkcs12_no_key",
            Self::UnsupportedKey(_) => "signer.unsupported_key",
            Self::Certificate(_) => "signer.bad_certificate",
            Self::KeyCertificateMismatch => "signer.key_certificate_mismatch",
            Self::Pkcs11Module { .. } => "signer.pkcs11_module",
            Self::Pkcs11TokenNotFound(_) => "signer.pkcs11_token_not_found",
            Self::Pkcs11PinIncorrect => "signer.pkcs11_pin_incorrect",
            Self::Pkcs11PinLocked => "signer.pkcs11_pin_locked",
            Self::Pkcs11KeyNotFound(_) => "signer.pkcs11_key_not_found",
            Self::Pkcs11CertificateNotFound(_) => "signer.pkcs11_certificate_not_found",
            Self::Pkcs11(_) => "signer.pkcs11",
            Self::RemoteConfig(_) => "signer.remote_config",
            Self::RemoteUnreachable(_) => "signer.remote_unreachable",
            Self::RemoteUnauthorized => "signer.remote_unauthorized",
            Self::RemoteUnknownKey(_) => "signer.remote_unknown_key",
            Self::RemoteRejected => "signer.remote_rejected",
            Self::RemoteTimeout { .. } => "signer.remote_timeout",
            Self::RemoteBadResponse(_) => "signer.remote_bad_response",
            Self::SignatureMismatch => "signer.signature_mismatch",
            Self::Signing(_) => "signer.signing_failed",
        }
    }
}

/// A private key held in memory (from a PKCS#12 file), shared by the PKCS#12 backend and the
/// test PKI.
pub(crate) enum SoftwareKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
}

impl SoftwareKey {
    /// Parses an unencrypted PKCS#8 `PrivateKeyInfo`.
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignerError> {
        use rsa::pkcs8::DecodePrivateKey;
        let info = rsa::pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| SignerError::UnsupportedKey(format!("PKCS#8: {e}")))?;
        match info.algorithm.oid {
            RSA_ENCRYPTION => rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map(|k| Self::Rsa(Box::new(k)))
                .map_err(|e| SignerError::UnsupportedKey(format!("RSA private key: {e}"))),
            ID_EC_PUBLIC_KEY => p256::SecretKey::from_pkcs8_der(der)
                .map(|k| Self::P256(k.into()))
                .map_err(|e| SignerError::UnsupportedKey(format!("EC private key (only P-256): {e}"))),
            other => Err(SignerError::UnsupportedKey(format!(
                "private key algorithm {other}"
            ))),
        }
    }

    pub(crate) fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::Rsa(_) => SignatureAlgorithm::RsaPkcs1v15Sha256,
            Self::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }

    /// Whether this key's public half is the certificate's.
    pub(crate) fn matches(&self, certificate: &Certificate) -> bool {
        match self {
            Self::Rsa(key) => rsa_public_key(certificate).is_ok_and(|p| p == key.to_public_key()),
            Self::P256(key) => p256_public_key(certificate).is_ok_and(|p| &p == key.verifying_key()),
        }
    }

    pub(crate) fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        match self {
            Self::Rsa(key) => key
                // Blinded signing: the key may sit on a server where timing could be observed.
                .sign_with_rng(
                    &mut rsa::rand_core::OsRng,
                    Pkcs1v15Sign::new::<sha2_legacy::Sha256>(),
                    digest,
                )
                .map_err(|e| SignerError::Signing(e.to_string())),
            Self::P256(key) => {
                use signature::hazmat::PrehashSigner;
                let sig: p256::ecdsa::Signature = key
                    .sign_prehash(digest)
                    .map_err(|e| SignerError::Signing(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}
