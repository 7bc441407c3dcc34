//! The system-call allow-list `lanwatch capture --user` runs under once
//! its privileges are dropped.
//!
//! After the drop the daemon only reads its capture rings, answers HTTP,
//! saves its state file and re-reads its configuration files: a short list
//! of system calls. This module owns that list and the classic-BPF seccomp
//! program built from it ([`program`]), and installs it ([`install`]). A
//! call not on the list kills the whole process (`SECCOMP_RET_KILL_PROCESS`,
//! the process dies by SIGSYS), so a parser bug an attacker turns into code
//! execution still cannot start a program, open a socket, trace a process,
//! mount or change ids.
//!
//! The list was derived by running the live tests (capture on a veth pair,
//! `/metrics` and the JSON API with and without basic authentication, state
//! saves, SIGHUP reloads of the lease file, protocol table and web config,
//! an interface deleted and recreated, SIGTERM) under `strace -f` and
//! keeping what the threads call after the drop, with glibc and musl
//! builds; each libc's variants of the same operation are allowed (musl
//! calls `open`, `poll` and `epoll_wait` where glibc calls `openat`, `ppoll`
//! and `epoll_wait`/`epoll_pwait`; 32-bit targets use `mmap2`, `fstat64`,
//! `_llseek` and the `*_time64` calls). A few calls are allowed only with
//! the arguments lanwatch uses:
//!
//! - `clone` only for threads (`CLONE_THREAD`): no new processes;
//! - `clone3` answers `ENOSYS` (its flags are behind a pointer the filter
//!   cannot read), so glibc falls back to `clone`;
//! - `socket` answers `EPERM`, as the kernel does to a capture socket
//!   without CAP_NET_RAW: the capture's "needs CAP_NET_RAW, restart
//!   lanwatch" path keeps working when an interface must be reopened;
//! - `ioctl` only for the interface queries (index, flags, hardware
//!   address) and the descriptor flags std and tokio set;
//! - `prctl` only for thread names; `tgkill` only to this process;
//!   `prlimit64` only to read this process's limits.
//!
//! The filter's first step checks the architecture in `seccomp_data`
//! (`AUDIT_ARCH_*` of the target lanwatch was built for): a system call
//! made through another ABI (x32 or a 32-bit compat entry on x86-64) has
//! other numbers and is refused. System call numbers come from
//! `libc::SYS_*`, which are per target; where libc lacks one (mips o32's
//! `pread64`, `fstatat64`, and the 32-bit targets' `*_time64` calls), the
//! number is the kernel's syscall table entry, written here once.
//!
//! Threads: seccomp filters are per thread and inherited by threads started
//! afterwards. [`install`] runs on the main thread right after the drop and
//! uses `SECCOMP_FILTER_FLAG_TSYNC`, so the one thread already running then
//! (the signal thread, started first so that no signal meets its default
//! disposition during start-up) gets the filter too; the offload monitor,
//! the HTTP thread (and tokio's blocking pool), the reload and stop-deadline
//! threads are all started later and inherit it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use libc::{c_long, sock_filter, sock_fprog};

/// Set once the filter is in place: code that would start a program (the
/// offload monitor's `nft`) asks first.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether this process runs under the allow-list.
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Why the filter could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The kernel (or an emulator) has no seccomp filters, or no
    /// `SECCOMP_RET_KILL_PROCESS` (Linux < 4.14), or lanwatch knows no
    /// allow-list for this architecture. The caller warns and goes on.
    #[error("seccomp filters are not available: {0}")]
    Unavailable(String),
    #[error("installing the seccomp filter: {0}")]
    Install(io::Error),
    #[error("installing the seccomp filter: thread {0} could not be given the filter")]
    Thread(c_long),
    #[error("building the seccomp filter: {0}")]
    Program(String),
}

// `AUDIT_ARCH_*` from linux/audit.h: the ELF machine, 64-bit and
// little-endian flags.
const AUDIT_ARCH_64BIT: u32 = 0x8000_0000;
const AUDIT_ARCH_LE: u32 = 0x4000_0000;
pub const AUDIT_ARCH_X86_64: u32 = 62 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE;
pub const AUDIT_ARCH_AARCH64: u32 = 183 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE;
pub const AUDIT_ARCH_MIPSEL: u32 = 8 | AUDIT_ARCH_LE;
pub const AUDIT_ARCH_MIPS: u32 = 8;
pub const AUDIT_ARCH_ARM: u32 = 40 | AUDIT_ARCH_LE;

/// The architecture lanwatch was built for, as the kernel reports it in
/// `seccomp_data.arch`; None where lanwatch has no allow-list.
pub const fn audit_arch() -> Option<u32> {
    if cfg!(target_arch = "x86_64") && cfg!(target_pointer_width = "64") {
        Some(AUDIT_ARCH_X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(AUDIT_ARCH_AARCH64)
    } else if cfg!(all(target_arch = "mips", target_endian = "little")) {
        Some(AUDIT_ARCH_MIPSEL)
    } else if cfg!(all(target_arch = "mips", target_endian = "big")) {
        Some(AUDIT_ARCH_MIPS)
    } else if cfg!(all(target_arch = "arm", target_endian = "little")) {
        Some(AUDIT_ARCH_ARM)
    } else {
        None
    }
}

/// On x86-64, x32 system calls carry this bit and the same arch value.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// What the filter answers for one system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Allowed when every test on the arguments holds; killed otherwise.
    AllowIf(Vec<ArgTest>),
    /// Not done; the caller gets this errno.
    Errno(u16),
}

/// A test on the low 32 bits of one argument (the kernel reads `int`
/// options, ioctl requests and clone's thread flag from them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgTest {
    pub arg: u8,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    OneOf(Vec<u32>),
    HasBits(u32),
    /// The whole 64-bit argument is 0 (both words: a NULL pointer).
    Zero,
}

/// One entry of the allow-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub nr: c_long,
    pub verdict: Verdict,
}

macro_rules! allow {
    ($($name:ident),* $(,)?) => {
        [$(Rule { name: stringify!($name), nr: libc::$name, verdict: Verdict::Allow }),*]
    };
}

/// Numbers libc does not name for the 32-bit targets: the kernel's table
/// (`arch/mips/kernel/syscalls/syscall_o32.tbl`, base 4000;
/// `arch/arm/tools/syscall.tbl`, base 0; the `*_time64` calls share the
/// same offsets on every 32-bit architecture).
#[cfg(any(target_arch = "mips", target_arch = "arm"))]
mod numbers {
    use libc::c_long;
    #[cfg(target_arch = "mips")]
    const BASE: c_long = 4000;
    #[cfg(target_arch = "arm")]
    const BASE: c_long = 0;
    pub const CLOCK_GETTIME64: c_long = BASE + 403;
    pub const CLOCK_GETRES_TIME64: c_long = BASE + 406;
    pub const CLOCK_NANOSLEEP_TIME64: c_long = BASE + 407;
    pub const PPOLL_TIME64: c_long = BASE + 414;
    pub const FUTEX_TIME64: c_long = BASE + 422;
    #[cfg(target_arch = "mips")]
    pub const PREAD64: c_long = BASE + 200;
    #[cfg(target_arch = "mips")]
    pub const PWRITE64: c_long = BASE + 201;
    #[cfg(target_arch = "mips")]
    pub const FSTATAT64: c_long = BASE + 293;
}

/// The allow-list for the target lanwatch is built for, most frequent
/// calls first (the filter tries them in order).
pub fn rules() -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    // The capture loop, the HTTP server and their timers.
    rules.extend(allow!(
        SYS_ppoll,
        SYS_futex,
        SYS_read,
        SYS_write,
        SYS_recvfrom,
        SYS_sendto,
        SYS_readv,
        SYS_writev,
        SYS_epoll_pwait,
        SYS_epoll_pwait2,
        SYS_epoll_ctl,
        SYS_getsockopt,
        SYS_clock_gettime,
        SYS_clock_getres,
        SYS_clock_nanosleep,
        SYS_nanosleep,
        SYS_gettimeofday,
        SYS_sched_yield,
        SYS_accept4,
        SYS_accept,
        SYS_recvmsg,
        SYS_sendmsg,
        SYS_shutdown,
        SYS_getsockname,
        SYS_getpeername,
        SYS_epoll_create1,
        SYS_eventfd2,
        SYS_close,
        // Memory (the allocator, thread stacks).
        SYS_brk,
        SYS_munmap,
        SYS_mprotect,
        SYS_madvise,
        SYS_mremap,
        // Files: state saves, reloads, /proc/self for the process metrics.
        SYS_openat,
        SYS_lseek,
        SYS_fstat,
        SYS_statx,
        SYS_fsync,
        SYS_fdatasync,
        SYS_renameat,
        SYS_renameat2,
        SYS_unlinkat,
        SYS_mkdirat,
        SYS_getdents64,
        SYS_fcntl,
        // Re-binding an existing capture socket to a recreated interface
        // (filter, bind, promiscuous membership: no capability needed).
        SYS_setsockopt,
        SYS_bind,
        // Threads, signals, exit.
        SYS_set_robust_list,
        SYS_set_tid_address,
        SYS_sched_getaffinity,
        SYS_gettid,
        SYS_getpid,
        SYS_sigaltstack,
        SYS_rt_sigaction,
        SYS_rt_sigprocmask,
        SYS_rt_sigreturn,
        SYS_restart_syscall,
        SYS_tkill,
        SYS_exit,
        SYS_exit_group,
        SYS_getrandom,
        // Who we are (messages, the root check).
        SYS_getuid,
        SYS_geteuid,
        SYS_getgid,
        SYS_getegid,
        SYS_getresuid,
        SYS_getresgid,
    ));
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    rules.extend(allow!(
        SYS_rseq,
        SYS_newfstatat,
        SYS_mmap,
        SYS_pread64,
        SYS_pwrite64,
        SYS_getrlimit,
    ));
    #[cfg(any(target_arch = "x86_64", target_arch = "mips", target_arch = "arm"))]
    rules.extend(allow!(
        SYS_poll,
        SYS_epoll_wait,
        SYS_open,
        SYS_stat,
        SYS_lstat,
        SYS_rename,
        SYS_unlink,
        SYS_mkdir,
    ));
    #[cfg(any(target_arch = "mips", target_arch = "arm"))]
    {
        rules.extend(allow!(
            SYS_mmap2,
            SYS_stat64,
            SYS_lstat64,
            SYS_fstat64,
            SYS__llseek,
            SYS_fcntl64,
            SYS_sigreturn,
        ));
        for (name, nr) in [
            ("clock_gettime64", numbers::CLOCK_GETTIME64),
            ("clock_getres_time64", numbers::CLOCK_GETRES_TIME64),
            ("clock_nanosleep_time64", numbers::CLOCK_NANOSLEEP_TIME64),
            ("ppoll_time64", numbers::PPOLL_TIME64),
            ("futex_time64", numbers::FUTEX_TIME64),
        ] {
            rules.push(Rule {
                name,
                nr,
                verdict: Verdict::Allow,
            });
        }
    }
    #[cfg(target_arch = "mips")]
    {
        rules.extend(allow!(SYS_mmap, SYS_getrlimit));
        for (name, nr) in [
            ("pread64", numbers::PREAD64),
            ("pwrite64", numbers::PWRITE64),
            ("fstatat64", numbers::FSTATAT64),
        ] {
            rules.push(Rule {
                name,
                nr,
                verdict: Verdict::Allow,
            });
        }
    }
    #[cfg(target_arch = "arm")]
    rules.extend(allow!(
        SYS_pread64,
        SYS_pwrite64,
        SYS_fstatat64,
        SYS_ugetrlimit,
        SYS_getuid32,
        SYS_geteuid32,
        SYS_getgid32,
        SYS_getegid32,
        SYS_getresuid32,
        SYS_getresgid32,
    ));
    rules.extend(restricted_rules());
    rules
}

/// The calls allowed only with lanwatch's own arguments (module docs).
// ioctl requests are c_ulong with glibc and c_int with musl.
#[allow(clippy::unnecessary_cast)]
fn restricted_rules() -> Vec<Rule> {
    // SAFETY: getpid has no preconditions and cannot fail.
    let pid = unsafe { libc::getpid() } as u32;
    let ioctls = [
        libc::SIOCGIFINDEX as u32,
        libc::SIOCGIFFLAGS as u32,
        libc::SIOCGIFHWADDR as u32,
        libc::FIONBIO as u32,
        libc::FIONREAD as u32,
        libc::FIOCLEX as u32,
        libc::FIONCLEX as u32,
        libc::TCGETS as u32,
    ];
    let rule = |name, nr, verdict| Rule { name, nr, verdict };
    let only = |arg, test| ArgTest { arg, test };
    vec![
        rule(
            "ioctl",
            libc::SYS_ioctl,
            Verdict::AllowIf(vec![only(1, Test::OneOf(ioctls.to_vec()))]),
        ),
        rule(
            "clone",
            libc::SYS_clone,
            Verdict::AllowIf(vec![only(0, Test::HasBits(libc::CLONE_THREAD as u32))]),
        ),
        rule(
            "clone3",
            libc::SYS_clone3,
            Verdict::Errno(libc::ENOSYS as u16),
        ),
        rule(
            "socket",
            libc::SYS_socket,
            Verdict::Errno(libc::EPERM as u16),
        ),
        rule(
            "prctl",
            libc::SYS_prctl,
            Verdict::AllowIf(vec![only(
                0,
                Test::OneOf(vec![libc::PR_SET_NAME as u32, libc::PR_GET_NAME as u32]),
            )]),
        ),
        rule(
            "tgkill",
            libc::SYS_tgkill,
            Verdict::AllowIf(vec![only(0, Test::OneOf(vec![pid]))]),
        ),
        rule(
            "prlimit64",
            libc::SYS_prlimit64,
            Verdict::AllowIf(vec![only(0, Test::Zero), only(2, Test::Zero)]),
        ),
    ]
}

// Offsets in `struct seccomp_data`: nr (u32), arch (u32), ip (u64),
// args (6 × u64).
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const OFFSET_ARGS: u32 = 16;

/// Offset of the low (`high == false`) or high word of argument `arg`.
const fn arg_word(arg: u8, high: bool) -> u32 {
    let base = OFFSET_ARGS + 8 * arg as u32;
    let high_first = cfg!(target_endian = "big");
    if high != high_first {
        base + 4
    } else {
        base
    }
}

const fn stmt(code: u32, k: u32) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

const LOAD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const JEQ: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const JGE: u32 = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
const AND: u32 = libc::BPF_ALU | libc::BPF_AND | libc::BPF_K;
const RET: u32 = libc::BPF_RET | libc::BPF_K;
pub const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
pub const RET_KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;

fn offset(len: usize, what: &str) -> Result<u8, SeccompError> {
    u8::try_from(len).map_err(|_| SeccompError::Program(format!("{what} is {len} instructions")))
}

/// The instructions that end in ALLOW when `tests` hold, KILL otherwise.
fn argument_checks(tests: &[ArgTest]) -> Result<Vec<sock_filter>, SeccompError> {
    let mut body = Vec::new();
    for ArgTest { arg, test } in tests {
        match test {
            Test::OneOf(values) => {
                body.push(stmt(LOAD, arg_word(*arg, false)));
                for (i, value) in values.iter().enumerate() {
                    // A match skips the other values and the KILL.
                    let skip = offset(values.len() - i, "an argument list")?;
                    body.push(jump(JEQ, *value, skip, 0));
                }
                body.push(stmt(RET, RET_KILL));
            }
            Test::HasBits(bits) => {
                body.push(stmt(LOAD, arg_word(*arg, false)));
                body.push(stmt(AND, *bits));
                body.push(jump(JEQ, *bits, 1, 0));
                body.push(stmt(RET, RET_KILL));
            }
            Test::Zero => {
                for high in [false, true] {
                    body.push(stmt(LOAD, arg_word(*arg, high)));
                    body.push(jump(JEQ, 0, 1, 0));
                    body.push(stmt(RET, RET_KILL));
                }
            }
        }
    }
    body.push(stmt(RET, RET_ALLOW));
    Ok(body)
}

/// The seccomp program for `rules` on architecture `arch`: check the
/// architecture (anything else: KILL), load the call number (on x86-64,
/// an x32 call: KILL), then one comparison per rule, each followed by its
/// verdict; a number matching no rule: KILL.
pub fn program(arch: u32, rules: &[Rule]) -> Result<Vec<sock_filter>, SeccompError> {
    let mut p = vec![
        stmt(LOAD, OFFSET_ARCH),
        jump(JEQ, arch, 1, 0),
        stmt(RET, RET_KILL),
        stmt(LOAD, OFFSET_NR),
    ];
    if arch == AUDIT_ARCH_X86_64 {
        p.push(jump(JGE, X32_SYSCALL_BIT, 0, 1));
        p.push(stmt(RET, RET_KILL));
    }
    for rule in rules {
        let nr = u32::try_from(rule.nr)
            .map_err(|_| SeccompError::Program(format!("{} has number {}", rule.name, rule.nr)))?;
        let body = match &rule.verdict {
            Verdict::Allow => vec![stmt(RET, RET_ALLOW)],
            Verdict::Errno(errno) => vec![stmt(RET, libc::SECCOMP_RET_ERRNO | u32::from(*errno))],
            Verdict::AllowIf(tests) => argument_checks(tests)?,
        };
        p.push(jump(JEQ, nr, 0, offset(body.len(), rule.name)?));
        p.extend(body);
    }
    p.push(stmt(RET, RET_KILL));
    if p.len() > libc::BPF_MAXINSNS as usize {
        return Err(SeccompError::Program(format!(
            "{} instructions, more than the kernel takes",
            p.len()
        )));
    }
    Ok(p)
}

/// Thin wrapper over the `seccomp(2)` system call.
fn seccomp(operation: libc::c_uint, flags: libc::c_ulong, args: *const libc::c_void) -> c_long {
    // SAFETY: `args` points to what `operation` reads (a sock_fprog or a
    // u32) for the duration of the call.
    unsafe { libc::syscall(libc::SYS_seccomp, operation, flags, args) }
}

/// Installs the allow-list on every thread of the process (TSYNC; see the
/// module docs for the threads). `no_new_privs` must already be set (the
/// privilege drop sets it). In debug builds, then runs the start-up
/// self-test the tests use ([`SELFTEST_ENV`]).
pub fn install() -> Result<(), SeccompError> {
    let arch = audit_arch().ok_or_else(|| {
        SeccompError::Unavailable(format!(
            "lanwatch has no system-call allow-list for {}",
            std::env::consts::ARCH
        ))
    })?;
    let kill = libc::SECCOMP_RET_KILL_PROCESS;
    if seccomp(
        libc::SECCOMP_GET_ACTION_AVAIL,
        0,
        std::ptr::addr_of!(kill).cast(),
    ) != 0
    {
        let e = io::Error::last_os_error();
        return Err(SeccompError::Unavailable(format!(
            "the kernel offers no SECCOMP_RET_KILL_PROCESS ({e}); it needs \
             CONFIG_SECCOMP_FILTER and Linux 4.14 or later, \
             which user-mode emulators do not provide"
        )));
    }
    let filter = program(arch, &rules())?;
    let fprog = sock_fprog {
        len: u16::try_from(filter.len())
            .map_err(|_| SeccompError::Program(format!("{} instructions", filter.len())))?,
        filter: filter.as_ptr().cast_mut(),
    };
    let rc = seccomp(
        libc::SECCOMP_SET_MODE_FILTER,
        libc::SECCOMP_FILTER_FLAG_TSYNC,
        std::ptr::addr_of!(fprog).cast(),
    );
    match rc {
        0 => {}
        -1 => return Err(SeccompError::Install(io::Error::last_os_error())),
        thread => return Err(SeccompError::Thread(thread)),
    }
    ACTIVE.store(true, Ordering::Relaxed);
    #[cfg(debug_assertions)]
    selftest();
    Ok(())
}

/// [`install`], logged; a kernel without seccomp filters (or an emulator)
/// gets a warning and the daemon runs on without the filter.
pub fn install_or_warn() -> Result<(), SeccompError> {
    match install() {
        Ok(()) => {
            tracing::info!(
                calls = rules().len(),
                "system-call allow-list in force (seccomp; --no-seccomp turns it off)"
            );
            Ok(())
        }
        Err(SeccompError::Unavailable(why)) => {
            tracing::warn!("running without the system-call allow-list: {why}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Debug builds only: with `LANWATCH_SECCOMP_SELFTEST=CALL` in the
/// environment, the daemon makes that forbidden call right after
/// installing the filter, so a test can see it die by SIGSYS.
pub const SELFTEST_ENV: &str = "LANWATCH_SECCOMP_SELFTEST";

#[cfg(debug_assertions)]
fn selftest() {
    let Ok(call) = std::env::var(SELFTEST_ENV) else {
        return;
    };
    tracing::warn!(call, "seccomp self-test: making a forbidden system call");
    let path = c"/bin/true";
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    // SAFETY: every call gets valid pointers or plain integers; under the
    // filter none of them returns.
    let rc = unsafe {
        match call.as_str() {
            "execve" => libc::syscall(
                libc::SYS_execve,
                path.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
            ),
            "setuid" => libc::syscall(libc::SYS_setuid, 0),
            "ptrace" => libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0),
            _ => {
                tracing::error!(call, "unknown seccomp self-test");
                return;
            }
        }
    };
    tracing::error!(call, rc, "seccomp self-test: the forbidden call returned");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An interpreter for the classic-BPF subset [`program`] emits, run
    /// on a `seccomp_data` the way the kernel does; panics on anything
    /// else (an unknown opcode, a jump out of the program, no return).
    fn run(program: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let word = |k: u32| {
            let k = k as usize;
            assert!(k % 4 == 0 && k + 4 <= data.len(), "load at {k}");
            u32::from_ne_bytes([data[k], data[k + 1], data[k + 2], data[k + 3]])
        };
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = program.get(pc).expect("the program runs off its end");
            let code = u32::from(insn.code);
            pc += 1;
            let branch = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
            match code {
                LOAD => acc = word(insn.k),
                AND => acc &= insn.k,
                JEQ => pc += branch(acc == insn.k),
                JGE => pc += branch(acc >= insn.k),
                RET => return insn.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    fn arch() -> u32 {
        audit_arch().expect("tests run on a supported architecture")
    }

    fn filter() -> Vec<sock_filter> {
        program(arch(), &rules()).unwrap()
    }

    fn verdict(nr: c_long, args: [u64; 6]) -> u32 {
        run(&filter(), arch(), nr as u32, args)
    }

    #[test]
    fn the_architecture_is_checked_before_anything_else() {
        let p = filter();
        assert_eq!((u32::from(p[0].code), p[0].k), (LOAD, OFFSET_ARCH));
        assert_eq!((u32::from(p[1].code), p[1].k), (JEQ, arch()));
        assert_eq!((u32::from(p[2].code), p[2].k), (RET, RET_KILL));
        // Every call, allowed or not, is killed from another ABI.
        for other in [
            AUDIT_ARCH_X86_64,
            AUDIT_ARCH_AARCH64,
            AUDIT_ARCH_MIPSEL,
            AUDIT_ARCH_ARM,
        ]
        .into_iter()
        .filter(|a| *a != arch())
        {
            for rule in rules() {
                assert_eq!(
                    run(&p, other, rule.nr as u32, [0; 6]),
                    RET_KILL,
                    "{}",
                    rule.name
                );
            }
        }
    }

    #[test]
    fn every_allowed_call_is_allowed() {
        let plain: Vec<Rule> = rules()
            .into_iter()
            .filter(|r| r.verdict == Verdict::Allow)
            .collect();
        assert!(plain.len() > 50, "{} plain rules", plain.len());
        for rule in plain {
            assert_eq!(verdict(rule.nr, [0; 6]), RET_ALLOW, "{}", rule.name);
        }
    }

    #[test]
    fn what_the_daemon_must_never_do_kills_it() {
        let forbidden = [
            ("execve", libc::SYS_execve),
            ("execveat", libc::SYS_execveat),
            ("ptrace", libc::SYS_ptrace),
            ("setuid", libc::SYS_setuid),
            ("setresuid", libc::SYS_setresuid),
            ("setgroups", libc::SYS_setgroups),
            ("capset", libc::SYS_capset),
            ("mount", libc::SYS_mount),
            ("socketpair", libc::SYS_socketpair),
            ("connect", libc::SYS_connect),
            ("listen", libc::SYS_listen),
            ("kill", libc::SYS_kill),
            ("chmod", libc::SYS_fchmodat),
            ("seccomp", libc::SYS_seccomp),
            ("bpf", libc::SYS_bpf),
            ("init_module", libc::SYS_init_module),
        ];
        for (name, nr) in forbidden {
            assert!(rules().iter().all(|r| r.nr != nr), "{name} is on the list");
            assert_eq!(verdict(nr, [0; 6]), RET_KILL, "{name}");
        }
        assert_eq!(
            run(&filter(), arch(), 999, [0; 6]),
            RET_KILL,
            "a number no call has"
        );
    }

    #[test]
    fn clone_is_allowed_for_threads_only() {
        let thread = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM) as u64;
        assert_eq!(verdict(libc::SYS_clone, [thread, 0, 0, 0, 0, 0]), RET_ALLOW);
        let fork = libc::SIGCHLD as u64;
        assert_eq!(verdict(libc::SYS_clone, [fork, 0, 0, 0, 0, 0]), RET_KILL);
        let vfork = (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64;
        assert_eq!(verdict(libc::SYS_clone, [vfork, 0, 0, 0, 0, 0]), RET_KILL);
        assert_eq!(
            verdict(libc::SYS_clone3, [0; 6]),
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32
        );
    }

    #[test]
    fn sockets_are_refused_with_eperm_not_killed() {
        for domain in [libc::AF_PACKET, libc::AF_INET, libc::AF_NETLINK] {
            assert_eq!(
                verdict(
                    libc::SYS_socket,
                    [domain as u64, libc::SOCK_RAW as u64, 0, 0, 0, 0]
                ),
                libc::SECCOMP_RET_ERRNO | libc::EPERM as u32
            );
        }
    }

    #[test]
    // ioctl requests are c_ulong with glibc and c_int with musl.
    #[allow(clippy::unnecessary_cast)]
    fn ioctl_prctl_tgkill_and_prlimit_only_with_lanwatchs_arguments() {
        let ioctl = |request: u64| verdict(libc::SYS_ioctl, [3, request, 0, 0, 0, 0]);
        assert_eq!(ioctl(libc::SIOCGIFINDEX as u64), RET_ALLOW);
        assert_eq!(ioctl(libc::SIOCGIFHWADDR as u64), RET_ALLOW);
        assert_eq!(ioctl(libc::FIONBIO as u64), RET_ALLOW);
        assert_eq!(ioctl(libc::SIOCSIFFLAGS as u64), RET_KILL, "setting flags");
        assert_eq!(ioctl(libc::TIOCSTI as u64), RET_KILL, "typing into a tty");
        let prctl = |option: i32| verdict(libc::SYS_prctl, [option as u64, 0, 0, 0, 0, 0]);
        assert_eq!(prctl(libc::PR_SET_NAME), RET_ALLOW);
        assert_eq!(prctl(libc::PR_SET_SECCOMP), RET_KILL);
        assert_eq!(prctl(libc::PR_CAP_AMBIENT), RET_KILL);
        assert_eq!(prctl(libc::PR_SET_DUMPABLE), RET_KILL);
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() } as u64;
        let tgkill =
            |tgid: u64| verdict(libc::SYS_tgkill, [tgid, 1, libc::SIGABRT as u64, 0, 0, 0]);
        assert_eq!(tgkill(pid), RET_ALLOW);
        assert_eq!(tgkill(1), RET_KILL, "signalling another process");
        let prlimit =
            |pid: u64, new: u64| verdict(libc::SYS_prlimit64, [pid, 7, new, 0x1000, 0, 0]);
        assert_eq!(prlimit(0, 0), RET_ALLOW, "reading our own limit");
        assert_eq!(prlimit(0, 0x2000), RET_KILL, "setting a limit");
        assert_eq!(
            prlimit(0, 0x7f00_0000_0000),
            RET_KILL,
            "a pointer above 4 GiB"
        );
        assert_eq!(prlimit(1, 0), RET_KILL, "another process's limit");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_calls_are_refused() {
        let read_x32 = X32_SYSCALL_BIT | libc::SYS_read as u32;
        assert_eq!(run(&filter(), arch(), read_x32, [0; 6]), RET_KILL);
    }

    #[test]
    fn every_jump_stays_inside_the_program_and_ends_in_a_return() {
        let p = filter();
        assert!(p.len() <= libc::BPF_MAXINSNS as usize);
        assert_eq!(u32::from(p[p.len() - 1].code), RET);
        assert_eq!(p[p.len() - 1].k, RET_KILL, "the default is KILL_PROCESS");
        for (i, insn) in p.iter().enumerate() {
            if u32::from(insn.code) & 0x07 == libc::BPF_JMP {
                let far = i + 1 + usize::from(insn.jt.max(insn.jf));
                assert!(far < p.len(), "instruction {i} jumps to {far}");
            }
        }
    }

    #[test]
    fn no_call_is_listed_twice() {
        let mut numbers: Vec<c_long> = rules().iter().map(|r| r.nr).collect();
        numbers.sort_unstable();
        let before = numbers.len();
        numbers.dedup();
        assert_eq!(numbers.len(), before);
    }
}
