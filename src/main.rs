//! The `lanwatch` command: live capture, replay of capture files, reports.
//!
//! This file is the command line: its options, and the settings of
//! `lanwatch::daemon` they become; the daemon runs capture and replay.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;

use lanwatch::capture::live::LiveOptions;
use lanwatch::config;
use lanwatch::daemon::{self, capture::CaptureConfig, replay, replay::ReplayConfig};
use lanwatch::decode::Mac;
use lanwatch::export::http;
use lanwatch::privileges::Credentials;
use lanwatch::state_file;
use lanwatch::track::TrackConfig;

#[derive(Parser)]
#[command(
    name = "lanwatch",
    version,
    about = "Per-client network monitor for routers",
    long_about = "Per-client network monitor for routers.\n\n\
        lanwatch watches the LAN side of a router on raw sockets (or replays capture \
        files), parses every frame itself and keeps a bounded per-client table: bytes and \
        packets per protocol and direction, connections, and who each device is. It \
        serves the table as Prometheus metrics and a JSON API."
)]
struct Cli {
    /// Log level: error, warn, info, debug or trace. RUST_LOG, when set, wins
    /// and may name targets (e.g. `lanwatch=debug,info`).
    #[arg(long, global = true, default_value = "info", value_name = "LEVEL")]
    log_level: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Capture live on one or more interfaces and serve the metrics.
    Capture(CaptureArgs),
    /// Run capture files through the pipeline and print the final state.
    Replay(ReplayArgs),
    /// Validate an OpenWrt configuration (/etc/config/lanwatch) and print
    /// what the service would do: the devices, the API address and the
    /// exact `lanwatch capture` command line.
    CheckConfig(CheckConfigArgs),
    /// The LuCI backend: rpcd's exec plugin for ubus object luci.lanwatch
    /// (`list`, `call METHOD` with the arguments as JSON on stdin). Always
    /// prints one JSON object and exits 0.
    Rpcd(RpcdArgs),
    /// Read a password on stdin (one line) and print its bcrypt hash, for
    /// the basic_auth_users of a --web-config file.
    HashPassword(HashPasswordArgs),
    /// Write the client-activity report (Markdown) from Prometheus's history.
    #[cfg(feature = "report")]
    Report(ReportArgs),
}

#[derive(Args)]
struct CheckConfigArgs {
    /// The UCI configuration file.
    #[arg(value_name = "FILE", default_value = config::DEFAULT_PATH)]
    file: PathBuf,

    /// Print only the command line, one argument per line.
    #[arg(long)]
    args: bool,

    /// netifd's `ubus call network.interface dump` output to resolve
    /// networks with, instead of asking ubus (to check a config away from
    /// the router).
    #[arg(long, value_name = "FILE")]
    interfaces_dump: Option<PathBuf>,

    /// Where sysfs is (bridge member ports are read below it).
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    sysfs: PathBuf,

    /// The firewall configuration (its `wan` zone is never served on).
    /// Default: `firewall` beside FILE.
    #[arg(long, value_name = "FILE")]
    firewall: Option<PathBuf>,

    /// The program the command line starts with.
    #[arg(long, value_name = "PATH", default_value = config::INSTALLED_PROGRAM)]
    program: String,
}

#[derive(Args)]
struct RpcdArgs {
    /// The UCI configuration file (default: $LANWATCH_CONFIG, else
    /// /etc/config/lanwatch).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// netifd's interface dump to resolve listen_interface with, instead of
    /// asking ubus (default: $LANWATCH_INTERFACES_DUMP).
    #[arg(long, value_name = "FILE")]
    interfaces_dump: Option<PathBuf>,

    #[command(subcommand)]
    action: RpcdAction,
}

#[derive(Subcommand)]
enum RpcdAction {
    /// Print the methods and their argument signatures.
    List,
    /// Call METHOD with the arguments (a JSON object) on stdin.
    Call {
        #[arg(value_name = "METHOD")]
        method: String,
    },
}

#[derive(Args)]
struct HashPasswordArgs {
    /// bcrypt cost (4-31): each first login costs the daemon 2^COST rounds.
    #[arg(long, value_name = "N", default_value_t = config::login::DEFAULT_COST)]
    cost: u32,
}

#[cfg(feature = "report")]
#[derive(Args)]
struct ReportArgs {
    /// Base URL of the Prometheus server that scrapes lanwatch (http only).
    #[arg(long, value_name = "URL", default_value = "http://localhost:9090")]
    prometheus: String,

    /// The day to report on, local time (for --period week its last day,
    /// for month any day of it). Default: yesterday.
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<lanwatch::report::time::Date>,

    /// A daily report, or the weekly or monthly summary.
    #[arg(long, value_enum, default_value_t = ReportPeriod::Day)]
    period: ReportPeriod,

    /// Write client-activity-DATE.md into this directory instead of stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// markdown, or json: the same figures for scripts.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,

    /// Only the lanwatch with this `instance` label, when Prometheus
    /// scrapes several.
    #[arg(long, value_name = "INSTANCE")]
    instance: Option<String>,
}

#[cfg(feature = "report")]
#[derive(Clone, Copy, ValueEnum)]
enum ReportPeriod {
    Day,
    Week,
    Month,
}

#[cfg(feature = "report")]
#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
}

#[derive(Args)]
struct CaptureArgs {
    /// Interface to capture on (repeatable: e.g. the LAN bridge's member
    /// ports). Each frame is counted once across them.
    #[arg(short = 'i', long = "interface", value_name = "IFACE", required = true)]
    interfaces: Vec<String>,

    /// Address to serve /metrics and the JSON API on.
    #[arg(long, value_name = "ADDR:PORT", default_value = http::DEFAULT_LISTEN)]
    listen: SocketAddr,

    /// Bytes kept of each frame: enough for headers, DNS and DHCP.
    #[arg(long, value_name = "BYTES", default_value_t = LiveOptions::default().snaplen)]
    snaplen: u32,

    /// Do not put the interfaces into promiscuous mode.
    #[arg(long)]
    no_promisc: bool,

    /// Once the capture sockets are open and the HTTP listener is bound,
    /// switch to this user (name or uid) and keep no capabilities.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,

    /// The group to switch to with --user (default: the user's primary
    /// group).
    #[arg(long, value_name = "NAME", requires = "user")]
    group: Option<String>,

    /// With --user: do not put the daemon under its system-call allow-list
    /// (seccomp) after the drop. For finding out what a kill by SIGSYS was
    /// about; see docs/security.md.
    #[arg(long, requires = "user")]
    no_seccomp: bool,

    /// Serve HTTP even while running as root. Without it, lanwatch capture
    /// refuses to serve as root: drop privileges after opening the capture
    /// sockets with --user/--group instead.
    #[arg(long)]
    allow_root: bool,

    #[command(flatten)]
    http: HttpArgs,

    #[command(flatten)]
    state: StateArgs,

    #[command(flatten)]
    track: TrackArgs,
}

/// Who may use the HTTP endpoint, and how.
#[derive(Args, Clone)]
struct HttpArgs {
    /// TLS and basic authentication for the endpoint, in the Prometheus
    /// exporter toolkit's web-config format (tls_server_config: cert_file,
    /// key_file; basic_auth_users: user: bcrypt-hash).
    #[arg(long, value_name = "FILE")]
    web_config: Option<PathBuf>,

    /// Only these addresses may connect (repeatable); others are closed
    /// unread. Default: anyone who can reach the --listen address.
    #[arg(long = "allow-scraper", value_name = "CIDR", value_parser = parse_cidr)]
    allow_scrapers: Vec<IpNet>,

    /// A request's head (and any TLS handshake) must arrive within this
    /// many seconds, or the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = http::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    request_timeout: u64,
}

impl HttpArgs {
    fn settings(&self) -> daemon::HttpSettings {
        daemon::HttpSettings {
            web_config: self.web_config.clone(),
            allow_scrapers: self.allow_scrapers.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// A CIDR prefix, or a single address (as a /32 or /128).
fn parse_cidr(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or CIDR prefix"))
}

/// Keeping the counters across restarts.
#[derive(Args)]
struct StateArgs {
    /// Save the per-client counters here (atomically) every
    /// --state-interval minutes and at shutdown, and restore them at start.
    /// A damaged or foreign file is set aside, never fatal.
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,

    /// Minutes between two saves of the state file.
    #[arg(long, value_name = "MINUTES", default_value_t = state_file::DEFAULT_INTERVAL_MINUTES)]
    state_interval: u64,
}

impl StateArgs {
    fn settings(&self) -> daemon::StateSettings {
        daemon::StateSettings {
            state_file: self.state_file.clone(),
            state_interval: self.state_interval,
        }
    }
}

#[derive(Args)]
struct ReplayArgs {
    /// pcap or pcapng files, replayed in order as one stream.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// What to print when the files are done.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Also serve /metrics and the JSON API here, and keep serving after
    /// the replay until SIGINT/SIGTERM.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,

    /// On a damaged file, report it, keep what was read before the damage
    /// and go on with the next file (exit status stays non-zero).
    #[arg(long)]
    keep_going: bool,

    /// Replay at the pace the frames were captured, sleeping through the
    /// gaps, so a scraping Prometheus sees the rates as they were.
    #[arg(long)]
    realtime: bool,

    /// With --realtime: play this many times faster (e.g. 10).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0,
          value_parser = parse_speed, requires = "realtime")]
    speed: f64,

    /// With --realtime: start over after the last file, packet time going
    /// on from where it ended, until SIGINT/SIGTERM.
    #[arg(long = "loop", requires = "realtime")]
    loop_files: bool,

    #[command(flatten)]
    http: HttpArgs,

    #[command(flatten)]
    state: StateArgs,

    #[command(flatten)]
    track: TrackArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Clients sorted by download, for people.
    Table,
    /// The JSON API's view of every client and the daemon's health.
    Json,
    /// Exactly what /metrics serves.
    Prometheus,
}

/// Options of the per-client table, shared by capture and replay.
#[derive(Args)]
struct TrackArgs {
    /// A LAN prefix (repeatable). Default: the capture interfaces' own
    /// prefixes (live) or the private ranges (replay).
    #[arg(long = "lan", value_name = "CIDR")]
    lan: Vec<IpNet>,

    /// The router's MAC address (repeatable); it is also learned from traffic.
    #[arg(long = "router-mac", value_name = "MAC")]
    router_macs: Vec<Mac>,

    /// Most clients kept; beyond, new ones not yet seen acting as real devices go first.
    #[arg(long, value_name = "N", default_value_t = TrackConfig::default().max_clients)]
    max_clients: usize,

    /// Most flows (connections) kept; the idlest are evicted beyond.
    #[arg(long, value_name = "N", default_value_t = TrackConfig::default().max_flows)]
    max_flows: usize,

    /// A protocol table file read on top of the built-in one
    /// (lines: NAME PROTO [PORT|FIRST-LAST]).
    #[arg(long, value_name = "FILE")]
    protocols: Option<PathBuf>,

    /// Idle timeout of established TCP connections, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 7440)]
    tcp_timeout: u64,

    /// Timeout of closing TCP connections (after a FIN), seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    tcp_closing_timeout: u64,

    /// Idle timeout of UDP flows seen one way only, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    udp_timeout: u64,

    /// Idle timeout of UDP flows once replied, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    udp_replied_timeout: u64,

    /// Idle timeout of ICMP flows, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    icmp_timeout: u64,

    /// Idle timeout of flows of other IP protocols, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    other_timeout: u64,

    /// The router's DHCP lease file (dnsmasq `/tmp/dhcp.leases` or odhcpd
    /// `/tmp/hosts/odhcpd`): host names for clients. Re-read when it changes.
    #[arg(long, value_name = "FILE")]
    leases: Option<PathBuf>,

    /// The MAC vendor table (`OUI<TAB>Vendor` lines). Default:
    /// /usr/share/lanwatch/oui.tsv if present, else a built-in table of
    /// common consumer-device vendors.
    #[arg(long, value_name = "FILE")]
    oui: Option<PathBuf>,

    /// Most device identities (DHCP, mDNS, lease names) kept.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_devices: usize,

    /// A client seen within this many seconds of the newest packet is active.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    active_window: u64,

    /// Domains per client exported as Prometheus labels (the top ones by
    /// bytes and by queries; the JSON API lists them all). 0: none.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top_domains: usize,

    /// Leave this device out of every table (repeatable): its frames are
    /// counted only as lanwatch_packets_total{outcome="excluded"}.
    #[arg(long = "exclude-mac", value_name = "MAC")]
    exclude_macs: Vec<Mac>,

    /// Do not export DNS names: no domain series in /metrics, no domains in
    /// the JSON API (DNS counts only).
    #[arg(long)]
    no_dns_names: bool,

    /// Forget per-domain data (names and their counters) not seen for this
    /// many hours.
    #[arg(long, value_name = "HOURS")]
    domain_retention: Option<u64>,
}

impl TrackArgs {
    fn settings(&self) -> daemon::TrackSettings {
        daemon::TrackSettings {
            lan: self.lan.clone(),
            router_macs: self.router_macs.clone(),
            max_clients: self.max_clients,
            max_flows: self.max_flows,
            protocols: self.protocols.clone(),
            tcp_timeout: self.tcp_timeout,
            tcp_closing_timeout: self.tcp_closing_timeout,
            udp_timeout: self.udp_timeout,
            udp_replied_timeout: self.udp_replied_timeout,
            icmp_timeout: self.icmp_timeout,
            other_timeout: self.other_timeout,
            leases: self.leases.clone(),
            oui: self.oui.clone(),
            max_devices: self.max_devices,
            active_window: self.active_window,
            top_domains: self.top_domains,
            exclude_macs: self.exclude_macs.clone(),
            no_dns_names: self.no_dns_names,
            domain_retention: self.domain_retention,
        }
    }
}

impl CaptureArgs {
    fn config(&self) -> CaptureConfig {
        CaptureConfig {
            interfaces: self.interfaces.clone(),
            listen: self.listen,
            snaplen: self.snaplen,
            promiscuous: !self.no_promisc,
            user: self.user.clone(),
            group: self.group.clone(),
            seccomp: !self.no_seccomp,
            allow_root: self.allow_root,
            http: self.http.settings(),
            state: self.state.settings(),
            track: self.track.settings(),
        }
    }
}

impl ReplayArgs {
    fn config(&self) -> ReplayConfig {
        ReplayConfig {
            files: self.files.clone(),
            output: match self.format {
                Format::Table => replay::Output::Table,
                Format::Json => replay::Output::Json,
                Format::Prometheus => replay::Output::Prometheus,
            },
            listen: self.listen,
            keep_going: self.keep_going,
            realtime: self.realtime.then_some(self.speed),
            loop_files: self.loop_files,
            http: self.http.settings(),
            state: self.state.settings(),
            track: self.track.settings(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        Command::Capture(args) => daemon::capture::run(args.config()),
        Command::Replay(args) => replay::run(args.config()),
        Command::CheckConfig(args) => run_check_config(args),
        Command::Rpcd(args) => run_rpcd(args),
        Command::HashPassword(args) => run_hash_password(args),
        #[cfg(feature = "report")]
        Command::Report(args) => run_report(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("lanwatch: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A replay speed factor: a positive, finite number.
fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

fn init_logging(level: &str) {
    use tracing_subscriber::filter::Targets;
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| level.to_string());
    let targets: Targets = spec.parse().unwrap_or_else(|e| {
        eprintln!("lanwatch: ignoring log level {spec:?}: {e}");
        Targets::new().with_default(tracing::Level::INFO)
    });
    use tracing_subscriber::prelude::*;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(targets)
        .init();
}

fn run_check_config(args: CheckConfigArgs) -> Result<ExitCode, String> {
    let file = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("{file}: {e}"))?;
    let settings = match config::Settings::from_text(&text) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{file}: {e}");
            }
            eprintln!("{file}: invalid ({} problem(s))", errors.len());
            return Ok(ExitCode::FAILURE);
        }
    };
    let firewall_path = args.firewall.clone().unwrap_or_else(|| {
        args.file
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("firewall")
    });
    let firewall = std::fs::read_to_string(&firewall_path).ok();
    let mut remarks = Vec::new();
    let dump = match &args.interfaces_dump {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => match std::process::Command::new("ubus")
            .args(["call", "network.interface", "dump"])
            .stderr(std::process::Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            outcome => {
                let why = match outcome {
                    Ok(out) => format!("exit status {}", out.status),
                    Err(e) => e.to_string(),
                };
                remarks.push(format!(
                    "netifd not reachable (ubus call network.interface dump: {why}); \
                     networks cannot be resolved (see --interfaces-dump)"
                ));
                r#"{"interface":[]}"#.to_string()
            }
        },
    };
    let system = config::System::new(&dump, &args.sysfs, firewall.as_deref())?;
    let plan = match config::plan(&settings, &system, &args.program) {
        Ok(plan) => plan,
        Err(e) => {
            for remark in &remarks {
                eprintln!("{file}: note: {remark}");
            }
            eprintln!("{file}: {e}");
            eprintln!("{file}: invalid (1 problem)");
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.args {
        for arg in &plan.args {
            println!("{arg}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(user) = &settings.user {
        if let Err(e) = Credentials::resolve(user, settings.group.as_deref()) {
            remarks.push(format!("{e} on this system (the package creates it)"));
        }
    }
    println!("{file}: valid");
    print!("{plan}");
    for remark in &remarks {
        println!("note:         {remark}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_rpcd(args: RpcdArgs) -> Result<ExitCode, String> {
    let options = lanwatch::rpcd::Options::new(args.config, args.interfaces_dump);
    let output = match args.action {
        RpcdAction::List => lanwatch::rpcd::list(),
        RpcdAction::Call { method } => lanwatch::rpcd::call(&method, &options, std::io::stdin()),
    };
    println!("{output}");
    Ok(ExitCode::SUCCESS)
}

fn run_hash_password(args: HashPasswordArgs) -> Result<ExitCode, String> {
    use config::login;
    let password = login::read_password(std::io::stdin()).map_err(|e| e.to_string())?;
    let hash = login::hash_password(&password, args.cost).map_err(|e| e.to_string())?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "report")]
fn run_report(args: ReportArgs) -> Result<ExitCode, String> {
    use lanwatch::report::{self, Format, Options, Period};
    let options = Options {
        prometheus: args.prometheus,
        date: args.date,
        period: match args.period {
            ReportPeriod::Day => Period::Day,
            ReportPeriod::Week => Period::Week,
            ReportPeriod::Month => Period::Month,
        },
        out: args.out,
        format: match args.format {
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Json => Format::Json,
        },
        instance: args.instance,
    };
    if let Some(path) = report::run(&options).map_err(|e| e.to_string())? {
        eprintln!("lanwatch: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
