//! Load: closed-loop (a fixed number of clients, each sending its next request when the
//! last one answered) and open-loop (requests sent at a fixed rate whatever the answers,
//! latency counted from the time each was due, so a stalled server cannot hide its queue).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pwa_billing_test_kit::CpuClock;

/// Builds request number `i`.
pub type MakeRequest = Arc<dyn Fn(u64) -> reqwest::RequestBuilder + Send + Sync>;

/// How long a closed loop runs.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Exactly this many requests.
    Count(u64),
    /// As many as fit in this time.
    For(Duration),
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Other answers and transport errors.
    pub errors: u64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    /// Wall time of the run.
    pub seconds: f64,
    /// Latencies in microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// CPU this process used over the run, as a share of one core.
    pub client_cpu: f64,
    /// CPU the server used over the run, as a share of one core (set by the caller).
    pub server_cpu: f64,
}

impl Stats {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    /// The `p`-th percentile latency in milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        // (less a hair: 99.9 % of 1000 is 999.000…1 in floating point)
        let rank = ((p / 100.0) * self.latencies_us.len() as f64 - 1e-9).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[index] as f64 / 1000.0
    }
}

/// The results of the requests of one run, shared by its tasks.
#[derive(Debug, Default)]
struct Recorder {
    latencies_us: Mutex<Vec<u64>>,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Recorder {
    async fn send(&self, request: reqwest::RequestBuilder, due: Instant) {
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the body: the answer is complete only then.
                match response.bytes().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let elapsed = due.elapsed().as_micros() as u64;
        match outcome {
            Ok(()) => self.latencies_us.lock().expect("latencies").push(elapsed),
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                self.first_error
                    .lock()
                    .expect("first error")
                    .get_or_insert(e);
            }
        }
    }

    fn finish(self, started: Instant, cpu: CpuClock) -> Stats {
        let seconds = started.elapsed().as_secs_f64();
        let mut latencies_us = self.latencies_us.into_inner().expect("latencies");
        latencies_us.sort_unstable();
        Stats {
            ok: latencies_us.len() as u64,
            errors: self.errors.into_inner(),
            first_error: self.first_error.into_inner().expect("first error"),
            seconds,
            latencies_us,
            client_cpu: cpu.share_of_one_core(),
            server_cpu: 0.0,
        }
    }
}

/// `clients` clients each sending request after request until `limit`.
pub async fn closed(clients: usize, limit: Limit, make: MakeRequest) -> Stats {
    let recorder = Arc::new(Recorder::default());
    let next = Arc::new(AtomicU64::new(0));
    let cpu = CpuClock::start();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (recorder, next, make) = (recorder.clone(), next.clone(), make.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let more = match limit {
                    Limit::Count(n) => i < n,
                    Limit::For(d) => started.elapsed() < d,
                };
                if !more {
                    break;
                }
                recorder.send(make(i), Instant::now()).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let recorder = Arc::into_inner(recorder).expect("every client finished");
    recorder.finish(started, cpu)
}

/// `rate` requests per second for `duration`, each sent when due whatever the others.
pub async fn open(rate: u64, duration: Duration, make: MakeRequest) -> Stats {
    let recorder = Arc::new(Recorder::default());
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let total = (duration.as_secs_f64() * rate as f64) as u64;
    let cpu = CpuClock::start();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + period.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (recorder, request) = (recorder.clone(), make(i));
        tasks.spawn(async move { recorder.send(request, due).await });
    }
    while tasks.join_next().await.is_some() {}
    let recorder = Arc::into_inner(recorder).expect("every request finished");
    recorder.finish(started, cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(latencies_us: Vec<u64>) -> Stats {
        Stats {
            ok: latencies_us.len() as u64,
            errors: 0,
            first_error: None,
            seconds: 2.0,
            latencies_us,
            client_cpu: 0.0,
            server_cpu: 0.0,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = stats((1..=1000).map(|i| i * 1000).collect());
        assert_eq!(s.percentile_ms(50.0), 500.0);
        assert_eq!(s.percentile_ms(99.0), 990.0);
        assert_eq!(s.percentile_ms(99.9), 999.0);
        assert_eq!(s.percentile_ms(100.0), 1000.0);
        assert_eq!(s.rate(), 500.0);
        assert!(stats(vec![]).percentile_ms(99.0).is_nan());
    }
}
