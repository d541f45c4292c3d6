//! SeaORM entities: one definition per table, shared by SQLite and PostgreSQL.

pub mod api_token;
pub mod audit_event;
pub mod audit_head;
pub mod class;
pub mod guardian;
pub mod learner;
pub mod learner_guardian;
pub mod learner_status;
pub mod org_unit;
pub mod org_unit_version;
pub mod role_grant;
pub mod school_year;
pub mod session;
pub mod term;
pub mod user;
