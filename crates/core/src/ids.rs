//! Identifiers and timestamps.
//!
//! Ids are UUIDv7: unique without coordination between cluster nodes, and ordered by creation
//! time, which lets list endpoints paginate by id alone (keyset pagination).

use time::OffsetDateTime;
use uuid::Uuid;

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The current time in UTC, truncated to milliseconds so that it survives every store unchanged.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t)
}
