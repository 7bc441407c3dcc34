//! SIGINT/SIGTERM → a shutdown flag.
//!
//! The handler only stores to an atomic (async-signal-safe); the capture
//! worker checks the flag between frames and the HTTP server polls it, so
//! both stop cleanly whatever they are doing.

use std::sync::atomic::{AtomicBool, Ordering};

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signal: libc::c_int) {
    SHUTDOWN.store(true, Ordering::Relaxed);
}

/// Installs the handlers and returns the flag they raise.
pub fn install_shutdown_handlers() -> &'static AtomicBool {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` only performs an atomic store, which is
        // async-signal-safe; the sigaction struct is fully initialised.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESTART;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    &SHUTDOWN
}

/// The flag, for code that did not install the handlers itself.
pub fn shutdown_flag() -> &'static AtomicBool {
    &SHUTDOWN
}
