//! Packet time: the capture timestamps the tracker's timeouts and ages run
//! on, as a point (`PacketTime`) and a length (`PacketSpan`), both whole
//! nanoseconds. Every sum and difference saturates, so a capture with
//! timestamps out of order or near the ends of the range never overflows
//! (the router builds keep overflow checks on).

/// Nanoseconds in one second.
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A point in packet time: the capture timestamp of a frame, nanoseconds
/// since the Unix epoch (0 before the first frame).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketTime(u64);

/// A length of packet time (a timeout, an age), in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketSpan(u64);

impl PacketTime {
    pub const fn from_nanos(nanos: u64) -> PacketTime {
        PacketTime(nanos)
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// How long after `earlier` this is; zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: PacketTime) -> PacketSpan {
        PacketSpan(self.0.saturating_sub(earlier.0))
    }

    /// This time `span` later, or None past the end of the range.
    pub const fn checked_add(self, span: PacketSpan) -> Option<PacketTime> {
        match self.0.checked_add(span.0) {
            Some(t) => Some(PacketTime(t)),
            None => None,
        }
    }

    /// This time `span` later, held at the end of the range.
    pub const fn saturating_add(self, span: PacketSpan) -> PacketTime {
        PacketTime(self.0.saturating_add(span.0))
    }
}

impl PacketSpan {
    pub const fn from_nanos(nanos: u64) -> PacketSpan {
        PacketSpan(nanos)
    }

    /// `secs` seconds, held at the longest span if it does not fit.
    pub const fn from_secs(secs: u64) -> PacketSpan {
        PacketSpan(secs.saturating_mul(NANOS_PER_SEC))
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_saturates_at_zero() {
        let a = PacketTime::from_nanos(5);
        let b = PacketTime::from_nanos(9);
        assert_eq!(b.saturating_since(a), PacketSpan::from_nanos(4));
        assert_eq!(a.saturating_since(b), PacketSpan::default());
    }

    #[test]
    fn sums_never_overflow() {
        let end = PacketTime::from_nanos(u64::MAX - 1);
        assert_eq!(
            end.checked_add(PacketSpan::from_nanos(1)),
            Some(PacketTime::from_nanos(u64::MAX))
        );
        assert_eq!(end.checked_add(PacketSpan::from_nanos(2)), None);
        assert_eq!(
            end.saturating_add(PacketSpan::from_secs(1)).as_nanos(),
            u64::MAX
        );
        assert_eq!(PacketSpan::from_secs(u64::MAX).as_nanos(), u64::MAX);
        assert_eq!(PacketSpan::from_secs(3).as_nanos(), 3 * NANOS_PER_SEC);
    }

    #[test]
    fn order_is_the_order_of_timestamps() {
        assert!(PacketTime::from_nanos(1) < PacketTime::from_nanos(2));
        assert_eq!(PacketTime::default().as_nanos(), 0);
    }
}
