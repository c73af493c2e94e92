//! Google's quota paced here (issue 24): priorities inside a bucket, a verification refused
//! with `503` + `Retry-After` without calling Google, a Google 429 holding the bucket for
//! every caller, acknowledgements first when their deadline is threatened, and two
//! replicas sharing one bucket (run on PostgreSQL with `scripts/with-postgres.sh`).

use std::time::{Duration, Instant};

use pwa_billing_server::config::Config;
use pwa_billing_server::play::quota::{Bucket, Priority, Quota};
use pwa_billing_server::play::PlayError;
use pwa_billing_server::AppState;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{catalog, Harness, ACK, GET};

fn quota(state: &AppState) -> Quota {
    state
        .play
        .quota()
        .expect("the server paces its Google calls")
        .clone()
}

/// Books slots of `bucket` however far ahead (another caller's queue) until the next free
/// slot is `ahead` from now.
async fn fill_to(q: &Quota, bucket: Bucket, ahead: Duration) {
    let limiter = q.limiter(bucket).expect("paced bucket");
    while limiter.queue().await.unwrap() < ahead {
        limiter.reserve().await.unwrap();
    }
}

/// Whether `priority` books a slot of `bucket` now: a refusal answers at once; a granted
/// call is left waiting for its slot.
async fn admitted(q: &Quota, bucket: Bucket, priority: Priority) -> bool {
    let q = q.clone();
    let mut call = tokio::spawn(async move { q.acquire(bucket, priority).await });
    match tokio::time::timeout(Duration::from_millis(300), &mut call).await {
        Ok(done) => done.unwrap().is_ok(),
        Err(_) => true,
    }
}

/// `Some(retry_after)` when `priority` is refused a slot of `bucket` now.
async fn refused(q: &Quota, bucket: Bucket, priority: Priority) -> Option<Duration> {
    match q.acquire(bucket, priority).await {
        Ok(()) => None,
        Err(PlayError::Throttled { retry_after, .. }) => Some(retry_after),
        Err(e) => panic!("{e}"),
    }
}

async fn metrics(h: &Harness) -> String {
    h.http
        .get(h.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers["retry-after"].to_str().unwrap().parse().unwrap()
}

/// 600 a minute (one slot every ~100 ms), verifications wait at most 2 s.
fn paced(c: &mut Config) {
    c.quota.one_time_purchases_per_minute = 600;
    c.quota.verification_max_wait = Duration::from_secs(2);
}

#[tokio::test]
async fn a_queue_admits_verifications_then_notifications_then_acknowledgements_then_sweeps() {
    let h = Harness::with(|c| {
        paced(c);
        c.worker.enabled = false;
    })
    .await;
    let q = quota(&h.state);
    let b = Bucket::OneTimePurchases;
    // Idle: every priority gets a slot.
    for p in [
        Priority::Background,
        Priority::Settle,
        Priority::Notification,
        Priority::Verification,
    ] {
        assert!(admitted(&q, b, p).await, "{p:?} on an idle bucket");
    }
    // A queue of 0.75 s: beyond the sweeps' lead (0.5 s), within the others'.
    fill_to(&q, b, Duration::from_millis(750)).await;
    assert!(refused(&q, b, Priority::Background).await.is_some());
    assert!(admitted(&q, b, Priority::Settle).await);
    // 1.25 s: acknowledgements (1 s) wait too; notifications (1.5 s) still get in.
    fill_to(&q, b, Duration::from_millis(1250)).await;
    let settle = refused(&q, b, Priority::Settle).await.expect("acks wait");
    assert!(
        settle >= Duration::from_secs(1),
        "retry when the queue has drained to half the verification's wait: {settle:?}"
    );
    assert!(admitted(&q, b, Priority::Notification).await);
    // 1.75 s: only buyers' verifications (2 s) get in.
    fill_to(&q, b, Duration::from_millis(1750)).await;
    assert!(refused(&q, b, Priority::Notification).await.is_some());
    assert!(admitted(&q, b, Priority::Verification).await);
    // Other buckets are independent.
    assert!(admitted(&q, Bucket::Subscriptions, Priority::Background).await);
    let text = metrics(&h).await;
    for line in [
        r#"pwa_billing_quota_refused_total{bucket="one_time_purchases",priority="background"} 1"#,
        r#"pwa_billing_quota_refused_total{bucket="one_time_purchases",priority="settle"} 1"#,
        r#"pwa_billing_quota_refused_total{bucket="one_time_purchases",priority="notification"} 1"#,
        r#"pwa_billing_quota_slots_used_total{bucket="one_time_purchases",priority="verification"} 2"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn a_verification_without_a_slot_answers_503_with_retry_after_and_calls_no_google() {
    let h = Harness::with(|c| {
        c.quota.one_time_purchases_per_minute = 60;
        c.quota.verification_max_wait = Duration::from_secs(1);
        c.worker.enabled = false;
    })
    .await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    let q = quota(&h.state);
    // Another buyer's queue: 4 s of slots (about one a second).
    fill_to(&q, Bucket::OneTimePurchases, Duration::from_secs(4)).await;
    let before = h.call_count(GET).await;
    let started = Instant::now();
    let (s, body, headers) = h.verify_full("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "upstream_unavailable");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "answered at once"
    );
    let wait = retry_after(&headers);
    assert!(
        (3..=5).contains(&wait),
        "Retry-After from the bucket's refill: the queue (4 s) beyond the 1 s wait, plus half of it: {wait}"
    );
    assert_eq!(h.call_count(GET).await, before, "no Google call");
    // After Retry-After the queue has room: granted, with one Google call.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (s, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(h.call_count(GET).await, before + 1);
}

#[tokio::test]
async fn a_google_429_holds_the_bucket_for_every_caller_and_is_not_retried_into_it() {
    let h = Harness::with(|c| {
        c.quota.one_time_purchases_per_minute = 600;
        c.quota.verification_max_wait = Duration::from_secs(1);
        c.worker.enabled = false;
    })
    .await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    let other = h.buy(&c.non_consumable, json!({})).await;
    h.set_faults(json!({"rate": 1.0, "status": 429, "retryAfterSecs": 3, "methods": [GET]}))
        .await;
    let before = h.call_count(GET).await;
    let (s, body, headers) = h.verify_full("alice", &c.non_consumable, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after(&headers), 3, "Google's Retry-After");
    assert_eq!(h.call_count(GET).await - before, 1, "not retried");
    h.clear_faults().await;
    // Google's window is spent for everyone: another buyer is refused without a call.
    let (s, body, headers) = h.verify_full("bob", &c.non_consumable, &other).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(retry_after(&headers) >= 2);
    assert_eq!(
        h.call_count(GET).await - before,
        1,
        "no call into the held window"
    );
    let text = metrics(&h).await;
    let line = r#"pwa_billing_quota_google_throttled_total{bucket="one_time_purchases"} 1"#;
    assert!(text.contains(line), "{line} in\n{text}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (s, body) = h.verify("bob", &c.non_consumable, &other).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_backlog_that_threatens_the_deadline_puts_acknowledgements_first_with_an_alert() {
    // Draining the backlog must end a whole day minus 1 s before the 3-day deadline: a
    // backlog longer than a second (10 acks at ~100 ms) threatens it.
    let mut h = Harness::with(|c| {
        paced(c);
        c.quota.deadline_margin = Duration::from_secs(2 * 24 * 3600 + 23 * 3600 + 3599);
        c.worker.enabled = false;
    })
    .await;
    let c = catalog();
    let mut tokens = Vec::new();
    for i in 0..12 {
        tokens.push(h.verified(&format!("buyer{i}"), &c.non_consumable).await);
    }
    let q = quota(&h.state);
    let b = Bucket::OneTimePurchases;
    q.check_deadlines().await.unwrap();
    assert!(q.deadline_pressure(b), "12 acks need ~1.2 s");
    assert!(!q.deadline_pressure(Bucket::Subscriptions));
    let text = metrics(&h).await;
    for line in [
        r#"pwa_billing_quota_deadline_priority{bucket="one_time_purchases"} 1"#,
        r#"pwa_billing_quota_deadline_priority{bucket="subscriptions"} 0"#,
        r#"pwa_billing_ack_backlog{bucket="one_time_purchases"} 12"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    // A queue of 1.75 s: a verification (now ¾ of 2 s) waits, an acknowledgement goes.
    fill_to(&q, b, Duration::from_millis(1750)).await;
    assert!(refused(&q, b, Priority::Verification).await.is_some());
    assert!(admitted(&q, b, Priority::Settle).await);
    // The worker acknowledges everything; the alert clears.
    h.restart_with(|c| c.worker.enabled = true).await;
    let q = quota(&h.state);
    for (i, token) in tokens.iter().enumerate() {
        h.wait_acknowledged(&format!("buyer{i}"), &c.non_consumable, token)
            .await;
    }
    assert_eq!(h.call_count(ACK).await, 12);
    q.check_deadlines().await.unwrap();
    assert!(!q.deadline_pressure(b));
    let text = metrics(&h).await;
    let line = r#"pwa_billing_quota_deadline_priority{bucket="one_time_purchases"} 0"#;
    assert!(text.contains(line), "{line} in\n{text}");
}

/// Two replicas on one database, 40 buyers spread over both: together they start no more
/// Google calls than one bucket allows (120 a minute: 3 at once, then one every ~0.51 s).
/// An in-process limiter would let each replica spend the whole quota.
#[tokio::test]
async fn two_replicas_stay_within_one_buckets_quota() {
    let h = Harness::with(|c| {
        c.quota.one_time_purchases_per_minute = 120;
        c.quota.verification_max_wait = Duration::from_secs(1);
        c.worker.enabled = false;
    })
    .await;
    let replica = h.replica().await;
    let c = catalog();
    let mut tokens = Vec::new();
    for _ in 0..40 {
        tokens.push(h.buy(&c.non_consumable, json!({})).await);
    }
    let before = h.call_count(GET).await;
    let started = Instant::now();
    let mut buyers = tokio::task::JoinSet::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let base = if i % 2 == 0 {
            h.url("")
        } else {
            format!("http://{}", replica.addr)
        };
        let http = h.http.clone();
        let item = c.non_consumable.clone();
        // Each buyer tries for 6 s, honouring Retry-After.
        buyers.spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(6);
            while Instant::now() < deadline {
                let r = http
                    .post(format!("{base}/v1/purchases/verify"))
                    .bearer_auth(Harness::bearer(&format!("buyer{i}")))
                    .json(&json!({ "itemId": item, "purchaseToken": token }))
                    .send()
                    .await
                    .unwrap();
                match r.status() {
                    StatusCode::OK => return true,
                    StatusCode::SERVICE_UNAVAILABLE => {
                        let wait = retry_after(r.headers());
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                    }
                    other => panic!("{other}: {}", r.text().await.unwrap()),
                }
            }
            false
        });
    }
    let mut granted = 0;
    while let Some(ok) = buyers.join_next().await {
        granted += u64::from(ok.unwrap());
    }
    let elapsed = started.elapsed();
    let calls = h.call_count(GET).await - before;
    let interval = 60.0 / 118.0;
    let allowed = (elapsed.as_secs_f64() / interval).floor() as u64 + 3;
    assert_eq!(
        calls, granted,
        "one Google call per granted buyer, none refused by Google"
    );
    assert!(
        calls <= allowed,
        "{calls} calls in {elapsed:?}: at most {allowed} in one bucket"
    );
    assert!(
        calls + 3 >= allowed / 2,
        "the quota is used, not starved: {calls} of {allowed}"
    );
    replica.stop().await.unwrap();
}
