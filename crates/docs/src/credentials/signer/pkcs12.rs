//! A signing key from a PKCS#12 (`.p12`, `.pfx`) file.

use std::path::Path;

use der::Decode;
use x509_cert::Certificate;

use super::{SignatureAlgorithm, Signer, SignerError, SoftwareKey, order_chain};

/// A key and chain read from a PKCS#12 file: modern PBES2 (AES + PBKDF2, the OpenSSL 3 default)
/// or legacy PBES1 (3DES / RC2-40 with a SHA-1 MAC, `openssl pkcs12 -legacy` and most files
/// Vietnamese CAs issued over the years). RSA and P-256 keys.
pub struct Pkcs12Signer {
    chain: Vec<Certificate>,
    key: SoftwareKey,
}

impl Pkcs12Signer {
    /// Reads the file at `path`.
    pub fn open(path: impl AsRef<Path>, password: &str) -> Result<Self, SignerError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| SignerError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_bytes(&bytes, password)
    }

    /// Reads a PKCS#12 file already in memory (e.g. uploaded through the web interface).
    pub fn from_bytes(bytes: &[u8], password: &str) -> Result<Self, SignerError> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password).map_err(|e| match e {
            // The MAC is the first thing checked with the password: a mismatch is a wrong password.
            p12_keystore::error::Error::MacError(_) => SignerError::Pkcs12Password,
            other => SignerError::Pkcs12Read(other.to_string()),
        })?;
        let (_, key_chain) = store.private_key_chain().ok_or(SignerError::Pkcs12NoKey)?;
        let key = SoftwareKey::from_pkcs8_der(key_chain.key())?;
        let mut certificates = key_chain
            .chain()
            .iter()
            .map(|c| Certificate::from_der(c.as_der()).map_err(|e| SignerError::Certificate(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        // Extra CA certificates stored without a key id come as separate entries.
        for (_, entry) in store.entries() {
            if let p12_keystore::KeyStoreEntry::Certificate(c) = entry {
                certificates.push(
                    Certificate::from_der(c.as_der()).map_err(|e| SignerError::Certificate(e.to_string()))?,
                );
            }
        }
        let signer_index = certificates
            .iter()
            .position(|c| key.matches(c))
            .ok_or(SignerError::KeyCertificateMismatch)?;
        let signer = certificates.remove(signer_index);
        let chain = order_chain(signer, certificates);
        Ok(Self { chain, key })
    }
}

impl Signer for Pkcs12Signer {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.key.algorithm()
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        self.key.sign_digest(digest)
    }
}
