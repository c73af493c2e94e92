//! The purchase lifecycle driven by the emulator's real, signed RTDN pushes: every
//! subscription state, replacements, voided purchases, out-of-order delivery, the voided
//! purchases poller and reconcile.

use crate::common;
use crate::rtdn_support;

use std::time::Duration;

use common::*;
use pwa_billing_server::verify::settle_key;
use reqwest::StatusCode;
use rtdn_support::*;
use serde_json::json;

#[tokio::test]
async fn every_subscription_notification_moves_the_entitlement() {
    let h = pushed().await;
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    let first = wait_state(&h, "alice", &token, "active").await;
    // (action, state, entitled)
    let steps = [
        ("grace", "grace_period", true),
        ("recover", "active", true),
        ("hold", "on_hold", false),
        ("recover", "active", true),
        ("pause", "paused", false),
        ("resume", "active", true),
        ("cancel", "canceled", true),
        ("restart", "active", true),
        ("renew", "active", true),
        ("expire", "expired", false),
    ];
    for (action, state, entitled) in steps {
        h.emulator_action(&token, action, json!({})).await;
        wait_processed(&h, &token).await;
        let e = wait_state(&h, "alice", &token, state).await;
        assert_eq!(e["entitled"], json!(entitled), "after {action}: {e}");
        assert_eq!(e["id"], first["id"], "one entitlement throughout");
    }
    let notes = messages_about(&h, &token);
    let types: Vec<i64> = notes
        .iter()
        .filter_map(|(_, d)| d["subscriptionNotification"]["notificationType"].as_i64())
        .collect();
    for t in [4, 6, 1, 5, 10, 2, 3, 7, 13] {
        assert!(types.contains(&t), "type {t} pushed: {types:?}");
    }
    assert_eq!(h.entitlements("alice").await.len(), 1);
}

/// A "purchased" notification the verification already answered costs no Google call, and
/// so answers no other notification: a change stored before its job ran is still read.
#[tokio::test]
async fn a_notification_answered_without_google_answers_no_later_one() {
    use pwa_billing_server::db::outbox::Job;
    use pwa_billing_server::lifecycle::{RtdnHandler, RtdnJob};
    use pwa_billing_server::worker::JobHandler;

    let h = pushed().await;
    push_off(&h);
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    h.emulator_action(&token, "grace", json!({})).await;
    let messages = messages_about(&h, &token);
    assert_eq!(messages.len(), 2, "purchased, then in grace: {messages:?}");
    // Both stored (as the push endpoint stores them), the purchased one's job run only
    // after the second arrived, as a busy worker would.
    for (id, data) in &messages {
        let mut conn = h.state.db.writer().acquire().await.unwrap();
        let stored = pwa_billing_server::db::rtdn_messages::store_message(
            &mut conn,
            id,
            None,
            None,
            &data.to_string(),
        )
        .await
        .unwrap();
        assert!(stored);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let handler = RtdnHandler(h.state.lifecycle.clone());
    let gets = h
        .call_count("androidpublisher.purchases.subscriptionsv2.get")
        .await;
    for (id, _) in &messages {
        let job = Job {
            id: format!("test-{id}"),
            kind: "rtdn".into(),
            payload: serde_json::to_string(&RtdnJob {
                message_id: id.clone(),
            })
            .unwrap(),
            attempts: 1,
            created_at: 0,
        };
        handler.run(&job).await.expect("job runs");
    }
    assert_eq!(
        h.call_count("androidpublisher.purchases.subscriptionsv2.get")
            .await,
        gets + 1,
        "one read, for the grace notification"
    );
    let e = entitlement(&h, "alice", &token).await.unwrap();
    assert_eq!(e["state"], "grace_period", "{e}");
}

#[tokio::test]
async fn a_revoked_subscription_is_revoked_at_once() {
    let h = pushed().await;
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    h.emulator_action(&token, "revoke", json!({})).await;
    let e = wait_state(&h, "alice", &token, "revoked").await;
    assert_eq!(e["entitled"], false);
    wait_processed(&h, &token).await;
    assert_eq!(
        entitlement(&h, "alice", &token).await.unwrap()["state"],
        "revoked",
        "the later notifications leave it revoked"
    );
}

#[tokio::test]
async fn a_pending_subscription_completes_or_is_canceled_through_rtdn() {
    let h = pushed().await;
    let c = catalog();
    let completed = h.buy(&c.subscription, json!({"state": "pending"})).await;
    assert_eq!(
        h.verify("alice", &c.subscription, &completed).await.0,
        StatusCode::ACCEPTED
    );
    h.emulator_action(&completed, "complete", json!({})).await;
    let e = wait_state(&h, "alice", &completed, "active").await;
    assert_eq!(e["entitled"], true);
    h.wait_job_done(&settle_key(&completed)).await;

    let canceled = h
        .buy(&c.other_subscription, json!({"state": "pending"}))
        .await;
    assert_eq!(
        h.verify("bob", &c.other_subscription, &canceled).await.0,
        StatusCode::ACCEPTED
    );
    h.emulator_action(&canceled, "cancel-pending", json!({}))
        .await;
    wait_processed(&h, &canceled).await;
    assert!(h.entitlements("bob").await.is_empty(), "nothing granted");
    let (status, _) = h.verify("bob", &c.other_subscription, &canceled).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn upgrade_and_deferred_downgrade_move_the_entitlement_and_retire_the_old_one() {
    let h = pushed().await;
    let c = catalog();
    let monthly = h.verified("alice", &c.subscription).await;
    // Upgrade in the Play Store: the app never verifies the new token; the RTDN does it.
    let yearly = h
        .replace(&monthly, &c.other_subscription, "chargeProratedPrice")
        .await;
    let e = wait_state(&h, "alice", &yearly, "active").await;
    assert_eq!(e["itemId"], json!(c.other_subscription));
    wait_state(&h, "alice", &monthly, "replaced").await;
    h.wait_job_done(&settle_key(&yearly)).await;

    // Downgrade, deferred: Play keeps the old product in the new token until renewal.
    let monthly_again = h.replace(&yearly, &c.subscription, "deferred").await;
    let e = wait_state(&h, "alice", &monthly_again, "active").await;
    assert_eq!(
        e["itemId"],
        json!(c.subscription),
        "named by the product it becomes"
    );
    assert_eq!(e["entitled"], true);
    wait_state(&h, "alice", &yearly, "replaced").await;
    h.wait_job_done(&settle_key(&monthly_again)).await;
    // The app verifies it too: the same grant.
    let (status, body) = h.verify("alice", &c.subscription, &monthly_again).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entitlement"]["id"], e["id"]);
    let list = h.entitlements("alice").await;
    assert_eq!(list.len(), 3);
    assert_eq!(
        list.iter().filter(|e| e["entitled"] == json!(true)).count(),
        1,
        "one purchase entitles at a time: {list:?}"
    );
}

#[tokio::test]
async fn voided_purchases_revoke_and_a_partial_refund_reduces_the_quantity() {
    let h = pushed().await;
    let c = catalog();
    let one_time = h.verified("alice", &c.non_consumable).await;
    h.wait_acknowledged("alice", &c.non_consumable, &one_time)
        .await;
    h.emulator_action(&one_time, "void", json!({"reason": 7}))
        .await;
    let e = wait_state(&h, "alice", &one_time, "revoked").await;
    assert_eq!(e["entitled"], false);

    let sub = h.verified("alice", &c.subscription).await;
    h.emulator_action(&sub, "void", json!({})).await;
    wait_state(&h, "alice", &sub, "revoked").await;

    let coins = h.buy(&c.consumable, json!({"quantity": 3})).await;
    assert_eq!(
        h.verify("alice", &c.consumable, &coins).await.0,
        StatusCode::OK
    );
    h.wait_acknowledged("alice", &c.consumable, &coins).await;
    h.emulator_action(&coins, "void", json!({"quantity": 1}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = entitlement(&h, "alice", &coins).await.unwrap();
        if e["quantity"] == json!(2) {
            assert_eq!(e["entitled"], true, "two of three stay credited: {e}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "quantity not reduced: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn out_of_order_and_duplicate_deliveries_converge_to_what_play_says() {
    let h = pushed().await;
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    wait_processed(&h, &token).await;
    push_off(&h);
    for action in ["grace", "recover", "cancel"] {
        h.emulator_action(&token, action, json!({})).await;
    }
    push_on(&h);
    let mut pending: Vec<String> = messages_about(&h, &token)
        .into_iter()
        .skip(1)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(pending.len(), 3);
    pending.reverse();
    for id in &pending {
        assert_eq!(redeliver(&h, id, None).await.0, StatusCode::ACCEPTED);
    }
    // A duplicate of the oldest, again.
    assert_eq!(
        redeliver(&h, &pending[2], None).await.0,
        StatusCode::ACCEPTED
    );
    let db = h.state.db.clone();
    let last = pending[2].clone();
    h.eventually("the duplicate to be received", || {
        let db = db.clone();
        let last = last.clone();
        async move {
            pwa_billing_server::db::rtdn_messages::deliveries(&db, &last)
                .await
                .unwrap()
                == Some(2)
        }
    })
    .await;
    wait_processed(&h, &token).await;
    let e = wait_state(&h, "alice", &token, "canceled").await;
    assert_eq!(e["entitled"], true, "canceled: entitled until expiry");
    let (_, attempts) =
        pwa_billing_server::db::outbox::status_by_key(&h.state.db, &format!("rtdn:{last}"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(attempts, 1, "a duplicate is processed once");
}

#[tokio::test]
async fn a_purchase_made_outside_the_app_is_granted_to_a_known_account() {
    let h = pushed().await;
    let c = catalog();
    let first = h.verified("alice", &c.subscription).await;
    wait_processed(&h, &first).await;
    let outside = h
        .buy(
            &c.non_consumable,
            json!({"obfuscatedExternalAccountId": "alice"}),
        )
        .await;
    let e = wait_state(&h, "alice", &outside, "active").await;
    assert_eq!(e["itemId"], json!(c.non_consumable));
    h.wait_job_done(&settle_key(&outside)).await;
    let subscribed = h
        .buy(
            &c.other_subscription,
            json!({"obfuscatedExternalAccountId": "alice"}),
        )
        .await;
    wait_state(&h, "alice", &subscribed, "active").await;
    h.wait_job_done(&settle_key(&subscribed)).await;
    let stranger = h
        .buy(
            &c.non_consumable,
            json!({"obfuscatedExternalAccountId": "nobody"}),
        )
        .await;
    wait_processed(&h, &stranger).await;
    assert!(
        h.entitlements("nobody").await.is_empty(),
        "an unknown account gets nothing"
    );
}

#[tokio::test]
async fn the_three_day_auto_refund_shows_up_through_the_voided_poller() {
    // No RTDN and no worker: the purchase stays unacknowledged, and only the poller can
    // learn of the refund.
    let h = Harness::with(|c| {
        c.worker.enabled = false;
        c.voided.enabled = true;
        c.voided.poll_interval = Duration::from_millis(200);
    })
    .await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    let age = pwa_billing_server::watchdog::check(&h.state.db, &h.state.metrics)
        .await
        .unwrap();
    assert!(age.is_some(), "the watchdog sees the unacknowledged grant");
    advance_clock(&h, 3 * 24 * 3600 + 60).await;
    let e = wait_state(&h, "alice", &token, "revoked").await;
    assert_eq!(e["entitled"], false);
    let listed = h
        .call_count("androidpublisher.purchases.voidedpurchases.list")
        .await;
    assert!(listed >= 1);
    let metrics = h
        .http
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let read: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pwa_billing_voided_purchases_listed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(read >= 1, "{metrics}");
}

#[tokio::test]
async fn voided_sweeps_take_turns_across_replicas_and_keep_a_high_water_mark() {
    let h = Harness::with(|c| c.voided.enabled = false).await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    h.emulator_action(&token, "void", json!({})).await;
    let poller = h.state.voided_poller();
    let first = poller.sweep(true).await.unwrap();
    assert!(first.ran);
    assert_eq!((first.listed, first.changed, first.pages), (1, 1, 1));
    wait_state(&h, "alice", &token, "revoked").await;
    let not_due = h.state.voided_poller().sweep(false).await.unwrap();
    assert!(
        !not_due.ran,
        "another replica swept less than an interval ago"
    );
    let again = poller.sweep(true).await.unwrap();
    assert_eq!(again.changed, 0, "nothing new since the high-water mark");
}

#[tokio::test]
async fn reconcile_sweeps_voided_purchases_and_rechecks_what_is_due() {
    let h = Harness::with(|c| {
        c.voided.enabled = false;
    })
    .await;
    let c = catalog();
    let sub = h.verified("alice", &c.subscription).await;
    let one_time = h.verified("alice", &c.non_consumable).await;
    // The acknowledgements settle first: one that lands after the back-dating below would
    // mark the subscription checked just now (seen under a loaded machine).
    h.wait_acknowledged("alice", &c.subscription, &sub).await;
    h.wait_acknowledged("alice", &c.non_consumable, &one_time)
        .await;
    h.emulator_action(&sub, "expire", json!({})).await;
    h.emulator_action(&one_time, "void", json!({})).await;
    // The subscription was last checked long ago.
    sqlx::query("UPDATE purchases SET updated_at = 0 WHERE purchase_token = $1")
        .bind(&sub)
        .execute(h.state.db.pool())
        .await
        .unwrap();
    let summary = pwa_billing_server::reconcile::run(&h.state).await.unwrap();
    assert!(summary.voided.ran);
    assert_eq!(summary.voided.listed, 1);
    assert_eq!(summary.voided.changed, 1);
    assert_eq!(
        (summary.checked, summary.changed, summary.errors),
        (1, 1, 0)
    );
    let text = summary.to_string();
    assert!(
        text.contains("1 listed") && text.contains("re-checked: 1 purchase(s), 1 changed"),
        "{text}"
    );
    wait_state(&h, "alice", &sub, "expired").await;
    wait_state(&h, "alice", &one_time, "revoked").await;
    let again = pwa_billing_server::reconcile::run(&h.state).await.unwrap();
    assert_eq!(
        (again.checked, again.changed),
        (0, 0),
        "nothing due any more"
    );
}

#[tokio::test]
async fn the_reconcile_command_prints_its_summary() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    h.emulator_action(&token, "void", json!({})).await;
    let products: Vec<String> = h
        .config
        .products
        .iter()
        .map(|(id, kind)| format!("{id}={}", kind.as_str()))
        .collect();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_pwa-billing"))
        .arg("reconcile")
        .env_clear()
        .env("PWA_BILLING_PACKAGE_NAME", &h.config.package_name)
        .env(
            "PWA_BILLING_SERVICE_ACCOUNT_KEY",
            &h.config.service_account_key,
        )
        .env(
            "PWA_BILLING_PLAY_API_BASE_URL",
            h.config.play_api_base_url.as_str(),
        )
        .env("PWA_BILLING_DATABASE_URL", &h.config.database_url)
        .env("PWA_BILLING_AUTH_JWT_HS256_SECRET", SECRET)
        .env("PWA_BILLING_PRODUCTS", products.join(","))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("reconcile: voided purchases: 1 listed in 1 call(s), 1 entitlement(s) revoked or reduced, 0 error(s); re-checked: 0 purchase(s)"),
        "{stdout}"
    );
    wait_state(&h, "alice", &token, "revoked").await;
}

#[tokio::test]
async fn a_purchased_notification_for_a_verified_purchase_costs_no_google_call() {
    let h = pushed().await;
    let c = catalog();
    // The app verifies first; Play's ONE_TIME_PRODUCT_PURCHASED push arrives after.
    push_off(&h);
    let token = h.buy(&c.non_consumable, json!({})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.wait_job_done(&settle_key(&token)).await;
    push_on(&h);
    let messages = messages_about(&h, &token);
    let (id, data) = messages.first().expect("Play sent a notification");
    assert_eq!(data["oneTimeProductNotification"]["notificationType"], 1);
    assert_eq!(redeliver(&h, id, None).await.0, StatusCode::ACCEPTED);
    wait_processed(&h, &token).await;
    let calls = h.calls().await;
    let purchase_calls: u64 = calls
        .iter()
        .filter(|(method, _)| method.starts_with("androidpublisher.purchases."))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        purchase_calls, 2,
        "get + acknowledge; the push adds no Google call: {calls:?}"
    );
}
