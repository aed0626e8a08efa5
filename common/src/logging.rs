//! Logging set up once, the same way for both binaries: human text on stderr by default (no
//! timestamps: CodeBuild adds its own), JSON lines on request, `-v`/`-q` to move the level and
//! `RUST_LOG` to override it. Filtering uses `Targets`, not `EnvFilter`, to keep regex-based
//! filter machinery out of the static binaries. Nothing here ever logs credentials or payloads.

use clap::{Args, ValueEnum};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::env_vars;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The logging flags both binaries accept.
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// Log format on stderr
    #[arg(long, env = env_vars::LOG_FORMAT, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log detail: -v debug, -vv trace (trace events are compiled into debug builds only)
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long)]
    pub quiet: bool,
}

impl LogArgs {
    fn level(&self) -> LevelFilter {
        match (self.quiet, self.verbose) {
            (true, _) => LevelFilter::WARN,
            (false, 0) => LevelFilter::INFO,
            (false, 1) => LevelFilter::DEBUG,
            (false, _) => LevelFilter::TRACE,
        }
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set and valid, replaces the level from flags.
pub fn init(args: &LogArgs) {
    let filter = std::env::var(env_vars::RUST_LOG)
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(args.level()));
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match args.log_format {
        LogFormat::Text => registry
            .with(fmt.without_time().with_ansi(false))
            .try_init(),
        LogFormat::Json => registry.with(fmt.json().flatten_event(true)).try_init(),
    };
}
