//! Reconciliation of the imported reports with the purchases this server granted, matched
//! by order id (a renewal `GPA.….​.N` belongs to the purchase whose order is `GPA.…`):
//!
//! - **charged but never granted**: a charge in the reports (and no full refund) whose order
//!   belongs to no granted purchase: money taken, nothing delivered;
//! - **granted but never charged**: a granted purchase (test purchases excluded: Play never
//!   charges them) made in a reported month, up to the latest row of that month's reports,
//!   with no charge of its order in any imported report;
//! - **refunded but still entitled**: a full refund in the reports of a purchase's current
//!   order whose entitlement is still active here (the void was missed);
//! - totals per source (sales in the buyer's currency, earnings in the merchant's), product
//!   and currency.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use play_model::money::micros_to_decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::file::{base_order_id, ReportKind, TransactionType};
use super::Month;
use crate::db::purchases::{self, PurchaseRow};
use crate::db::report_files;
use crate::db::report_rows::{self, StoredRow};
use crate::db::rfc3339;
use crate::db::{now_ms, Db};
use crate::entitlement::Entitlement;
use crate::play::orders::MAX_BATCH;
use crate::play::{PlayClient, PlayError};

/// One order that does not add up.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Discrepancy {
    /// The order id (as in the report, or the purchase's current one).
    pub order_id: String,
    /// The product id.
    pub product_id: String,
    /// The granted purchase's entitlement id, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<String>,
    /// The account it was granted to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The purchase's state here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The amount in the report (decimal) and its currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// ISO 4217.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When it was charged, refunded or bought (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// With `confirm`: the order's state at Play now (`PROCESSED`, `REFUNDED`, …, or
    /// `NOT_FOUND`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play_state: Option<String>,
    /// With `confirm`: the order's purchase token at Play (a charge never granted can be
    /// granted with it through `POST /v1/purchases/sync`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_token: Option<String>,
}

/// Money per source, product and currency (decimal strings).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Total {
    /// `sales` (buyer's currency, tax included) or `earnings` (merchant's currency).
    pub source: String,
    /// The product id.
    pub product_id: String,
    /// ISO 4217.
    pub currency: String,
    /// Orders charged.
    pub orders: u64,
    /// Charged (tax included).
    pub charged: String,
    /// Refunded (positive).
    pub refunded: String,
    /// Taxes (sales: collected; earnings: withheld, negative).
    pub taxes: String,
    /// Google's fees (earnings; negative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub google_fees: Option<String>,
    /// What is left: sales charged − refunded; earnings the sum of every row.
    pub net: String,
}

/// The reconciliation report.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// The month reconciled, or none for every imported month.
    pub month: Option<String>,
    /// The months with imported reports (within `month`).
    pub months: Vec<String>,
    /// Report files imported (within `month`).
    pub report_files: u64,
    /// Report rows read.
    pub report_rows: u64,
    /// Granted purchases checked against the charges.
    pub grants_checked: u64,
    /// Granted test purchases left out (Play never charges them).
    pub test_purchases_excluded: u64,
    /// Grants newer than the latest row of their month's reports (not reported yet).
    pub not_yet_reported: u64,
    /// Orders charged but never granted.
    pub charged_not_granted: Vec<Discrepancy>,
    /// Grants never charged.
    pub granted_not_charged: Vec<Discrepancy>,
    /// Refunds whose entitlement is still active.
    pub refunded_still_entitled: Vec<Discrepancy>,
    /// Totals per source, product and currency.
    pub totals: Vec<Total>,
    /// Whether the discrepancies were confirmed with Play (`orders.batchGet`).
    pub confirmed: bool,
    /// With `confirm`: charges never granted whose money Play has returned since (refunded
    /// or canceled orders): listed, not counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_by_play: Vec<Discrepancy>,
    /// With `confirm`: what could not be confirmed (Play's errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub confirm_errors: Vec<String>,
    /// How many discrepancies in all (0: everything adds up).
    pub discrepancies: u64,
}

fn is_charge(r: &StoredRow) -> bool {
    r.transaction_type == TransactionType::Charge
}

/// Orders refunded in full: earnings say `Full`; where no refund type is written (sales),
/// the refunds of the order add up to its charge (or its charge is in no imported row).
fn fully_refunded(rows: &[StoredRow]) -> BTreeSet<&str> {
    let mut charged: BTreeMap<(ReportKind, &str), i64> = BTreeMap::new();
    let mut refunded: BTreeMap<(ReportKind, &str), i64> = BTreeMap::new();
    let mut typed: BTreeMap<&str, bool> = BTreeMap::new();
    for r in rows {
        let key = (r.kind, r.order_id.as_str());
        match r.transaction_type {
            TransactionType::Charge => *charged.entry(key).or_default() += r.amount_micros.abs(),
            TransactionType::Refund => {
                *refunded.entry(key).or_default() += r.amount_micros.abs();
                if let Some(t) = &r.refund_type {
                    *typed.entry(key.1).or_default() |= t.eq_ignore_ascii_case("full");
                }
            }
            _ => {}
        }
    }
    refunded
        .iter()
        .filter(|(key, sum)| match typed.get(key.1) {
            Some(full) => *full,
            None => charged.get(*key).is_none_or(|c| **sum >= *c),
        })
        .map(|(key, _)| key.1)
        .collect()
}

/// Reconciles `month` (or every imported month).
///
/// Reads every granted purchase but keeps only those [`reconcile`] looks at: the ones whose
/// order the month's rows name, and the ones bought in a reported month. Each other row is
/// dropped as it is read, so that a month of a million-purchase database holds a month of
/// grants, not a million (freeing a million rows at once held every thread sharing their
/// allocator arena for about 200 ms: docs/console.md).
pub async fn run(db: &Db, month: Option<Month>) -> Result<Reconciliation, sqlx::Error> {
    let rows = report_rows::of_month(db, month).await?;
    let file_count = report_files::count(db, month).await?;
    let reported: BTreeSet<Month> = horizon(&rows)
        .keys()
        .filter_map(|m| m.parse().ok())
        .collect();
    let named: BTreeSet<&str> = rows.iter().map(|r| r.base_order_id.as_str()).collect();
    let mut granted = Vec::new();
    let mut all = purchases::all_granted(db);
    while let Some(p) = all.try_next().await? {
        let order_named = p
            .order_id
            .as_deref()
            .is_some_and(|o| named.contains(base_order_id(o)));
        let bought_reported = bought_at(&p).is_some_and(|at| reported.contains(&Month::of_ms(at)));
        if order_named || bought_reported {
            granted.push(p);
        }
    }
    drop(all);
    // Charges of every imported month (a grant on the last day of a month may be charged in
    // the next month's report), of the kept grants' orders.
    let orders: BTreeSet<&str> = granted
        .iter()
        .filter_map(|p| p.order_id.as_deref().map(base_order_id))
        .collect();
    let mut charged_anywhere = BTreeSet::new();
    let mut charges = report_rows::charged_orders(db);
    while let Some(order) = charges.try_next().await? {
        if orders.contains(order.as_str()) {
            charged_anywhere.insert(order);
        }
    }
    drop(charges);
    Ok(reconcile(
        month,
        file_count,
        &rows,
        &charged_anywhere,
        &granted,
        now_ms(),
    ))
}

/// Each reported month's horizon: its latest row's time (a row without a readable time
/// counts as its month's end).
fn horizon(rows: &[StoredRow]) -> BTreeMap<&str, i64> {
    let mut horizon: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows {
        let at = r
            .occurred_at
            .or_else(|| r.month.parse::<Month>().ok().map(|m| m.range_ms().1 - 1));
        if let Some(at) = at {
            let h = horizon.entry(r.month.as_str()).or_insert(at);
            *h = (*h).max(at);
        }
    }
    horizon
}

/// When a purchase was bought (granted, if Google gave no time).
fn bought_at(p: &PurchaseRow) -> Option<i64> {
    p.purchased_at.or(p.granted_at)
}

fn reconcile(
    month: Option<Month>,
    report_files: u64,
    rows: &[StoredRow],
    charged_anywhere: &BTreeSet<String>,
    granted: &[PurchaseRow],
    now: i64,
) -> Reconciliation {
    let by_order: BTreeMap<&str, &PurchaseRow> = granted
        .iter()
        .filter_map(|p| p.order_id.as_deref().map(|o| (base_order_id(o), p)))
        .collect();
    let refunded = fully_refunded(rows);

    // Charged but never granted.
    let mut seen = BTreeSet::new();
    let charged_not_granted: Vec<Discrepancy> = rows
        .iter()
        .filter(|r| is_charge(r) && !r.base_order_id.is_empty())
        .filter(|r| seen.insert(r.order_id.as_str()))
        .filter(|r| !by_order.contains_key(r.base_order_id.as_str()))
        .filter(|r| !refunded.contains(r.order_id.as_str()))
        .map(|r| Discrepancy {
            order_id: r.order_id.clone(),
            product_id: r.product_id.clone(),
            purchase_id: None,
            account_id: None,
            state: None,
            amount: Some(micros_to_decimal(r.amount_micros)),
            currency: Some(r.currency.clone()),
            at: r.occurred_at.and_then(rfc3339),
            play_state: None,
            purchase_token: None,
        })
        .collect();

    // Granted but never charged, within each reported month's horizon.
    let horizon = horizon(rows);
    let mut grants_checked = 0;
    let mut test_purchases_excluded = 0;
    let mut not_yet_reported = 0;
    let mut granted_not_charged = Vec::new();
    for p in granted {
        let Some(bought) = bought_at(p) else {
            continue;
        };
        let bought_month = Month::of_ms(bought).to_string();
        let Some(&until) = horizon.get(bought_month.as_str()) else {
            continue;
        };
        if p.test != 0 {
            test_purchases_excluded += 1;
            continue;
        }
        // Report times are whole seconds: a grant within the last reported second is in.
        if bought >= until + 1000 {
            not_yet_reported += 1;
            continue;
        }
        grants_checked += 1;
        let charged = p
            .order_id
            .as_deref()
            .is_some_and(|o| charged_anywhere.contains(base_order_id(o)));
        if !charged {
            granted_not_charged.push(Discrepancy {
                order_id: p.order_id.clone().unwrap_or_default(),
                product_id: p.item_id.clone(),
                purchase_id: Some(p.id.clone()),
                account_id: Some(p.account_id.clone()),
                state: Some(p.state.as_str().into()),
                amount: None,
                currency: None,
                at: rfc3339(bought),
                play_state: None,
                purchase_token: Some(p.purchase_token.clone()),
            });
        }
    }

    // Refunded but still entitled: a full refund of the purchase's current order.
    let mut seen = BTreeSet::new();
    let refunded_still_entitled: Vec<Discrepancy> = rows
        .iter()
        .filter(|r| {
            r.transaction_type == TransactionType::Refund && refunded.contains(r.order_id.as_str())
        })
        .filter(|r| seen.insert(r.order_id.as_str()))
        .filter_map(|r| {
            let p = by_order.get(r.base_order_id.as_str())?;
            let current = p.order_id.as_deref() == Some(r.order_id.as_str());
            let entitled = Entitlement::from_row(p, now).is_some_and(|e| e.entitled);
            (current && entitled).then(|| Discrepancy {
                order_id: r.order_id.clone(),
                product_id: r.product_id.clone(),
                purchase_id: Some(p.id.clone()),
                account_id: Some(p.account_id.clone()),
                state: Some(p.state.as_str().into()),
                amount: Some(micros_to_decimal(r.amount_micros.abs())),
                currency: Some(r.currency.clone()),
                at: r.occurred_at.and_then(rfc3339),
                play_state: None,
                purchase_token: Some(p.purchase_token.clone()),
            })
        })
        .collect();

    let discrepancies = (charged_not_granted.len()
        + granted_not_charged.len()
        + refunded_still_entitled.len()) as u64;
    Reconciliation {
        month: month.map(|m| m.to_string()),
        months: horizon.keys().map(|m| m.to_string()).collect(),
        report_files,
        report_rows: rows.len() as u64,
        grants_checked,
        test_purchases_excluded,
        not_yet_reported,
        charged_not_granted,
        granted_not_charged,
        refunded_still_entitled,
        totals: totals(rows),
        confirmed: false,
        resolved_by_play: Vec::new(),
        confirm_errors: Vec::new(),
        discrepancies,
    }
}

/// Confirms the discrepancies with Play: each order's current state (and purchase token)
/// from `orders.batchGet` (1,000 ids a call; an id Play does not know sends that batch back
/// to `orders.get` one by one). A charge never granted whose money Play has returned is
/// moved to `resolvedByPlay`.
pub async fn confirm(play: &PlayClient, r: &mut Reconciliation) {
    let ids: Vec<String> = r
        .charged_not_granted
        .iter()
        .chain(&r.granted_not_charged)
        .chain(&r.refunded_still_entitled)
        .map(|d| d.order_id.clone())
        .filter(|id| !id.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut found: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for chunk in ids.chunks(MAX_BATCH) {
        match play.batch_get_orders(chunk).await {
            Ok(orders) => found.extend(orders.into_iter().map(|o| {
                (
                    o.order_id,
                    (
                        o.state.as_str().unwrap_or("UNKNOWN").into(),
                        o.purchase_token,
                    ),
                )
            })),
            Err(PlayError::Api(s)) if s.code == 404 => {
                for id in chunk {
                    match play.get_order(id).await {
                        Ok(o) => {
                            found.insert(
                                id.clone(),
                                (
                                    o.state.as_str().unwrap_or("UNKNOWN").into(),
                                    o.purchase_token,
                                ),
                            );
                        }
                        Err(PlayError::Api(s)) if s.code == 404 => {
                            found.insert(id.clone(), ("NOT_FOUND".into(), None));
                        }
                        Err(e) => r.confirm_errors.push(format!("orders.get {id}: {e}")),
                    }
                }
            }
            Err(e) => r
                .confirm_errors
                .push(format!("orders.batchGet of {} order(s): {e}", chunk.len())),
        }
    }
    for d in r
        .charged_not_granted
        .iter_mut()
        .chain(r.granted_not_charged.iter_mut())
        .chain(r.refunded_still_entitled.iter_mut())
    {
        if let Some((state, token)) = found.get(&d.order_id) {
            d.play_state = Some(state.clone());
            if d.purchase_token.is_none() {
                d.purchase_token = token.clone();
            }
        }
    }
    let returned = |d: &Discrepancy| {
        d.play_state
            .as_deref()
            .is_some_and(|s| matches!(s, "REFUNDED" | "CANCELED" | "PENDING_REFUND"))
    };
    let (resolved, open): (Vec<_>, Vec<_>) = std::mem::take(&mut r.charged_not_granted)
        .into_iter()
        .partition(returned);
    r.charged_not_granted = open;
    r.resolved_by_play = resolved;
    r.confirmed = true;
    r.discrepancies = (r.charged_not_granted.len()
        + r.granted_not_charged.len()
        + r.refunded_still_entitled.len()) as u64;
}

#[derive(Default)]
struct Sums {
    orders: BTreeSet<String>,
    charged: i64,
    refunded: i64,
    taxes: i64,
    fees: i64,
    net: i64,
}

fn totals(rows: &[StoredRow]) -> Vec<Total> {
    let mut sums: BTreeMap<(ReportKind, String, String), Sums> = BTreeMap::new();
    for r in rows {
        let earnings = r.kind == ReportKind::Earnings;
        let (currency, amount) = match (earnings, &r.merchant_currency, r.merchant_amount_micros) {
            (true, Some(c), Some(a)) => (c.clone(), a),
            _ => (r.currency.clone(), r.amount_micros),
        };
        let s = sums
            .entry((r.kind, r.product_id.clone(), currency))
            .or_default();
        match r.transaction_type {
            TransactionType::Charge => {
                s.orders.insert(r.order_id.clone());
                s.charged += amount;
                if !earnings {
                    s.taxes += r.tax_micros.unwrap_or(0);
                }
            }
            TransactionType::Refund => {
                s.refunded += amount.abs();
                if !earnings {
                    s.taxes -= r.tax_micros.unwrap_or(0).abs();
                }
            }
            TransactionType::Tax | TransactionType::TaxRefund if earnings => s.taxes += amount,
            TransactionType::GoogleFee | TransactionType::GoogleFeeRefund => s.fees += amount,
            _ => {}
        }
        s.net += if earnings {
            amount
        } else {
            match r.transaction_type {
                TransactionType::Charge => amount,
                TransactionType::Refund => -amount.abs(),
                _ => 0,
            }
        };
    }
    sums.into_iter()
        .map(|((kind, product_id, currency), s)| Total {
            google_fees: (kind == ReportKind::Earnings).then(|| micros_to_decimal(s.fees)),
            source: kind.as_str().into(),
            product_id,
            currency,
            orders: s.orders.len() as u64,
            charged: micros_to_decimal(s.charged),
            refunded: micros_to_decimal(s.refunded),
            taxes: micros_to_decimal(s.taxes),
            net: micros_to_decimal(s.net),
        })
        .collect()
}

impl Reconciliation {
    /// The report as text, for the command line.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "reconcile {}: {} report file(s), {} row(s), month(s) {}; {} grant(s) checked, {} test purchase(s) excluded, {} not reported yet",
            self.month.as_deref().unwrap_or("all months"),
            self.report_files,
            self.report_rows,
            if self.months.is_empty() { "none".to_string() } else { self.months.join(", ") },
            self.grants_checked,
            self.test_purchases_excluded,
            self.not_yet_reported,
        );
        for (title, list) in [
            ("charged but never granted", &self.charged_not_granted),
            ("granted but never charged", &self.granted_not_charged),
            ("refunded but still entitled", &self.refunded_still_entitled),
        ] {
            let _ = writeln!(out, "{title}: {}", list.len());
            for d in list {
                let mut line = format!("  {} {}", d.order_id, d.product_id);
                if let (Some(a), Some(c)) = (&d.amount, &d.currency) {
                    let _ = write!(line, " {a} {c}");
                }
                if let (Some(p), Some(a)) = (&d.purchase_id, &d.account_id) {
                    let _ = write!(line, " purchase {p} of account {a}");
                }
                if let Some(s) = &d.state {
                    let _ = write!(line, " ({s})");
                }
                if let Some(s) = &d.play_state {
                    let _ = write!(line, ", at Play {s}");
                }
                if let (None, Some(t)) = (&d.purchase_id, &d.purchase_token) {
                    let _ = write!(line, ", token {t}");
                }
                if let Some(at) = &d.at {
                    let _ = write!(line, " at {at}");
                }
                let _ = writeln!(out, "{line}");
            }
        }
        if self.confirmed {
            let _ = writeln!(
                out,
                "confirmed with Play: {} charge(s) never granted since refunded or canceled{}",
                self.resolved_by_play.len(),
                if self.confirm_errors.is_empty() {
                    String::new()
                } else {
                    format!("; not confirmed: {}", self.confirm_errors.join("; "))
                }
            );
        }
        let _ = writeln!(
            out,
            "totals:\n  {:<9} {:<24} {:<8} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "source",
            "product",
            "currency",
            "orders",
            "charged",
            "refunded",
            "taxes",
            "fees",
            "net"
        );
        for t in &self.totals {
            let _ = writeln!(
                out,
                "  {:<9} {:<24} {:<8} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}",
                t.source,
                t.product_id,
                t.currency,
                t.orders,
                t.charged,
                t.refunded,
                t.taxes,
                t.google_fees.as_deref().unwrap_or("-"),
                t.net
            );
        }
        let _ = write!(
            out,
            "{}",
            if self.discrepancies == 0 {
                "everything adds up".to_string()
            } else {
                format!("{} discrepancy(ies)", self.discrepancies)
            }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, order: &str, ty: &str, amount: i64, at: i64) -> StoredRow {
        StoredRow {
            kind: ReportKind::parse(kind).unwrap(),
            month: "2026-12".into(),
            order_id: order.into(),
            base_order_id: base_order_id(order).into(),
            transaction_type: ty.to_string().into(),
            refund_type: None,
            occurred_at: Some(at),
            product_id: "sub".into(),
            currency: "USD".into(),
            amount_micros: amount,
            tax_micros: None,
            merchant_currency: None,
            merchant_amount_micros: None,
        }
    }

    fn grant(order: &str, at: i64, test: bool) -> PurchaseRow {
        PurchaseRow {
            purchase_token: format!("t-{order}"),
            id: format!("p-{order}"),
            account_id: "a".into(),
            item_id: "sub".into(),
            kind: crate::product::ProductKind::Subscription,
            state: crate::db::purchases::PurchaseState::Granted(
                crate::entitlement::EntitlementState::Active,
            ),
            quantity: 1,
            expires_at: Some(i64::MAX / 2),
            test: i64::from(test),
            acknowledged: 1,
            order_id: Some(order.into()),
            linked_purchase_token: None,
            purchased_at: Some(at),
            granted_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }

    const DEC: i64 = 1_796_083_200_000;

    #[test]
    fn renewals_match_their_purchase_and_each_discrepancy_is_found() {
        let mut rows = vec![
            row("sales", "GPA.1", "charge", 2_000_000, DEC + 1),
            row("sales", "GPA.1..0", "charge", 2_000_000, DEC + 2),
            row("sales", "GPA.2", "charge", 1_000_000, DEC + 3),
            row("sales", "GPA.4", "charge", 1_000_000, DEC + 4),
            row("sales", "GPA.4", "refund", -1_000_000, DEC + 5),
            row("sales", "GPA.5", "charge", 3_000_000, DEC + 6),
            row("sales", "GPA.5", "refund", -3_000_000, DEC + 7),
            row("sales", "GPA.9", "charge", 1_000_000, DEC + 100),
            row("sales", "GPA.7", "charge", 3_000_000, DEC + 8),
            row("sales", "GPA.7", "refund", -1_000_000, DEC + 9),
        ];
        // A November row without a readable time: the whole month is reported.
        let mut november = row("sales", "GPA.8", "charge", 1_000_000, 0);
        november.month = "2026-11".into();
        november.occurred_at = None;
        rows.push(november);
        let charged: BTreeSet<String> = ["GPA.1", "GPA.2", "GPA.4", "GPA.5", "GPA.7", "GPA.9"]
            .map(String::from)
            .into();
        let granted = vec![
            grant("GPA.1..0", DEC + 1, false),
            grant("GPA.3", DEC + 10, false),
            grant("GPA.T", DEC + 11, true),
            grant("GPA.5", DEC + 6, false),
            grant("GPA.6", DEC + 5_000, false),
            grant("GPA.7", DEC + 8, false),
            grant("GPA.N", DEC - 1_000, false),
        ];
        let r = reconcile(None, 1, &rows, &charged, &granted, DEC);
        let orders = |l: &[Discrepancy]| l.iter().map(|d| d.order_id.clone()).collect::<Vec<_>>();
        // GPA.2, GPA.9 and GPA.8 charged, never granted; GPA.4 too but refunded in full.
        // GPA.7 is refunded in part only: still entitled, rightly. GPA.N, granted on the
        // last day of November, is checked against November's time-less rows.
        assert_eq!(orders(&r.charged_not_granted), ["GPA.2", "GPA.9", "GPA.8"]);
        assert_eq!(orders(&r.granted_not_charged), ["GPA.3", "GPA.N"]);
        assert_eq!(orders(&r.refunded_still_entitled), ["GPA.5"]);
        assert_eq!((r.test_purchases_excluded, r.not_yet_reported), (1, 1));
        assert_eq!(r.grants_checked, 5);
        assert_eq!(r.discrepancies, 6);
        assert_eq!(r.months, ["2026-11", "2026-12"]);
        let t = &r.totals[0];
        assert_eq!(
            (
                t.orders,
                t.charged.as_str(),
                t.refunded.as_str(),
                t.net.as_str()
            ),
            (8, "14.00", "5.00", "9.00")
        );
        assert!(r.to_text().contains("6 discrepancy(ies)"));
    }
}
