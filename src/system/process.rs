//! The figures of the standard `process_*` families, read from procfs the
//! way the Prometheus client libraries read them (client_golang's process
//! collector, the Python client's `ProcessCollector`):
//!
//! - CPU time: `utime + stime` of `/proc/self/stat`, in clock ticks, over
//!   `sysconf(_SC_CLK_TCK)`;
//! - virtual and resident memory: `vsize` (bytes) and `rss` (pages, times
//!   the page size) of `/proc/self/stat`;
//! - start time: `starttime` of `/proc/self/stat` (ticks since boot) plus
//!   `btime` of `/proc/stat`;
//! - open file descriptors: the entries of `/proc/self/fd`; the most it may
//!   open: the soft `RLIMIT_NOFILE` (the "Max open files" of
//!   `/proc/self/limits`).
//!
//! A figure that cannot be read (no procfs) is 0; the start time then falls
//! back to the wall clock when it was first asked for.

use std::time::{SystemTime, UNIX_EPOCH};

/// The figures of the standard `process_*` families; 0 where unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessFigures {
    /// Start time of the process, seconds since the epoch.
    pub start_time_seconds: f64,
    /// User and system CPU time spent, seconds.
    pub cpu_seconds_total: f64,
    pub resident_memory_bytes: u64,
    pub virtual_memory_bytes: u64,
    pub open_fds: u64,
    /// The soft limit on open file descriptors (`u64::MAX`: unlimited).
    pub max_fds: u64,
}

/// This process's figures now. `start_time_seconds` is what
/// [`start_time_seconds`] returned when the process began its work: the
/// start time does not change, so it is read once.
pub fn stats(start_time_seconds: f64) -> ProcessFigures {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| Stat::parse(&text));
    let ticks = clock_ticks_per_second();
    let page_size = sysconf(libc::_SC_PAGESIZE);
    ProcessFigures {
        start_time_seconds,
        cpu_seconds_total: stat.as_ref().map_or(0.0, |s| {
            // CPU ticks fit an f64 exactly for centuries of CPU time.
            s.utime.saturating_add(s.stime) as f64 / ticks as f64
        }),
        resident_memory_bytes: stat
            .as_ref()
            .map_or(0, |s| s.rss_pages.saturating_mul(page_size)),
        virtual_memory_bytes: stat.as_ref().map_or(0, |s| s.vsize_bytes),
        open_fds: open_fds(),
        max_fds: max_fds(),
    }
}

/// When this process started, seconds since the Unix epoch: its
/// `starttime` after boot plus the boot time, as the client libraries
/// compute it; the wall clock now where procfs cannot tell.
pub fn start_time_seconds() -> f64 {
    let from_procfs = || -> Option<f64> {
        let stat = Stat::parse(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        let boot = boot_time_seconds(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let ticks = clock_ticks_per_second();
        Some(boot as f64 + stat.start_ticks as f64 / ticks as f64)
    };
    from_procfs().unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

/// The fields of `/proc/self/stat` the families need.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize_bytes: u64,
    rss_pages: u64,
}

impl Stat {
    /// Parses the one line of `/proc/PID/stat` (proc(5)). The command name
    /// (field 2) is in parentheses and may itself hold spaces and
    /// parentheses, so the fields are counted from the last `)`.
    fn parse(text: &str) -> Option<Stat> {
        let (_, rest) = text.rsplit_once(')')?;
        // rest starts at field 3 (state): field N is at index N - 3.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> Option<u64> { fields.get(n.checked_sub(3)?)?.parse().ok() };
        Some(Stat {
            utime: field(14)?,
            stime: field(15)?,
            start_ticks: field(22)?,
            vsize_bytes: field(23)?,
            // Signed in the kernel's format; never negative in practice.
            rss_pages: field(24)?,
        })
    }
}

/// `btime` of `/proc/stat`: the boot time, seconds since the epoch.
fn boot_time_seconds(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

/// Entries of `/proc/self/fd` (the directory's own descriptor included,
/// as the client libraries count it).
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |entries| entries.count() as u64)
}

/// The soft limit on open file descriptors; `u64::MAX` if unlimited.
fn max_fds() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return u64::MAX;
    }
    // rlim_t is 32 bits on some 32-bit targets, 64 elsewhere.
    #[allow(clippy::useless_conversion)]
    u64::from(limit.rlim_cur)
}

fn clock_ticks_per_second() -> u64 {
    // Linux has been 100 Hz for user space on every architecture.
    match sysconf(libc::_SC_CLK_TCK) {
        0 => 100,
        ticks => ticks,
    }
}

/// `sysconf(name)`, 0 when unknown.
fn sysconf(name: libc::c_int) -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for unknown names.
    let value = unsafe { libc::sysconf(name) };
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A real line from proc(5)'s layout, with a command name holding a
        // space and a parenthesis.
        let line = "4242 (lan watch) x) S 1 4242 4242 0 -1 4194560 1502 0 0 0 \
                    37 12 0 0 20 0 3 0 123456 10485760 2560 18446744073709551615 \
                    1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            Stat::parse(line),
            Some(Stat {
                utime: 37,
                stime: 12,
                start_ticks: 123456,
                vsize_bytes: 10_485_760,
                rss_pages: 2560,
            })
        );
        assert_eq!(Stat::parse("4242 (x) S 1 2"), None);
        assert_eq!(Stat::parse("no parenthesis"), None);
    }

    #[test]
    fn the_boot_time_is_the_btime_line() {
        let text = "cpu  1 2 3 4\nintr 5\nbtime 1764057000\nprocesses 9\n";
        assert_eq!(boot_time_seconds(text), Some(1_764_057_000));
        assert_eq!(boot_time_seconds("cpu 1 2 3\n"), None);
    }

    #[test]
    fn this_process_has_memory_cpu_and_descriptors() {
        let s = stats(start_time_seconds());
        assert!(
            s.resident_memory_bytes > 0 && s.resident_memory_bytes < 1 << 40,
            "{s:?}"
        );
        assert!(s.virtual_memory_bytes >= s.resident_memory_bytes, "{s:?}");
        // stdin, stdout, stderr and the directory being read, at least.
        assert!(s.open_fds >= 4 && s.open_fds <= s.max_fds, "{s:?}");
        assert!(s.cpu_seconds_total >= 0.0, "{s:?}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // Started before now, and not a day ago: this is a test run.
        assert!(
            s.start_time_seconds <= now + 1.0 && s.start_time_seconds > now - 86_400.0,
            "{s:?}"
        );
    }
}
