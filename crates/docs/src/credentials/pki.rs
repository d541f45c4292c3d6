//! A throwaway PKI for tests, demos and the `truongso pki` command: a root CA, certificates for
//! the signers of a học bạ (GVCN and Hiệu trưởng as persons, the school as an organisation), a
//! TLS server certificate for a local remote-signing service, and the certificates a verifier's
//! negative tests need (an expired signer, a signer under a second, untrusted root).
//!
//! Certificates carry no AIA/OCSP/CRL URLs: validation tools would try the network.
//! Never use these keys for anything real; the private keys are written unencrypted.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::{C, CN, O};
use const_oid::db::rfc5280::ID_KP_SERVER_AUTH;
use der::asn1::{Ia5String, OctetString, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode, EncodePem, pem::LineEnding};
use rsa::pkcs8::EncodePrivateKey;
use sha2_legacy::Digest as _;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Key type of a generated identity. RSA-2048 is what most Vietnamese CAs issue; P-256 is much
/// faster to generate, so tests use it where the key type does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Rsa2048,
    P256,
}

/// Who a certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A person (GVCN, Hiệu trưởng): CN = the name, O = the school.
    Person(String),
    /// The school itself (the "con dấu" certificate): CN = O = the school name.
    Organisation,
}

/// One end-entity certificate to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySpec {
    /// File stem: `<name>.p12`, `<name>.pem`, `<name>.key.pem`. ASCII letters, digits, `-`, `_`.
    pub name: String,
    pub holder: Holder,
    pub key: KeyAlgorithm,
}

/// What [`TestPki::generate`] creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiSpec {
    /// The root's common name.
    pub root_name: String,
    pub root_key: KeyAlgorithm,
    /// The school name (organisation of every end entity).
    pub school: String,
    pub identities: Vec<IdentitySpec>,
    /// Password of every `.p12` written.
    pub p12_password: String,
    /// Validity of the end-entity certificates, from one hour ago.
    pub validity_days: u32,
    /// Also issue `tls.pem`/`tls.key.pem` for `127.0.0.1` and `localhost`.
    pub tls_server: bool,
    /// Also issue `expired.*`: a person certificate from the same root that expired 30 days ago.
    pub expired: bool,
    /// Also create `untrusted-ca.pem` and `untrusted.*`: a second root and a person under it.
    pub untrusted: bool,
}

impl PkiSpec {
    /// The three signers of a học bạ: `gvcn` and `hieutruong` (persons, P-256 and RSA-2048) and
    /// `condau` (the school, P-256), under an RSA-2048 root, plus the TLS, expired and untrusted
    /// extras.
    pub fn school(school: &str, homeroom_teacher: &str, principal: &str, p12_password: &str) -> Self {
        Self {
            root_name: "Test Education Root CA".into(),
            root_key: KeyAlgorithm::Rsa2048,
            school: school.into(),
            identities: vec![
                IdentitySpec {
                    name: "gvcn".into(),
                    holder: Holder::Person(homeroom_teacher.into()),
                    key: KeyAlgorithm::P256,
                },
                IdentitySpec {
                    name: "hieutruong".into(),
                    holder: Holder::Person(principal.into()),
                    key: KeyAlgorithm::Rsa2048,
                },
                IdentitySpec {
                    name: "condau".into(),
                    holder: Holder::Organisation,
                    key: KeyAlgorithm::P256,
                },
            ],
            p12_password: p12_password.into(),
            validity_days: 825,
            tls_server: true,
            expired: true,
            untrusted: true,
        }
    }
}

impl Default for PkiSpec {
    fn default() -> Self {
        Self::school(
            "Trường THCS Đống Đa",
            "Nguyễn Thị Lan",
            "Trần Văn Hùng",
            "truongso",
        )
    }
}

/// The files written for one end entity.
#[derive(Debug, Clone)]
pub struct IssuedIdentity {
    pub name: String,
    pub key: KeyAlgorithm,
    pub certificate: Certificate,
    /// Key, certificate and its issuer, encrypted with [`PkiSpec::p12_password`] (PBES2).
    pub p12: PathBuf,
    /// The certificate (PEM).
    pub cert_pem: PathBuf,
    /// The private key, unencrypted PKCS#8 PEM (what `softhsm2-util --import` reads).
    pub key_pem: PathBuf,
}

/// A generated PKI and where its files are.
#[derive(Debug, Clone)]
pub struct TestPki {
    pub dir: PathBuf,
    /// The root certificate, PEM (`ca.pem`).
    pub ca_pem: PathBuf,
    pub root: Certificate,
    pub identities: Vec<IssuedIdentity>,
    pub tls_server: Option<IssuedIdentity>,
    pub expired: Option<IssuedIdentity>,
    /// The second root (`untrusted-ca.pem`), which relying parties are not told to trust.
    pub untrusted_ca_pem: Option<PathBuf>,
    pub untrusted: Option<IssuedIdentity>,
}

impl TestPki {
    /// Generates keys and certificates and writes them into `dir` (created if missing).
    pub fn generate(dir: &Path, spec: &PkiSpec) -> Result<TestPki, PkiError> {
        for identity in &spec.identities {
            let valid = !identity.name.is_empty()
                && identity
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let reserved =
                ["ca", "tls", "expired", "untrusted", "untrusted-ca"].contains(&identity.name.as_str());
            if !valid || reserved {
                return Err(PkiError::InvalidName(identity.name.clone()));
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        let day = Duration::from_secs(86_400);
        let end_entity_validity = validity(now - hour, now + day * spec.validity_days)?;

        let root = Issuer::root(&spec.root_name, spec.root_key, now - hour, now + day * 3650)?;
        let ca_pem = dir.join("ca.pem");
        write(&ca_pem, root.certificate.to_pem(LineEnding::LF)?.as_bytes())?;

        let mut identities = Vec::new();
        for identity in &spec.identities {
            let subject = match &identity.holder {
                Holder::Person(person) => name(&[(C, "VN"), (O, &spec.school), (CN, person)])?,
                Holder::Organisation => name(&[(C, "VN"), (O, &spec.school), (CN, &spec.school)])?,
            };
            identities.push(root.issue(
                dir,
                &identity.name,
                identity.key,
                subject,
                end_entity_validity,
                Usage::Signing,
                spec,
            )?);
        }

        let tls_server = if spec.tls_server {
            let subject = name(&[(C, "VN"), (O, &spec.school), (CN, "localhost")])?;
            Some(root.issue(
                dir,
                "tls",
                KeyAlgorithm::P256,
                subject,
                end_entity_validity,
                Usage::TlsServer,
                spec,
            )?)
        } else {
            None
        };
        let expired = if spec.expired {
            let subject = name(&[(C, "VN"), (O, &spec.school), (CN, "Giáo viên Hết Hạn")])?;
            let validity = validity(now - day * 400, now - day * 30)?;
            Some(root.issue(
                dir,
                "expired",
                KeyAlgorithm::P256,
                subject,
                validity,
                Usage::Signing,
                spec,
            )?)
        } else {
            None
        };
        let (untrusted_ca_pem, untrusted) = if spec.untrusted {
            let other_root = Issuer::root(
                "Untrusted Test Root CA",
                KeyAlgorithm::P256,
                now - hour,
                now + day * 3650,
            )?;
            let path = dir.join("untrusted-ca.pem");
            write(&path, other_root.certificate.to_pem(LineEnding::LF)?.as_bytes())?;
            let subject = name(&[(C, "VN"), (O, &spec.school), (CN, "Người Ký Không Tin Cậy")])?;
            let identity = other_root.issue(
                dir,
                "untrusted",
                KeyAlgorithm::P256,
                subject,
                end_entity_validity,
                Usage::Signing,
                spec,
            )?;
            (Some(path), Some(identity))
        } else {
            (None, None)
        };

        Ok(TestPki {
            dir: dir.to_owned(),
            ca_pem,
            root: root.certificate,
            identities,
            tls_server,
            expired,
            untrusted_ca_pem,
            untrusted,
        })
    }

    /// The identity written as `<name>.*`, including `tls`, `expired` and `untrusted`.
    pub fn identity(&self, name: &str) -> Option<&IssuedIdentity> {
        self.identities
            .iter()
            .chain(&self.tls_server)
            .chain(&self.expired)
            .chain(&self.untrusted)
            .find(|i| i.name == name)
    }
}

#[derive(Clone, Copy)]
enum Usage {
    /// keyUsage digitalSignature + nonRepudiation, CA:false.
    Signing,
    /// As signing, plus extendedKeyUsage serverAuth and subjectAltName 127.0.0.1 / localhost.
    TlsServer,
}

enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
}

impl Key {
    fn generate(algorithm: KeyAlgorithm) -> Result<Self, PkiError> {
        let mut rng = rsa::rand_core::OsRng;
        match algorithm {
            KeyAlgorithm::Rsa2048 => rsa::RsaPrivateKey::new(&mut rng, 2048)
                .map(|k| Self::Rsa(Box::new(k)))
                .map_err(|e| PkiError::Key(e.to_string())),
            KeyAlgorithm::P256 => Ok(Self::P256(p256::SecretKey::random(&mut rng))),
        }
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        let der = match self {
            Self::Rsa(key) => key.to_public_key().to_public_key_der(),
            Self::P256(key) => key.public_key().to_public_key_der(),
        }
        .map_err(|e| PkiError::Key(e.to_string()))?;
        Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
    }

    fn pkcs8_der(&self) -> Result<Vec<u8>, PkiError> {
        let document = match self {
            Self::Rsa(key) => key.to_pkcs8_der(),
            Self::P256(key) => key.to_pkcs8_der(),
        }
        .map_err(|e| PkiError::Key(e.to_string()))?;
        Ok(document.as_bytes().to_vec())
    }
}

struct Issuer {
    key: Key,
    certificate: Certificate,
}

impl Issuer {
    fn root(
        common_name: &str,
        algorithm: KeyAlgorithm,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Self, PkiError> {
        let key = Key::generate(algorithm)?;
        let subject = name(&[(C, "VN"), (O, "Test Root"), (CN, common_name)])?;
        let certificate = sign(
            &key,
            Profile::Root,
            subject,
            key.public_key_info()?,
            validity(from, to)?,
            |_| Ok(()),
        )?;
        Ok(Self { key, certificate })
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        dir: &Path,
        file_stem: &str,
        algorithm: KeyAlgorithm,
        subject: Name,
        validity: Validity,
        usage: Usage,
        spec: &PkiSpec,
    ) -> Result<IssuedIdentity, PkiError> {
        let key = Key::generate(algorithm)?;
        let profile = Profile::Leaf {
            issuer: self.certificate.tbs_certificate.subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        };
        let certificate = sign(
            &self.key,
            profile,
            subject,
            key.public_key_info()?,
            validity,
            |extensions| {
                if let Usage::TlsServer = usage {
                    extensions.push(ExtensionToAdd::ExtendedKeyUsage(ExtendedKeyUsage(vec![
                        ID_KP_SERVER_AUTH,
                    ])));
                    extensions.push(ExtensionToAdd::SubjectAltName(SubjectAltName(vec![
                        GeneralName::DnsName(Ia5String::new("localhost")?),
                        GeneralName::IpAddress(OctetString::new([127u8, 0, 0, 1])?),
                    ])));
                }
                Ok(())
            },
        )?;

        let pkcs8 = key.pkcs8_der()?;
        let key_pem = dir.join(format!("{file_stem}.key.pem"));
        write(&key_pem, pem("PRIVATE KEY", &pkcs8).as_bytes())?;
        restrict_permissions(&key_pem)?;
        let cert_pem = dir.join(format!("{file_stem}.pem"));
        write(&cert_pem, certificate.to_pem(LineEnding::LF)?.as_bytes())?;

        let p12 = dir.join(format!("{file_stem}.p12"));
        let leaf = p12_keystore::Certificate::from_der(&certificate.to_der()?)
            .map_err(|e| PkiError::Pkcs12(e.to_string()))?;
        let issuer = p12_keystore::Certificate::from_der(&self.certificate.to_der()?)
            .map_err(|e| PkiError::Pkcs12(e.to_string()))?;
        // The local key id only ties the key bag to its certificate bag; any value unique in the
        // file works (OpenSSL uses a SHA-1 of the certificate, 20 bytes like this one).
        let key_id = sha2_legacy::Sha256::digest(certificate.to_der()?);
        let chain = p12_keystore::PrivateKeyChain::new(&pkcs8, &key_id[..20], [leaf, issuer]);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(file_stem, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        let bytes = store
            .writer(&spec.p12_password)
            .write()
            .map_err(|e| PkiError::Pkcs12(e.to_string()))?;
        write(&p12, &bytes)?;
        restrict_permissions(&p12)?;

        Ok(IssuedIdentity {
            name: file_stem.to_owned(),
            key: algorithm,
            certificate,
            p12,
            cert_pem,
            key_pem,
        })
    }
}

enum ExtensionToAdd {
    ExtendedKeyUsage(ExtendedKeyUsage),
    SubjectAltName(SubjectAltName),
}

fn sign(
    issuer_key: &Key,
    profile: Profile,
    subject: Name,
    public_key: SubjectPublicKeyInfoOwned,
    validity: Validity,
    extra: impl FnOnce(&mut Vec<ExtensionToAdd>) -> der::Result<()>,
) -> Result<Certificate, PkiError> {
    let mut extensions = Vec::new();
    extra(&mut extensions)?;
    let serial = serial_number()?;
    macro_rules! build {
        ($signer:expr, $signature:ty) => {{
            let mut builder =
                CertificateBuilder::new(profile, serial, validity, subject, public_key, $signer)?;
            for extension in &extensions {
                match extension {
                    ExtensionToAdd::ExtendedKeyUsage(e) => builder.add_extension(e)?,
                    ExtensionToAdd::SubjectAltName(e) => builder.add_extension(e)?,
                }
            }
            builder.build::<$signature>()?
        }};
    }
    Ok(match issuer_key {
        Key::Rsa(key) => {
            let signer = rsa::pkcs1v15::SigningKey::<sha2_legacy::Sha256>::new((**key).clone());
            build!(&signer, rsa::pkcs1v15::Signature)
        }
        Key::P256(key) => {
            let signer = p256::ecdsa::SigningKey::from(key);
            build!(&signer, p256::ecdsa::DerSignature)
        }
    })
}

/// 16 random bytes with the top bit cleared: positive, and unique with overwhelming odds.
fn serial_number() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    rsa::rand_core::RngCore::fill_bytes(&mut rsa::rand_core::OsRng, &mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::new(&bytes)?)
}

fn validity(from: SystemTime, to: SystemTime) -> Result<Validity, PkiError> {
    // Whole seconds: DER times carry no fractions.
    let whole = |t: SystemTime| -> Result<Time, PkiError> {
        let seconds = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|e| PkiError::Key(e.to_string()))?
            .as_secs();
        Ok(Time::try_from(
            SystemTime::UNIX_EPOCH + Duration::from_secs(seconds),
        )?)
    };
    Ok(Validity {
        not_before: whole(from)?,
        not_after: whole(to)?,
    })
}

/// A distinguished name in the given order (most general first), UTF-8 except the country.
fn name(parts: &[(ObjectIdentifier, &str)]) -> Result<Name, PkiError> {
    let mut rdns = Vec::new();
    for (oid, value) in parts {
        let value = if *oid == C {
            Any::from(PrintableStringRef::new(value)?)
        } else {
            Any::from(Utf8StringRef::new(value)?)
        };
        let attribute = AttributeTypeAndValue { oid: *oid, value };
        rdns.push(RelativeDistinguishedName(SetOfVec::try_from(vec![attribute])?));
    }
    Ok(RdnSequence(rdns))
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    std::fs::write(path, bytes).map_err(|e| io(path, e))
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<(), PkiError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| io(path, e))
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<(), PkiError> {
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> PkiError {
    PkiError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Why the test PKI could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("invalid identity name {0:?}")]
    InvalidName(String),
    #[error("key generation: {0}")]
    Key(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
}

impl PkiError {
    /// A stable machine code, e.g. `pki.io`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(_) => "pki.invalid_name",
            Self::Key(_) => "pki.key",
            Self::Certificate(_) => "pki.certificate",
            Self::Pkcs12(_) => "pki.pkcs12",
            Self::Io { .. } => "pki.io",
        }
    }
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        Self::Certificate(e.to_string())
    }
}

impl From<x509_cert::builder::Error> for PkiError {
    fn from(e: x509_cert::builder::Error) -> Self {
        Self::Certificate(e.to_string())
    }
}
