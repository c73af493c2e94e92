//! `pwa-billing`: serve, sandbox, migrate, reconcile, reports, external-transactions, catalog.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pwa_billing_server::config::Config;
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (production). Configuration: --config FILE, then PWA_BILLING_* variables.
    Serve {
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Apply the database migrations and exit.
    Migrate {
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Sweep voided purchases and re-check with Google every purchase that should have
    /// changed by now (expired subscriptions, stale states), once; print a summary.
    Reconcile {
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
    },
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
    Catalog(pwa_billing_server::catalog::CatalogArgs),
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// Import the sales and earnings reports from the bucket (only new or changed files);
    /// a progress bar per file, a summary line at the end.
    Import {
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
        /// The bucket (default: configuration key `reports.bucket`).
        #[arg(long)]
        bucket: Option<String>,
        /// Only this month (YYYY-MM).
        #[arg(long, conflicts_with = "since")]
        month: Option<pwa_billing_server::reports::Month>,
        /// This month (YYYY-MM) and every later one.
        #[arg(long)]
        since: Option<pwa_billing_server::reports::Month>,
    },
    /// Reconcile the imported reports with the granted purchases; exit code 3 when
    /// something does not add up.
    Reconcile {
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
        /// Only this month (YYYY-MM; default every imported month).
        #[arg(long)]
        month: Option<pwa_billing_server::reports::Month>,
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
        format: Option<pwa_billing_server::external_transactions::cli::Format>,
        /// Only store; the running servers' workers report them.
        #[arg(long)]
        no_deliver: bool,
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
    },
    /// What is pending (and past the 24-hour deadline), reported late, and failed.
    Status {
        /// At most this many payments listed per state.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// TOML configuration file.
        #[arg(long, env = "PWA_BILLING_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    if let Command::Catalog(args) = cli.command {
        return pwa_billing_server::catalog::main(args).await;
    }
    match run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<pwa_billing_server::reports::Discrepancies>() => {
            eprintln!("pwa-billing: {e}");
            std::process::ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("pwa-billing: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            let listen = config.listen;
            let state = AppState::new(config, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("configuration key `listen`: cannot bind {listen}"))?;
            let server = RunningServer::start(state.clone(), app(state), listener)?;
            tracing::info!(url = %server.url(), "pwa-billing listening");
            server.run_until(shutdown_signal()).await?;
            Ok(())
        }
        Command::Migrate { config } => {
            let config = Config::load(config.as_deref())?;
            let db = pwa_billing_server::db::Db::connect(&config.database_url)
                .await
                .context("configuration key `database_url`")?;
            db.migrate().await.context("applying migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Reconcile { config } => {
            let config = Config::load(config.as_deref())?;
            let state = AppState::new(config, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            let summary = pwa_billing_server::reconcile::run(&state).await?;
            println!("reconcile: {summary}");
            state.db.close().await;
            Ok(())
        }
        Command::Reports(ReportsCommand::Import {
            config,
            bucket,
            month,
            since,
        }) => {
            use pwa_billing_server::reports::import::MonthFilter;
            let config = Config::load(config.as_deref())?;
            let state = AppState::new(config, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            let months = match (month, since) {
                (Some(m), _) => MonthFilter::Only(m),
                (None, Some(m)) => MonthFilter::Since(m),
                (None, None) => MonthFilter::All,
            };
            let result =
                pwa_billing_server::reports::import_command(&state, bucket.as_deref(), months)
                    .await;
            state.db.close().await;
            result.map(|_| ())
        }
        Command::Reports(ReportsCommand::Reconcile {
            config,
            month,
            json,
            confirm,
        }) => {
            let config = Config::load(config.as_deref())?;
            let state = AppState::new(config, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            let report = pwa_billing_server::reports::reconcile::run(&state.db, month).await;
            state.db.close().await;
            let mut report = report.context("reading the imported reports and purchases")?;
            if confirm {
                pwa_billing_server::reports::reconcile::confirm(&state.play, &mut report).await;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.to_text());
            }
            if report.discrepancies > 0 {
                return Err(
                    pwa_billing_server::reports::Discrepancies(report.discrepancies).into(),
                );
            }
            Ok(())
        }
        Command::ExternalTransactions(command) => external(command).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(options) => {
            pwa_billing_server::sandbox::run(options, shutdown_signal()).await
        }
        Command::Catalog(_) => unreachable!("handled in main"),
    }
}

async fn external(command: ExternalCommand) -> anyhow::Result<()> {
    use pwa_billing_server::external_transactions::cli;
    match command {
        ExternalCommand::Import {
            file,
            format,
            no_deliver,
            config,
        } => {
            let format = format
                .or_else(|| cli::Format::from_path(&file))
                .with_context(|| {
                    format!(
                        "{}: say --format csv or --format ndjson (the extension does not tell)",
                        file.display()
                    )
                })?;
            let state = AppState::new(Config::load(config.as_deref())?, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            let summary = cli::import(&state, &file, format, !no_deliver, true).await?;
            for (line, reason) in &summary.refused {
                eprintln!("{}:{line}: {reason}", file.display());
            }
            println!("import: {summary}");
            state.db.close().await;
            if !summary.refused.is_empty() || summary.failed > 0 {
                anyhow::bail!(
                    "{} record(s) refused, {} refused by Google",
                    summary.refused.len(),
                    summary.failed
                );
            }
            Ok(())
        }
        ExternalCommand::Status { limit, config } => {
            let state = AppState::new(Config::load(config.as_deref())?, None).await?;
            state.db.migrate().await.context("applying migrations")?;
            print!("{}", cli::status(&state, limit).await?);
            state.db.close().await;
            Ok(())
        }
    }
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
