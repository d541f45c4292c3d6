//! Pure domain of Trường Số: types that parse their input, rules and formulas, and the
//! authorisation policy. Nothing here performs I/O, so every rule can be tested alone.

pub mod admin_units;
pub mod audit;
pub mod auth;
pub mod classes;
pub mod codes;
pub mod credentials;
pub mod error;
pub mod facilities;
pub mod gradebook;
pub mod health;
pub mod i18n;
pub mod org;
pub mod password;
pub mod people;
pub mod quality;
pub mod school_year;
pub mod stats;
pub mod text;
pub mod users;

pub use error::DomainError;
