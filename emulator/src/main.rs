//! `play-emulator`: the Play emulator as a binary.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;
use play_emulator::{Catalog, Config, Emulator};

/// An emulator of the Google Play Developer API, OAuth and RTDN push, with a device sandbox.
#[derive(Debug, Parser)]
#[command(name = "play-emulator", version, about)]
struct Args {
    /// Configuration file (TOML, or JSON by extension); flags override it.
    #[arg(long, env = "PLAY_EMULATOR_CONFIG")]
    config: Option<PathBuf>,
    /// Port to listen on (0: any free port) [default: 8090].
    #[arg(long, env = "PLAY_EMULATOR_PORT")]
    port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, env = "PLAY_EMULATOR_HOST")]
    host: Option<IpAddr>,
    /// The URL clients reach this emulator at (default http://HOST:PORT).
    #[arg(long, env = "PLAY_EMULATOR_BASE_URL")]
    base_url: Option<String>,
    /// The application package served [default: com.example.pwa].
    #[arg(long, env = "PLAY_EMULATOR_PACKAGE_NAME")]
    package_name: Option<String>,
    /// Catalog file (TOML, or JSON by extension); default the built-in demo catalog.
    #[arg(long, env = "PLAY_EMULATOR_CATALOG")]
    catalog: Option<PathBuf>,
    /// Where to push real-time developer notifications.
    #[arg(long, env = "PLAY_EMULATOR_RTDN_PUSH_URL")]
    rtdn_push_url: Option<String>,
    /// The OIDC token's audience on pushes (default the push URL).
    #[arg(long, env = "PLAY_EMULATOR_RTDN_AUDIENCE")]
    rtdn_audience: Option<String>,
    /// A quota limit, NAME=N (repeatable), e.g. `--quota purchases_per_minute=10`; 0 disables.
    #[arg(long = "quota", value_name = "NAME=N")]
    quotas: Vec<String>,
    /// Write the service-account key file to FILE (mode 600) once listening, for
    /// `pwa-billing --set service_account_key=FILE` (and Google's client libraries).
    #[arg(long, value_name = "FILE", env = "PLAY_EMULATOR_WRITE_KEY")]
    write_key: Option<PathBuf>,
    /// Print the demo catalog as TOML and exit.
    #[arg(long)]
    print_demo_catalog: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "play_emulator=info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.print_demo_catalog {
        print!("{}", toml::to_string(&Catalog::demo())?);
        return Ok(());
    }
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(p) = args.port {
        config.port = p;
    }
    if let Some(h) = args.host {
        config.host = h;
    }
    if args.base_url.is_some() {
        config.base_url = args.base_url;
    }
    if let Some(p) = args.package_name {
        config.package_name = p;
    }
    if let Some(path) = &args.catalog {
        config.catalog = Catalog::from_file(path)?;
    }
    if args.rtdn_push_url.is_some() {
        config.rtdn.push_url = args.rtdn_push_url;
    }
    if args.rtdn_audience.is_some() {
        config.rtdn.audience = args.rtdn_audience;
    }
    for q in &args.quotas {
        let (name, value) = q
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--quota expects NAME=N, got {q:?}"))?;
        let value: u64 = value
            .parse()
            .map_err(|_| anyhow::anyhow!("--quota {name}: {value:?} is not a number"))?;
        config.quotas.set(name, value).map_err(anyhow::Error::msg)?;
    }
    let package = config.package_name.clone();
    let emulator = Emulator::bind(config).await?;
    tracing::info!(url = %emulator.url(), package = %package, "play-emulator listening");
    println!(
        "play-emulator listening on {} (package {package})",
        emulator.url()
    );
    match &args.write_key {
        Some(path) => {
            emulator.write_service_account_key(path).map_err(|e| {
                anyhow::anyhow!("--write-key: cannot write {}: {e}", path.display())
            })?;
            println!("service account key: {} (mode 600)", path.display());
        }
        None => println!(
            "service account key: {}/emulator/v1/service-account.json",
            emulator.url()
        ),
    }
    shutdown_signal().await;
    emulator.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
