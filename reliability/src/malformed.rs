//! Scenario 5, malformed input: property-based fuzzing of every operation of `/openapi.json`
//! by schemathesis, oversized bodies, deep JSON, invalid UTF-8, huge headers, slow clients
//! (slowloris) and many open connections, while `/healthz` is timed throughout. 0 panics,
//! 0 5xx, bounded memory, `/healthz` answering (within 100 ms in the full run).

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::procs::ADMIN_KEY;
use crate::report::Row;
use crate::world::{user_jwt, Database, Env, World};
use pwa_billing_test_kit::peak_rss_kib;

/// How big the attack is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// schemathesis's `--max-examples`: test cases per operation at most.
    pub fuzz_examples: usize,
    /// schemathesis's `--max-time`: the run's time bound, in seconds.
    pub fuzz_max_secs: u64,
    /// Slow clients held open at once.
    pub slow_clients: usize,
    /// Idle connections held open at once.
    pub open_connections: usize,
    /// Whether `/healthz` latency is asserted (never in the short form: CI machines are
    /// loaded, and timing there proves nothing).
    pub assert_timing: bool,
}

/// The most resident memory the server may reach under the attack.
const MAX_RSS_MIB: u64 = 256;
/// The server's `limits.header_read_timeout_secs` (see procs.rs) is 2 s: every slow or
/// idle connection must have been closed by the server within this.
const CLOSE_DEADLINE: Duration = Duration::from_secs(20);
/// `/healthz` must answer within this (full run).
const HEALTHZ_BUDGET: Duration = Duration::from_millis(100);

/// `/healthz` timed every 50 ms while an attack runs.
#[derive(Debug, Default)]
struct Health {
    /// The attack running now.
    phase: &'static str,
    polls: usize,
    failures: usize,
    slowest: Duration,
    /// The slowest answer in each attack.
    slowest_in: std::collections::BTreeMap<&'static str, Duration>,
}

/// Runs the scenario; `seed` makes the fuzzing reproducible.
pub async fn run(env: &Env, sizes: Sizes, seed: u64) -> anyhow::Result<Vec<Row>> {
    let world = Arc::new(World::start(env, Database::Sqlite, 1, &[]).await?);
    let pid = world.servers[0].pid().unwrap_or(0);
    let health = Arc::new(Mutex::new(Health::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (world, health, stop) = (world.clone(), health.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap_or_default();
            while !stop.load(Ordering::SeqCst) {
                let t0 = Instant::now();
                let ok = client
                    .get(format!("{}/healthz", world.url()))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let took = t0.elapsed();
                {
                    let mut h = health.lock().unwrap_or_else(|e| e.into_inner());
                    h.polls += 1;
                    h.failures += usize::from(!ok);
                    h.slowest = h.slowest.max(took);
                    let phase = h.phase;
                    let slowest = h.slowest_in.entry(phase).or_default();
                    *slowest = (*slowest).max(took);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let phase = |name: &'static str| {
        health.lock().unwrap_or_else(|e| e.into_inner()).phase = name;
    };
    let mut rows = Vec::new();
    phase("fuzzing");
    rows.push(fuzz(&world, &env.schemathesis, sizes, seed).await?);
    phase("hostile");
    rows.push(hostile_bodies(&world).await?);
    phase("slow+idle");
    rows.push(slow_and_many(&world, sizes).await?);
    stop.store(true, Ordering::SeqCst);
    monitor.await?;
    let log = world.server_logs();
    let panics = log.matches("panicked").count();
    let alive = world
        .http
        .get(format!("{}/healthz", world.url()))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    let rss_mib = peak_rss_kib(pid).unwrap_or(u64::MAX) / 1024;
    let h = std::mem::take(&mut *health.lock().unwrap_or_else(|e| e.into_inner()));
    let timing_ok = !sizes.assert_timing || h.slowest <= HEALTHZ_BUDGET;
    rows.push(Row::new(
        "malformed: server health throughout",
        format!("{} /healthz polls during every attack above", h.polls),
        "all of the above",
        format!(
            "0 panics; alive; /healthz always 200{}; peak RSS ≤ {MAX_RSS_MIB} MiB",
            if sizes.assert_timing {
                " within 100 ms"
            } else {
                " (latency reported, not asserted in the short form)"
            }
        ),
        format!(
            "{panics} panics; {}; {} failed polls; slowest /healthz {} ms ({}); peak RSS {rss_mib} MiB",
            if alive { "alive" } else { "DOWN" },
            h.failures,
            h.slowest.as_millis(),
            h.slowest_in
                .iter()
                .map(|(p, d)| format!("{p} {} ms", d.as_millis()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        panics == 0 && alive && h.failures == 0 && timing_ok && rss_mib <= MAX_RSS_MIB,
    ));
    Ok(rows)
}

/// The checks schemathesis runs on every answer: no 5xx; the status, content type, headers
/// and schema the document gives for the operation; schema-violating input refused; a
/// missing required header refused; an undocumented method answered 405 with `Allow`; auth
/// not ignored; a deleted or created resource as the links say. Not
/// `positive_data_acceptance`: a schema-valid verification of a random token is rightly
/// `422` (only Google knows which tokens exist).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,negative_data_rejection,\
missing_required_header,unsupported_method,allow_header_conformance,ignored_auth,\
use_after_free,ensure_resource_availability";

/// Property-based fuzzing of every operation of `/openapi.json` by schemathesis, run as a
/// process against the server: positive and negative cases generated from the document's
/// schemas (hypothesis, with shrinking), a user's bearer JWT and the admin API key where the
/// operations' security asks for them, bounded by examples per operation, a seed and time.
async fn fuzz(world: &World, tool: &Path, sizes: Sizes, seed: u64) -> anyhow::Result<Row> {
    anyhow::ensure!(
        tool.is_file(),
        "{} does not exist: install schemathesis with scripts/install-tools.sh schemathesis \
         (make tools-schemathesis), or give --schemathesis",
        tool.display()
    );
    let dir = world.dir.path().join("schemathesis");
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "# The credentials of the document's security schemes.\n\
             [auth.openapi.bearer]\nbearer = \"{}\"\n\n\
             [auth.openapi.server_api_key]\nbearer = \"{ADMIN_KEY}\"\n",
            user_jwt("schemathesis-fuzzer")
        ),
    )?;
    let junit = dir.join("junit.xml");
    let started = Instant::now();
    let output = tokio::process::Command::new(tool)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", world.url()))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &sizes.fuzz_examples.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--max-time", &sizes.fuzz_max_secs.to_string()])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "10"])
        .args(["--workers", "2"])
        .args(["--no-color", "--report", "junit"])
        .arg("--report-junit-path")
        .arg(&junit)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", tool.display()))?;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = Summary::parse(&stdout);
    let failures = failure_lines(&stdout);
    let documented = operations(world).await?;
    let pass = output.status.success()
        && summary.operations == documented
        && summary.failures == 0
        && summary.errors == 0;
    if !pass {
        // The whole report, for whoever reads the log of a failed run.
        eprintln!(
            "schemathesis (exit {}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(Row::new(
        "malformed: schemathesis from /openapi.json",
        format!(
            "{} of {documented} operations, {} test cases ({} per operation and phase at most, seed {seed}, {:.0} s)",
            summary.operations,
            summary.cases,
            sizes.fuzz_examples,
            took.as_secs_f64()
        ),
        "generated valid and invalid bodies, parameters, headers; missing and bad auth",
        "0 failures of: no 5xx, documented status, content type and schema",
        if pass {
            format!("{} failures, {} errors", summary.failures, summary.errors)
        } else {
            format!(
                "{} failures, {} errors, exit code {}: {}",
                summary.failures,
                summary.errors,
                output.status.code().unwrap_or(-1),
                failures.join(" | ")
            )
        },
        pass,
    ))
}

/// The figures of a schemathesis run, from its summary.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    /// Operations tested.
    operations: usize,
    /// Test cases generated.
    cases: usize,
    /// Distinct failures found.
    failures: usize,
    /// Errors (a test that could not run).
    errors: usize,
}

impl Summary {
    /// Reads schemathesis's summary: `Tested: 12` under "API Operations:", the line after
    /// "Test cases:" (`1219 generated, 1219 passed, 6 skipped`), and the closing banner
    /// (`==== 4 failures, 2 warnings in 45.02s ====`).
    fn parse(text: &str) -> Self {
        let first_number = |s: &str| -> usize {
            s.split(|c: char| !c.is_ascii_digit())
                .find(|w| !w.is_empty())
                .and_then(|w| w.parse().ok())
                .unwrap_or(0)
        };
        let mut summary = Self::default();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(rest) = line.strip_prefix("Tested:") {
                summary.operations = first_number(rest);
            }
            if *line == "Test cases:" {
                summary.cases = lines.get(i + 1).map_or(0, |l| first_number(l));
            }
            if line.starts_with("==") && line.contains(" in ") {
                let words: Vec<&str> = line.trim_matches('=').split_whitespace().collect();
                for pair in words.windows(2) {
                    let n = pair[0].parse().unwrap_or(0);
                    if pair[1].starts_with("failure") {
                        summary.failures = n;
                    } else if pair[1].starts_with("error") {
                        summary.errors = n;
                    }
                }
            }
        }
        summary
    }
}

/// How many operations `/openapi.json` documents, but itself (schemathesis does not test
/// the operation it loaded the document from).
async fn operations(world: &World) -> anyhow::Result<usize> {
    let (_, doc) = world
        .send(world.http.get(format!("{}/openapi.json", world.url())))
        .await?;
    Ok(doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| path.as_str() != "/openapi.json")
        .map(|(_, ops)| ops.as_object().map_or(0, |o| o.len()))
        .sum())
}

/// The failures schemathesis names (operation and check), for the table.
fn failure_lines(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut operation = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("___") {
            operation = line.trim_matches(|c| c == '_' || c == ' ').to_string();
        } else if let Some(check) = line.strip_prefix("- ") {
            if !operation.is_empty() && check.starts_with("ST") {
                found.push(format!("{operation}: {check}"));
            }
        }
    }
    found.truncate(6);
    found
}

/// Raw requests no client library would send: each must get a 4xx (or the connection
/// closed), never a 5xx.
async fn hostile_bodies(world: &World) -> anyhow::Result<Row> {
    let jwt = user_jwt("hostile");
    let verify = |body: &[u8]| {
        let mut head = format!(
            "POST /v1/purchases/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {jwt}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        head.extend_from_slice(body);
        head
    };
    let huge_header = format!(
        "GET /v1/entitlements HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(1 << 20)
    )
    .into_bytes();
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        ("1 MiB body", verify(&vec![b' '; 1 << 20]), &[413]),
        ("JSON nested 20,000 deep", verify(&"[".repeat(20_000).into_bytes()), &[400]),
        ("invalid UTF-8", verify(b"{\"itemId\":\"\xff\xfe\",\"purchaseToken\":\"\xc3\x28\"}"), &[400]),
        ("1 MiB header", huge_header, &[431, 400, 0]),
        ("wrong Content-Length", b"POST /v1/purchases/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\nConnection: close\r\n\r\n{}".to_vec(), &[400, 413, 0]),
        ("garbage request line", b"\x00\x01\x02 / HTTP/9.9\r\n\r\n".to_vec(), &[400, 505, 0]),
    ];
    let mut observed = Vec::new();
    let mut ok = 0;
    for (name, bytes, allowed) in &cases {
        let status = raw(world.url(), bytes).await;
        if allowed.contains(&status) {
            ok += 1;
        }
        observed.push(format!(
            "{name}: {}",
            if status == 0 {
                "closed".to_string()
            } else {
                status.to_string()
            }
        ));
    }
    Ok(Row::new(
        "malformed: hostile bodies and headers",
        format!("{} raw requests", cases.len()),
        "oversized, deep, invalid UTF-8, huge header, bad length, garbage",
        "413 / 400 / 431 or closed; never 5xx",
        observed.join(", "),
        ok == cases.len(),
    ))
}

/// Sends raw bytes and returns the response's status (0: closed without an answer).
async fn raw(base: &str, bytes: &[u8]) -> u16 {
    let addr = base.trim_start_matches("http://").to_string();
    let Ok(mut stream) = TcpStream::connect(&addr).await else {
        return 0;
    };
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Slow clients trickling a request's headers and idle connections held open at once,
/// while normal requests still have to be served.
async fn slow_and_many(world: &World, sizes: Sizes) -> anyhow::Result<Row> {
    let addr = world.url().trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    let mut refused = 0;
    for _ in 0..sizes.open_connections {
        match TcpStream::connect(&addr).await {
            Ok(s) => idle.push(s),
            Err(_) => refused += 1,
        }
    }
    let mut slow = Vec::new();
    for _ in 0..sizes.slow_clients {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            // True when the server hung up on the slow client before the deadline.
            let Ok(mut s) = TcpStream::connect(&addr).await else {
                return false;
            };
            let _ = s
                .write_all(b"POST /v1/purchases/verify HTTP/1.1\r\nHost: x\r\n")
                .await;
            let deadline = Instant::now() + CLOSE_DEADLINE;
            while Instant::now() < deadline {
                if s.write_all(b"X-Slow: a\r\n").await.is_err() {
                    return true;
                }
                let mut byte = [0u8; 1];
                if let Ok(Ok(0) | Err(_)) =
                    tokio::time::timeout(Duration::from_millis(500), s.read(&mut byte)).await
                {
                    return true;
                }
            }
            false
        }));
    }
    // Real work meanwhile: entitlements read by a client that does not know about the attack.
    let mut served = 0;
    let rounds = 20;
    for i in 0..rounds {
        let answer = world
            .http
            .get(format!("{}/v1/entitlements", world.url()))
            .bearer_auth(user_jwt(&format!("bystander-{i}")))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            served += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut slow_closed = 0;
    for task in slow {
        slow_closed += usize::from(task.await.unwrap_or(false));
    }
    // The idle connections: the server must have hung up on each (EOF or reset).
    let deadline = Instant::now() + CLOSE_DEADLINE;
    let mut idle_closed = 0;
    for mut s in idle {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(left, s.read(&mut byte)).await {
            idle_closed += 1;
        }
    }
    let opened = sizes.open_connections - refused;
    Ok(Row::new(
        "malformed: slowloris and open connections",
        format!(
            "{} slow clients + {} idle connections",
            sizes.slow_clients, sizes.open_connections
        ),
        "headers trickled every 500 ms; connections never used",
        format!(
            "every bystander served; every slow and idle connection closed by the server within {} s",
            CLOSE_DEADLINE.as_secs()
        ),
        format!(
            "{served} of {rounds} served; closed: {slow_closed} of {} slow, {idle_closed} of {opened} idle; {refused} refused by the OS",
            sizes.slow_clients
        ),
        served == rounds && slow_closed == sizes.slow_clients && idle_closed == opened,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_clean_run_and_a_failing_one() {
        let clean = "API Operations:\n  Selected: 12/12\n  Tested: 12\n\nTest cases:\n  1219 generated, 1219 passed, 6 skipped\n\n==================== 3 warnings in 45.07s ====================\n";
        assert_eq!(
            Summary::parse(clean),
            Summary {
                operations: 12,
                cases: 1219,
                failures: 0,
                errors: 0
            }
        );
        let failing = "___________ GET /v1/admin/reports/reconciliation ___________\n1. Test Case ID: q4kys2\n\n- ST201 Schema-violating request accepted\n\nAPI Operations:\n  Selected: 12/12\n  Tested: 11\n\nTest cases:\n  1446 generated, 4 found 4 unique failures, 6 skipped\n\n======= 4 failures, 1 error, 2 warnings in 45.02s =======\n";
        assert_eq!(
            Summary::parse(failing),
            Summary {
                operations: 11,
                cases: 1446,
                failures: 4,
                errors: 1
            }
        );
        assert_eq!(
            failure_lines(failing),
            ["GET /v1/admin/reports/reconciliation: ST201 Schema-violating request accepted"]
        );
    }
}
