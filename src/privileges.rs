//! Dropping root: run as an unprivileged user once the sockets are open.
//!
//! A capture sees everyone's traffic, so the daemon should hold privileges
//! only as long as it needs them: opening the AF_PACKET sockets (CAP_NET_RAW)
//! and binding the HTTP listener. [`Credentials::resolve`] looks the user and
//! group up *before* anything is opened (so a typo fails at once, not after
//! the capture started), and [`Credentials::drop_privileges`] switches to
//! them afterwards:
//!
//! 1. `PR_SET_NO_NEW_PRIVS`, so nothing this process executes can gain
//!    privileges back (set-uid binaries, file capabilities);
//! 2. empty the capability bounding set (`PR_CAPBSET_DROP` for every
//!    capability up to `/proc/sys/kernel/cap_last_cap`), so no later
//!    `execve` could ever be granted one. Dropping from the bounding set
//!    needs CAP_SETPCAP, which the uid change takes away, so it comes
//!    before it; the bounding set does not touch the effective set, so
//!    CAP_SETUID/CAP_SETGID still work for the next step. A daemon started
//!    without CAP_SETPCAP (procd's jail) keeps the bounding set the jail
//!    gave it, logged;
//! 3. `setgroups` to the one group, then `setresgid`, then `setresuid` (in
//!    that order: changing groups needs the privileges the last step loses);
//!    each step is skipped when it is already so — procd's jail starts the
//!    daemon as the target user with only an ambient CAP_NET_RAW, and then
//!    there is nothing to switch (nor CAP_SETUID to switch with), only
//!    capabilities to give up;
//! 4. clear every capability set of the calling thread (`capset` to zero):
//!    leaving uid 0 already clears them, but a process started non-root with
//!    ambient capabilities would otherwise keep them;
//! 5. check the result: real, effective and saved ids are the target's,
//!    regaining root fails, `CapEff` in `/proc/self/status` is 0, and so is
//!    `CapBnd` when step 2 could empty it.
//!
//! uid/gid changes go through libc, which applies them to every thread of
//! the process; `no_new_privs` and `capset` are per thread, so the drop is
//! done on the main thread before the worker threads that matter (the HTTP
//! server) are started — threads started later inherit the result. The
//! bounding set is per thread too: the signal thread, which must run before
//! the drop, is started from [`on_thread_without_bounding_set`] so that it
//! (and the reload threads it starts) has an empty one as well, while the
//! main thread keeps its own until the drop (the first flow-offload check
//! runs `nft`, which needs the bounding set to be granted CAP_NET_ADMIN).

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;

/// Why resolving or dropping privileges failed; names the user/group.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("user {0:?} does not exist")]
    NoSuchUser(String),
    #[error("group {0:?} does not exist")]
    NoSuchGroup(String),
    #[error("looking up {what} {name:?}: {source}")]
    Lookup {
        what: &'static str,
        name: String,
        source: io::Error,
    },
    #[error("dropping privileges to {target}: {step} failed: {source}")]
    Step {
        target: String,
        step: &'static str,
        source: io::Error,
    },
    #[error("dropping privileges to {target}: {what}")]
    Incomplete { target: String, what: String },
}

/// The user and group to run as, resolved to ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub uid: libc::uid_t,
    pub group: String,
    pub gid: libc::gid_t,
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} (uid {}, gid {})",
            self.user, self.group, self.uid, self.gid
        )
    }
}

/// Size of the scratch buffer for getpwnam_r/getgrnam_r.
const LOOKUP_BUFFER: usize = 16 * 1024;

impl Credentials {
    /// Resolves `--user` and `--group`. The group defaults to the user's
    /// primary group. Numeric ids are accepted for both.
    pub fn resolve(user: &str, group: Option<&str>) -> Result<Credentials, PrivilegeError> {
        let (uid, primary_gid) = lookup_user(user)?;
        let (group_name, gid) = match group {
            Some(g) => (g.to_string(), lookup_group(g)?),
            None => (group_name_of(primary_gid), primary_gid),
        };
        Ok(Credentials {
            user: user.to_string(),
            uid,
            group: group_name,
            gid,
        })
    }

    /// Switches the process to these credentials for good and keeps no
    /// capabilities; see the module docs for the steps.
    pub fn drop_privileges(&self) -> Result<(), PrivilegeError> {
        let step = |step: &'static str, rc: libc::c_int| {
            if rc == 0 {
                Ok(())
            } else {
                Err(PrivilegeError::Step {
                    target: self.to_string(),
                    step,
                    source: io::Error::last_os_error(),
                })
            }
        };
        let (uids, gids, groups) = current_ids();
        // SAFETY: a plain prctl with integer arguments.
        step("prctl(PR_SET_NO_NEW_PRIVS)", unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        })?;
        let bounding = clear_bounding_set().map_err(|source| PrivilegeError::Step {
            target: self.to_string(),
            step: "prctl(PR_CAPBSET_DROP)",
            source,
        })?;
        if let BoundingSet::Kept(left @ 1..) = bounding {
            tracing::info!(
                "capability bounding set left at {left:016x}: emptying it needs \
                 CAP_SETPCAP, which lanwatch was not started with"
            );
        }
        // SAFETY: plain syscalls with integer arguments, and a pointer to a
        // one-element array that outlives the setgroups call.
        unsafe {
            if !(groups.is_empty() || groups == [self.gid]) {
                let groups = [self.gid];
                step("setgroups", libc::setgroups(1, groups.as_ptr()))?;
            }
            if gids != [self.gid; 3] {
                step("setresgid", libc::setresgid(self.gid, self.gid, self.gid))?;
            }
            if uids != [self.uid; 3] {
                step("setresuid", libc::setresuid(self.uid, self.uid, self.uid))?;
            }
        }
        clear_capabilities().map_err(|source| PrivilegeError::Step {
            target: self.to_string(),
            step: "capset",
            source,
        })?;
        self.verify(bounding)
    }

    /// Checks that the drop took: ids, no way back to root, no capabilities
    /// (and an empty bounding set if it could be emptied).
    fn verify(&self, bounding: BoundingSet) -> Result<(), PrivilegeError> {
        let incomplete = |what: String| PrivilegeError::Incomplete {
            target: self.to_string(),
            what,
        };
        let (mut r, mut e, mut s) = (0, 0, 0);
        // SAFETY: getresuid writes three uid_t through valid pointers.
        unsafe { libc::getresuid(&mut r, &mut e, &mut s) };
        if [r, e, s] != [self.uid; 3] {
            return Err(incomplete(format!("uids are {r}/{e}/{s}")));
        }
        let (mut r, mut e, mut s) = (0, 0, 0);
        // SAFETY: getresgid writes three gid_t through valid pointers.
        unsafe { libc::getresgid(&mut r, &mut e, &mut s) };
        if [r, e, s] != [self.gid; 3] {
            return Err(incomplete(format!("gids are {r}/{e}/{s}")));
        }
        // SAFETY: a plain syscall; if it succeeded we would be root again.
        if self.uid != 0 && unsafe { libc::setuid(0) } == 0 {
            return Err(incomplete("setuid(0) still succeeds".to_string()));
        }
        let bounding_left = |caps: &CapabilitySets| match bounding {
            BoundingSet::Emptied => caps.bounding,
            BoundingSet::Kept(_) => 0,
        };
        match capabilities_of_self() {
            Ok(caps) if caps.effective == 0 && caps.permitted == 0 && bounding_left(&caps) == 0 => {
                Ok(())
            }
            Ok(caps) => Err(incomplete(format!(
                "capabilities left: CapEff {:016x}, CapPrm {:016x}, CapBnd {:016x}",
                caps.effective, caps.permitted, caps.bounding
            ))),
            Err(e) => Err(incomplete(format!("reading /proc/self/status: {e}"))),
        }
    }
}

/// Sets `PR_SET_NO_NEW_PRIVS` on the calling thread (and the threads it
/// starts afterwards): nothing executed from here on gains privileges.
pub fn forbid_new_privileges() -> io::Result<()> {
    // SAFETY: plain prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What [`clear_bounding_set`] could do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundingSet {
    /// The calling thread's bounding set is empty now.
    Emptied,
    /// The thread lacks CAP_SETPCAP: the set (this mask) stays as it was.
    Kept(u64),
}

/// The highest capability number the running kernel knows: from
/// `/proc/sys/kernel/cap_last_cap`, else found by asking the kernel about
/// each number in turn until it knows one no more.
pub fn last_capability() -> u32 {
    let from_proc = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok());
    from_proc.unwrap_or_else(|| {
        (0..64u32)
            // SAFETY: a plain prctl with integer arguments.
            .take_while(|&cap| unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } >= 0)
            .last()
            .unwrap_or(0)
    })
}

/// The calling thread's bounding set, read capability by capability.
fn bounding_set_of_thread(last: u32) -> u64 {
    (0..=last.min(63))
        // SAFETY: a plain prctl with integer arguments.
        .filter(|&cap| unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } == 1)
        .fold(0, |mask, cap| mask | 1 << cap)
}

/// Empties the calling thread's capability bounding set (threads it
/// starts afterwards inherit it). Needs CAP_SETPCAP in the effective set;
/// without it the set is left alone and returned as [`BoundingSet::Kept`].
pub fn clear_bounding_set() -> io::Result<BoundingSet> {
    let last = last_capability();
    for cap in 0..=last {
        // SAFETY: a plain prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EPERM) {
                return Ok(BoundingSet::Kept(bounding_set_of_thread(last)));
            }
            return Err(e);
        }
    }
    match bounding_set_of_thread(last) {
        0 => Ok(BoundingSet::Emptied),
        left => Err(io::Error::other(format!(
            "the bounding set is still {left:016x} after dropping every capability"
        ))),
    }
}

/// Runs `f` on a short-lived thread whose bounding set is emptied first
/// (if it can be: see [`clear_bounding_set`]) and returns its result;
/// threads `f` starts inherit that set. For the signal thread, which must
/// exist before the main thread drops its privileges.
pub fn on_thread_without_bounding_set<R: Send>(f: impl FnOnce() -> R + Send) -> io::Result<R> {
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("lanwatch-start".into())
            .spawn_scoped(scope, || clear_bounding_set().map(|_| f()))?;
        helper
            .join()
            .map_err(|_| io::Error::other("the start-up thread panicked"))?
    })
}

/// The real/effective/saved uids and gids and the supplementary groups.
fn current_ids() -> ([libc::uid_t; 3], [libc::gid_t; 3], Vec<libc::gid_t>) {
    let (mut ur, mut ue, mut us) = (0, 0, 0);
    let (mut gr, mut ge, mut gs) = (0, 0, 0);
    // SAFETY: getresuid/getresgid write three ids through valid pointers.
    unsafe {
        libc::getresuid(&mut ur, &mut ue, &mut us);
        libc::getresgid(&mut gr, &mut ge, &mut gs);
    }
    let mut groups = vec![0 as libc::gid_t; 256];
    let len = libc::c_int::try_from(groups.len()).unwrap_or(0);
    // SAFETY: `groups` has room for `len` entries.
    let n = unsafe { libc::getgroups(len, groups.as_mut_ptr()) };
    // On failure (more than 256 groups) keep a list that forces setgroups.
    groups.truncate(usize::try_from(n).unwrap_or(256));
    ([ur, ue, us], [gr, ge, gs], groups)
}

/// Capability sets of a process, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapabilitySets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
}

/// The calling process's capability sets.
pub fn capabilities_of_self() -> io::Result<CapabilitySets> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    parse_capabilities(&status)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Cap* lines"))
}

/// Reads the `CapInh/CapPrm/CapEff/CapBnd/CapAmb` lines of a
/// `/proc/PID/status` text; `None` if `CapEff` is missing or not hex.
pub fn parse_capabilities(status: &str) -> Option<CapabilitySets> {
    let mut caps = CapabilitySets::default();
    let mut seen_effective = false;
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "CapInh" => &mut caps.inheritable,
            "CapPrm" => &mut caps.permitted,
            "CapEff" => {
                seen_effective = true;
                &mut caps.effective
            }
            "CapBnd" => &mut caps.bounding,
            "CapAmb" => &mut caps.ambient,
            _ => continue,
        };
        *slot = u64::from_str_radix(value.trim(), 16).ok()?;
    }
    seen_effective.then_some(caps)
}

/// Empties the calling thread's effective, permitted and inheritable sets
/// (and with them the ambient set). Lowering capabilities never needs a
/// privilege.
fn clear_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset with a v3 header and the two data structs it reads.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            std::ptr::addr_of_mut!(header),
            data.as_ptr(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn lookup_error(what: &'static str, name: &str, rc: libc::c_int) -> PrivilegeError {
    PrivilegeError::Lookup {
        what,
        name: name.to_string(),
        source: io::Error::from_raw_os_error(rc),
    }
}

/// The uid and primary gid of `user` (a name, or a numeric uid that exists).
fn lookup_user(user: &str) -> Result<(libc::uid_t, libc::gid_t), PrivilegeError> {
    let c_name = CString::new(user).map_err(|_| PrivilegeError::NoSuchUser(user.to_string()))?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUFFER];
    // SAFETY: passwd is plain old data; all-zero is a valid value.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = match user.parse::<libc::uid_t>() {
        // SAFETY: every pointer is valid for the call; `buf` holds the
        // strings `pwd` points into and outlives the reads below.
        Ok(uid) => unsafe {
            libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result)
        },
        // SAFETY: as above, with a NUL-terminated name.
        Err(_) => unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        },
    };
    if rc != 0 {
        return Err(lookup_error("user", user, rc));
    }
    if result.is_null() {
        return Err(PrivilegeError::NoSuchUser(user.to_string()));
    }
    Ok((pwd.pw_uid, pwd.pw_gid))
}

/// The gid of `group` (a name, or a numeric gid).
fn lookup_group(group: &str) -> Result<libc::gid_t, PrivilegeError> {
    if let Ok(gid) = group.parse::<libc::gid_t>() {
        return Ok(gid);
    }
    let c_name = CString::new(group).map_err(|_| PrivilegeError::NoSuchGroup(group.to_string()))?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUFFER];
    // SAFETY: group is plain old data; all-zero is a valid value.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives the reads.
    let rc = unsafe {
        libc::getgrnam_r(
            c_name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(lookup_error("group", group, rc));
    }
    if result.is_null() {
        return Err(PrivilegeError::NoSuchGroup(group.to_string()));
    }
    Ok(grp.gr_gid)
}

/// The name of group `gid`, or the number when it has none.
fn group_name_of(gid: libc::gid_t) -> String {
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUFFER];
    // SAFETY: group is plain old data; all-zero is a valid value.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives the reads.
    let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || grp.gr_name.is_null() {
        return gid.to_string();
    }
    // SAFETY: gr_name is a NUL-terminated string inside `buf`.
    unsafe { CStr::from_ptr(grp.gr_name) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tlanwatch\nUid:\t65534\t65534\t65534\t65534\n\
        CapInh:\t0000000000000000\nCapPrm:\t0000000000002000\n\
        CapEff:\t0000000000002000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";

    #[test]
    fn capability_sets_are_read_as_hex_from_the_status_file() {
        let caps = parse_capabilities(STATUS).unwrap();
        assert_eq!(caps.effective, 1 << 13, "CAP_NET_RAW is bit 13");
        assert_eq!(caps.permitted, 1 << 13);
        assert_eq!(caps.inheritable, 0);
        assert_eq!(caps.bounding, 0x1ff_ffff_ffff);
        assert_eq!(caps.ambient, 0);
    }

    #[test]
    fn status_without_cap_eff_is_not_read_as_no_capabilities() {
        assert_eq!(parse_capabilities("Name:\tx\nCapPrm:\t0\n"), None);
        assert_eq!(parse_capabilities("CapEff:\tzz\n"), None);
    }

    #[test]
    fn the_last_capability_is_the_last_one_the_kernel_knows() {
        let last = last_capability();
        assert!(last >= 37, "CAP_AUDIT_READ (37) exists since Linux 3.16");
        // SAFETY: plain prctl calls with integer arguments.
        let (known, unknown) = unsafe {
            (
                libc::prctl(libc::PR_CAPBSET_READ, last, 0, 0, 0),
                libc::prctl(libc::PR_CAPBSET_READ, last + 1, 0, 0, 0),
            )
        };
        assert!(known >= 0, "the kernel knows capability {last}");
        assert_eq!(
            unknown,
            -1,
            "the kernel does not know capability {}",
            last + 1
        );
    }

    /// CapBnd of the calling thread, as the kernel shows it.
    fn bounding_of_this_thread() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        parse_capabilities(&status).unwrap().bounding
    }

    #[test]
    fn threads_started_from_the_helper_inherit_its_empty_bounding_set() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: emptying a bounding set needs CAP_SETPCAP (run as root)");
            return;
        }
        let before = bounding_of_this_thread();
        let (helper, child) = on_thread_without_bounding_set(|| {
            let child = std::thread::spawn(bounding_of_this_thread).join().unwrap();
            (bounding_of_this_thread(), child)
        })
        .unwrap();
        assert_eq!(
            (helper, child),
            (0, 0),
            "the helper and the thread it started"
        );
        assert_eq!(
            bounding_of_this_thread(),
            before,
            "the caller keeps its own"
        );
        assert_ne!(
            before, 0,
            "a root test process starts with a full bounding set"
        );
    }

    #[test]
    fn root_resolves_by_name_and_number() {
        let by_name = Credentials::resolve("root", None).unwrap();
        assert_eq!((by_name.uid, by_name.gid), (0, 0));
        assert_eq!(by_name.group, "root");
        let by_number = Credentials::resolve("0", Some("0")).unwrap();
        assert_eq!((by_number.uid, by_number.gid), (0, 0));
    }

    #[test]
    fn unknown_user_and_group_are_named_in_the_error() {
        let e = Credentials::resolve("lw-no-such-user", None).unwrap_err();
        assert_eq!(e.to_string(), "user \"lw-no-such-user\" does not exist");
        let e = Credentials::resolve("root", Some("lw-no-such-group")).unwrap_err();
        assert_eq!(e.to_string(), "group \"lw-no-such-group\" does not exist");
    }
}
