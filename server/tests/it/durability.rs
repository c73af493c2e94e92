//! The Google call budget, concurrency, and the outbox across restarts and crashes.

use crate::common;

use std::time::Duration;

use common::*;
use pwa_billing_server::db::outbox::{self, JobStatus};
use pwa_billing_server::verify::settle_key;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn new_one_time_purchase_costs_exactly_two_calls_and_a_settled_one_none() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.verified("alice", &c.non_consumable).await;
    h.wait_acknowledged("alice", &c.non_consumable, &token)
        .await;
    assert_eq!(
        h.api_calls().await,
        set(&[(GET, 1), (ACK, 1)]),
        "get + acknowledge"
    );

    let coins = h.verified("alice", &c.consumable).await;
    h.wait_acknowledged("alice", &c.consumable, &coins).await;
    assert_eq!(
        h.api_calls().await,
        set(&[(GET, 2), (ACK, 1), (CONSUME, 1)]),
        "get + consume"
    );

    let before = h.calls().await;
    for _ in 0..5 {
        assert_eq!(
            h.verify("alice", &c.non_consumable, &token).await.0,
            StatusCode::OK
        );
        assert_eq!(
            h.verify("alice", &c.consumable, &coins).await.0,
            StatusCode::OK
        );
        assert_eq!(
            h.verify("mallory", &c.consumable, &coins).await.0,
            StatusCode::CONFLICT
        );
    }
    assert_eq!(
        h.calls().await,
        before,
        "verifying settled tokens again costs nothing"
    );
    assert_eq!(h.call_count(OAUTH).await, 1);
}

#[tokio::test]
async fn parallel_verifications_of_one_token_make_one_google_call_and_one_grant() {
    let h = Harness::new().await;
    let c = catalog();
    let token = h.buy(&c.consumable, json!({"quantity": 2})).await;
    let requests = (0..50).map(|i| {
        let account = if i % 10 == 9 { "mallory" } else { "alice" };
        let url = h.url("/v1/purchases/verify");
        (
            url,
            account.to_string(),
            c.consumable.clone(),
            token.clone(),
        )
    });
    let (mut ok, mut alice, mut conflicts) = (0, 0, 0);
    for (account, status) in h.verify_concurrently(requests).await {
        match (account.as_str(), status) {
            ("alice", StatusCode::OK) => ok += 1,
            ("mallory", StatusCode::CONFLICT) => conflicts += 1,
            ("mallory", StatusCode::OK) => {
                // Mallory won the race for a fresh token: then every alice call is a 409.
                ok += 1
            }
            ("alice", StatusCode::CONFLICT) => alice += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok + conflicts + alice, 50);
    assert!(
        ok == 45 || ok == 5,
        "one account owns the token: {ok} ok, {conflicts}+{alice} conflicts"
    );
    let owner = if ok == 45 { "alice" } else { "mallory" };
    h.wait_acknowledged(owner, &c.consumable, &token).await;
    assert_eq!(
        h.api_calls().await,
        set(&[(GET, 1), (CONSUME, 1)]),
        "one get, one consume"
    );
    let list = h.entitlements(owner).await;
    assert_eq!(list.len(), 1, "one grant");
    assert_eq!(list[0]["quantity"], 2, "the quantity once");
}

#[tokio::test]
async fn parallel_verifications_of_a_pending_token_make_one_google_call() {
    let h = Harness::with(|c| c.limits.pending_recheck = Duration::from_secs(30)).await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({"state": "pending"})).await;
    let requests = (0..20).map(|_| {
        let url = h.url("/v1/purchases/verify");
        (
            url,
            "alice".to_string(),
            c.non_consumable.clone(),
            token.clone(),
        )
    });
    for (_, status) in h.verify_concurrently(requests).await {
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    assert_eq!(
        h.api_calls().await,
        set(&[(GET, 1)]),
        "one check per recheck interval"
    );
}

#[tokio::test]
async fn one_oauth_token_fetch_under_load() {
    let h = Harness::new().await;
    let c = catalog();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(h.buy(&c.consumable, json!({})).await);
    }
    let requests = tokens.iter().enumerate().map(|(i, token)| {
        let url = h.url("/v1/purchases/verify");
        (url, format!("user{i}"), c.consumable.clone(), token.clone())
    });
    for (_, status) in h.verify_concurrently(requests).await {
        assert_eq!(status, StatusCode::OK);
    }
    for (i, token) in tokens.iter().enumerate() {
        h.wait_acknowledged(&format!("user{i}"), &c.consumable, token)
            .await;
    }
    assert_eq!(
        h.call_count(OAUTH).await,
        1,
        "one access token for the whole load"
    );
    assert_eq!(h.api_calls().await, set(&[(GET, 20), (CONSUME, 20)]));
}

#[tokio::test]
async fn outbox_survives_a_restart_between_grant_and_acknowledgement() {
    // The first instance grants but never acknowledges (its worker is off), as if it
    // stopped right after the grant's transaction committed.
    let mut h = Harness::with(|c| c.worker.enabled = false).await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["acknowledged"], false);
    assert_eq!(h.call_count(ACK).await, 0);
    h.stop().await;

    h.config.worker.enabled = true;
    h.start().await;
    h.wait_acknowledged("alice", &c.non_consumable, &token)
        .await;
    assert_eq!(
        h.api_calls().await,
        set(&[(GET, 1), (ACK, 1)]),
        "acknowledged once, fetched once"
    );
    assert_eq!(h.entitlements("alice").await.len(), 1, "granted once");
    assert_eq!(h.wait_job_done(&settle_key(&token)).await, 1, "one attempt");
}

#[tokio::test]
async fn outbox_survives_a_crash_while_google_fails_and_retries_with_backoff() {
    let mut h = Harness::new().await;
    let c = catalog();
    h.set_faults(json!({"rate": 1.0, "status": 503, "methods": [CONSUME]}))
        .await;
    let token = h.verified("alice", &c.consumable).await;
    let db = h.state.db.clone();
    let key = settle_key(&token);
    h.eventually("two failed consume attempts (the third claimed)", || {
        let (db, key) = (db.clone(), key.clone());
        async move { matches!(outbox::status_by_key(&db, &key).await.unwrap(), Some((JobStatus::Pending, n)) if n >= 3) }
    })
    .await;
    h.crash().await;
    h.clear_faults().await;
    let failed = h.call_count(CONSUME).await;
    assert!(
        failed >= 2 * 3,
        "each attempt retried the call in line too ({failed})"
    );

    h.start().await;
    h.wait_acknowledged("alice", &c.consumable, &token).await;
    assert_eq!(h.call_count(GET).await, 1, "the grant was never re-fetched");
    assert_eq!(h.entitlements("alice").await.len(), 1, "granted once");
    let attempts = h.wait_job_done(&key).await;
    assert!(attempts >= 3, "{attempts}");
}

#[tokio::test]
async fn a_lease_keeps_other_workers_off_until_it_expires() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let db = &h.state.db;
    let mut conn = db.pool().acquire().await.unwrap();
    let job = outbox::NewJob::new("test", &json!({"n": 1})).dedupe("lease-test");
    assert!(outbox::enqueue(&mut conn, &job).await.unwrap());
    assert!(
        !outbox::enqueue(&mut conn, &job).await.unwrap(),
        "de-duplicated"
    );
    drop(conn);
    let lease = Duration::from_secs(2);
    let a = outbox::claim(db, "replica-a", lease, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        outbox::claim(db, "replica-b", lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased to A"
    );
    tokio::time::sleep(lease + Duration::from_millis(50)).await;
    let b = outbox::claim(db, "replica-b", lease, 10).await.unwrap();
    assert_eq!(b.len(), 1, "A's lease expired: B takes over");
    assert_eq!(b[0].attempts, 2);
    assert!(
        !outbox::complete(db, &a[0].id, "replica-a").await.unwrap(),
        "A lost its lease"
    );
    assert!(outbox::complete(db, &b[0].id, "replica-b").await.unwrap());
    assert!(
        outbox::claim(db, "replica-a", lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "done stays done"
    );
    assert_eq!(outbox::depth(db).await.unwrap(), 0);
}

#[tokio::test]
async fn concurrent_claims_never_hand_one_job_to_two_workers() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let db = h.state.db.clone();
    let mut conn = db.pool().acquire().await.unwrap();
    for n in 0..40 {
        outbox::enqueue(&mut conn, &outbox::NewJob::new("test", &json!({ "n": n })))
            .await
            .unwrap();
    }
    drop(conn);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        let db = db.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let jobs = outbox::claim(&db, &format!("w{w}"), Duration::from_secs(60), 3)
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                mine.extend(jobs.into_iter().map(|j| j.id));
            }
        });
    }
    let mut all = Vec::new();
    while let Some(ids) = tasks.join_next().await {
        all.extend(ids.unwrap());
    }
    let unique: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40);
    assert_eq!(unique.len(), 40, "no job claimed twice");
}

#[tokio::test]
async fn graceful_stop_settles_running_jobs_so_the_next_instance_goes_on() {
    let mut h = Harness::with(|c| c.worker.lease = Duration::from_secs(600)).await;
    let c = catalog();
    h.set_faults(json!({"rate": 1.0, "status": 500, "methods": [ACK], "latencyMs": 300}))
        .await;
    let token = h.verified("alice", &c.non_consumable).await;
    let db = h.state.db.clone();
    let key = settle_key(&token);
    h.eventually("the worker to claim the acknowledgement", || {
        let (db, key) = (db.clone(), key.clone());
        async move { matches!(outbox::status_by_key(&db, &key).await.unwrap(), Some((_, n)) if n >= 1) }
    })
    .await;
    h.stop().await;
    h.clear_faults().await;
    h.start().await;
    // The stop waited for the running attempt, which released the job for a retry: with a
    // 10-minute lease, a lease left behind would keep the new instance off.
    h.wait_acknowledged("alice", &c.non_consumable, &token)
        .await;
}

#[tokio::test]
async fn the_suite_runs_on_the_database_the_environment_names() {
    let h = Harness::new().await;
    let expected = match std::env::var("PWA_BILLING_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => pwa_billing_server::db::Backend::Postgres,
        _ => pwa_billing_server::db::Backend::Sqlite,
    };
    assert_eq!(h.state.db.backend(), expected);
    h.state
        .db
        .migrate()
        .await
        .expect("migrating twice is a no-op");
}

#[tokio::test]
async fn two_replicas_on_one_database_grant_and_acknowledge_once() {
    let h = Harness::new().await;
    let replica = h.replica().await;
    let c = catalog();
    let token = h.buy(&c.consumable, json!({"quantity": 5})).await;
    let urls = [
        h.url("/v1/purchases/verify"),
        format!("{}/v1/purchases/verify", replica.url()),
    ];
    let requests = (0..20).map(|i| {
        let url = urls[i % 2].clone();
        (
            url,
            "alice".to_string(),
            c.consumable.clone(),
            token.clone(),
        )
    });
    for (_, status) in h.verify_concurrently(requests).await {
        assert_eq!(status, StatusCode::OK);
    }
    h.wait_acknowledged("alice", &c.consumable, &token).await;
    let list = h.entitlements("alice").await;
    assert_eq!(list.len(), 1, "one grant");
    assert_eq!(list[0]["quantity"], 5);
    let gets = h.call_count(GET).await;
    assert!(
        (1..=2).contains(&gets),
        "at most one get per replica: {gets}"
    );
    assert_eq!(h.call_count(CONSUME).await, 1, "consumed once");
    replica.stop().await.unwrap();
}

/// Found by the reliability suite: a notification job that read a subscription before its
/// replacement was verified wrote Google's `EXPIRED` over `replaced`. A final state set
/// meanwhile is kept, and the writer is told (it applies again and sees the final state).
#[tokio::test]
async fn a_final_state_set_meanwhile_is_not_overwritten_by_an_older_observation() {
    use pwa_billing_server::db::purchases::{self, PurchaseState};
    use pwa_billing_server::entitlement::EntitlementState;
    let h = Harness::new().await;
    let c = catalog();
    let token = h.verified("alice", &c.subscription).await;
    let mut seen_before = purchases::find(&h.state.db, &token)
        .await
        .unwrap()
        .expect("the row");
    let mut conn = h.state.db.pool().acquire().await.unwrap();
    let replaced = PurchaseState::Granted(EntitlementState::Replaced);
    assert!(purchases::set_state(&mut conn, &token, replaced)
        .await
        .unwrap());
    seen_before.state = PurchaseState::Granted(EntitlementState::Expired);
    assert!(
        !purchases::update_observed(&mut conn, &seen_before)
            .await
            .unwrap(),
        "the older observation is refused"
    );
    let row = purchases::find(&h.state.db, &token).await.unwrap().unwrap();
    assert_eq!(row.state, replaced);
}
