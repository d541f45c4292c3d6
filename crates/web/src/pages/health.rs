//! School health records of a learner: check-ups, vaccinations, conditions (page and API).

use crate::routes::Builder;

pub(crate) fn routes(b: Builder) -> Builder {
    b
}
