//! Logging set up once, the same way for both binaries: human text on stderr by default (no
//! timestamps: CodeBuild adds its own), JSON lines on request, `-v`/`-q` to move the level and
//! `RUST_LOG` to override it. `-v` only ever raises this project's own crates: the SDK's debug and
//! trace events print access key ids and request bodies (payloads), so they stay off unless
//! `RUST_LOG` asks for them by name. Filtering uses `Targets`, not `EnvFilter`, to keep regex-based
//! filter machinery out of the static binaries. Nothing here ever logs credentials or payloads.

use clap::Args;
use deploy_core::{inputs, Format};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The logging flags both binaries accept.
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// Log format on stderr
    #[arg(long = inputs::LOG_FORMAT.flag, env = inputs::LOG_FORMAT.env, value_enum, default_value_t = Format::Text)]
    pub log_format: Format,
    /// More log detail from this tool: -v debug, -vv trace (debug builds; release builds log info and up)
    #[arg(short, long = inputs::VERBOSE.flag, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long = inputs::QUIET.flag)]
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

/// This project's crates at `level`; everything else (the SDK, hyper, rustls) at most at info.
fn filter_for(level: LevelFilter) -> Targets {
    OWN_CRATES.iter().fold(
        Targets::new().with_default(level.min(LevelFilter::INFO)),
        |targets, krate| targets.with_target(*krate, level),
    )
}

const OWN_CRATES: [&str; 4] = ["build_step", "test_step", "deploy_shell", "deploy_core"];

/// Installs the global subscriber. `RUST_LOG`, when set and valid, replaces the level from flags.
pub fn init(args: &LogArgs) {
    let filter = std::env::var(inputs::LOG_FILTER.var())
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| filter_for(args.level()));
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match args.log_format {
        Format::Text => registry
            .with(fmt.without_time().with_ansi(false))
            .try_init(),
        Format::Json => registry.with(fmt.json().flatten_event(true)).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_raises_only_this_projects_crates() {
        let filter = filter_for(LevelFilter::TRACE);
        assert!(filter.would_enable("build_step::registry", &tracing::Level::TRACE));
        assert!(filter.would_enable("deploy_shell::aws", &tracing::Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime::client", &tracing::Level::DEBUG));
        assert!(filter.would_enable("aws_smithy_runtime::client", &tracing::Level::INFO));
        let quiet = filter_for(LevelFilter::WARN);
        assert!(!quiet.would_enable("aws_config", &tracing::Level::INFO));
    }
}
