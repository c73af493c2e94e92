//! `catalog validate`: offline checks of a catalog file, each naming the entry at fault.
//!
//! Errors: id syntax and lengths, listing limits, money syntax, a region's currency at the
//! file's regions version, withdrawn regions without a price, billing periods, grace period
//! plus account hold, more than one legacy-compatible purchase option or base plan.
//! Offers: one or two phases, free or priced in every region of the base plan, ≤ 20 tags.
//! One-time offers: discounted or pre-order, RFC 3339 windows in order, a redemption limit
//! of 1–50, discounts (`"1.00 USD"` below the option's price there, `"20%"`, `"none"`) in
//! regions of the purchase option only, ≤ 20 tags. Rent options: a rental period, never
//! legacy-compatible nor multi-quantity.
//! Warnings: a subscription with more than one active base plan or a base plan with more
//! than one active offer (a TWA shows the first base plan's price and buys its first offer,
//! so the Digital Goods API may show one price and charge another), a product no legacy-compatible option sells, regions whose currency the
//! tool does not know.

use std::collections::BTreeMap;

use play_model::catalog_file::{
    region_currency, Amount, BasePlanEntry, CatalogFile, Discount, EntryState, Listing, OfferState,
    PlanType, PurchaseOptionEntry, LATEST_REGIONS_VERSION,
};
use play_model::ids;
use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The file cannot be applied.
    Error,
    /// Applies, but probably not what is meant.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub level: Level,
    /// The dotted path of the entry (`one_time_products.coins.purchase_options.buy`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.path, self.message)
    }
}

/// Billing periods Play accepts for auto-renewing base plans.
const AUTO_RENEWING_PERIODS: [&str; 6] = ["P1W", "P1M", "P3M", "P4M", "P6M", "P1Y"];
/// Billing periods Play accepts for prepaid base plans.
const PREPAID_PERIODS: [&str; 10] = [
    "P1D", "P3D", "P7D", "P1W", "P2W", "P1M", "P3M", "P4M", "P6M", "P1Y",
];

struct Checker {
    findings: Vec<Finding>,
    version: String,
}

impl Checker {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            level: Level::Error,
            path: path.into(),
            message: message.into(),
        });
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            level: Level::Warning,
            path: path.into(),
            message: message.into(),
        });
    }

    fn product_id(&mut self, path: &str, id: &str, max: usize) {
        if !ids::is_product_id(id, max) {
            self.error(
                path,
                format!("product id {id:?} must be 1–{max} characters of a-z, 0-9, '_' and '.', starting with a letter or digit"),
            );
        }
    }

    fn option_id(&mut self, path: &str, id: &str) {
        if !ids::is_option_id(id) {
            self.error(
                path,
                format!("id {id:?} must be 1–63 characters of a-z, 0-9 and '-', starting with a letter or digit"),
            );
        }
    }

    fn listings(&mut self, path: &str, listings: &BTreeMap<String, Listing>, subscription: bool) {
        if listings.is_empty() {
            self.error(
                path,
                "needs at least one listing (listings.en-US = { title = … })",
            );
        }
        let (title_max, description_max) = if subscription { (55, 80) } else { (55, 200) };
        for (lang, l) in listings {
            let p = format!("{path}.listings.{lang}");
            let count = |s: &str| s.chars().count();
            if l.title.trim().is_empty() {
                self.error(&p, "title is empty");
            }
            if count(&l.title) > title_max {
                self.error(
                    &p,
                    format!(
                        "title has {} characters, at most {title_max}",
                        count(&l.title)
                    ),
                );
            }
            if count(&l.description) > description_max {
                self.error(
                    &p,
                    format!(
                        "description has {} characters, at most {description_max}",
                        count(&l.description)
                    ),
                );
            }
            if !subscription && !l.benefits.is_empty() {
                self.error(&p, "benefits are for subscriptions only");
            }
            if l.benefits.len() > 4 {
                self.error(&p, format!("{} benefits, at most 4", l.benefits.len()));
            }
            if let Some(b) = l.benefits.iter().find(|b| count(b) > 40) {
                self.error(&p, format!("benefit {b:?} is longer than 40 characters"));
            }
        }
    }

    fn prices(
        &mut self,
        path: &str,
        prices: &BTreeMap<String, String>,
        auto_price: &Option<String>,
        withdrawn: &std::collections::BTreeSet<String>,
    ) {
        if prices.is_empty() && auto_price.is_none() {
            self.error(
                path,
                "needs prices = { US = \"0.99 USD\", … } or auto_price = \"0.99 USD\"",
            );
        }
        if let Some(a) = auto_price {
            if let Err(e) = Amount::parse(a) {
                self.error(&format!("{path}.auto_price"), e);
            }
        }
        for (region, price) in prices {
            let p = format!("{path}.prices.{region}");
            if region.len() != 2 || !region.chars().all(|c| c.is_ascii_uppercase()) {
                self.error(
                    &p,
                    format!("{region:?} is not an ISO 3166-1 alpha-2 region code"),
                );
                continue;
            }
            match Amount::parse(price) {
                Err(e) => self.error(&p, e),
                Ok(a) => match region_currency(region, &self.version) {
                    Some(expected) if expected != a.currency() => self.error(
                        &p,
                        format!(
                            "region {region} pays in {expected} at regions version {}, not {}",
                            self.version,
                            a.currency()
                        ),
                    ),
                    Some(_) => {}
                    None => self.warn(
                        &p,
                        format!("the currency of region {region} is not checked offline"),
                    ),
                },
            }
        }
        for region in withdrawn {
            if !prices.contains_key(region) && auto_price.is_none() {
                self.error(
                    &format!("{path}.withdrawn"),
                    format!("withdrawn region {region} needs its price in prices"),
                );
            }
        }
    }
}

impl Checker {
    fn offers(&mut self, path: &str, plan: &BasePlanEntry) {
        if plan.offers.is_empty() {
            return;
        }
        if plan.plan_type != PlanType::AutoRenewing {
            self.error(path, "offers are for auto-renewing base plans only");
        }
        let active = plan
            .offers
            .values()
            .filter(|o| o.state == EntryState::Active)
            .count();
        if active > 1 && plan.state == EntryState::Active {
            self.warn(
                path,
                format!("{active} active offers: a TWA buys the first offer, so a PWA may show one price and charge another"),
            );
        }
        for (oid, o) in &plan.offers {
            let op = format!("{path}.offers.{oid}");
            self.option_id(&op, oid);
            if o.phases.is_empty() || o.phases.len() > 2 {
                self.error(
                    &op,
                    format!("{} phases, an offer has one or two", o.phases.len()),
                );
            }
            self.tags(&op, &o.tags);
            for (i, p) in o.phases.iter().enumerate() {
                let pp = format!("{op}.phases[{i}]");
                if !p.duration.starts_with('P') || p.duration.len() < 3 {
                    self.error(
                        &pp,
                        format!(
                            "duration {:?} is not an ISO 8601 duration (P7D, P1M)",
                            p.duration
                        ),
                    );
                }
                if p.recurrence_count == 0 {
                    self.error(&pp, "recurrence_count must be at least 1");
                }
                let priced = !p.prices.is_empty() || p.auto_price.is_some();
                match (p.free, priced) {
                    (true, true) => self.error(&pp, "a phase is free or has prices, not both"),
                    (false, false) => self.error(
                        &pp,
                        "needs free = true, prices = { … } or auto_price = \"0.99 USD\"",
                    ),
                    _ => {}
                }
                if !p.free && priced {
                    self.prices(&pp, &p.prices, &p.auto_price, &Default::default());
                    if plan.auto_price.is_none() && p.auto_price.is_none() {
                        if let Some(r) = plan.prices.keys().find(|r| !p.prices.contains_key(*r)) {
                            self.error(&pp, format!("no price for region {r} of the base plan"));
                        }
                    }
                    if let Some(r) = p
                        .prices
                        .keys()
                        .find(|r| !plan.prices.contains_key(*r) && plan.auto_price.is_none())
                    {
                        self.error(&pp, format!("region {r} is not a region of the base plan"));
                    }
                }
            }
        }
    }
}

fn rfc3339(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

fn iso_duration(d: &str) -> bool {
    d.len() >= 3
        && d.starts_with('P')
        && d[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || "YMWDTHS".contains(c))
}

impl Checker {
    fn times(&mut self, path: &str, named: &[(&str, Option<&str>)]) {
        let mut last: Option<(&str, time::OffsetDateTime)> = None;
        for (name, t) in named {
            let Some(t) = t else { continue };
            match rfc3339(t) {
                None => self.error(
                    path,
                    format!("{name} {t:?} is not an RFC 3339 time (2027-01-01T00:00:00Z)"),
                ),
                Some(at) => {
                    // Pre-orders may close at their release (end ≤ release).
                    let strict = *name != "release";
                    if let Some((before, prev)) = last {
                        if at < prev || (strict && at == prev) {
                            self.error(path, format!("{before} must be before {name}"));
                        }
                    }
                    last = Some((*name, at));
                }
            }
        }
    }

    fn rent(&mut self, path: &str, o: &PurchaseOptionEntry) {
        let Some(r) = &o.rent else { return };
        if !iso_duration(&r.period) {
            self.error(
                path,
                format!(
                    "rent.period {:?} is not an ISO 8601 duration (P3D)",
                    r.period
                ),
            );
        }
        if let Some(e) = r.expiration.as_deref().filter(|e| !iso_duration(e)) {
            self.error(
                path,
                format!("rent.expiration {e:?} is not an ISO 8601 duration (PT48H)"),
            );
        }
        if o.legacy_compatible || o.multi_quantity {
            self.error(
                path,
                "a rent option is never legacy_compatible nor multi_quantity",
            );
        }
    }

    fn one_time_offers(&mut self, path: &str, o: &PurchaseOptionEntry) {
        let active = o
            .offers
            .values()
            .filter(|f| f.state == OfferState::Active)
            .count();
        if active > 0 && o.legacy_compatible {
            self.warn(
                path,
                format!("{active} active offers: legacy billing flows (the Digital Goods API in a TWA) sell this legacy-compatible option at its own price, without offers"),
            );
        }
        for (fid, f) in &o.offers {
            let fp = format!("{path}.offers.{fid}");
            self.option_id(&fp, fid);
            match (&f.discounted, &f.pre_order) {
                (Some(d), None) => {
                    self.times(
                        &fp,
                        &[("start", d.start.as_deref()), ("end", d.end.as_deref())],
                    );
                    if d.redemption_limit.is_some_and(|n| !(1..=50).contains(&n)) {
                        self.error(&fp, "redemption_limit must be 1–50 (leave it out for unlimited)");
                    }
                }
                (None, Some(p)) => self.times(
                    &fp,
                    &[
                        ("start", Some(p.start.as_str())),
                        ("end", Some(p.end.as_str())),
                        ("release", Some(p.release.as_str())),
                    ],
                ),
                _ => self.error(
                    &fp,
                    "needs exactly one of discounted = { … } and pre_order = { start, end, release }",
                ),
            }
            if f.discounts.is_empty() {
                self.error(
                    &fp,
                    "needs discounts = { US = \"1.00 USD\" | \"20%\" | \"none\", … }",
                );
            }
            self.tags(&fp, &f.tags);
            for (region, text) in &f.discounts {
                let dp = format!("{fp}.discounts.{region}");
                let in_option = o.prices.contains_key(region) || o.auto_price.is_some();
                if !in_option {
                    self.error(
                        &dp,
                        format!("region {region} is not a region of the purchase option"),
                    );
                }
                match Discount::parse(text) {
                    Err(e) => self.error(&dp, e),
                    Ok(Discount::Amount(a)) => {
                        let price = o.prices.get(region).and_then(|p| Amount::parse(p).ok());
                        match price {
                            Some(p) if p.currency != a.currency => self.error(
                                &dp,
                                format!(
                                    "the discount is in {}, the price in {}",
                                    a.currency(),
                                    p.currency()
                                ),
                            ),
                            Some(p) if a.micros >= p.micros => self.error(
                                &dp,
                                format!("a discount of {a} is not below the price ({p})"),
                            ),
                            _ => {}
                        }
                    }
                    Ok(_) => {}
                }
            }
            if let Some(r) = f.withdrawn.iter().find(|r| !f.discounts.contains_key(*r)) {
                self.error(
                    &format!("{fp}.withdrawn"),
                    format!("withdrawn region {r} needs its discount in discounts"),
                );
            }
        }
    }

    fn tags(&mut self, path: &str, tags: &[String]) {
        if tags.len() > 20 {
            self.error(path, format!("{} tags, at most 20", tags.len()));
        }
        if let Some(t) = tags.iter().find(|t| t.is_empty() || t.chars().count() > 20) {
            self.error(path, format!("tag {t:?} must have 1-20 characters"));
        }
    }
}

fn days(duration: &str) -> Option<u32> {
    let d = duration.strip_prefix('P')?;
    if let Some(n) = d.strip_suffix('D') {
        return n.parse().ok();
    }
    if let Some(n) = d.strip_suffix('W') {
        return n.parse::<u32>().ok().map(|w| w * 7);
    }
    None
}

/// Checks a catalog file; the findings are sorted errors first.
pub fn validate(file: &CatalogFile) -> Vec<Finding> {
    let mut c = Checker {
        findings: Vec::new(),
        version: LATEST_REGIONS_VERSION.into(),
    };
    match file.regions_version.as_deref() {
        None | Some("auto") => {}
        Some(v) => {
            let ok = v.len() == 7
                && v.as_bytes()[4] == b'/'
                && v.chars()
                    .enumerate()
                    .all(|(i, ch)| i == 4 || ch.is_ascii_digit());
            if ok {
                c.version = v.into();
            } else {
                c.error(
                    "regions_version",
                    format!("{v:?} is neither \"auto\" nor a version like \"2025/03\""),
                );
            }
        }
    }
    for (id, p) in &file.one_time_products {
        let path = format!("one_time_products.{id}");
        c.product_id(&path, id, ids::ONE_TIME_PRODUCT_ID_MAX);
        if file.subscriptions.contains_key(id) {
            c.error(&path, "the same id is also a subscription");
        }
        c.listings(&path, &p.listings, false);
        if p.purchase_options.is_empty() {
            c.error(
                &path,
                "needs at least one purchase option (purchase_options.buy = { … })",
            );
        }
        let legacy = p
            .purchase_options
            .values()
            .filter(|o| o.legacy_compatible)
            .count();
        if legacy > 1 {
            c.error(
                &path,
                format!("{legacy} purchase options are legacy_compatible, at most one may be"),
            );
        }
        if legacy == 0 && !p.purchase_options.is_empty() {
            c.warn(
                &path,
                "no purchase option is legacy_compatible: the Digital Goods API (a TWA) sells only the legacy-compatible one",
            );
        }
        for (oid, o) in &p.purchase_options {
            let op = format!("{path}.purchase_options.{oid}");
            c.option_id(&op, oid);
            c.prices(&op, &o.prices, &o.auto_price, &o.withdrawn);
            c.rent(&op, o);
            c.one_time_offers(&op, o);
        }
    }
    for (id, s) in &file.subscriptions {
        let path = format!("subscriptions.{id}");
        c.product_id(&path, id, ids::SUBSCRIPTION_ID_MAX);
        c.listings(&path, &s.listings, true);
        if s.base_plans.is_empty() {
            c.error(&path, "needs at least one base plan");
        }
        let legacy = s
            .base_plans
            .values()
            .filter(|b| b.legacy_compatible)
            .count();
        if legacy > 1 {
            c.error(
                &path,
                format!("{legacy} base plans are legacy_compatible, at most one may be"),
            );
        }
        let active = s
            .base_plans
            .values()
            .filter(|b| b.state == EntryState::Active)
            .count();
        if active > 1 {
            c.warn(
                &path,
                format!("{active} active base plans: a TWA shows the first base plan's price and buys its first offer, so a PWA may show one price and charge another"),
            );
        }
        for (bid, b) in &s.base_plans {
            let bp = format!("{path}.base_plans.{bid}");
            c.option_id(&bp, bid);
            let periods: &[&str] = match b.plan_type {
                PlanType::AutoRenewing | PlanType::Installments => &AUTO_RENEWING_PERIODS,
                PlanType::Prepaid => &PREPAID_PERIODS,
            };
            if !periods.contains(&b.billing_period.as_str()) {
                c.error(
                    &bp,
                    format!(
                        "billing_period {:?} is not one of {}",
                        b.billing_period,
                        periods.join(", ")
                    ),
                );
            }
            match (b.plan_type, b.committed_payments) {
                (PlanType::Installments, None | Some(0..=1)) => c.error(
                    &bp,
                    "an installments base plan needs committed_payments of at least 2",
                ),
                (PlanType::Installments, _) if b.legacy_compatible => c.error(
                    &bp,
                    "legacy_compatible is for auto-renewing base plans",
                ),
                (PlanType::AutoRenewing | PlanType::Prepaid, _)
                    if b.committed_payments.is_some() || b.renews_with_commitment =>
                {
                    c.error(
                        &bp,
                        "committed_payments and renews_with_commitment are for installments base plans (type = \"installments\")",
                    )
                }
                _ => {}
            }
            if b.plan_type == PlanType::Prepaid
                && (b.legacy_compatible || b.grace_period.is_some() || b.account_hold.is_some())
            {
                c.error(&bp, "legacy_compatible, grace_period and account_hold are for auto-renewing base plans");
            }
            let grace = b.grace_period.as_deref().map(|g| (g, days(g)));
            let hold = b.account_hold.as_deref().map(|h| (h, days(h)));
            for (name, v) in [("grace_period", grace), ("account_hold", hold)] {
                if let Some((text, None)) = v {
                    c.error(
                        &bp,
                        format!(
                            "{name} {text:?} is not an ISO 8601 duration in days or weeks (P7D)"
                        ),
                    );
                }
            }
            if let (Some((_, Some(g))), Some((_, Some(h)))) = (grace, hold) {
                if !(30..=60).contains(&(g + h)) {
                    c.error(
                        &bp,
                        format!(
                            "grace_period + account_hold is {} days, Play wants 30–60",
                            g + h
                        ),
                    );
                }
            }
            c.prices(&bp, &b.prices, &b.auto_price, &b.withdrawn);
            c.offers(&bp, b);
        }
    }
    c.findings.sort_by_key(|f| f.level != Level::Error);
    c.findings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that validating `text` finds exactly `expect` (each a finding's beginning).
    fn assert_findings(text: &str, expect: &[&str]) {
        let f: Vec<String> = validate(&CatalogFile::parse(text, false).unwrap())
            .iter()
            .map(ToString::to_string)
            .collect();
        for e in expect {
            assert!(
                f.iter().any(|x| x.starts_with(e)),
                "missing {e:?} in {f:#?}"
            );
        }
        assert_eq!(f.len(), expect.len(), "{f:#?}");
    }

    #[test]
    fn each_check_names_its_entry() {
        let text = r#"
regions_version = "2022/02"
[one_time_products."Bad-Id"]
listings.en-US = { title = "0123456789012345678901234567890123456789012345678901234567" }
purchase_options.a = { legacy_compatible = true, prices = { BG = "1.00 EUR", US = "1.999999 USD" } }
purchase_options.b = { legacy_compatible = true, prices = { US = "oops" }, withdrawn = ["DE"] }
[subscriptions.premium.listings.en-US]
title = "Premium"
benefits = ["a", "b", "c", "d", "e"]
[subscriptions.premium.base_plans.monthly]
billing_period = "P2M"
grace_period = "P7D"
account_hold = "P7D"
prices = { US = "1.99 USD" }
[subscriptions.premium.base_plans.yearly]
billing_period = "P1Y"
auto_price = "19.99 USD"
"#;
        let expect = [
            "error: one_time_products.Bad-Id: product id \"Bad-Id\"",
            "error: one_time_products.Bad-Id.listings.en-US: title has 58 characters, at most 55",
            "error: one_time_products.Bad-Id: 2 purchase options are legacy_compatible",
            "error: one_time_products.Bad-Id.purchase_options.a.prices.BG: region BG pays in BGN at regions version 2022/02, not EUR",
            "error: one_time_products.Bad-Id.purchase_options.b.prices.US: \"oops\"",
            "error: one_time_products.Bad-Id.purchase_options.b.withdrawn: withdrawn region DE needs its price",
            "error: subscriptions.premium.listings.en-US: 5 benefits, at most 4",
            "error: subscriptions.premium.base_plans.monthly: billing_period \"P2M\"",
            "error: subscriptions.premium.base_plans.monthly: grace_period + account_hold is 14 days",
            "warning: subscriptions.premium: 2 active base plans: a TWA shows the first base plan's price",
        ];
        assert_findings(text, &expect);
    }

    #[test]
    fn an_offer_phase_is_free_priced_by_region_or_converted() {
        let text = r#"
[subscriptions.pro.listings.en-US]
title = "Pro"
[subscriptions.pro.base_plans.monthly]
billing_period = "P1M"
prices = { US = "4.99 USD", DE = "4.99 EUR" }
[subscriptions.pro.base_plans.monthly.offers.intro]
state = "draft"
phases = [{ duration = "P1M", auto_price = "0.99 USD" }]
[subscriptions.pro.base_plans.monthly.offers.both]
state = "draft"
phases = [{ duration = "P7D", free = true, auto_price = "0.99 USD" }]
[subscriptions.pro.base_plans.monthly.offers.neither]
state = "draft"
phases = [{ duration = "P7D" }]
[subscriptions.pro.base_plans.monthly.offers.bad]
state = "draft"
phases = [{ duration = "P1M", auto_price = "0.99" }]
[subscriptions.pro.base_plans.monthly.offers.short]
state = "draft"
phases = [{ duration = "P1M", prices = { US = "0.99 USD" } }]
"#;
        let expect = [
            "error: subscriptions.pro.base_plans.monthly.offers.both.phases[0]: a phase is free or has prices, not both",
            "error: subscriptions.pro.base_plans.monthly.offers.neither.phases[0]: needs free = true, prices = { … } or auto_price",
            "error: subscriptions.pro.base_plans.monthly.offers.bad.phases[0].auto_price: ",
            "error: subscriptions.pro.base_plans.monthly.offers.short.phases[0]: no price for region DE of the base plan",
        ];
        // The converted phase (`intro`) covers every region: nothing to say of it.
        assert_findings(text, &expect);
    }
}
