//! Decision ids: UUIDv7 like [`sentinel_core::new_id`], increasing within the process (the
//! decision log lists newest first by id), without a system call per id. `Uuid::now_v7` asks
//! the kernel for random bits on every call (`getrandom`, about half a microsecond here); these
//! come from the thread's userspace CSPRNG instead.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use uuid::{Builder, Uuid};

/// Bits of the per-millisecond counter (as in `uuid`'s own v7 context, 42); a new millisecond
/// starts it at a random value below half its range, leaving room to count up.
const COUNTER_BITS: u32 = 42;
const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;

/// The last id's millisecond and counter.
static LAST: Mutex<(u64, u64)> = Mutex::new((0, 0));

/// A new decision id, greater than every one this process made before.
pub(crate) fn new_decision_id() -> Uuid {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut rng = rand::thread_rng();
    let (millis, counter) = {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        let next = if now > last.0 {
            (now, rng.gen::<u64>() & (COUNTER_MAX >> 1))
        } else if last.1 < COUNTER_MAX {
            // The same millisecond (or the clock went back): count on from the last id.
            (last.0, last.1 + 1)
        } else {
            // The counter is spent: borrow the next millisecond, as `uuid` does.
            (last.0 + 1, rng.gen::<u64>() & (COUNTER_MAX >> 1))
        };
        *last = next;
        next
    };
    Builder::from_unix_timestamp_millis(millis, &counter_and_random(counter, rng.gen())).into_uuid()
}

/// The 74 bits after the timestamp (the builder skips the version and variant bits): 12 bits of
/// counter, then 6, then 24, then 32 random bits; so ids of one millisecond sort by counter.
fn counter_and_random(counter: u64, random: u32) -> [u8; 10] {
    let high = (counter >> 30) as u16; // 12 bits, in the version byte's low nibble and the next
    let mid = ((counter >> 24) & 0x3F) as u8; // 6 bits, beside the variant
    let low = (counter & 0xFF_FFFF) as u32; // 24 bits
    let mut bytes = [0u8; 10];
    bytes[0] = (high >> 8) as u8;
    bytes[1] = high as u8;
    bytes[2] = mid;
    bytes[3..6].copy_from_slice(&low.to_be_bytes()[1..]);
    bytes[6..].copy_from_slice(&random.to_be_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_increase() {
        let ids: Vec<Uuid> = (0..50_000).map(|_| new_decision_id()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
        for id in &ids {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
        // The timestamp is now's, as for `Uuid::now_v7`.
        let (secs, _) = ids[0].get_timestamp().expect("a v7 id has one").to_unix();
        let (now, _) = Uuid::now_v7().get_timestamp().unwrap().to_unix();
        assert!(now - secs < 5);
    }

    #[test]
    fn the_counter_orders_ids_of_one_millisecond() {
        let id = |c: u64, r: u32| {
            Builder::from_unix_timestamp_millis(7, &counter_and_random(c, r)).into_uuid()
        };
        let mut last = id(0, u32::MAX);
        for c in [
            1,
            2,
            0x3F,
            0x40,
            1 << 23,
            1 << 24,
            1 << 29,
            1 << 30,
            1 << 41,
            COUNTER_MAX,
        ] {
            let next = id(c, 0);
            assert!(last < next, "counter {c:#x}");
            last = id(c, u32::MAX);
        }
    }
}
