//! `lanwatch capture`: live capture on raw sockets, served over HTTP.
//!
//! Start-up is the list of named steps [`STARTUP`], performed in its order
//! and stopping at the first that fails. The order is what keeps the
//! daemon's privileges short-lived: everything that needs root (the capture
//! sockets, the listener on a low port, the first look at flow offloading)
//! happens before the drop to `--user` (which empties the capability
//! bounding set), seccomp follows the drop, and nothing is served before
//! the process is known not to be root and able to save its state. The
//! unit tests hold the list to these rules with stand-in steps.

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::thread::JoinHandle;

use super::{
    check_not_root, running_as, serve, shutdown_on_signals, HttpSettings, StateSettings,
    TrackSettings,
};
use crate::capture::live::{LiveCapture, LiveOptions};
use crate::export::http;
use crate::pipeline::Worker;
use crate::privileges::{self, Credentials};
use crate::shutdown::Shutdown;
use crate::state_file::StateSaver;
use crate::system::offload;
use crate::track::publish::{self, Publisher, SnapshotReader};
use crate::track::Tracker;

/// A live capture, as the command line asked for it.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// Interfaces to capture on; each frame is counted once across them.
    pub interfaces: Vec<String>,
    /// Where /metrics and the JSON API are served.
    pub listen: SocketAddr,
    /// Bytes kept of each frame.
    pub snaplen: u32,
    pub promiscuous: bool,
    /// Switch to this user (and group) once the sockets are open.
    pub user: Option<String>,
    pub group: Option<String>,
    /// With `user`: put the daemon under its system-call allow-list.
    pub seccomp: bool,
    /// Serve HTTP even while running as root.
    pub allow_root: bool,
    pub http: HttpSettings,
    pub state: StateSettings,
    pub track: TrackSettings,
}

/// One step of the start-up of a live capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// With `--user`: no_new_privs, per thread, so before any thread.
    ForbidNewPrivileges,
    /// SIGINT/SIGTERM/SIGHUP handled, so no SIGHUP meets its default
    /// disposition (death); with `--user` the signal thread starts with an
    /// empty bounding set.
    InstallSignals,
    /// Look the user up before opening anything, so a typo fails at once.
    ResolveUser,
    /// The web config and the allow-list.
    ReadWebConfig,
    /// The AF_PACKET sockets (CAP_NET_RAW).
    OpenSockets,
    /// The tracker built and the saved counters restored into it.
    RestoreState,
    /// The first look at flow offloading, with the privileges `nft` may need.
    FirstOffloadLook,
    /// The HTTP listener bound (a low port needs root).
    BindListener,
    /// With `--user`: switch user and group, empty the bounding set, keep
    /// no capabilities.
    DropPrivileges,
    /// With `--user` (unless `--no-seccomp`): the system-call allow-list.
    Seccomp,
    /// Whoever serves HTTP is not root, unless `--allow-root`.
    CheckNotRoot,
    /// Whoever lanwatch is now can save the state file: found out now, not
    /// at shutdown.
    ProbeStateFile,
    /// The flow offload re-checks, as whoever lanwatch is now.
    StartOffloadMonitor,
    /// The HTTP server started on its thread.
    Serve,
}

/// The start-up of a live capture, in the order the steps run.
pub const STARTUP: [Step; 14] = [
    Step::ForbidNewPrivileges,
    Step::InstallSignals,
    Step::ResolveUser,
    Step::ReadWebConfig,
    Step::OpenSockets,
    Step::RestoreState,
    Step::FirstOffloadLook,
    Step::BindListener,
    Step::DropPrivileges,
    Step::Seccomp,
    Step::CheckNotRoot,
    Step::ProbeStateFile,
    Step::StartOffloadMonitor,
    Step::Serve,
];

/// Something that can perform the start-up steps: the real start-up, or a
/// stand-in in the tests.
trait Startup {
    fn perform(&mut self, step: Step) -> Result<(), String>;
}

/// Performs [`STARTUP`] in order; the first step that fails ends it.
fn start(startup: &mut impl Startup) -> Result<(), String> {
    STARTUP.iter().try_for_each(|&step| startup.perform(step))
}

/// What the start-up steps build, each filled in by its step.
struct Started<'c> {
    config: &'c CaptureConfig,
    shutdown: Option<Shutdown>,
    credentials: Option<Credentials>,
    policy: Option<http::Policy>,
    source: Option<LiveCapture>,
    tracker: Option<Tracker>,
    saver: Option<StateSaver>,
    publisher: Publisher,
    reader: Option<SnapshotReader>,
    first_offload: Option<offload::Assessment>,
    listener: Option<TcpListener>,
    monitor: Option<offload::Monitor>,
    server: Option<JoinHandle<()>>,
}

/// A step that runs before the one that makes what it needs: a bug in
/// [`STARTUP`], which the unit tests rule out.
fn missing<T>(value: Option<T>, what: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("start-up out of order: no {what} yet"))
}

impl Startup for Started<'_> {
    fn perform(&mut self, step: Step) -> Result<(), String> {
        let config = self.config;
        let user = config.user.is_some();
        match step {
            Step::ForbidNewPrivileges if user => {
                // Per thread: set before any thread (the signal thread
                // first) is started, so every thread has it.
                privileges::forbid_new_privileges().map_err(|e| e.to_string())?;
            }
            Step::InstallSignals if user => {
                let shutdown = privileges::on_thread_without_bounding_set(shutdown_on_signals)
                    .map_err(|e| e.to_string())??;
                self.shutdown = Some(shutdown);
            }
            Step::InstallSignals => self.shutdown = Some(shutdown_on_signals()?),
            Step::ResolveUser => self.resolve_user()?,
            Step::ReadWebConfig => self.policy = Some(config.http.policy()?),
            Step::OpenSockets => self.open_sockets()?,
            Step::RestoreState => self.restore_state()?,
            Step::FirstOffloadLook => {
                let capture_ifaces = offload::describe_interfaces(&config.interfaces);
                self.first_offload = Some(offload::assess(&offload::gather(), &capture_ifaces));
            }
            Step::BindListener => {
                let listener = http::bind(config.listen).map_err(|e| e.to_string())?;
                self.listener = Some(listener);
            }
            Step::DropPrivileges => {
                if let Some(credentials) = &self.credentials {
                    credentials.drop_privileges().map_err(|e| e.to_string())?;
                    let message = "dropped privileges: no capabilities left";
                    tracing::info!(target: "lanwatch", user = %credentials, "{message}");
                }
            }
            Step::Seccomp if user && config.seccomp => {
                crate::seccomp::install_or_warn().map_err(|e| e.to_string())?;
            }
            Step::CheckNotRoot => check_not_root(config.allow_root)?,
            Step::ProbeStateFile => {
                let who = running_as(self.credentials.as_ref());
                config.state.check_writable(&who)?;
            }
            Step::StartOffloadMonitor => self.start_offload_monitor()?,
            Step::Serve => self.serve()?,
            Step::ForbidNewPrivileges | Step::Seccomp => {}
        }
        Ok(())
    }
}

impl Started<'_> {
    fn resolve_user(&mut self) -> Result<(), String> {
        if let Some(user) = &self.config.user {
            let group = self.config.group.as_deref();
            let credentials = Credentials::resolve(user, group).map_err(|e| e.to_string())?;
            self.credentials = Some(credentials);
        }
        Ok(())
    }

    fn open_sockets(&mut self) -> Result<(), String> {
        let config = self.config;
        let options = LiveOptions {
            snaplen: config.snaplen,
            promiscuous: config.promiscuous,
            extra_local_macs: config.track.router_macs.clone(),
            ..LiveOptions::default()
        };
        let source = LiveCapture::open(&config.interfaces, options).map_err(|e| e.to_string())?;
        self.source = Some(source);
        Ok(())
    }

    fn restore_state(&mut self) -> Result<(), String> {
        let config = self.config;
        let source = missing(self.source.as_ref(), "capture sockets")?;
        let interfaces = &config.interfaces;
        let track = config
            .track
            .config(|| crate::system::addresses::interface_prefixes(interfaces))?;
        let mut tracker = Tracker::new(track);
        for mac in source.local_macs() {
            tracker.add_router_mac(*mac);
        }
        self.saver = config.state.restore(&mut tracker)?;
        self.tracker = Some(tracker);
        Ok(())
    }

    fn start_offload_monitor(&mut self) -> Result<(), String> {
        let first = missing(self.first_offload.take(), "first look at flow offloading")?;
        let shutdown = missing(self.shutdown.as_ref(), "signal handling")?;
        let monitor = offload::Monitor::start(first, &self.config.interfaces, shutdown)
            .map_err(|e| format!("cannot start the flow offload monitor: {e}"))?;
        self.monitor = Some(monitor);
        Ok(())
    }

    fn serve(&mut self) -> Result<(), String> {
        let listener = missing(self.listener.take(), "HTTP listener")?;
        let policy = missing(self.policy.take(), "access policy")?;
        let reader = missing(self.reader.take(), "snapshot reader")?;
        let shutdown = missing(self.shutdown.as_ref(), "signal handling")?;
        self.server = Some(serve(
            listener,
            &self.config.http,
            policy,
            reader,
            shutdown,
        )?);
        Ok(())
    }
}

/// Starts up (see [`STARTUP`]), then captures until SIGINT/SIGTERM or a
/// fatal error, saves the state and stops the server.
pub fn run(config: CaptureConfig) -> Result<ExitCode, String> {
    let (publisher, reader) = publish::channel();
    let mut started = Started {
        config: &config,
        shutdown: None,
        credentials: None,
        policy: None,
        source: None,
        tracker: None,
        saver: None,
        publisher,
        reader: Some(reader),
        first_offload: None,
        listener: None,
        monitor: None,
        server: None,
    };
    start(&mut started)?;
    let Started {
        shutdown,
        source,
        tracker,
        saver,
        publisher,
        monitor,
        server,
        ..
    } = started;
    let shutdown = missing(shutdown, "signal handling")?;
    let (mut source, mut tracker) = (missing(source, "sockets")?, missing(tracker, "tracker")?);
    let (monitor, server) = (missing(monitor, "monitor")?, missing(server, "server")?);
    tracing::info!(target: "lanwatch", interfaces = ?config.interfaces, "capturing");
    let mut worker = Worker::new(&mut tracker, Some(&publisher));
    worker.flow_offload = Some(monitor.cell());
    worker.state = saver;
    worker.on_reload = config.track.protocol_reload();
    shutdown.stop_gracefully();
    let result = worker.run(&mut source, &shutdown);
    worker.save_state();
    shutdown.trigger();
    let _ = server.join();
    monitor.join();
    result.map_err(|e| e.to_string())?;
    tracing::info!(target: "lanwatch", frames = worker.frames, "stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Performs nothing, records every step it is asked for, and fails the
    /// one it is told to.
    #[derive(Default)]
    struct Recorder {
        performed: Vec<Step>,
        fail_at: Option<Step>,
    }

    impl Startup for Recorder {
        fn perform(&mut self, step: Step) -> Result<(), String> {
            if self.fail_at == Some(step) {
                return Err(format!("{step:?} failed"));
            }
            self.performed.push(step);
            Ok(())
        }
    }

    fn performed() -> Vec<Step> {
        let mut recorder = Recorder::default();
        start(&mut recorder).unwrap();
        recorder.performed
    }

    fn at(steps: &[Step], step: Step) -> usize {
        steps
            .iter()
            .position(|&s| s == step)
            .unwrap_or_else(|| panic!("{step:?} is never performed: {steps:?}"))
    }

    #[test]
    fn every_step_runs_once() {
        let steps = performed();
        for step in STARTUP {
            assert_eq!(steps.iter().filter(|&&s| s == step).count(), 1, "{step:?}");
        }
    }

    #[test]
    fn no_new_privileges_comes_before_any_thread_and_signals_before_the_rest() {
        let steps = performed();
        assert_eq!(steps.first(), Some(&Step::ForbidNewPrivileges));
        assert_eq!(steps.get(1), Some(&Step::InstallSignals));
    }

    #[test]
    fn a_mistyped_user_fails_before_anything_is_opened() {
        let steps = performed();
        let resolve = at(&steps, Step::ResolveUser);
        for later in [Step::OpenSockets, Step::BindListener, Step::RestoreState] {
            assert!(resolve < at(&steps, later), "{later:?} before ResolveUser");
        }
    }

    #[test]
    fn what_needs_root_happens_before_the_drop() {
        let steps = performed();
        let drop = at(&steps, Step::DropPrivileges);
        for needs_root in [
            Step::OpenSockets,
            Step::BindListener,
            Step::FirstOffloadLook,
        ] {
            assert!(
                at(&steps, needs_root) < drop,
                "{needs_root:?} after the drop"
            );
        }
    }

    #[test]
    fn seccomp_and_the_checks_follow_the_drop_and_serving_comes_last() {
        let steps = performed();
        let drop = at(&steps, Step::DropPrivileges);
        for after in [
            Step::Seccomp,
            Step::CheckNotRoot,
            Step::ProbeStateFile,
            Step::StartOffloadMonitor,
            Step::Serve,
        ] {
            assert!(drop < at(&steps, after), "{after:?} before the drop");
        }
        assert_eq!(steps.last(), Some(&Step::Serve));
    }

    #[test]
    fn a_failed_step_ends_the_start_up_before_anything_is_served() {
        for failing in [
            Step::DropPrivileges,
            Step::Seccomp,
            Step::CheckNotRoot,
            Step::ProbeStateFile,
        ] {
            let mut recorder = Recorder {
                fail_at: Some(failing),
                ..Recorder::default()
            };
            let err = start(&mut recorder).unwrap_err();
            assert_eq!(err, format!("{failing:?} failed"));
            assert!(!recorder.performed.contains(&Step::Serve), "{failing:?}");
            assert!(!recorder.performed.contains(&failing));
        }
    }
}
