//! `lanwatch replay`: capture files through the same pipeline as a live
//! capture, one [`CaptureFile`] after the other (optionally at the pace
//! they were captured, and over again), the final state printed and
//! optionally served until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{running_as, serve, shutdown_on_signals, HttpSettings, StateSettings, TrackSettings};
use crate::capture::file::CaptureFile;
use crate::capture::pacing::{Paced, Pacer};
use crate::export::{http, json, prometheus, table};
use crate::pipeline::Worker;
use crate::shutdown::Shutdown;
use crate::track::publish;
use crate::track::Tracker;

/// What a replay prints when the files are done.
#[derive(Clone, Copy, Debug)]
pub enum Output {
    /// Clients sorted by download, for people.
    Table,
    /// The JSON API's view of every client and the daemon's health.
    Json,
    /// Exactly what /metrics serves.
    Prometheus,
}

/// A replay, as the command line asked for it.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// pcap or pcapng files, replayed in order as one stream.
    pub files: Vec<PathBuf>,
    pub output: Output,
    /// Also serve here, and keep serving after the replay.
    pub listen: Option<SocketAddr>,
    /// On a damaged file, report it and go on with the next.
    pub keep_going: bool,
    /// At the pace the frames were captured, this many times faster.
    pub realtime: Option<f64>,
    /// With `realtime`: start over after the last file, until a signal.
    pub loop_files: bool,
    pub http: HttpSettings,
    pub state: StateSettings,
    pub track: TrackSettings,
}

/// Replays the files, prints the final state and, with `listen`, serves
/// it until SIGINT/SIGTERM. The exit code is a shell's for a signal that
/// ended the replay early, failure if a file was damaged (`keep_going`).
pub fn run(config: ReplayConfig) -> Result<ExitCode, String> {
    // Signals first: no SIGHUP meets its default disposition (death).
    let shutdown = shutdown_on_signals()?;
    let policy = config.http.policy()?;
    let mut tracker = Tracker::new(config.track.config(Vec::new)?);
    let saver = config.state.restore(&mut tracker)?;
    config.state.check_writable(&running_as(None))?;
    let (publisher, reader) = publish::channel();
    let server = match config.listen {
        Some(listen) => {
            let listener = http::bind(listen).map_err(|e| e.to_string())?;
            Some(serve(listener, &config.http, policy, reader, &shutdown)?)
        }
        None => None,
    };
    let mut worker = Worker::new(&mut tracker, Some(&publisher));
    worker.state = saver;
    worker.on_reload = config.track.protocol_reload();
    shutdown.stop_gracefully();
    let failed = match play(&config, &mut worker, &shutdown) {
        Ok(failed) => failed,
        Err(e) => {
            shutdown.trigger();
            if let Some(server) = server {
                let _ = server.join();
            }
            return Err(e);
        }
    };
    // Stopped by SIGINT/SIGTERM before the files were done (a --loop
    // replay only ever ends so).
    let interrupted = shutdown.signal().filter(|_| !config.loop_files);
    worker.save_state();
    let snapshot = worker.snapshot();
    let output = match config.output {
        Output::Table => table::render_table(&snapshot),
        Output::Json => json::snapshot(&snapshot),
        Output::Prometheus => prometheus::render(&snapshot),
    };
    publisher.publish(snapshot);
    // The state is final: readers get it without waiting for a writer.
    drop(worker);
    drop(publisher);
    print!("{output}");
    if let Some(server) = server {
        tracing::info!(target: "lanwatch", "replay done; serving until SIGINT/SIGTERM");
        let _ = server.join();
    }
    Ok(match interrupted {
        // What a shell reports for a process a signal ended.
        Some(signal) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
        None if failed => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    })
}

/// Runs the files through `worker`, over again with `loop_files`, until
/// done or `shutdown`. Ok(true): a damaged file was reported and skipped
/// (`keep_going`); an error: one was met without it.
fn play(config: &ReplayConfig, worker: &mut Worker, shutdown: &Shutdown) -> Result<bool, String> {
    let mut failed = false;
    let mut pacer = config.realtime.map(Pacer::new);
    'passes: loop {
        for path in &config.files {
            if shutdown.is_triggered() {
                break 'passes;
            }
            let outcome = CaptureFile::open(path).and_then(|mut file| match pacer.as_mut() {
                Some(pacer) => worker.run(&mut Paced::new(file, pacer), shutdown),
                None => worker.run(&mut file, shutdown),
            });
            if let Err(e) = outcome {
                if !config.keep_going {
                    return Err(e.to_string());
                }
                eprintln!("lanwatch: {e} (keeping what was read before)");
                failed = true;
            }
        }
        match pacer.as_mut() {
            Some(pacer) if config.loop_files && !shutdown.is_triggered() => pacer.next_pass(),
            _ => break,
        }
    }
    Ok(failed)
}
