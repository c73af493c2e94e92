//! Scenarios 4 and 3: replay and account abuse (a token from a second account, another
//! package, a subscription token as a product and the reverse, a `linkedPurchaseToken`
//! chain replayed), and RTDN abuse (forged pushes, duplicates, pushes delivered newest
//! first, a burst for one token).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use play_emulator::control::{SetRtdn, SubscriptionAction};
use play_emulator::rtdn::Forge;
use play_emulator::ControlClient;

use crate::procs::{EmulatorProcess, RTDN_AUDIENCE};
use crate::report::Row;
use crate::world::{eventually, metric_sum, unique, Database, Env, World};

/// One refusal case: what is presented and the status `docs/server.md` documents for it.
struct Case {
    name: &'static str,
    account: String,
    item: &'static str,
    token: String,
    expected: StatusCode,
}

/// Replay and account abuse, `rounds` times each case.
pub async fn replay(env: &Env, rounds: usize) -> anyhow::Result<Vec<Row>> {
    let world = World::start(env, Database::Sqlite, 1, &[]).await?;
    let other = EmulatorProcess::start(
        &env.bins,
        world.dir.path(),
        "com.other.app",
        "http://127.0.0.1:9/unused",
    )
    .await?;
    let mut cases = Vec::new();
    let mut owners = Vec::new();
    for _ in 0..rounds {
        let owner = unique("owner");
        let thief = unique("thief");
        let product = world.buy("premium_unlock").await?;
        let sub = world.buy("sub_monthly").await?;
        for (item, token) in [("premium_unlock", &product), ("sub_monthly", &sub)] {
            let (status, body) = world.verify(&owner, item, token).await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "setup: verify answered {status} {body}"
            );
        }
        // The owner's subscription replaced twice: A → B → C, each verified by the owner.
        let mut chain = vec![sub.clone()];
        for product_id in ["sub_yearly", "sub_monthly"] {
            let last = chain.last().cloned().unwrap_or_default();
            let token = world.replace(&last, product_id).await?;
            let (status, body) = world.verify(&owner, product_id, &token).await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "setup: verify of a replacement answered {status} {body}"
            );
            chain.push(token);
        }
        // A replacement the owner has not presented yet, whose chain is the owner's.
        let fresh = world.replace(&chain[2], "sub_yearly").await?;
        let foreign = other_package_token(&world, &other).await?;
        let coins = world.buy("coins_100").await?;
        let unclaimed_sub = world.buy("sub_yearly").await?;
        let conflict = StatusCode::CONFLICT;
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        cases.extend([
            Case {
                name: "token of a second account",
                account: thief.clone(),
                item: "premium_unlock",
                token: product.clone(),
                expected: conflict,
            },
            Case {
                name: "subscription of a second account",
                account: thief.clone(),
                item: "sub_monthly",
                token: sub.clone(),
                expected: conflict,
            },
            Case {
                name: "replaced token replayed by another account",
                account: thief.clone(),
                item: "sub_yearly",
                token: chain[1].clone(),
                expected: conflict,
            },
            Case {
                name: "linked token of another account's chain",
                account: thief.clone(),
                item: "sub_yearly",
                token: fresh.clone(),
                expected: conflict,
            },
            Case {
                name: "token for another package",
                account: thief.clone(),
                item: "premium_unlock",
                token: foreign,
                expected: invalid,
            },
            Case {
                name: "subscription token as a product",
                account: thief.clone(),
                item: "coins_100",
                token: unclaimed_sub,
                expected: invalid,
            },
            Case {
                name: "product token as a subscription",
                account: thief.clone(),
                item: "sub_monthly",
                token: coins.clone(),
                expected: invalid,
            },
            Case {
                name: "token of another product",
                account: thief.clone(),
                item: "premium_unlock",
                token: coins,
                expected: invalid,
            },
        ]);
        owners.push((owner, thief, chain, fresh));
    }
    let mut rows = Vec::new();
    let names: Vec<&str> = cases.iter().take(8).map(|c| c.name).collect();
    for name in names {
        let mut ok = 0;
        let mut total = 0;
        let mut seen = Vec::new();
        for case in cases.iter().filter(|c| c.name == name) {
            total += 1;
            let (status, body) = world.verify(&case.account, case.item, &case.token).await?;
            if status == case.expected {
                ok += 1;
            } else {
                seen.push(format!(
                    "{} {}",
                    status.as_u16(),
                    body["error"]["code"].as_str().unwrap_or("")
                ));
            }
        }
        let expected = cases
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.expected.as_u16());
        rows.push(Row::new(
            &format!("replay: {name}"),
            format!("{total} attempt(s)"),
            "-",
            format!("{expected} every time"),
            if seen.is_empty() {
                format!("{ok}/{total} {expected}")
            } else {
                format!("{ok}/{total}; else {}", seen.join(", "))
            },
            ok == total,
        ));
    }
    // Nothing granted twice: once Play's pushes are applied, the thieves own nothing and each
    // owner holds exactly one live subscription, the chain's latest (the replacement the
    // thief tried, granted to the chain's account by its push), the three before it replaced.
    world.quiesce(Duration::from_secs(120)).await?;
    let mut misses = Vec::new();
    for (owner, thief, chain, fresh) in &owners {
        let stolen = world.entitlements(thief).await?;
        if !stolen.is_empty() {
            misses.push(format!("a thief holds {} entitlement(s)", stolen.len()));
        }
        let held = world.entitlements(owner).await?;
        let live_subs: Vec<&Value> = held
            .iter()
            .filter(|e| e["kind"] == "subscription" && e["entitled"] == true)
            .collect();
        let latest = live_subs.first().and_then(|e| e["purchaseToken"].as_str());
        if live_subs.len() != 1 || latest != Some(fresh.as_str()) {
            misses.push(format!(
                "owner has {} live subscription(s), {}",
                live_subs.len(),
                if latest == Some(fresh.as_str()) {
                    "the latest"
                } else {
                    "not the latest"
                }
            ));
        }
        let retired = held
            .iter()
            .filter(|e| {
                e["state"] == "replaced" && chain.iter().any(|t| e["purchaseToken"] == t.as_str())
            })
            .count();
        if retired != chain.len() {
            let states: Vec<String> = held
                .iter()
                .map(|e| {
                    format!(
                        "{}:{}",
                        e["itemId"].as_str().unwrap_or(""),
                        e["state"].as_str().unwrap_or("")
                    )
                })
                .collect();
            misses.push(format!(
                "{retired} of the {} older chain tokens replaced ({})",
                chain.len(),
                states.join(" ")
            ));
        }
    }
    rows.push(Row::new(
        "replay: nothing granted twice",
        format!("{} owners, {} thieves", owners.len(), owners.len()),
        "-",
        "thieves hold 0; each owner 1 live subscription (the chain's latest), 3 replaced",
        if misses.is_empty() {
            "as expected".to_string()
        } else {
            misses.join("; ")
        },
        misses.is_empty(),
    ));
    Ok(rows)
}

/// A purchase made on another app's emulator: its token means nothing to this package.
async fn other_package_token(world: &World, other: &EmulatorProcess) -> anyhow::Result<String> {
    let other = ControlClient::with_http(world.http.clone(), &other.url);
    Ok(other.buy("premium_unlock").await?)
}

/// Every way of forging a push the emulator offers.
const FORGERIES: &[Forge] = &[
    Forge::NoToken,
    Forge::Audience,
    Forge::Issuer,
    Forge::Expired,
    Forge::Signature,
    Forge::UnknownKey,
    Forge::Email,
    Forge::Unverified,
];

/// A forgery's name in the control API (`no-token`, `audience`, …).
fn forge_name(forge: Forge) -> String {
    serde_json::to_value(forge)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{forge:?}"))
}

/// RTDN abuse: forged pushes, duplicates and a burst of `burst` notifications for one token;
/// `strict` asserts the coalescing ratio (the full run; in the short form it depends on the
/// machine's timing, so only "fewer re-fetches than notifications" is asserted).
pub async fn rtdn(env: &Env, burst: usize, strict: bool) -> anyhow::Result<Vec<Row>> {
    let world = World::start(env, Database::Sqlite, 1, &[]).await?;
    let account = unique("rtdn-owner");
    let token = world.buy("sub_monthly").await?;
    let (status, _) = world.verify(&account, "sub_monthly", &token).await?;
    anyhow::ensure!(status == StatusCode::OK, "setup: verify answered {status}");
    // Lifecycle notifications Play sends for this token: cancel (stored and processed).
    world
        .control
        .subscription(&token, SubscriptionAction::Cancel)
        .await?;
    if let Err(e) = eventually(
        "every notification delivered",
        Duration::from_secs(60),
        || delivered(&world, 2),
    )
    .await
    {
        let notes = world.notifications().await?;
        anyhow::bail!("{e}: {}", serde_json::to_string(&notes)?);
    }
    let notes = world.notifications().await?;
    // Forged pushes of each notification, each way.
    let mut forged = 0;
    let mut refused = 0;
    let mut statuses = Vec::new();
    for note in &notes {
        for &forge in FORGERIES {
            forged += 1;
            let answer = world
                .control
                .redeliver(&note.message_id, Some(forge))
                .await?;
            let status = answer.status.unwrap_or(0);
            if status == 401 {
                refused += 1;
            } else {
                statuses.push(format!("{} {status}", forge_name(forge)));
            }
        }
    }
    let mut rows = vec![Row::new(
        "rtdn: forged pushes",
        format!(
            "{forged} pushes ({} forgeries × {} messages)",
            FORGERIES.len(),
            notes.len()
        ),
        FORGERIES
            .iter()
            .map(|&f| forge_name(f))
            .collect::<Vec<_>>()
            .join(", "),
        "100 % refused (401)",
        if statuses.is_empty() {
            format!("{refused}/{forged} refused")
        } else {
            format!(
                "{refused}/{forged} refused; accepted: {}",
                statuses.join(", ")
            )
        },
        refused == forged,
    )];
    // Duplicates: every message redelivered twice (same messageId), then a burst of
    // `burst` real notifications for the one token (the emulator's renewals).
    let calls_before = world.calls().await?;
    for note in &notes {
        for _ in 0..2 {
            world.control.redeliver(&note.message_id, None).await?;
        }
    }
    world
        .control
        .subscription(&token, SubscriptionAction::Restart)
        .await?;
    for _ in 0..burst {
        world
            .control
            .subscription(&token, SubscriptionAction::Renew)
            .await?;
    }
    let total = notes.len() + 1 + burst;
    eventually("the burst delivered", Duration::from_secs(120), || {
        delivered(&world, total)
    })
    .await?;
    // Converged: the entitlement is what Google says now (active, the last renewal's expiry).
    world.quiesce(Duration::from_secs(120)).await?;
    let [our_state, our_expiry, _, google_expiry] = compare(&world, &account, &token).await?;
    let state_ok = our_state == "active" && our_expiry == google_expiry;
    let stored = metric_sum(
        &world.metrics().await?,
        "pwa_billing_rtdn_notifications_total",
        "outcome=\"stored\"",
    );
    let duplicates = metric_sum(
        &world.metrics().await?,
        "pwa_billing_rtdn_notifications_total",
        "outcome=\"duplicate\"",
    );
    let calls_after = world.calls().await?;
    let refetches = calls_after
        .get("androidpublisher.purchases.subscriptionsv2.get")
        .copied()
        .unwrap_or(0)
        - calls_before
            .get("androidpublisher.purchases.subscriptionsv2.get")
            .copied()
            .unwrap_or(0);
    let delivered_pushes = burst + 1;
    rows.push(Row::new(
        "rtdn: duplicates and burst for one token",
        format!(
            "{} redeliveries + {delivered_pushes} notifications for 1 token",
            notes.len() * 2
        ),
        "duplicated messageIds, no ordering",
        format!(
            "duplicates not stored again; state and expiry = Google's; re-fetches {}",
            if strict { "≤ 1/4 of the notifications" } else { "fewer than the notifications" }
        ),
        format!(
            "{stored} stored, {duplicates} duplicates, {refetches} subscriptionsv2.get; {our_state} until {our_expiry} (Google: {google_expiry})"
        ),
        state_ok
            && duplicates >= (notes.len() * 2) as u64
            && if strict {
                refetches * 4 <= delivered_pushes as u64
            } else {
                refetches < delivered_pushes as u64
            }
            && stored == total as u64,
    ));
    rows.push(reordered(&world).await?);
    Ok(rows)
}

/// Whether the emulator sent at least `n` notifications and every one was acknowledged.
async fn delivered(world: &World, n: usize) -> anyhow::Result<bool> {
    let notes = world.notifications().await?;
    Ok(notes.len() >= n && notes.iter().all(|m| m.delivered))
}

/// A subscription as the server holds it for `account` and as Google has it: our state,
/// our expiry, Google's state, Google's expiry (times to the second).
async fn compare(world: &World, account: &str, token: &str) -> anyhow::Result<[String; 4]> {
    let google = world.control.purchase(token).await?;
    let held = world.entitlements(account).await?;
    let ours = held.iter().find(|e| e["purchaseToken"] == token);
    // A time's first 19 characters: to the second.
    let text = |v: Option<&Value>, none: &str, max: usize| -> String {
        v.and_then(Value::as_str)
            .unwrap_or(none)
            .chars()
            .take(max)
            .collect()
    };
    Ok([
        text(ours.map(|e| &e["state"]), "missing", usize::MAX),
        text(ours.map(|e| &e["expiresAt"]), "none", 19),
        google.state,
        google
            .expiry_time
            .unwrap_or_else(|| "?".into())
            .chars()
            .take(19)
            .collect(),
    ])
}

/// Lifecycle actions whose notifications the relay hands over newest first.
const REORDERED_ACTIONS: &[SubscriptionAction] = &[
    SubscriptionAction::Cancel,
    SubscriptionAction::Restart,
    SubscriptionAction::Renew,
    SubscriptionAction::Renew,
    SubscriptionAction::Renew,
];

/// Reordered delivery: Play's pushes for one subscription (canceled, restarted, renewed ×3)
/// go to a relay in the suite, which holds them all and hands them to the server newest
/// first (the oldest, `SUBSCRIPTION_CANCELED`, last), answering Play with the server's
/// status. The server must end where Google is: active, with the last renewal's expiry.
async fn reordered(world: &World) -> anyhow::Result<Row> {
    let account = unique("rtdn-reordered");
    let token = world.buy("sub_monthly").await?;
    let (status, _) = world.verify(&account, "sub_monthly", &token).await?;
    anyhow::ensure!(status == StatusCode::OK, "setup: verify answered {status}");
    world.quiesce(Duration::from_secs(60)).await?;
    let emitted_before = world.notifications().await?.len();
    let relay = TcpListener::bind("127.0.0.1:0").await?;
    let push_target = |url: String| async move {
        let target = SetRtdn {
            push_url: Some(url),
            audience: Some(RTDN_AUDIENCE.into()),
        };
        world.control.set_rtdn(&target).await
    };
    push_target(format!("http://{}/v1/rtdn", relay.local_addr()?)).await?;
    for &action in REORDERED_ACTIONS {
        world.control.subscription(&token, action).await?;
    }
    // Hold every push (the emulator waits 10 s for an answer; these come within 1 s).
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(8);
    while held.len() < REORDERED_ACTIONS.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Ok((stream, _))) = tokio::time::timeout(left, relay.accept()).await else {
            break;
        };
        if let Some(push) = HeldPush::read(stream).await {
            held.push(push);
        }
    }
    let emitted: Vec<String> = world.notifications().await?[emitted_before..]
        .iter()
        .map(|n| n.message_id.clone())
        .collect();
    let position = |id: &str| emitted.iter().position(|e| e == id).unwrap_or(usize::MAX);
    held.sort_by_key(|p| std::cmp::Reverse(position(&p.message_id)));
    let newest_first = held
        .iter()
        .map(|p| position(&p.message_id))
        .collect::<Vec<_>>();
    let mut statuses = Vec::new();
    for push in held {
        statuses.push(push.forward(world).await);
    }
    push_target(format!("{}/v1/rtdn", world.url())).await?;
    world.quiesce(Duration::from_secs(60)).await?;
    let [our_state, our_expiry, google_state, google_expiry] =
        compare(world, &account, &token).await?;
    let reversed = newest_first.len() == REORDERED_ACTIONS.len()
        && newest_first.windows(2).all(|w| w[0] > w[1]);
    Ok(Row::new(
        "rtdn: reordered delivery",
        format!(
            "{} notifications for 1 token ({})",
            REORDERED_ACTIONS.len(),
            REORDERED_ACTIONS
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "held by a relay, delivered newest first",
        "each push acknowledged (2xx); state and expiry = Google's",
        format!(
            "delivered in order {newest_first:?} of emission, answered {statuses:?}; {our_state} until {our_expiry} (Google: {google_state} until {google_expiry})"
        ),
        reversed
            && statuses.iter().all(|s| (200..300).contains(s))
            && our_state == "active"
            && our_expiry == google_expiry,
    ))
}

/// A push held by the relay: the emulator's connection, waiting for its answer.
struct HeldPush {
    stream: TcpStream,
    authorization: Option<String>,
    body: Vec<u8>,
    message_id: String,
}

impl HeldPush {
    /// Reads one HTTP/1.1 request (head and `Content-Length` body) from the emulator.
    async fn read(mut stream: TcpStream) -> Option<Self> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length")?.parse().ok()?;
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end..head_end + length].to_vec();
        let envelope: Value = serde_json::from_slice(&body).ok()?;
        Some(Self {
            stream,
            authorization: header("authorization"),
            message_id: envelope["message"]["messageId"].as_str()?.to_string(),
            body,
        })
    }

    /// Hands the push to the server as it came and answers the emulator with the server's
    /// status (0: no answer).
    async fn forward(mut self, world: &World) -> u16 {
        let mut request = world
            .http
            .post(format!("{}/v1/rtdn", world.url()))
            .header("content-type", "application/json")
            .body(self.body);
        if let Some(auth) = &self.authorization {
            request = request.header("authorization", auth);
        }
        let status = request.send().await.map_or(0, |r| r.status().as_u16());
        let answer = format!(
            "HTTP/1.1 {} relayed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            if status == 0 { 502 } else { status }
        );
        let _ = self.stream.write_all(answer.as_bytes()).await;
        let _ = self.stream.shutdown().await;
        status
    }
}
