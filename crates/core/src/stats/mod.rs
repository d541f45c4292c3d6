//! Education statistics (statistics.md): the official forms as versioned data computed from
//! facts about the records, indicators with their formulas, universal-education levels, and
//! the rules of a reporting period. Pure: the store loads the facts as at a reference date.

pub mod built_in;
pub mod catalogue;
pub mod compute;
pub mod facts;
pub mod indicators;
pub mod pcgd;
pub mod period;
pub mod population;

pub use catalogue::{DefinitionError, FormDef, Round};
pub use compute::{FormValues, compute, compute_per_school, trace};
pub use facts::{Entity, Fact, Facts, Val};
