//! `pwa-billing`: serve, sandbox, migrate, reconcile, reports, external-transactions, catalog.
//!
//! Every command reads the same configuration (defaults, `--config FILE`, `PWA_BILLING_*`,
//! `--set key=value`) and ends with an exit code of the table on [`Failure`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pwa_billing_server::catalog::{CatalogArgs, CatalogError, EXIT_INVALID};
use pwa_billing_server::config::{Config, ConfigError, Sources};
use pwa_billing_server::external_transactions::cli as external;
use pwa_billing_server::reports::{self, Month};
use pwa_billing_server::server::{shutdown_signal, RunningServer};
use pwa_billing_server::{app, AppState};

#[derive(Debug, Parser)]
#[command(
    name = "pwa-billing",
    version,
    about = "Verifies Google Play purchases of a PWA, grants them once, acknowledges them in time."
)]
struct Cli {
    /// Log as JSON lines (default: human-readable). Filter with RUST_LOG.
    #[arg(long, global = true)]
    log_json: bool,
    /// TOML configuration file; PWA_BILLING_* variables and --set override its keys.
    #[arg(long, global = true, env = "PWA_BILLING_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set a configuration key over the file and the environment (repeatable), e.g.
    /// `--set limits.max_body_bytes=16384`.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = key_value)]
    set: Vec<(String, String)>,
    #[command(subcommand)]
    command: Command,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (production).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Sweep voided purchases and re-check with Google every purchase that should have
    /// changed by now (expired subscriptions, stale states), once; print a summary.
    Reconcile,
    /// Play's financial reports: import them from Cloud Storage, reconcile them with the
    /// granted purchases.
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// External transactions (payments taken outside Play billing): import a backlog, show
    /// what is pending, late and failed.
    #[command(subcommand, name = "external-transactions")]
    ExternalTransactions(ExternalCommand),
    /// Everything on one machine with no Google account: the embedded Play emulator, the
    /// server configured for it, the demo PWA and the npm package.
    #[cfg(feature = "sandbox")]
    Sandbox(pwa_billing_server::sandbox::SandboxOptions),
    /// Catalog as code: validate, pull, plan (diff) and apply the app's one-time products
    /// and subscriptions from a catalog file.
    Catalog(CatalogArgs),
    /// Webhooks to the app's backend: list deliveries, replay events, send a test event.
    #[command(subcommand)]
    Webhooks(pwa_billing_server::webhooks::cli::WebhooksCommand),
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// Import the sales and earnings reports from the bucket (only new or changed files);
    /// a progress bar per file, a summary line at the end.
    Import {
        /// The bucket (default: configuration key `reports.bucket`).
        #[arg(long)]
        bucket: Option<pwa_billing_server::reports::Bucket>,
        /// Only this month (YYYY-MM).
        #[arg(long, conflicts_with = "since")]
        month: Option<Month>,
        /// This month (YYYY-MM) and every later one.
        #[arg(long)]
        since: Option<Month>,
    },
    /// Reconcile the imported reports with the granted purchases; exit code 3 when
    /// something does not add up.
    Reconcile {
        /// Only this month (YYYY-MM; default every imported month).
        #[arg(long)]
        month: Option<Month>,
        /// Print the report as JSON (the admin endpoint's body) instead of text.
        #[arg(long)]
        json: bool,
        /// Confirm each discrepancy with Play first (`orders.batchGet`): its state now and
        /// its purchase token; charges Play has since refunded are no longer counted.
        #[arg(long)]
        confirm: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ExternalCommand {
    /// Store every payment of FILE (CSV with a header row, or NDJSON; the fields of
    /// POST /v1/external-transactions) and report them to Google, paced by the limiter all
    /// replicas share, with a progress bar. The same payment twice is stored once.
    Import {
        /// The file (.csv, .ndjson or .jsonl).
        file: PathBuf,
        /// The file's format (default: from the extension).
        #[arg(long, value_enum)]
        format: Option<external::Format>,
        /// Only store; the running servers' workers report them.
        #[arg(long)]
        no_deliver: bool,
    },
    /// What is pending (and past the 24-hour deadline), reported late, and failed.
    Status {
        /// At most this many payments listed per state.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

/// Exit code: something failed (the database, Google, a file).
const EXIT_FAILED: u8 = 1;
/// Exit code: something does not add up (`reports reconcile`) or changes are pending
/// (`catalog plan --exit-code`).
const EXIT_FOUND: u8 = 3;

/// A failed command: the exit code and what went wrong. The codes: 1 failed; 2 invalid
/// configuration, file or usage; 3 found something (`reports reconcile` discrepancies,
/// `catalog plan --exit-code` changes); 4 refused, 5 partly applied, 75 quota exhausted
/// (`catalog apply`).
#[derive(Debug)]
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::new(EXIT_FAILED, error)
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Self::new(EXIT_INVALID, error)
    }
}

impl From<CatalogError> for Failure {
    fn from(error: CatalogError) -> Self {
        Self {
            code: error.code,
            error: anyhow::Error::msg(error.message),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let sources = Sources::from_process(cli.config, cli.set);
    match run(cli.command, &sources).await {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("pwa-billing: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

/// Runs `command`; `Ok` holds the exit code of a command that ran to its end.
async fn run(command: Command, sources: &Sources) -> Result<u8, Failure> {
    match command {
        Command::Serve => {
            let state = open(sources.load()?).await?;
            let listen = state.config.listen;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("configuration key `listen`: cannot bind {listen}"))?;
            let server = RunningServer::start(state.clone(), app(state), listener)
                .context("starting the server")?;
            tracing::info!(url = %server.url(), "pwa-billing listening");
            server
                .run_until(shutdown_signal())
                .await
                .context("serving")?;
        }
        Command::Migrate => {
            let config = sources.load()?;
            let db = pwa_billing_server::db::Db::connect(&config.database_url)
                .await
                .context("configuration key `database_url`")?;
            db.migrate().await.context("applying migrations")?;
            db.close().await;
            println!("migrations applied");
        }
        Command::Reconcile => {
            let summary = with_state(sources, pwa_billing_server::reconcile::run).await?;
            println!("reconcile: {summary}");
        }
        Command::Reports(ReportsCommand::Import {
            bucket,
            month,
            since,
        }) => {
            use reports::import::MonthFilter;
            let months = match (month, since) {
                (Some(m), _) => MonthFilter::Only(m),
                (None, Some(m)) => MonthFilter::Since(m),
                (None, None) => MonthFilter::All,
            };
            with_state(sources, async move |state| {
                reports::import_command(state, bucket.as_ref(), months).await
            })
            .await?;
        }
        Command::Reports(ReportsCommand::Reconcile {
            month,
            json,
            confirm,
        }) => {
            let report = with_state(sources, async move |state| {
                let mut report = reports::reconcile::run(&state.db, month)
                    .await
                    .context("reading the imported reports and purchases")?;
                if confirm {
                    reports::reconcile::confirm(&state.play, &mut report).await;
                }
                pwa_billing_server::db::events::discrepancies(&state.db, &report).await?;
                Ok(report)
            })
            .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).context("the report as JSON")?
                );
            } else {
                println!("{}", report.to_text());
            }
            if report.discrepancies > 0 {
                return Err(Failure::new(
                    EXIT_FOUND,
                    reports::Discrepancies(report.discrepancies),
                ));
            }
        }
        Command::ExternalTransactions(ExternalCommand::Import {
            file,
            format,
            no_deliver,
        }) => {
            let format = format
                .or_else(|| external::Format::from_path(&file))
                .with_context(|| {
                    format!(
                        "{}: say --format csv or --format ndjson (the extension does not tell)",
                        file.display()
                    )
                })
                .map_err(|e| Failure::new(EXIT_INVALID, e))?;
            let summary = with_state(sources, async |state| {
                external::import(state, &file, format, !no_deliver, true).await
            })
            .await?;
            for (line, reason) in &summary.refused {
                eprintln!("{}:{line}: {reason}", file.display());
            }
            println!("import: {summary}");
            if !summary.refused.is_empty() || summary.failed > 0 {
                return Err(anyhow::anyhow!(
                    "{} record(s) refused, {} refused by Google",
                    summary.refused.len(),
                    summary.failed
                )
                .into());
            }
        }
        Command::ExternalTransactions(ExternalCommand::Status { limit }) => {
            let text =
                with_state(sources, async |state| external::status(state, limit).await).await?;
            print!("{text}");
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(options) => {
            pwa_billing_server::sandbox::run(options, sources.extract()?, shutdown_signal())
                .await?;
        }
        Command::Catalog(args) => {
            return Ok(pwa_billing_server::catalog::main(args, &sources.extract()?).await?);
        }
        Command::Webhooks(command) => {
            let text = with_state(sources, async |state| {
                pwa_billing_server::webhooks::cli::run(state, command).await
            })
            .await?;
            print!("{text}");
        }
    }
    Ok(0)
}

/// The state of `config` on a migrated database.
async fn open(config: Config) -> anyhow::Result<AppState> {
    let state = AppState::new(config, None).await?;
    state.db.migrate().await.context("applying migrations")?;
    Ok(state)
}

/// Runs `f` on the state of the configuration, then closes the database.
async fn with_state<T>(
    sources: &Sources,
    f: impl AsyncFnOnce(&AppState) -> anyhow::Result<T>,
) -> Result<T, Failure> {
    let state = open(sources.load()?).await?;
    let result = f(&state).await;
    state.db.close().await;
    Ok(result?)
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
