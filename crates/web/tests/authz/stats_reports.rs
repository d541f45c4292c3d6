//! Route × role cases of the statistics pages and API (see `authz.rs`).

use super::{Case, Targets};

pub fn cases(_t: &Targets) -> Vec<Case> {
    vec![]
}
