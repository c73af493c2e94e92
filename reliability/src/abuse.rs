//! Scenarios 4 and 3: replay and account abuse (a token from a second account, another
//! package, a subscription token as a product and the reverse, a `linkedPurchaseToken`
//! chain replayed), and RTDN abuse (forged pushes, duplicates, a burst for one token).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::procs::EmulatorProcess;
use crate::report::Row;
use crate::world::{eventually, metric_sum, unique, Database, Env, World};

/// One refusal case: what is presented and the status the README documents for it.
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
    )?;
    let mut cases = Vec::new();
    let mut owners = Vec::new();
    for _ in 0..rounds {
        let owner = unique("owner");
        let thief = unique("thief");
        let product = world.buy("premium_unlock", json!({})).await?;
        let sub = world.buy("sub_monthly", json!({})).await?;
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
        let coins = world.buy("coins_100", json!({})).await?;
        let unclaimed_sub = world.buy("sub_yearly", json!({})).await?;
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
    let (_, body) = world
        .send(
            world
                .http
                .post(format!("{}/emulator/v1/purchases", other.url))
                .json(&json!({ "productId": "premium_unlock" })),
        )
        .await?;
    Ok(body["purchaseToken"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Every way of forging a push the emulator offers.
const FORGERIES: &[&str] = &[
    "no-token",
    "audience",
    "issuer",
    "expired",
    "signature",
    "unknown-key",
    "email",
    "unverified",
];

/// RTDN abuse: forged pushes, duplicates and a burst of `burst` notifications for one token;
/// `strict` asserts the coalescing ratio (the full run; in the short form it depends on the
/// machine's timing, so only "fewer re-fetches than notifications" is asserted).
pub async fn rtdn(env: &Env, burst: usize, strict: bool) -> anyhow::Result<Vec<Row>> {
    let world = World::start(env, Database::Sqlite, 1, &[]).await?;
    let account = unique("rtdn-owner");
    let token = world.buy("sub_monthly", json!({})).await?;
    let (status, _) = world.verify(&account, "sub_monthly", &token).await?;
    anyhow::ensure!(status == StatusCode::OK, "setup: verify answered {status}");
    // Lifecycle notifications Play sends for this token: cancel (stored and processed).
    world
        .control(&format!("purchases/{token}:cancel"), json!({}))
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
        let id = note["messageId"].as_str().unwrap_or_default();
        for forge in FORGERIES {
            forged += 1;
            let (_, answer) = world
                .control(
                    &format!("notifications/{id}:redeliver"),
                    json!({ "forge": forge }),
                )
                .await?;
            let status = answer["status"].as_u64().unwrap_or(0);
            if status == 401 {
                refused += 1;
            } else {
                statuses.push(format!("{forge} {status}"));
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
        FORGERIES.join(", "),
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
        let id = note["messageId"].as_str().unwrap_or_default();
        for _ in 0..2 {
            world
                .control(&format!("notifications/{id}:redeliver"), json!({}))
                .await?;
        }
    }
    world
        .control(&format!("purchases/{token}:restart"), json!({}))
        .await?;
    for _ in 0..burst {
        world
            .control(&format!("purchases/{token}:renew"), json!({}))
            .await?;
    }
    let total = notes.len() + 1 + burst;
    eventually("the burst delivered", Duration::from_secs(120), || {
        delivered(&world, total)
    })
    .await?;
    // Converged: the entitlement is what Google says now (active, renewed).
    // Converged: the entitlement is what Google says now (active, the last renewal's expiry).
    world.quiesce(Duration::from_secs(120)).await?;
    let (_, google) = world
        .send(
            world
                .http
                .get(world.emulator_url(&format!("purchases/{token}"))),
        )
        .await?;
    let google_expiry: String = google["expiryTime"]
        .as_str()
        .unwrap_or("?")
        .chars()
        .take(19)
        .collect();
    let held = world.entitlements(&account).await?;
    let ours = held.iter().find(|e| e["purchaseToken"] == token.as_str());
    let our_state = ours.and_then(|e| e["state"].as_str()).unwrap_or("missing");
    let our_expiry: String = ours
        .and_then(|e| e["expiresAt"].as_str())
        .unwrap_or("none")
        .chars()
        .take(19)
        .collect();
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
    Ok(rows)
}

/// Whether the emulator sent at least `n` notifications and every one was acknowledged.
async fn delivered(world: &World, n: usize) -> anyhow::Result<bool> {
    let notes = world.notifications().await?;
    Ok(notes.len() >= n && notes.iter().all(|m| m["delivered"] == true))
}
