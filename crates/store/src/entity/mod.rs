//! SeaORM entities: one definition per table, shared by SQLite and PostgreSQL.

pub mod api_token;
pub mod audit_event;
pub mod audit_head;
pub mod class;
pub mod class_enrolment;
pub mod equipment;
pub mod guardian;
pub mod health_entry;
pub mod job;
pub mod learner;
pub mod learner_guardian;
pub mod learner_name;
pub mod learner_status;
pub mod org_unit;
pub mod org_unit_version;
pub mod role_grant;
pub mod room;
pub mod school_facility;
pub mod school_year;
pub mod session;
pub mod setting;
pub mod staff;
pub mod teaching_assignment;
pub mod term;
pub mod user;
