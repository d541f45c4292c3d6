//! People: learners, guardians and staff. The foundation of the school-records capability:
//! identity numbers that parse and check themselves against the record.

pub mod cccd;

pub use cccd::{Cccd, Sex};
