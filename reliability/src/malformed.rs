//! Scenario 5, malformed input: random requests for every operation of `/openapi.json`,
//! oversized bodies, deep JSON, invalid UTF-8, huge headers, slow clients (slowloris) and
//! many open connections, while `/healthz` is timed throughout. 0 panics, 0 5xx, bounded
//! memory, `/healthz` answering (within 100 ms in the full run).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::procs::peak_rss_kib;
use crate::report::Row;
use crate::world::{user_jwt, Database, Env, World};

/// How big the attack is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Random requests per operation of the OpenAPI document.
    pub fuzz_per_operation: usize,
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
    rows.push(fuzz(&world, sizes.fuzz_per_operation, seed).await?);
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

/// Random requests for every operation of the OpenAPI document: random JSON bodies (or
/// none), random path parameters and query strings, a valid user token, a forged one or none.
async fn fuzz(world: &World, per_operation: usize, seed: u64) -> anyhow::Result<Row> {
    let (_, openapi) = world
        .send(world.http.get(format!("{}/openapi.json", world.url())))
        .await?;
    let mut operations = Vec::new();
    for (path, ops) in openapi["paths"].as_object().into_iter().flatten() {
        for (method, _) in ops.as_object().into_iter().flatten() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    anyhow::ensure!(!operations.is_empty(), "/openapi.json lists no operation");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sent = 0;
    let mut server_errors = Vec::new();
    for (method, path) in &operations {
        for _ in 0..per_operation {
            let concrete = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        random_string(&mut rng, 40)
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let mut url = reqwest::Url::parse(&format!("{}{}", world.url(), concrete))
                .or_else(|_| reqwest::Url::parse(&format!("{}{path}", world.url())))?;
            if rng.gen_bool(0.3) {
                url.query_pairs_mut()
                    .append_pair(&random_string(&mut rng, 8), &random_string(&mut rng, 30));
            }
            let mut request = world.http.request(method.parse()?, url);
            request = match rng.gen_range(0..3) {
                0 => request.bearer_auth(user_jwt(&random_string(&mut rng, 20))),
                1 => request.bearer_auth(
                    (0..rng.gen_range(0..200))
                        .map(|_| char::from(rng.gen_range(b'!'..=b'~')))
                        .collect::<String>(),
                ),
                _ => request,
            };
            if method != "GET" || rng.gen_bool(0.2) {
                let body = if rng.gen_bool(0.7) {
                    serde_json::to_vec(&random_json(&mut rng, 0))?
                } else {
                    (0..rng.gen_range(0..300)).map(|_| rng.gen()).collect()
                };
                request = request
                    .header("content-type", "application/json")
                    .body(body);
            }
            sent += 1;
            let status = request.send().await?.status();
            if status.is_server_error() {
                server_errors.push(format!("{method} {path} {}", status.as_u16()));
            }
        }
    }
    Ok(Row::new(
        "malformed: fuzzing from /openapi.json",
        format!(
            "{sent} random requests over {} operations (seed {seed})",
            operations.len()
        ),
        "random bodies, bytes, path params, queries, tokens",
        "0 × 5xx",
        if server_errors.is_empty() {
            "0 × 5xx".to_string()
        } else {
            format!(
                "{} × 5xx: {}",
                server_errors.len(),
                server_errors
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        server_errors.is_empty(),
    ))
}

/// A random JSON value, at most 4 levels deep, often shaped like the API's requests.
fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    let keys = [
        "itemId",
        "purchaseToken",
        "purchases",
        "accountId",
        "message",
        "data",
        "x",
    ];
    match rng.gen_range(0..if depth >= 4 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen::<f64>() * 1e300),
        4 => json!(random_string(rng, 3000)),
        5 => Value::Array(
            (0..rng.gen_range(0..5))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.gen_range(0..5) {
                let key = keys[rng.gen_range(0..keys.len())].to_string();
                map.insert(key, random_json(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// A random string of up to `max` characters: ASCII, control characters, any Unicode.
fn random_string(rng: &mut StdRng, max: usize) -> String {
    let len = rng.gen_range(0..=max);
    (0..len)
        .map(|_| match rng.gen_range(0..4) {
            0 => char::from(rng.gen_range(0u8..0x20)),
            1 => rng.gen::<char>(),
            _ => char::from(rng.gen_range(b'a'..=b'z')),
        })
        .collect()
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
