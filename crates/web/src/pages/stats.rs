//! Statistics pages.

use crate::routes::Builder;

pub(crate) fn routes(b: Builder) -> Builder {
    b
}
