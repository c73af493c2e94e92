//! `catalog apply`: a plan carried out in phases — one-time products, their offers,
//! subscriptions, their offers (each `batchUpdate`, ≤ 100 entries, `allowMissing` upserts),
//! activations, deactivations and cancellations (`batchUpdateStates` with product `-`),
//! deletes — paced against Google's quotas, every
//! batch `LATENCY_TOLERANT` when the plan says so.
//!
//! A refused batch is narrowed (split in halves until the entries at fault are alone), the
//! others applied and each fault reported (exit 5). An hourly or daily quota answer stops
//! at once: a checkpoint file records what was done and when to resume (exit 75); the
//! rerun plans against the live catalog again, so nothing is applied twice. A progress bar
//! per phase on a terminal, plain lines otherwise.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use play_model::catalog_file::CatalogFile;
use play_model::methods::{self, Method};
use play_model::onetimeproducts::{
    DeleteOneTimeProductOfferRequest, DeleteOneTimeProductRequest, OfferState,
    OneTimeProductOfferRequest, PurchaseOptionState, PurchaseOptionStateRequest,
    UpdateOneTimeProductOfferRequest, UpdateOneTimeProductOfferStateRequest,
    UpdateOneTimeProductRequest, UpdatePurchaseOptionStateRequest,
};
use play_model::subscriptions::{
    BasePlanState, BasePlanStateRequest, Batch, LatencyTolerance, OfferStateRequest, StateChange,
    UpdateBasePlanStateRequest, UpdateSubscriptionOfferRequest,
    UpdateSubscriptionOfferStateRequest, UpdateSubscriptionRequest,
};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::api::{ApiFailure, CatalogApi};
use super::plan::{Kind, Plan, PlanOptions, Resource, BATCH, MODIFICATIONS_PER_HOUR};
use super::{body, CatalogError, ANY, EXIT_PARTIAL, EXIT_QUOTA};

/// Apply settings.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Catalog calls a minute this tool allows itself.
    pub calls_per_minute: u64,
    /// Where a quota stop writes its checkpoint.
    pub checkpoint: PathBuf,
}

/// Why an apply stopped early.
#[derive(Debug, Clone)]
pub enum Stop {
    /// An hourly or daily quota is spent.
    Quota {
        /// Daily (resets at midnight Pacific Time) or hourly.
        daily: bool,
        /// Google's message.
        message: String,
    },
    /// Google stayed unavailable through every retry.
    Unavailable(String),
}

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Entries applied.
    pub applied: u64,
    /// Entries Google refused, with its message.
    pub failures: Vec<(String, String)>,
    /// Why it stopped early, if it did.
    pub stopped: Option<Stop>,
}

/// Two token buckets: calls a minute, and modification calls an hour (Google's 7,200).
#[derive(Debug)]
struct Pacer {
    per_minute: f64,
    minute_tokens: f64,
    hour_tokens: f64,
    last: Instant,
}

impl Pacer {
    fn new(calls_per_minute: u64) -> Self {
        let per_minute = calls_per_minute.max(1) as f64;
        Pacer {
            per_minute,
            minute_tokens: per_minute,
            hour_tokens: MODIFICATIONS_PER_HOUR as f64,
            last: Instant::now(),
        }
    }

    /// Waits until one more modification call is within both budgets.
    async fn acquire(&mut self) {
        loop {
            let elapsed = self.last.elapsed().as_secs_f64();
            self.last = Instant::now();
            self.minute_tokens =
                (self.minute_tokens + elapsed * self.per_minute / 60.0).min(self.per_minute);
            let hourly = MODIFICATIONS_PER_HOUR as f64;
            self.hour_tokens = (self.hour_tokens + elapsed * hourly / 3600.0).min(hourly);
            if self.minute_tokens >= 1.0 && self.hour_tokens >= 1.0 {
                self.minute_tokens -= 1.0;
                self.hour_tokens -= 1.0;
                return;
            }
            let wait_minute = (1.0 - self.minute_tokens).max(0.0) * 60.0 / self.per_minute;
            let wait_hour = (1.0 - self.hour_tokens).max(0.0) * 3600.0 / hourly;
            tokio::time::sleep(Duration::from_secs_f64(wait_minute.max(wait_hour))).await;
        }
    }
}

/// Progress of one phase: an indicatif bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    name: &'static str,
    total: u64,
    done: u64,
}

impl Progress {
    fn new(name: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>24} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(name);
            bar
        });
        Progress {
            bar,
            name,
            total,
            done: 0,
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None => eprintln!("apply: {} {}/{}", self.name, self.done, self.total),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// One phase: entries (product id, request entry) posted `{"requests": […]}` to `path`.
struct Phase {
    name: &'static str,
    /// A batch method across the app (every path parameter `-`).
    method: &'static Method,
    entries: Vec<(String, Value)>,
}

fn tolerance(plan: &Plan) -> LatencyTolerance {
    if plan.cost.latency_tolerant {
        LatencyTolerance::LatencyTolerant
    } else {
        LatencyTolerance::LatencySensitive
    }
}

/// The product id of a plan id (`product`, `product/basePlan`, `product/basePlan/offer`).
fn product_of(id: &str) -> &str {
    id.split('/').next().unwrap_or_default()
}

fn write_phase(plan: &Plan, kind: Kind, failed: &BTreeSet<String>) -> Phase {
    let (name, method) = match kind {
        Kind::OneTimeProduct => (
            "one-time products",
            &methods::MONETIZATION_ONETIMEPRODUCTS_BATCHUPDATE,
        ),
        Kind::OneTimeOffer => (
            "one-time offers",
            &methods::MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHUPDATE,
        ),
        Kind::Subscription => (
            "subscriptions",
            &methods::MONETIZATION_SUBSCRIPTIONS_BATCHUPDATE,
        ),
        Kind::SubscriptionOffer => (
            "subscription offers",
            &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHUPDATE,
        ),
    };
    let (version, latency) = (plan.regions_version.as_str(), tolerance(plan));
    let entries = plan
        .writes
        .iter()
        .filter(|w| w.kind == kind && !failed.contains(product_of(&w.id)))
        .map(|w| {
            let mask = &w.update_mask;
            let entry = match w.body.clone() {
                Resource::OneTimeProduct(r) => body(&UpdateOneTimeProductRequest::upsert(
                    r, mask, version, latency,
                )),
                Resource::OneTimeOffer(r) => body(&UpdateOneTimeProductOfferRequest::upsert(
                    r, mask, version, latency,
                )),
                Resource::Subscription(r) => body(&UpdateSubscriptionRequest::upsert(
                    r, mask, version, latency,
                )),
                Resource::SubscriptionOffer(r) => body(&UpdateSubscriptionOfferRequest::upsert(
                    r, mask, version, latency,
                )),
            };
            (w.id.clone(), entry)
        })
        .collect();
    Phase {
        name,
        method,
        entries,
    }
}

fn state_phase(plan: &Plan, kind: Kind, failed: &BTreeSet<String>, package: &str) -> Phase {
    let (name, method) = match kind {
        Kind::OneTimeProduct => (
            "purchase option states",
            &methods::MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_BATCHUPDATESTATES,
        ),
        Kind::OneTimeOffer => (
            "one-time offer states",
            &methods::MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHUPDATESTATES,
        ),
        Kind::Subscription => (
            "base plan states",
            &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_BATCHUPDATESTATES,
        ),
        Kind::SubscriptionOffer => (
            "offer states",
            &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHUPDATESTATES,
        ),
    };
    let entries = plan
        .state_changes
        .iter()
        .filter(|s| s.kind == kind && !failed.contains(product_of(&s.id)))
        .map(|s| {
            let latency = Some(tolerance(plan));
            // `product` or `product/parent`; the entry is the base plan, option or offer.
            let (product, parent) = (product_of(&s.id), s.id.split_once('/').map(|(_, p)| p));
            let (package_name, product_id) = (Some(package.to_string()), Some(product.into()));
            let (parent, entry) = (parent.map(String::from), Some(s.entry.clone()));
            let entry = match kind {
                Kind::Subscription => body(&UpdateBasePlanStateRequest::to(
                    BasePlanState::from_wire(s.to),
                    BasePlanStateRequest {
                        package_name,
                        product_id,
                        base_plan_id: entry,
                        latency_tolerance: latency,
                    },
                )),
                Kind::SubscriptionOffer => body(&UpdateSubscriptionOfferStateRequest::to(
                    BasePlanState::from_wire(s.to),
                    OfferStateRequest {
                        package_name,
                        product_id,
                        base_plan_id: parent,
                        offer_id: entry,
                        latency_tolerance: latency,
                    },
                )),
                Kind::OneTimeProduct => body(&UpdatePurchaseOptionStateRequest::to(
                    PurchaseOptionState::from_wire(s.to),
                    PurchaseOptionStateRequest {
                        package_name,
                        product_id,
                        purchase_option_id: entry,
                        latency_tolerance: latency,
                    },
                )),
                Kind::OneTimeOffer => body(&UpdateOneTimeProductOfferStateRequest::to(
                    OfferState::from_wire(s.to),
                    OneTimeProductOfferRequest {
                        package_name,
                        product_id,
                        purchase_option_id: parent,
                        offer_id: entry,
                        latency_tolerance: latency,
                    },
                )),
            };
            (format!("{}/{}", s.id, s.entry), entry)
        })
        .collect();
    Phase {
        name,
        method,
        entries,
    }
}

struct Runner<'a> {
    api: &'a CatalogApi,
    pacer: Pacer,
    outcome: Outcome,
}

impl Runner<'_> {
    /// Sends a phase in batches of ≤ 100; a refused batch is split until each entry at
    /// fault is alone. Returns the ids that failed; stops on a quota or outage.
    async fn run(&mut self, phase: Phase) -> Result<BTreeSet<String>, Stop> {
        let mut failed = BTreeSet::new();
        if phase.entries.is_empty() {
            return Ok(failed);
        }
        let mut progress = Progress::new(phase.name, phase.entries.len() as u64);
        let mut pending: Vec<std::ops::Range<usize>> = (0..phase.entries.len())
            .step_by(BATCH)
            .map(|s| s..(s + BATCH).min(phase.entries.len()))
            .rev()
            .collect();
        // Every path parameter after the package name is `-`: the batch spans the app.
        let every = vec![ANY; phase.method.params().count().saturating_sub(1)];
        while let Some(range) = pending.pop() {
            let slice = &phase.entries[range.clone()];
            let requests = slice.iter().map(|(_, e)| e).collect();
            let batch = body(&Batch { requests });
            self.pacer.acquire().await;
            match self
                .api
                .modify(phase.method, &every, &[], Some(&batch), slice.len() as u64)
                .await
            {
                Ok(_) => {
                    self.outcome.applied += slice.len() as u64;
                    progress.advance(slice.len() as u64);
                }
                Err(ApiFailure::Refused(status)) if slice.len() > 1 => {
                    tracing::debug!(phase = phase.name, len = slice.len(), error = %status.message, "narrowing a refused batch");
                    let mid = range.start + slice.len() / 2;
                    pending.push(mid..range.end);
                    pending.push(range.start..mid);
                }
                Err(ApiFailure::Refused(status)) => {
                    let id = slice[0].0.clone();
                    self.outcome
                        .failures
                        .push((id.clone(), status.message.clone()));
                    failed.insert(product_of(&id).to_string());
                    progress.advance(1);
                }
                Err(ApiFailure::Quota { daily, message }) => {
                    progress.finish();
                    return Err(Stop::Quota { daily, message });
                }
                Err(ApiFailure::Unavailable(m)) => {
                    progress.finish();
                    return Err(Stop::Unavailable(m));
                }
            }
        }
        progress.finish();
        Ok(failed)
    }

    async fn deletes(&mut self, plan: &Plan) -> Result<(), Stop> {
        let package_name = Some(self.api.package_name().to_string());
        let latency_tolerance = Some(tolerance(plan));
        let deletes = |kind: Kind| plan.deletes.iter().filter(move |d| d.kind == kind);
        let otp = deletes(Kind::OneTimeProduct)
            .map(|d| {
                let entry = DeleteOneTimeProductRequest {
                    package_name: package_name.clone(),
                    product_id: Some(d.id.clone()),
                    latency_tolerance,
                };
                (d.id.clone(), body(&entry))
            })
            .collect();
        let offers = deletes(Kind::OneTimeOffer)
            .map(|d| {
                let mut parts = d.id.splitn(3, '/').map(String::from);
                let entry = DeleteOneTimeProductOfferRequest {
                    package_name: package_name.clone(),
                    product_id: parts.next(),
                    purchase_option_id: parts.next(),
                    offer_id: parts.next(),
                    latency_tolerance,
                };
                (d.id.clone(), body(&entry))
            })
            .collect();
        // Offers before their products.
        self.run(Phase {
            name: "one-time offer deletes",
            method: &methods::MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHDELETE,
            entries: offers,
        })
        .await?;
        self.run(Phase {
            name: "one-time product deletes",
            method: &methods::MONETIZATION_ONETIMEPRODUCTS_BATCHDELETE,
            entries: otp,
        })
        .await?;
        // Offers before their subscriptions.
        let singles = plan
            .deletes
            .iter()
            .filter(|d| d.kind == Kind::SubscriptionOffer)
            .chain(plan.deletes.iter().filter(|d| d.kind == Kind::Subscription));
        for d in singles {
            let parts: Vec<&str> = d.id.splitn(3, '/').collect();
            let method = match parts[..] {
                [_, _, _] => &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_DELETE,
                _ => &methods::MONETIZATION_SUBSCRIPTIONS_DELETE,
            };
            let args = if parts.len() == 3 {
                &parts[..]
            } else {
                &[d.id.as_str()][..]
            };
            self.pacer.acquire().await;
            match self.api.modify(method, args, &[], None, 1).await {
                Ok(_) => self.outcome.applied += 1,
                Err(ApiFailure::Refused(s)) => {
                    self.outcome.failures.push((d.id.clone(), s.message))
                }
                Err(ApiFailure::Quota { daily, message }) => {
                    return Err(Stop::Quota { daily, message })
                }
                Err(ApiFailure::Unavailable(m)) => return Err(Stop::Unavailable(m)),
            }
        }
        Ok(())
    }
}

/// Carries out `plan` (already checked free of refusals, deletes allowed).
pub async fn apply(api: &CatalogApi, plan: &Plan, options: &ApplyOptions) -> Outcome {
    let mut runner = Runner {
        api,
        pacer: Pacer::new(options.calls_per_minute),
        outcome: Outcome::default(),
    };
    let result = async {
        let mut failed = BTreeSet::new();
        for kind in [
            Kind::OneTimeProduct,
            Kind::OneTimeOffer,
            Kind::Subscription,
            Kind::SubscriptionOffer,
        ] {
            let failures = runner.run(write_phase(plan, kind, &failed)).await?;
            failed.extend(failures);
        }
        let package = api.package_name().to_string();
        for kind in [
            Kind::OneTimeProduct,
            Kind::OneTimeOffer,
            Kind::Subscription,
            Kind::SubscriptionOffer,
        ] {
            runner
                .run(state_phase(plan, kind, &failed, &package))
                .await?;
        }
        runner.deletes(plan).await
    }
    .await;
    runner.outcome.stopped = result.err();
    if runner.outcome.stopped.is_none() {
        let _ = std::fs::remove_file(&options.checkpoint);
    } else {
        write_checkpoint(&runner.outcome, plan, options);
    }
    runner.outcome
}

/// When an exhausted quota refills: the next hour for an hourly one (Google's hourly
/// windows roll), the next midnight Pacific Time (UTC−8, taken without daylight saving) for
/// the daily one.
fn resume_after(daily: bool) -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    if daily {
        let pacific =
            now.to_offset(time::UtcOffset::from_hms(-8, 0, 0).unwrap_or(time::UtcOffset::UTC));
        let midnight = pacific.replace_time(time::Time::MIDNIGHT) + time::Duration::days(1);
        midnight.to_offset(time::UtcOffset::UTC)
    } else {
        now + time::Duration::hours(1)
    }
}

fn write_checkpoint(outcome: &Outcome, plan: &Plan, options: &ApplyOptions) {
    let (reason, resume) = match &outcome.stopped {
        Some(Stop::Quota { daily, message }) => (message.clone(), Some(resume_after(*daily))),
        Some(Stop::Unavailable(m)) => (m.clone(), None),
        None => return,
    };
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let checkpoint = json!({
        "stoppedAt": fmt(time::OffsetDateTime::now_utc()),
        "reason": reason,
        "resumeAfter": resume.map(fmt),
        "appliedEntries": outcome.applied,
        "plannedEntries": plan.cost.entries,
        "failures": outcome.failures.iter().map(|(id, m)| json!({ "id": id, "message": m })).collect::<Vec<_>>(),
        "resume": "rerun `pwa-billing catalog apply`: it plans against the live catalog, so what is done is not sent again",
    });
    let text = serde_json::to_string_pretty(&checkpoint).unwrap_or_default();
    if let Err(e) = super::write_atomically(&options.checkpoint, &text) {
        eprintln!("pwa-billing catalog: {e}");
    }
}

/// Prints the outcome, re-reads the live catalog to confirm convergence, and picks the
/// exit code.
pub async fn report(
    api: &CatalogApi,
    plan: &Plan,
    outcome: &Outcome,
    file: &CatalogFile,
    options: &PlanOptions,
) -> Result<u8, CatalogError> {
    let stats = api.stats();
    println!(
        "applied {} of {} entries in {} modification calls ({} reads, {} retries)",
        outcome.applied, plan.cost.entries, stats.modifications, stats.reads, stats.retries
    );
    for (id, message) in &outcome.failures {
        eprintln!("refused: {id}: {message}");
    }
    match &outcome.stopped {
        Some(Stop::Quota { daily, message }) => {
            let when = resume_after(*daily)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            return Err(CatalogError::new(
                EXIT_QUOTA,
                format!(
                    "{} quota exhausted ({message}): checkpoint written; rerun apply after {when}",
                    if *daily { "daily" } else { "hourly" }
                ),
            ));
        }
        Some(Stop::Unavailable(m)) => {
            return Err(CatalogError::new(
                EXIT_PARTIAL,
                format!("Google Play unavailable after retries ({m}): {} of {} entries applied; rerun apply to converge", outcome.applied, plan.cost.entries),
            ));
        }
        None => {}
    }
    if !outcome.failures.is_empty() {
        return Err(CatalogError::new(
            EXIT_PARTIAL,
            format!(
                "{} entries refused by Google Play, the other {} applied",
                outcome.failures.len(),
                outcome.applied
            ),
        ));
    }
    let after = super::make_plan(api, file, options).await?;
    if after.is_empty() {
        println!("verified: the live catalog matches the file");
        Ok(0)
    } else {
        Err(CatalogError::new(
            EXIT_PARTIAL,
            format!(
                "the live catalog still differs after apply:\n{}",
                super::plan::render(&after)
            ),
        ))
    }
}
