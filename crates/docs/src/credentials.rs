//! Học bạ số and văn bằng số documents: the PDF/A-3b rendition, PAdES signatures applied in sequence,
//! the signer backends (PKCS#12, PKCS#11, remote), a throwaway test PKI, and verification of signed
//! PDFs against configurable trust roots. The canonical record itself is pure domain
//! (`truongso_core::credentials`); the transparency log is the `truongso-ledger` crate.

pub mod pades;
pub mod pdf_verify;
pub mod pki;
pub mod render;
pub mod signer;
pub mod trust;
pub mod verify;
