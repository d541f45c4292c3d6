//! Data-quality dashboard of a school and its roll-up for offices (page and API).

use crate::routes::Builder;

pub(crate) fn routes(b: Builder) -> Builder {
    b
}
