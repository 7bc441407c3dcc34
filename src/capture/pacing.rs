//! Real-time pacing of a replay: hands frames on at the pace they were
//! captured (or N times faster), so a Prometheus scraping `replay --listen`
//! sees rates as they were, and a capture can loop as a live demo.
//!
//! [`Paced`] wraps any [`Source`]. It keeps the next frame in a buffer of its
//! own until the frame is due on the wall clock, and while it waits it
//! returns [`Next::Idle`] every [`MAX_NAP`]: the worker then publishes
//! snapshots and notices a shutdown, exactly as during a quiet live capture.
//! The copy is one small memcpy per frame — replay speed is not the point here.
//!
//! The wall-clock anchor and the timestamp shift live in a [`Pacer`] that
//! outlives one file, so several files play as one stream and a loop
//! continues where the previous pass ended: each pass is shifted by the
//! length of the previous ones, so packet time only ever moves forward (the
//! tracker's timeouts run on packet time).

use std::time::{Duration, Instant};

use super::{CaptureError, Frame, Next, Source};
use crate::decode::LinkType;

/// Longest sleep before the wrapped source reports `Idle` to its caller.
pub const MAX_NAP: Duration = Duration::from_millis(100);

/// Packet time between the end of one loop pass and the start of the next.
pub const LOOP_GAP_NANOS: u64 = 1_000_000_000;

/// The wall clock a paced replay follows, shared by every file and pass.
#[derive(Debug)]
pub struct Pacer {
    /// Capture seconds per wall-clock second (1 = real time).
    speed: f64,
    /// The wall-clock instant the first frame was handed on, and its
    /// (shifted) timestamp.
    anchor: Option<(Instant, u64)>,
    /// Added to every frame's timestamp: the length of the passes so far.
    offset_nanos: u64,
    /// Earliest and latest unshifted timestamps of the current pass.
    pass_first: Option<u64>,
    pass_last: u64,
}

impl Pacer {
    /// A pacer playing `speed` times faster than real time. Speeds that are
    /// not a positive finite number play in real time.
    pub fn new(speed: f64) -> Pacer {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Pacer {
            speed,
            anchor: None,
            offset_nanos: 0,
            pass_first: None,
            pass_last: 0,
        }
    }

    /// Ends a pass over the files: the next pass's frames are shifted to
    /// start [`LOOP_GAP_NANOS`] after this pass's last frame.
    pub fn next_pass(&mut self) {
        if let Some(first) = self.pass_first.take() {
            let length = self.pass_last.saturating_sub(first);
            self.offset_nanos = self
                .offset_nanos
                .saturating_add(length)
                .saturating_add(LOOP_GAP_NANOS);
        }
        self.pass_last = 0;
    }

    /// The timestamp a frame captured at `ts_nanos` is replayed with.
    fn shift(&mut self, ts_nanos: u64) -> u64 {
        if self.pass_first.is_none() {
            self.pass_first = Some(ts_nanos);
        }
        self.pass_last = self.pass_last.max(ts_nanos);
        ts_nanos.saturating_add(self.offset_nanos)
    }

    /// When the frame with (shifted) timestamp `ts_nanos` is due.
    fn due(&mut self, ts_nanos: u64, now: Instant) -> Instant {
        let (start, start_ts) = *self.anchor.get_or_insert((now, ts_nanos));
        let capture_seconds = ts_nanos.saturating_sub(start_ts) as f64 / 1e9;
        let wall =
            Duration::try_from_secs_f64(capture_seconds / self.speed).unwrap_or(Duration::MAX);
        start.checked_add(wall).unwrap_or(now)
    }
}

/// A frame held back until it is due, its bytes in `Paced::buf`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    ts_nanos: u64,
    wire_len: u32,
    link: LinkType,
    outgoing: bool,
}

/// A source whose frames come out at the pace of their timestamps.
pub struct Paced<'p, S> {
    inner: S,
    pacer: &'p mut Pacer,
    pending: Option<Pending>,
    buf: Vec<u8>,
}

impl<'p, S: Source> Paced<'p, S> {
    pub fn new(inner: S, pacer: &'p mut Pacer) -> Paced<'p, S> {
        Paced {
            inner,
            pacer,
            pending: None,
            buf: Vec::with_capacity(2048),
        }
    }
}

impl<S: Source> Source for Paced<'_, S> {
    fn next_frame(&mut self) -> Result<Next<'_>, CaptureError> {
        let pending = match self.pending {
            Some(pending) => pending,
            None => match self.inner.next_frame()? {
                Next::Frame(frame) => {
                    self.buf.clear();
                    self.buf.extend_from_slice(frame.data);
                    let pending = Pending {
                        ts_nanos: self.pacer.shift(frame.ts_nanos),
                        wire_len: frame.wire_len,
                        link: frame.link,
                        outgoing: frame.outgoing,
                    };
                    self.pending = Some(pending);
                    pending
                }
                Next::Idle => return Ok(Next::Idle),
                Next::End => return Ok(Next::End),
            },
        };
        let now = Instant::now();
        let due = self.pacer.due(pending.ts_nanos, now);
        if let Some(wait) = due.checked_duration_since(now).filter(|w| !w.is_zero()) {
            std::thread::sleep(wait.min(MAX_NAP));
            if wait > MAX_NAP {
                return Ok(Next::Idle);
            }
        }
        self.pending = None;
        Ok(Next::Frame(Frame {
            ts_nanos: pending.ts_nanos,
            wire_len: pending.wire_len,
            link: pending.link,
            data: &self.buf,
            outgoing: pending.outgoing,
        }))
    }

    fn kernel_stats(&mut self) -> super::KernelStats {
        self.inner.kernel_stats()
    }

    fn skipped_duplicates(&self) -> u64 {
        self.inner.skipped_duplicates()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames at the given timestamps (ms), each carrying its index as data.
    struct Frames {
        ts_ms: Vec<u64>,
        next: usize,
        data: [u8; 1],
    }

    impl Frames {
        fn at(ts_ms: &[u64]) -> Frames {
            Frames {
                ts_ms: ts_ms.to_vec(),
                next: 0,
                data: [0],
            }
        }
    }

    impl Source for Frames {
        fn next_frame(&mut self) -> Result<Next<'_>, CaptureError> {
            let Some(&ms) = self.ts_ms.get(self.next) else {
                return Ok(Next::End);
            };
            self.data = [self.next as u8];
            self.next += 1;
            Ok(Next::Frame(Frame {
                ts_nanos: ms * 1_000_000,
                wire_len: 60,
                link: LinkType::Ethernet,
                data: &self.data,
                outgoing: false,
            }))
        }
    }

    /// Drains a source: (timestamp ms, data byte, wall ms since start) per
    /// frame, and how many times it reported Idle.
    fn drain(source: &mut dyn Source) -> (Vec<(u64, u8, u128)>, usize) {
        let start = Instant::now();
        let mut frames = Vec::new();
        let mut idles = 0;
        loop {
            match source.next_frame().unwrap() {
                Next::Frame(f) => frames.push((
                    f.ts_nanos / 1_000_000,
                    f.data[0],
                    start.elapsed().as_millis(),
                )),
                Next::Idle => idles += 1,
                Next::End => return (frames, idles),
            }
        }
    }

    #[test]
    fn frames_come_out_no_earlier_than_their_capture_gaps() {
        let mut pacer = Pacer::new(1.0);
        let mut paced = Paced::new(Frames::at(&[1_000, 1_050, 1_300]), &mut pacer);
        let (frames, idles) = drain(&mut paced);
        let ts: Vec<(u64, u8)> = frames.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(ts, [(1_000, 0), (1_050, 1), (1_300, 2)]);
        assert!(frames[1].2 >= 50, "second frame after 50 ms: {frames:?}");
        assert!(frames[2].2 >= 300, "third frame after 300 ms: {frames:?}");
        assert!(frames[2].2 < 1_000, "but not much later: {frames:?}");
        // 250 ms gap with 100 ms naps: the worker hears from the source.
        assert!(idles >= 2, "idle while waiting: {idles}");
    }

    #[test]
    fn speed_divides_the_gaps() {
        let mut pacer = Pacer::new(10.0);
        let mut paced = Paced::new(Frames::at(&[0, 2_000]), &mut pacer);
        let (frames, _) = drain(&mut paced);
        assert!(frames[1].2 >= 200, "2 s at ×10 is 200 ms: {frames:?}");
        assert!(frames[1].2 < 1_500, "not real time: {frames:?}");
    }

    #[test]
    fn timestamps_going_backwards_are_handed_on_at_once() {
        let mut pacer = Pacer::new(1.0);
        let mut paced = Paced::new(Frames::at(&[5_000, 4_000, 5_000]), &mut pacer);
        let (frames, idles) = drain(&mut paced);
        assert_eq!(frames.len(), 3);
        assert_eq!(idles, 0);
        assert!(frames[2].2 < 100, "{frames:?}");
    }

    #[test]
    fn a_second_pass_continues_after_the_first_one_ends() {
        let mut pacer = Pacer::new(1000.0);
        let (first, _) = drain(&mut Paced::new(Frames::at(&[1_000, 3_000]), &mut pacer));
        pacer.next_pass();
        let (second, _) = drain(&mut Paced::new(Frames::at(&[1_000, 3_000]), &mut pacer));
        pacer.next_pass();
        let (third, _) = drain(&mut Paced::new(Frames::at(&[1_000, 3_000]), &mut pacer));
        let ts = |v: &[(u64, u8, u128)]| v.iter().map(|f| f.0).collect::<Vec<_>>();
        assert_eq!(ts(&first), [1_000, 3_000]);
        // Shifted by the pass length (2 s) plus the 1 s gap.
        assert_eq!(ts(&second), [4_000, 6_000]);
        assert_eq!(ts(&third), [7_000, 9_000]);
    }

    #[test]
    fn nonsense_speeds_mean_real_time() {
        for speed in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Pacer::new(speed).speed, 1.0);
        }
    }
}
