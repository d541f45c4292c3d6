//! Route × role cases of the quality pages and API (see `authz.rs`).

use super::{Case, Targets};

pub fn cases(_t: &Targets) -> Vec<Case> {
    vec![]
}
