//! A signing key on a PKCS#11 token (USB token, smart card, HSM).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::Decode;
use rsa::Pkcs1v15Sign;
use x509_cert::Certificate;

use super::{SignatureAlgorithm, Signer, SignerError, order_chain, rsa_public_key};

/// A private key on a token, found by token label and key label, with its certificate chain.
///
/// The session stays open and logged in for the signer's lifetime, so a batch of documents
/// costs one PIN entry.
pub struct Pkcs11Signer {
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
    key: ObjectHandle,
    // A PKCS#11 session must not be used from two threads at once.
    session: Mutex<Session>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Opens `module_path`, logs into the token labelled `token_label` and selects the private
    /// key labelled `key_label`. The signer certificate is the token's certificate object with the
    /// key's `CKA_ID`; other certificates on the token complete the chain.
    pub fn open(
        module_path: impl AsRef<Path>,
        token_label: &str,
        user_pin: &str,
        key_label: &str,
    ) -> Result<Self, SignerError> {
        Self::open_with_certificates(module_path, token_label, user_pin, key_label, Vec::new())
    }

    /// As [`Self::open`], for tokens that hold only the key: `certificates` gives the signer
    /// certificate (and any intermediates/root) when the token has none for the key. When the
    /// token has one, `certificates` only adds to the chain.
    pub fn open_with_certificates(
        module_path: impl AsRef<Path>,
        token_label: &str,
        user_pin: &str,
        key_label: &str,
        certificates: Vec<Certificate>,
    ) -> Result<Self, SignerError> {
        let context = context(module_path.as_ref())?;
        let slot = context
            .get_slots_with_token()
            .map_err(ck)?
            .into_iter()
            .find(|slot| {
                context
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label().trim_end() == token_label)
            })
            .ok_or_else(|| SignerError::Pkcs11TokenNotFound(token_label.to_owned()))?;
        let session = context.open_ro_session(slot).map_err(ck)?;
        match session.login(UserType::User, Some(&AuthPin::new(user_pin.into()))) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
                return Err(SignerError::Pkcs11PinIncorrect);
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => return Err(SignerError::Pkcs11PinLocked),
            Err(other) => return Err(ck(other)),
        }

        let keys = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(key_label.into()),
            ])
            .map_err(ck)?;
        let key = *keys
            .first()
            .ok_or_else(|| SignerError::Pkcs11KeyNotFound(key_label.to_owned()))?;
        let mut key_id = None;
        let mut key_type = None;
        let mut modulus = None;
        for attribute in session
            .get_attributes(
                key,
                &[AttributeType::Id, AttributeType::KeyType, AttributeType::Modulus],
            )
            .map_err(ck)?
        {
            match attribute {
                Attribute::Id(id) => key_id = Some(id),
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Modulus(m) => modulus = Some(m),
                _ => {}
            }
        }

        let mut token_certificates = Vec::new();
        let mut signer_certificate = None;
        for handle in session
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
            .map_err(ck)?
        {
            let mut value = None;
            let mut id = None;
            for attribute in session
                .get_attributes(handle, &[AttributeType::Value, AttributeType::Id])
                .map_err(ck)?
            {
                match attribute {
                    Attribute::Value(v) => value = Some(v),
                    Attribute::Id(i) => id = Some(i),
                    _ => {}
                }
            }
            let Some(value) = value else { continue };
            let certificate = Certificate::from_der(&value)
                .map_err(|e| SignerError::Certificate(format!("on token: {e}")))?;
            if signer_certificate.is_none() && key_id.is_some() && id == key_id {
                signer_certificate = Some(certificate);
            } else {
                token_certificates.push(certificate);
            }
        }
        let mut others = certificates;
        let signer_certificate = match signer_certificate {
            Some(c) => c,
            None if !others.is_empty() => others.remove(0),
            None => return Err(SignerError::Pkcs11CertificateNotFound(key_label.to_owned())),
        };
        others.extend(token_certificates);

        let algorithm = SignatureAlgorithm::for_certificate(&signer_certificate)?;
        match (algorithm, key_type) {
            (SignatureAlgorithm::RsaPkcs1v15Sha256, Some(KeyType::RSA)) => {
                // The modulus is public on every token; comparing it catches a certificate file
                // that belongs to another key before anything is signed.
                if let Some(modulus) = modulus {
                    let public = rsa_public_key(&signer_certificate)?;
                    if rsa::BigUint::from_bytes_be(&modulus) != *rsa::traits::PublicKeyParts::n(&public) {
                        return Err(SignerError::KeyCertificateMismatch);
                    }
                }
            }
            (SignatureAlgorithm::EcdsaP256Sha256, Some(KeyType::EC)) => {}
            (_, None) => {}
            _ => return Err(SignerError::KeyCertificateMismatch),
        }

        Ok(Self {
            chain: order_chain(signer_certificate, others),
            algorithm,
            key,
            session: Mutex::new(session),
        })
    }
}

impl Signer for Pkcs11Signer {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        let session = self
            .session
            .lock()
            .map_err(|_| SignerError::Pkcs11("session lock poisoned".into()))?;
        match self.algorithm {
            SignatureAlgorithm::RsaPkcs1v15Sha256 => {
                // CKM_RSA_PKCS pads whatever it is given: it must be the DER DigestInfo, whose
                // SHA-256 prefix the rsa crate already knows.
                let mut digest_info = Pkcs1v15Sign::new::<sha2_legacy::Sha256>().prefix.to_vec();
                digest_info.extend_from_slice(digest);
                session
                    .sign(&Mechanism::RsaPkcs, self.key, &digest_info)
                    .map_err(ck)
            }
            SignatureAlgorithm::EcdsaP256Sha256 => {
                let raw = session.sign(&Mechanism::Ecdsa, self.key, digest).map_err(ck)?;
                // PKCS#11 returns r || s; CMS wants the DER ECDSA-Sig-Value.
                let sig = p256::ecdsa::Signature::from_slice(&raw).map_err(|e| {
                    SignerError::Pkcs11(format!("ECDSA signature of {} bytes: {e}", raw.len()))
                })?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

/// One initialised context per module for the whole process: `C_Initialize` may be called only
/// once, and finalising while another signer still uses the module would break it.
fn context(module: &Path) -> Result<Pkcs11, SignerError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(context) = contexts.get(module) {
        return Ok(context.clone());
    }
    let module_error = |message: String| SignerError::Pkcs11Module {
        module: module.display().to_string(),
        message,
    };
    let context = Pkcs11::new(module).map_err(|e| module_error(e.to_string()))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_error(e.to_string())),
    }
    contexts.insert(module.to_owned(), context.clone());
    Ok(context)
}

fn ck(error: CkError) -> SignerError {
    SignerError::Pkcs11(error.to_string())
}
