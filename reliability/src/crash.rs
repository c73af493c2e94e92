//! Scenarios 1 and 6: the crash loop. Purchases verified by concurrent clients while a
//! server is SIGKILLed at random moments and restarted (SQLite: the one server, its WAL
//! kept; PostgreSQL: one of two replicas). Afterwards every purchase is granted exactly once
//! to its account, settled at Google, no job is left, and no `200` lost its entitlement.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use serde_json::json;

use crate::report::Row;
use crate::world::{eventually, unique, Database, Env, World};

/// How big the crash loop is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// New purchases verified.
    pub purchases: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// SIGKILLs.
    pub kills: usize,
}

/// The longest the load may take (the clients stop at it; what is missing then is a miss).
const LOAD_DEADLINE: Duration = Duration::from_secs(300);
/// Settling every acknowledgement after the load.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(180);

/// What the clients saw.
#[derive(Debug, Default)]
struct Seen {
    /// token → account, for every `200`.
    granted: BTreeMap<String, String>,
    /// Answers by status (connection errors as 0).
    statuses: BTreeMap<u16, usize>,
}

/// Runs the crash loop on `db` with `replicas` servers; the last replica is the one killed.
pub async fn run(
    env: &Env,
    db: Database,
    replicas: usize,
    sizes: Sizes,
) -> anyhow::Result<Vec<Row>> {
    let world = Arc::new(tokio::sync::Mutex::new(
        World::start(env, db, replicas, &[]).await?,
    ));
    let label = match db {
        Database::Sqlite => "SQLite",
        Database::Postgres => "PostgreSQL, 2 replicas",
    };
    let mut work = Vec::new();
    {
        let w = world.lock().await;
        for i in 0..sizes.purchases {
            let item = ["coins_100", "premium_unlock"][i % 2];
            let token = w.buy(item).await?;
            work.push((unique("buyer"), item, token));
        }
    }
    let work = Arc::new(work);
    let urls: Vec<String> = world
        .lock()
        .await
        .servers
        .iter()
        .map(|s| s.url.clone())
        .collect();
    let http = world.lock().await.http.clone();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..sizes.clients {
        let (work, next, seen, urls, http) = (
            work.clone(),
            next.clone(),
            seen.clone(),
            urls.clone(),
            http.clone(),
        );
        let answered = answered.clone();
        clients.push(tokio::spawn(async move {
            let mut replica = c % urls.len();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((account, item, token)) = work.get(i) else {
                    break;
                };
                while started.elapsed() < LOAD_DEADLINE {
                    let answer = http
                        .post(format!("{}/v1/purchases/verify", urls[replica]))
                        .bearer_auth(crate::world::user_jwt(account))
                        .json(&json!({ "itemId": item, "purchaseToken": token }))
                        .timeout(Duration::from_secs(20))
                        .send()
                        .await;
                    let status = answer.as_ref().map_or(0, |r| r.status().as_u16());
                    *seen
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .statuses
                        .entry(status)
                        .or_default() += 1;
                    if status == StatusCode::OK.as_u16() {
                        seen.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .granted
                            .insert(token.clone(), account.clone());
                        answered.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    if (400..500).contains(&status) {
                        // A refusal is final (and a miss: each buyer owns its token).
                        break;
                    }
                    // Down, dropped or 503: another replica, or the same one again shortly.
                    replica = (replica + 1) % urls.len();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    // The killer: SIGKILL at random moments while the load runs (the k-th when a random
    // share of the purchases between k/(kills+1) and (k+1)/(kills+1) has been answered, so
    // every kill lands in the load however fast it goes), restart at once.
    let killer = {
        let (world, done, answered) = (world.clone(), done.clone(), answered.clone());
        let total = sizes.purchases;
        tokio::spawn(async move {
            let mut kills = 0;
            let mut restart_errors = Vec::new();
            while kills < sizes.kills && !done.load(Ordering::SeqCst) {
                let share = (kills as f64 + rand::thread_rng().gen_range(0.0..1.0))
                    / (sizes.kills as f64 + 1.0);
                let at = (share * total as f64) as usize;
                while answered.load(Ordering::SeqCst) < at && !done.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let mut w = world.lock().await;
                let http = w.http.clone();
                let victim = w.servers.len() - 1;
                w.servers[victim].kill();
                kills += 1;
                if let Err(e) = w.servers[victim].start(&http).await {
                    restart_errors.push(format!("{e:#}"));
                    break;
                }
            }
            (kills, restart_errors)
        })
    };
    for client in clients {
        client.await?;
    }
    done.store(true, Ordering::SeqCst);
    let (kills, restart_errors) = killer.await?;
    let load_secs = started.elapsed().as_secs_f64();
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    let w = world.lock().await;

    // Every purchase settled at Google (consumed / acknowledged), every job done.
    let settled = || async {
        let purchases = w.purchases().await?;
        Ok(purchases
            .iter()
            .filter(|p| work.iter().any(|(_, _, t)| p.purchase_token == *t))
            .all(|p| p.acknowledged || p.consumed))
    };
    let all_settled = eventually("every purchase settled at Google", SETTLE_TIMEOUT, settled).await;
    let depth_zero = || async {
        let metrics = w.metrics().await?;
        Ok(metrics
            .lines()
            .filter(|l| l.starts_with("pwa_billing_outbox_depth"))
            .all(|l| l.ends_with(" 0")))
    };
    let no_stuck = eventually("outbox empty", SETTLE_TIMEOUT, depth_zero).await;

    // Granted exactly once to its account; no 200 without its entitlement.
    let mut wrong = Vec::new();
    for (account, item, token) in work.iter() {
        let held = w.entitlements(account).await?;
        let mine = held
            .iter()
            .filter(|e| e["purchaseToken"] == token.as_str())
            .count();
        if mine != 1 || held.len() != 1 {
            wrong.push(format!(
                "{item}: {mine} entitlement(s) for the token, {} in all",
                held.len()
            ));
        }
    }
    let missing_200 = work.len() - seen.granted.len();
    let purchases = w.purchases().await?;
    let ours: Vec<_> = purchases
        .iter()
        .filter(|p| work.iter().any(|(_, _, t)| p.purchase_token == *t))
        .collect();
    let consumed = ours.iter().filter(|p| p.consumed).count();
    let acknowledged = ours
        .iter()
        .filter(|p| p.acknowledged && !p.consumed)
        .count();
    let calls = w.calls().await?;
    let call = |m: &str| calls.get(m).copied().unwrap_or(0);
    let settle_calls = call("androidpublisher.purchases.products.acknowledge")
        + call("androidpublisher.purchases.products.consume");
    let extra = settle_calls.saturating_sub(work.len() as u64);
    let statuses: Vec<String> = seen
        .statuses
        .iter()
        .map(|(s, n)| {
            format!(
                "{n}×{}",
                if *s == 0 {
                    "conn-err".into()
                } else {
                    s.to_string()
                }
            )
        })
        .collect();
    let server_errors: usize = seen
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500 && **s != 503)
        .map(|(_, n)| n)
        .sum();
    let load = format!(
        "{} purchases, {} clients, {load_secs:.0} s",
        work.len(),
        sizes.clients
    );
    let kill_text = format!(
        "{kills} SIGKILL{}",
        if replicas > 1 {
            " (replica 2 of 2)"
        } else {
            ""
        }
    );
    let expected_consumed = work.iter().filter(|(_, i, _)| *i == "coins_100").count();
    let mut rows = vec![
        Row::new(
            &format!("crash loop ({label}): grants"),
            load.clone(),
            kill_text.clone(),
            "every purchase 200 and granted once to its buyer; no 500",
            format!(
                "{} of {} got 200; {} wrong; answers {}",
                seen.granted.len(),
                work.len(),
                wrong.len(),
                statuses.join(" ")
            ),
            missing_200 == 0 && wrong.is_empty() && server_errors == 0 && kills == sizes.kills && restart_errors.is_empty(),
        ),
        Row::new(
            &format!("crash loop ({label}): at Google"),
            load.clone(),
            kill_text.clone(),
            format!("{expected_consumed} consumed + {} acknowledged, each once", work.len() - expected_consumed),
            format!(
                "{consumed} consumed + {acknowledged} acknowledged; {settle_calls} settle calls ({extra} repeated after kills, harmless){}",
                all_settled.as_ref().err().map(|e| format!("; {e}")).unwrap_or_default()
            ),
            all_settled.is_ok() && consumed == expected_consumed && acknowledged == work.len() - expected_consumed && extra <= (kills * 16) as u64,
        ),
        Row::new(
            &format!("crash loop ({label}): outbox"),
            load.clone(),
            kill_text.clone(),
            "no job stuck (outbox depth 0)",
            match &no_stuck {
                Ok(()) => "depth 0".to_string(),
                Err(e) => format!("{e}"),
            },
            no_stuck.is_ok(),
        ),
    ];
    if db == Database::Sqlite {
        let restarts = w.servers[0].starts - 1;
        rows.push(Row::new(
            "power loss (SQLite, WAL kept)",
            load,
            format!("{kills} SIGKILL mid-transaction"),
            "the database opens after each; nothing committed lost",
            format!(
                "{restarts} restarts opened it{}; {} of {} acknowledged grants present",
                if restart_errors.is_empty() {
                    String::new()
                } else {
                    format!(", errors: {}", restart_errors.join("; "))
                },
                seen.granted.len() - wrong.len().min(seen.granted.len()),
                seen.granted.len()
            ),
            restart_errors.is_empty() && restarts as usize == kills && wrong.is_empty(),
        ));
    }
    Ok(rows)
}
