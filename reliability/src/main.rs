//! `pwa-billing-reliability`: the reliability and security suite. Starts `play-emulator` and
//! `pwa-billing serve` as processes on 127.0.0.1, attacks them, and prints one table
//! (scenario, load, faults injected, expected, observed, pass); exits 1 on any miss.

mod abuse;
mod crash;
mod faults;
mod malformed;
mod procs;
mod report;
mod secrets;
mod webhooks;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::report::Row;
use crate::world::Env;

#[derive(Debug, Parser)]
#[command(
    name = "pwa-billing-reliability",
    about = "Crashes, forged and hostile input against pwa-billing + play-emulator processes; prints one table."
)]
struct Cli {
    /// The short form (fewer iterations, same checks), as `make test` runs it.
    #[arg(long)]
    short: bool,
    /// Where the `pwa-billing` and `play-emulator` binaries are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Run only the scenarios whose name starts with one of these (secrets, replay, rtdn,
    /// crash-sqlite, crash-postgres, faults, malformed, webhooks).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Seed of the fuzzer (a failing run prints its seed; give it again to replay it).
    #[arg(long, default_value_t = 12)]
    seed: u64,
    /// The schemathesis executable (`scripts/install-tools.sh schemathesis` installs it)
    /// [default: $TOOLS_DIR/schemathesis/bin/schemathesis, TOOLS_DIR defaulting to
    /// ~/.cache/pwa-billing].
    #[arg(long, env = "PWA_BILLING_SCHEMATHESIS")]
    schemathesis: Option<PathBuf>,
    /// PostgreSQL URL to create databases with (the crash loop's two-replica run).
    #[arg(long, env = "PWA_BILLING_TEST_DATABASE_URL")]
    postgres: Option<String>,
}

/// How much each scenario does.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    secrets_purchases: usize,
    replay_rounds: usize,
    rtdn_burst: usize,
    crash: crash::Sizes,
    faults: faults::Sizes,
    malformed: malformed::Sizes,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let env = match procs::Bins::in_dir(&cli.bin_dir) {
        Ok(bins) => Env {
            bins,
            postgres: cli.postgres.filter(|u| !u.is_empty()),
            schemathesis: cli.schemathesis.clone().unwrap_or_else(|| {
                std::env::var_os("TOOLS_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                            .join(".cache/pwa-billing")
                    })
                    .join("schemathesis/bin/schemathesis")
            }),
        },
        Err(e) => {
            eprintln!("pwa-billing-reliability: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let sizes = if cli.short {
        Sizes {
            secrets_purchases: 10,
            replay_rounds: 2,
            rtdn_burst: 50,
            crash: crash::Sizes {
                purchases: 120,
                clients: 8,
                kills: 3,
            },
            faults: faults::Sizes {
                purchases: 200,
                clients: 8,
            },
            malformed: malformed::Sizes {
                fuzz_examples: 10,
                fuzz_max_secs: 20,
                slow_clients: 50,
                open_connections: 500,
                assert_timing: false,
            },
        }
    } else {
        Sizes {
            secrets_purchases: 100,
            replay_rounds: 10,
            rtdn_burst: 1000,
            crash: crash::Sizes {
                purchases: 1000,
                clients: 16,
                kills: 10,
            },
            faults: faults::Sizes {
                purchases: 1000,
                clients: 16,
            },
            malformed: malformed::Sizes {
                fuzz_examples: 100,
                fuzz_max_secs: 90,
                slow_clients: 500,
                open_connections: 10_000,
                assert_timing: true,
            },
        }
    };
    let wanted =
        |name: &str| cli.only.is_empty() || cli.only.iter().any(|o| name.starts_with(o.as_str()));
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let scenarios = [
        "secrets",
        "replay",
        "rtdn",
        "crash-sqlite",
        "crash-postgres",
        "faults",
        "malformed",
        "webhooks",
    ];
    for name in scenarios {
        if !wanted(name) {
            continue;
        }
        eprintln!(
            "reliability: {name}… ({:.0} s so far)",
            started.elapsed().as_secs_f64()
        );
        let result = match name {
            "secrets" => secrets::run(&env, sizes.secrets_purchases).await,
            "replay" => abuse::replay(&env, sizes.replay_rounds).await,
            "rtdn" => abuse::rtdn(&env, sizes.rtdn_burst, !cli.short).await,
            "faults" => faults::run(&env, sizes.faults).await,
            "malformed" => malformed::run(&env, sizes.malformed, cli.seed).await,
            "webhooks" => webhooks::run(&env).await,
            "crash-sqlite" => crash::run(&env, world::Database::Sqlite, 1, sizes.crash).await,
            _ if env.postgres.is_none() => Ok(vec![Row::new(
                "crash loop: PostgreSQL",
                "-",
                "-",
                "runs under scripts/with-postgres.sh",
                "skipped: PWA_BILLING_TEST_DATABASE_URL not set",
                !cli.only.iter().any(|o| o.starts_with("crash-p")),
            )]),
            _ => crash::run(&env, world::Database::Postgres, 2, sizes.crash).await,
        };
        match result {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => rows.push(Row::error(name, &e)),
        }
    }
    println!(
        "pwa-billing reliability suite ({}, {:.0} s)\n",
        if cli.short { "short form" } else { "full size" },
        started.elapsed().as_secs_f64()
    );
    print!("{}", report::table(&rows));
    let misses = rows.iter().filter(|r| !r.pass).count();
    if rows.is_empty() {
        println!("\nno scenario matched --only {}", cli.only.join(","));
        ExitCode::FAILURE
    } else if misses == 0 {
        println!("\nevery check held ({} rows)", rows.len());
        ExitCode::SUCCESS
    } else {
        println!("\n{misses} of {} checks missed", rows.len());
        ExitCode::FAILURE
    }
}
