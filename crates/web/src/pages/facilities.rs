//! Facilities of a school: rooms, equipment, computers and yes/no facts (page and API).

use crate::routes::Builder;

pub(crate) fn routes(b: Builder) -> Builder {
    b
}
