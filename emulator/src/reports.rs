//! Play's financial reports, generated from what this emulator actually sold, refunded and
//! voided, and published as objects of the emulated Cloud Storage bucket ([`crate::storage`]).
//!
//! Every order the emulator charges (a purchase completed, each subscription renewal
//! `GPA….​.N`, a replacement) is recorded in the [`Ledger`] with its price; every voided
//! purchase becomes a refund of its order. From them, for each UTC month with activity:
//!
//! - `sales/salesreport_YYYYMM.zip` holding `salesreport_YYYYMM.csv` (UTF-8): one `Charged`
//!   row per order, one `Refund` row per refunded order, with the 2024 header;
//! - `earnings/earnings_YYYYMM_<developer id>-0.zip` (one-time products) and `…-1.zip`
//!   (subscriptions): `Charge`, `Google fee` and `Tax` rows per order, `Charge refund`,
//!   `Google fee refund` and `Tax refund` rows per refund, with the 19 documented columns
//!   and the later additions. Several earnings objects in one month force a reader to list
//!   by prefix instead of building a name;
//! - `financial-stats/subscriptions/subscriptions_<pkg>_<sku>_YYYYMM_country.csv`: daily new
//!   subscriptions per country, UTF-16LE with a BOM, as Google writes statistics files.
//!
//! License-test purchases are never charged, so they appear nowhere. Amounts: the item price
//! (times the quantity), [`TAX_PERCENT`] tax on top, a [`FEE_PERCENT`] Google fee, rounded to
//! the cent; buyer and merchant currency are the product's (conversion rate 1). Times are
//! written in UTC (real files say PST; readers must accept both).

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use crate::state::{Kind, Model};

/// The developer account id in earnings object names (`earnings_YYYYMM_<id>-<n>.zip`).
pub const DEVELOPER_ID: &str = "01234567890987654321";
/// Tax collected on top of the item price, in percent.
pub const TAX_PERCENT: i64 = 10;
/// Google's service fee, in percent of the item price.
pub const FEE_PERCENT: i64 = 15;

/// The sales CSV header (a real 2024-01 file's).
pub const SALES_HEADER: [&str; 25] = [
    "Order Number",
    "Order Charged Date",
    "Order Charged Timestamp",
    "Financial Status",
    "Device Model",
    "Product Title",
    "Product ID",
    "Product Type",
    "SKU ID",
    "Currency of Sale",
    "Item Price",
    "Taxes Collected",
    "Charged Amount",
    "City of Buyer",
    "State of Buyer",
    "Postal Code of Buyer",
    "Country of Buyer",
    "Base Plan ID",
    "Offer ID",
    "Group ID",
    "First USD 1M Eligible",
    "Promotion ID",
    "Coupon Value",
    "Discount Rate",
    "Featured Product ID",
];

/// The earnings CSV header: the 19 documented columns and a Dec-2024 file's additions.
pub const EARNINGS_HEADER: [&str; 26] = [
    "Description",
    "Transaction Date",
    "Transaction Time",
    "Tax Type",
    "Transaction Type",
    "Refund Type",
    "Product Title",
    "Product id",
    "Product Type",
    "Sku Id",
    "Hardware",
    "Buyer Country",
    "Buyer State",
    "Buyer Postal Code",
    "Buyer Currency",
    "Amount (Buyer Currency)",
    "Currency Conversion Rate",
    "Merchant Currency",
    "Amount (Merchant Currency)",
    "Base Plan ID",
    "Offer ID",
    "Group ID",
    "First USD 1M Eligible",
    "Service Fee %",
    "Fee Description",
    "Promotion ID",
];

/// One order Play charged.
#[derive(Debug, Clone)]
pub struct Charge {
    /// The purchase token.
    pub token: String,
    /// The order id (`GPA.…`, renewals `GPA.….​.N`).
    pub order_id: String,
    /// When it was charged (virtual epoch ms).
    pub at_ms: i64,
    /// One-time product or subscription.
    pub kind: Kind,
    /// The product id (sku).
    pub product_id: String,
    /// The subscription's base plan.
    pub base_plan_id: Option<String>,
    /// Price of one unit, in micros.
    pub unit_price_micros: i64,
    /// Quantity bought.
    pub quantity: u32,
    /// ISO 4217 currency.
    pub currency: String,
    /// The buyer's country.
    pub region_code: String,
    /// A license-test purchase (never charged, never reported).
    pub test: bool,
}

/// The orders charged so far, and those the reports leave out.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Every charge, in time order.
    pub charges: Vec<Charge>,
    /// Order ids left out of every report (control API: a grant Play never charged).
    pub hidden_orders: BTreeSet<String>,
}

impl Model {
    /// Records the charge of the purchase's latest order at `at` (a purchase completed, a
    /// renewal, a replacement).
    pub(crate) fn record_charge(&mut self, token: &str, at: i64) {
        if let Some(charge) = self.order_of(token, at) {
            self.ledger.charges.push(charge);
        }
    }

    /// The order of the purchase's latest order id at `at`, charged or not (`orders.get`
    /// answers a pending order from it).
    pub(crate) fn order_of(&self, token: &str, at: i64) -> Option<Charge> {
        let p = self.purchases.get(token)?;
        let (unit_price_micros, currency, base_plan_id) = match (&p.kind, &p.plan) {
            (Kind::Subscription, Some(plan)) => (
                plan.price_micros,
                plan.currency.clone(),
                Some(plan.base_plan_id.clone()),
            ),
            _ => {
                let price = self
                    .in_app_products
                    .get(&p.product_id)
                    .and_then(|r| r.default_price.clone())
                    .unwrap_or_else(|| play_model::Price::new(0, "USD"));
                (price.price_micros, price.currency, None)
            }
        };
        Some(Charge {
            token: token.to_string(),
            order_id: p.latest_order_id(),
            at_ms: at,
            kind: p.kind,
            product_id: p.product_id.clone(),
            base_plan_id,
            unit_price_micros,
            quantity: if p.kind == Kind::Product {
                p.quantity
            } else {
                1
            },
            currency,
            region_code: p.region_code.clone(),
            test: p.test,
        })
    }
}

/// One refund: a voided order.
#[derive(Debug, Clone)]
struct Refund<'a> {
    charge: &'a Charge,
    at_ms: i64,
    quantity: u32,
    partial: bool,
}

/// A report object: name, bytes, content type.
pub type ReportObject = (String, Vec<u8>, &'static str);

/// Every report object for the model as it is now.
pub fn objects(m: &Model) -> Vec<ReportObject> {
    let ledger = &m.ledger;
    let reported = |c: &&Charge| !c.test && !ledger.hidden_orders.contains(&c.order_id);
    let by_order: BTreeMap<&str, &Charge> = ledger
        .charges
        .iter()
        .filter(reported)
        .map(|c| (c.order_id.as_str(), c))
        .collect();
    let refunds: Vec<Refund> = m
        .voided
        .iter()
        .filter_map(|v| {
            let charge = by_order.get(v.order_id.as_str())?;
            Some(Refund {
                charge,
                at_ms: v.voided_time_ms,
                quantity: v.quantity.unwrap_or(charge.quantity),
                partial: v.partial,
            })
        })
        .collect();
    let mut months: BTreeMap<String, (Vec<&Charge>, Vec<&Refund>)> = BTreeMap::new();
    for c in ledger.charges.iter().filter(reported) {
        months.entry(month(c.at_ms)).or_default().0.push(c);
    }
    for r in &refunds {
        months.entry(month(r.at_ms)).or_default().1.push(r);
    }
    let mut out = Vec::new();
    for (ym, (charges, refunds)) in &months {
        out.push((
            format!("sales/salesreport_{ym}.zip"),
            zip_one(
                &format!("salesreport_{ym}.csv"),
                &sales_csv(m, charges, refunds),
            ),
            "application/zip",
        ));
        for (n, kind) in [(0, Kind::Product), (1, Kind::Subscription)] {
            let c: Vec<&Charge> = charges.iter().copied().filter(|c| c.kind == kind).collect();
            let r: Vec<&Refund> = refunds
                .iter()
                .copied()
                .filter(|r| r.charge.kind == kind)
                .collect();
            if c.is_empty() && r.is_empty() {
                continue;
            }
            let name = format!("earnings_{ym}_{DEVELOPER_ID}-{n}");
            out.push((
                format!("earnings/{name}.zip"),
                zip_one(&format!("{name}.csv"), &earnings_csv(m, &c, &r)),
                "application/zip",
            ));
        }
        let subs: BTreeSet<&str> = charges
            .iter()
            .filter(|c| c.kind == Kind::Subscription)
            .map(|c| c.product_id.as_str())
            .collect();
        for sku in subs {
            out.push((
                format!(
                    "financial-stats/subscriptions/subscriptions_{}_{sku}_{ym}_country.csv",
                    m.package_name
                ),
                utf16le_with_bom(&subscription_stats_csv(m, charges, sku)),
                "text/csv",
            ));
        }
    }
    out
}

/// `YYYYMM` of an epoch-ms instant (UTC).
pub fn month(ms: i64) -> String {
    let t = datetime(ms);
    format!("{:04}{:02}", t.year(), u8::from(t.month()))
}

fn datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `YYYY-MM-DD` (UTC).
fn date(ms: i64) -> String {
    let t = datetime(ms);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Micros rounded to the cent.
fn cents(micros: i64) -> i64 {
    (micros + 5_000 * micros.signum()) / 10_000 * 10_000
}

/// A decimal amount (`1.99`, `-0.30`) from micros, to the cent.
pub fn amount(micros: i64) -> String {
    play_model::money::micros_to_places(cents(micros), 2)
}

pub(crate) fn title(m: &Model, c: &Charge) -> String {
    let title = match c.kind {
        Kind::Product => m
            .in_app_products
            .get(&c.product_id)
            .and_then(|p| p.listing(None)?.title.clone()),
        Kind::Subscription => m
            .subscriptions
            .get(&c.product_id)
            .and_then(|s| s.listing(None)?.title.clone()),
    };
    title.unwrap_or_else(|| c.product_id.clone())
}

/// (item price, tax, Google fee) of `quantity` units, in micros.
pub(crate) fn money(c: &Charge, quantity: u32) -> (i64, i64, i64) {
    let price = cents(c.unit_price_micros * i64::from(quantity));
    (
        price,
        cents(price * TAX_PERCENT / 100),
        cents(price * FEE_PERCENT / 100),
    )
}

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

fn sales_csv(m: &Model, charges: &[&Charge], refunds: &[&Refund]) -> Vec<u8> {
    let row = |c: &Charge, at: i64, status: &str, quantity: u32, sign: i64| {
        let (price, tax, _) = money(c, quantity);
        vec![
            c.order_id.clone(),
            date(at),
            (at / 1000).to_string(),
            status.to_string(),
            "emulator".into(),
            title(m, c),
            m.package_name.clone(),
            match c.kind {
                Kind::Product => "inapp".into(),
                Kind::Subscription => "subscription".into(),
            },
            c.product_id.clone(),
            c.currency.clone(),
            amount(sign * price),
            amount(sign * tax),
            amount(sign * (price + tax)),
            String::new(),
            String::new(),
            String::new(),
            c.region_code.clone(),
            c.base_plan_id.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            "Yes".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]
    };
    let mut rows: Vec<(i64, Vec<String>)> = charges
        .iter()
        .map(|c| (c.at_ms, row(c, c.at_ms, "Charged", c.quantity, 1)))
        .collect();
    rows.extend(
        refunds
            .iter()
            .map(|r| (r.at_ms, row(r.charge, r.at_ms, "Refund", r.quantity, -1))),
    );
    rows.sort_by_key(|(at, _)| *at);
    csv_bytes(&SALES_HEADER, rows.into_iter().map(|(_, r)| r).collect())
}

fn earnings_csv(m: &Model, charges: &[&Charge], refunds: &[&Refund]) -> Vec<u8> {
    let row = |c: &Charge, at: i64, ty: &str, refund: &str, micros: i64| {
        let t = datetime(at);
        let (h, pm) = match t.hour() {
            0 => (12, "AM"),
            h @ 1..=11 => (h, "AM"),
            12 => (12, "PM"),
            h => (h - 12, "PM"),
        };
        vec![
            c.order_id.clone(),
            format!("{} {}, {}", &t.month().to_string()[..3], t.day(), t.year()),
            format!("{h}:{:02}:{:02} {pm} UTC", t.minute(), t.second()),
            String::new(),
            ty.to_string(),
            refund.to_string(),
            title(m, c),
            m.package_name.clone(),
            match c.kind {
                Kind::Product => "0".into(),
                Kind::Subscription => "1".into(),
            },
            c.product_id.clone(),
            "emulator".into(),
            c.region_code.clone(),
            String::new(),
            String::new(),
            c.currency.clone(),
            amount(micros),
            "1.000000".into(),
            c.currency.clone(),
            amount(micros),
            c.base_plan_id.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            "Yes".into(),
            FEE_PERCENT.to_string(),
            if ty.starts_with("Google fee") {
                "Service fee".into()
            } else {
                String::new()
            },
            String::new(),
        ]
    };
    let mut rows: Vec<(i64, Vec<String>)> = Vec::new();
    for c in charges {
        let (price, tax, fee) = money(c, c.quantity);
        rows.push((c.at_ms, row(c, c.at_ms, "Charge", "", price + tax)));
        rows.push((c.at_ms, row(c, c.at_ms, "Google fee", "", -fee)));
        rows.push((c.at_ms, row(c, c.at_ms, "Tax", "", -tax)));
    }
    for r in refunds {
        let (price, tax, fee) = money(r.charge, r.quantity);
        let kind = if r.partial { "Partial" } else { "Full" };
        let c = r.charge;
        rows.push((
            r.at_ms,
            row(c, r.at_ms, "Charge refund", kind, -(price + tax)),
        ));
        rows.push((r.at_ms, row(c, r.at_ms, "Google fee refund", kind, fee)));
        rows.push((r.at_ms, row(c, r.at_ms, "Tax refund", kind, tax)));
    }
    rows.sort_by_key(|(at, _)| *at);
    csv_bytes(&EARNINGS_HEADER, rows.into_iter().map(|(_, r)| r).collect())
}

fn subscription_stats_csv(m: &Model, charges: &[&Charge], sku: &str) -> Vec<u8> {
    let mut days: BTreeMap<(String, String), u32> = BTreeMap::new();
    for c in charges
        .iter()
        .filter(|c| c.product_id == sku && !c.order_id.contains(".."))
    {
        let day = date(c.at_ms);
        *days.entry((day, c.region_code.clone())).or_default() += 1;
    }
    let rows = days
        .into_iter()
        .map(|((day, country), n)| {
            vec![
                day,
                m.package_name.clone(),
                sku.to_string(),
                country,
                n.to_string(),
            ]
        })
        .collect();
    csv_bytes(
        &[
            "Date",
            "Package Name",
            "Product ID",
            "Country",
            "New Subscriptions",
        ],
        rows,
    )
}

/// UTF-16LE with a byte order mark, as Google writes statistics files.
pub fn utf16le_with_bom(utf8: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(utf8);
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// A zip holding one deflated file, with a fixed timestamp so that the same content gives
/// the same bytes (and the same md5: an unchanged report keeps its generation).
pub fn zip_one(name: &str, content: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let written = zip
        .start_file(name, options)
        .and_then(|()| zip.write_all(content).map_err(Into::into));
    match written.and_then(|()| zip.finish()) {
        Ok(cursor) => cursor.into_inner(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_rounded_to_the_cent_with_their_sign() {
        assert_eq!(amount(1_990_000), "1.99");
        assert_eq!(amount(-298_500), "-0.30");
        assert_eq!(amount(0), "0.00");
        assert_eq!(amount(12_345_678_900), "12345.68");
    }

    #[test]
    fn months_are_utc() {
        // 2026-12-31T23:59:59Z and 2027-01-01T00:00:00Z
        assert_eq!(month(1_798_761_599_000), "202612");
        assert_eq!(month(1_798_761_600_000), "202701");
    }

    #[test]
    fn utf16_has_a_bom_and_round_trips() {
        let bytes = utf16le_with_bom("Date,Ünïcode\n".as_bytes());
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "Date,Ünïcode\n");
    }

    #[test]
    fn a_zip_holds_the_file_and_is_deterministic() {
        use std::io::Read;
        let a = zip_one("x.csv", b"a,b\n1,2\n");
        assert_eq!(a, zip_one("x.csv", b"a,b\n1,2\n"));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let mut text = String::new();
        archive
            .by_name("x.csv")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "a,b\n1,2\n");
    }
}
