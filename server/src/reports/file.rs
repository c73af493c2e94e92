//! Reading one report object: the CSV inside a zip (or gzip, or bare), in UTF-8 or UTF-16
//! with a byte order mark, its columns found by header name (case and spacing ignored, known
//! renamed headers as aliases), each row turned into a [`ReportRow`].

use std::io::Read;

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

/// Which report an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportKind {
    /// `sales/salesreport_YYYYMM.zip`: estimated sales, one row per charge or refund.
    Sales,
    /// `earnings/earnings_YYYYMM_….zip`: charges, fees, taxes and their refunds.
    Earnings,
}

impl ReportKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Earnings => "earnings",
        }
    }

    /// The kind of a stored name ([`ReportKind::as_str`]'s inverse).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Sales, Self::Earnings]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The kind and month (`YYYY-MM`) of an object name, or `None` for anything else in the
    /// bucket (statistics, reviews, …).
    pub fn of(name: &str) -> Option<(ReportKind, String)> {
        let (kind, rest) = if let Some(r) = name.strip_prefix("sales/salesreport_") {
            (Self::Sales, r)
        } else if let Some(r) = name.strip_prefix("earnings/earnings_") {
            (Self::Earnings, r)
        } else {
            return None;
        };
        let digits = rest
            .get(..6)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
        let month = format!("{}-{}", &digits[..4], &digits[4..]);
        let tail = &rest[6..];
        let shaped = match kind {
            Self::Sales => tail.starts_with('.'),
            Self::Earnings => tail.starts_with('_') || tail.starts_with('.'),
        };
        shaped.then_some((kind, month))
    }
}

/// One row of a report, in the units the reconciliation uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// The order id as written (`GPA.3306-6269-3448-78568..0`).
    pub order_id: String,
    /// Without the renewal suffix (`GPA.3306-6269-3448-78568`).
    pub base_order_id: String,
    /// What the row records.
    pub transaction_type: TransactionType,
    /// `Full` or `Partial` (earnings refunds).
    pub refund_type: Option<String>,
    /// When (epoch ms), if the row's date could be read.
    pub occurred_at: Option<i64>,
    /// The app's package name.
    pub package_name: Option<String>,
    /// The product id (sku).
    pub product_id: String,
    /// As written (`inapp`/`subscription` in sales, `0`/`1` in earnings).
    pub product_type: Option<String>,
    /// The buyer's country.
    pub country: Option<String>,
    /// The buyer's currency.
    pub currency: String,
    /// The amount in the buyer's currency, in micros (sales: the charged amount, tax
    /// included; negative for refunds in earnings).
    pub amount_micros: i64,
    /// Sales: the tax collected, in micros.
    pub tax_micros: Option<i64>,
    /// Earnings: the merchant currency.
    pub merchant_currency: Option<String>,
    /// Earnings: the amount in the merchant currency, in micros.
    pub merchant_amount_micros: Option<i64>,
}

/// Why an object could not be read. The message names the object, and the line and column
/// where there is one.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct FileError {
    /// The object.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// The order id without its renewal suffix `..N`.
pub fn base_order_id(order_id: &str) -> &str {
    order_id.find("..").map_or(order_id, |i| &order_id[..i])
}

/// A column and the header names it has gone by.
struct Column {
    names: &'static [&'static str],
    required: bool,
}

const fn col(names: &'static [&'static str], required: bool) -> Column {
    Column { names, required }
}

// Sales columns, in this order.
const SALES: [Column; 11] = [
    col(&["Order Number"], true),
    col(&["Order Charged Timestamp"], false),
    col(&["Order Charged Date"], false),
    col(&["Financial Status"], true),
    col(&["Product ID", "Package ID"], false),
    col(&["Product Type"], false),
    col(&["SKU ID", "Sku Id"], true),
    col(&["Currency of Sale"], true),
    col(&["Charged Amount"], true),
    col(&["Taxes Collected"], false),
    col(&["Country of Buyer", "Buyer Country"], false),
];

// Earnings columns, in this order.
const EARNINGS: [Column; 12] = [
    col(&["Description", "Order Number"], true),
    col(&["Transaction Date"], false),
    col(&["Transaction Time"], false),
    col(&["Transaction Type"], true),
    col(&["Refund Type"], false),
    col(&["Product id", "Package ID"], false),
    col(&["Product Type"], false),
    col(&["Sku Id", "SKU ID"], true),
    col(&["Buyer Country"], false),
    col(&["Buyer Currency"], true),
    col(&["Amount (Buyer Currency)"], true),
    col(&["Amount (Merchant Currency)"], false),
];
// The merchant currency is read by name: it is optional and the last one needed.
const MERCHANT_CURRENCY: &[&str] = &["Merchant Currency"];

fn normalize(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Each column's index in the header, or an error naming what is missing.
fn locate(header: &[String], columns: &[Column]) -> Result<Vec<Option<usize>>, String> {
    let normalized: Vec<String> = header.iter().map(|h| normalize(h)).collect();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| normalized.iter().position(|h| *h == normalize(n)))
    };
    let found: Vec<Option<usize>> = columns.iter().map(|c| find(c.names)).collect();
    let missing: Vec<String> = columns
        .iter()
        .zip(&found)
        .filter(|(c, f)| c.required && f.is_none())
        .map(|(c, _)| format!("`{}`", c.names.join("` or `")))
        .collect();
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "unknown column layout: no column {} (the header has {})",
            missing.join(", "),
            header
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The CSV text of an object: unzipped (first `.csv` entry), gunzipped, or as is; decoded
/// from UTF-16 (by its BOM) or UTF-8.
pub fn csv_text(bytes: &[u8]) -> Result<String, String> {
    let raw: Vec<u8> = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| format!("not a readable zip ({e})"))?;
        let index = (0..archive.len())
            .find(|&i| {
                archive
                    .name_for_index(i)
                    .is_some_and(|n| n.to_ascii_lowercase().ends_with(".csv"))
            })
            .ok_or("the zip holds no .csv file")?;
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("not a readable zip ({e})"))?;
        let mut out = Vec::new();
        entry
            .read_to_end(&mut out)
            .map_err(|e| format!("not a readable zip: {} ({e})", entry.name()))?;
        out
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a readable gzip file ({e})"))?;
        out
    } else {
        bytes.to_vec()
    };
    let (encoding, bom) = encoding_rs::Encoding::for_bom(&raw).unwrap_or((encoding_rs::UTF_8, 0));
    encoding
        .decode_without_bom_handling_and_without_replacement(&raw[bom..])
        .map(|text| text.into_owned())
        .ok_or_else(|| {
            format!(
                "the CSV is not valid {} (UTF-8, or UTF-16 with a byte order mark)",
                encoding.name()
            )
        })
}

/// A decimal amount as the reports write it (`1.99`, `-0.30`, `+7`, `1,234.50`, `.5`) in
/// micros: grouping commas and spaces dropped, then an exact decimal.
pub fn micros(text: &str) -> Option<i64> {
    let s: String = text
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    let s = s.strip_prefix('+').unwrap_or(&s);
    let (sign, unsigned) = s.strip_prefix('-').map_or(("", s), |rest| ("-", rest));
    let zero = if unsigned.starts_with('.') { "0" } else { "" };
    play_model::money::parse_decimal(&format!("{sign}{zero}{unsigned}")).ok()
}

const EARNINGS_DATE: &[BorrowedFormatItem<'_>] =
    format_description!("[month repr:short] [day padding:none], [year]");
const EARNINGS_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[hour repr:12 padding:none]:[minute]:[second] [period]");
const SALES_DATE: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

/// An earnings date and time (`Dec 23, 2024`, `1:20:34 PM PST`) in epoch ms. Zones: UTC,
/// GMT, PST, PDT (Google writes Pacific time).
pub fn earnings_time(date: &str, time_of_day: &str) -> Option<i64> {
    let date = Date::parse(date.trim(), EARNINGS_DATE).ok()?;
    let t = time_of_day.trim();
    let (clock, zone) = t
        .rsplit_once(' ')
        .filter(|(_, z)| z.chars().all(char::is_alphabetic) && !matches!(*z, "AM" | "PM"))
        .unwrap_or((t, "UTC"));
    let hours = match zone {
        "UTC" | "GMT" | "Z" => 0,
        "PST" => -8,
        "PDT" => -7,
        _ => return None,
    };
    let time = if clock.is_empty() {
        Time::MIDNIGHT
    } else {
        Time::parse(clock, EARNINGS_TIME).ok()?
    };
    let offset = UtcOffset::from_hms(hours, 0, 0).ok()?;
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// What a report row records: the sales report's and the earnings report's words for it,
/// as one type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TransactionType {
    /// A charge (sales `Charged`, earnings `Charge`).
    Charge,
    /// A refund of a charge (sales `Refund`, earnings `Charge refund`).
    Refund,
    /// Google's fee (earnings).
    GoogleFee,
    /// Google's fee given back with a refund (earnings).
    GoogleFeeRefund,
    /// Tax Google withheld (earnings).
    Tax,
    /// Tax given back with a refund (earnings).
    TaxRefund,
    /// Any other type, in the report's own words (lowercase, `_` for spaces).
    Other(String),
}

impl TransactionType {
    const KNOWN: [Self; 6] = [
        Self::Charge,
        Self::Refund,
        Self::GoogleFee,
        Self::GoogleFeeRefund,
        Self::Tax,
        Self::TaxRefund,
    ];

    /// The stored name (`charge`, `google_fee_refund`, or the report's words).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Charge => "charge",
            Self::Refund => "refund",
            Self::GoogleFee => "google_fee",
            Self::GoogleFeeRefund => "google_fee_refund",
            Self::Tax => "tax",
            Self::TaxRefund => "tax_refund",
            Self::Other(words) => words,
        }
    }
}

/// The type of a stored name ([`TransactionType::as_str`]'s inverse): every name is one.
impl From<String> for TransactionType {
    fn from(name: String) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|t| t.as_str() == name)
            .unwrap_or(Self::Other(name))
    }
}

fn transaction_type(kind: ReportKind, text: &str) -> TransactionType {
    let t = normalize(text);
    match (kind, t.as_str()) {
        (ReportKind::Sales, "charged") => TransactionType::Charge,
        (ReportKind::Sales, "refund" | "refunded") => TransactionType::Refund,
        (ReportKind::Earnings, "charge") => TransactionType::Charge,
        (ReportKind::Earnings, "charge refund") => TransactionType::Refund,
        (ReportKind::Earnings, "google fee") => TransactionType::GoogleFee,
        (ReportKind::Earnings, "google fee refund") => TransactionType::GoogleFeeRefund,
        (ReportKind::Earnings, "tax") => TransactionType::Tax,
        (ReportKind::Earnings, "tax refund") => TransactionType::TaxRefund,
        _ => TransactionType::from(t.replace(' ', "_")),
    }
}

/// Reads every row of a report object.
pub fn read(name: &str, kind: ReportKind, bytes: &[u8]) -> Result<Vec<ReportRow>, FileError> {
    let fail = |message: String| FileError {
        name: name.to_string(),
        message,
    };
    let text = csv_text(bytes).map_err(fail)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(format!("unreadable CSV header ({e})")))?
        .iter()
        .map(String::from)
        .collect();
    let columns: &[Column] = match kind {
        ReportKind::Sales => &SALES,
        ReportKind::Earnings => &EARNINGS,
    };
    let at = locate(&header, columns).map_err(fail)?;
    let merchant_currency = locate(&header, &[col(MERCHANT_CURRENCY, false)])
        .map_err(fail)?
        .remove(0);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| fail(format!("line {line}: unreadable CSV ({e})")))?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |c: usize| {
            at[c]
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let text = |c: usize| field(c).map(String::from);
        let amount = |c: usize| -> Result<Option<i64>, FileError> {
            match field(c) {
                None => Ok(None),
                Some(v) => micros(v).map(Some).ok_or_else(|| {
                    fail(format!(
                        "line {line}: column `{}` holds `{v}`, not an amount",
                        header[at[c].unwrap_or_default()]
                    ))
                }),
            }
        };
        let row = match kind {
            ReportKind::Sales => {
                let occurred_at = field(1)
                    .and_then(|s| s.parse::<i64>().ok())
                    .map(|s| s * 1000)
                    .or_else(|| {
                        field(2)
                            .and_then(|d| Date::parse(d, SALES_DATE).ok())
                            .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
                    });
                let order_id = text(0).unwrap_or_default();
                ReportRow {
                    base_order_id: base_order_id(&order_id).to_string(),
                    order_id,
                    transaction_type: transaction_type(kind, field(3).unwrap_or_default()),
                    refund_type: None,
                    occurred_at,
                    package_name: text(4),
                    product_type: text(5),
                    product_id: text(6).unwrap_or_default(),
                    currency: text(7).unwrap_or_default(),
                    amount_micros: amount(8)?.unwrap_or(0),
                    tax_micros: amount(9)?,
                    country: text(10),
                    merchant_currency: None,
                    merchant_amount_micros: None,
                }
            }
            ReportKind::Earnings => {
                let order_id = text(0).unwrap_or_default();
                ReportRow {
                    base_order_id: base_order_id(&order_id).to_string(),
                    order_id,
                    occurred_at: field(1)
                        .and_then(|d| earnings_time(d, field(2).unwrap_or_default())),
                    transaction_type: transaction_type(kind, field(3).unwrap_or_default()),
                    refund_type: text(4),
                    package_name: text(5),
                    product_type: text(6),
                    product_id: text(7).unwrap_or_default(),
                    country: text(8),
                    currency: text(9).unwrap_or_default(),
                    amount_micros: amount(10)?.unwrap_or(0),
                    tax_micros: None,
                    merchant_amount_micros: amount(11)?,
                    merchant_currency: merchant_currency
                        .and_then(|i| record.get(i))
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                }
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back_as_their_types() {
        for t in TransactionType::KNOWN {
            assert_eq!(TransactionType::from(t.as_str().to_string()), t);
        }
        let other = TransactionType::from("promotional_credit".to_string());
        assert_eq!(other, TransactionType::Other("promotional_credit".into()));
        assert_eq!(other.as_str(), "promotional_credit");
        // A sales row whose type is earnings' word is still that type.
        assert_eq!(
            transaction_type(ReportKind::Sales, "Charge"),
            TransactionType::Charge
        );
        for kind in [ReportKind::Sales, ReportKind::Earnings] {
            assert_eq!(ReportKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReportKind::parse("statistics"), None);
    }

    #[test]
    fn object_names_give_kind_and_month() {
        assert_eq!(
            ReportKind::of("sales/salesreport_202612.zip"),
            Some((ReportKind::Sales, "2026-12".into()))
        );
        assert_eq!(
            ReportKind::of("earnings/earnings_202401_0123456789-3.zip"),
            Some((ReportKind::Earnings, "2024-01".into()))
        );
        for other in [
            "financial-stats/subscriptions/subscriptions_p_s_202612_country.csv",
            "sales/salesreport_2026.zip",
            "sales/salesreport_2026123.zip",
            "earnings/earnings_abcdef_1.zip",
            "reviews/reviews_p_202612.csv",
        ] {
            assert_eq!(ReportKind::of(other), None, "{other}");
        }
    }

    #[test]
    fn amounts_parse_to_micros() {
        assert_eq!(micros("1.99"), Some(1_990_000));
        assert_eq!(micros("-0.30"), Some(-300_000));
        assert_eq!(micros("1,234.5"), Some(1_234_500_000));
        assert_eq!(micros("7"), Some(7_000_000));
        assert_eq!(micros(".5"), Some(500_000));
        assert_eq!(micros("0.0000001"), None);
        assert_eq!(micros("12abc"), None);
        assert_eq!(micros(""), None);
        assert_eq!(micros("-"), None);
    }

    #[test]
    fn earnings_times_read_pacific_and_utc() {
        // 2024-12-23 13:20:34 PST = 21:20:34 UTC.
        let pst = earnings_time("Dec 23, 2024", "1:20:34 PM PST").unwrap();
        assert_eq!(pst, 1_734_988_834_000);
        assert_eq!(
            earnings_time("Dec 23, 2024", "9:20:34 PM UTC").unwrap(),
            pst
        );
        assert_eq!(
            earnings_time("Jul 4, 2024", "12:00:00 AM PDT").unwrap(),
            1_720_076_400_000
        );
        assert_eq!(earnings_time("23/12/2024", "1:20:34 PM PST"), None);
    }

    #[test]
    fn renewal_suffixes_are_stripped() {
        assert_eq!(base_order_id("GPA.1-2-3-4..12"), "GPA.1-2-3-4");
        assert_eq!(base_order_id("GPA.1-2-3-4"), "GPA.1-2-3-4");
    }

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    const SALES_CSV: &str = "Order Number,Order Charged Date,Order Charged Timestamp,Financial Status,Product ID,Product Type,SKU ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount,Country of Buyer\n\
        GPA.1111-2222-3333-44444,2026-12-02,1764672000,Charged,com.example.pwa,inapp,coins_100,EUR,\"1,000.00\",0.10,\"1,000.10\",FR\n\
        GPA.1111-2222-3333-55555..0,2026-12-03,,Refund,com.example.pwa,subscription,sub_monthly,USD,-1.99,-0.20,-2.19,US\n";

    #[test]
    fn sales_rows_read_from_utf8_utf16_zip_and_gzip() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file(
            "salesreport_202612.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&utf16le(SALES_CSV)).unwrap();
        let zipped = zip.finish().unwrap().into_inner();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(SALES_CSV.as_bytes()).unwrap();
        let gzipped = gz.finish().unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(SALES_CSV.as_bytes());
        for bytes in [
            SALES_CSV.as_bytes().to_vec(),
            utf16le(SALES_CSV),
            zipped,
            gzipped,
            bom,
        ] {
            let rows = read("sales/salesreport_202612.zip", ReportKind::Sales, &bytes).unwrap();
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[0].transaction_type, TransactionType::Charge);
            assert_eq!(rows[0].amount_micros, 1_000_100_000);
            assert_eq!(rows[0].tax_micros, Some(100_000));
            assert_eq!(rows[0].occurred_at, Some(1_764_672_000_000));
            assert_eq!(rows[0].currency, "EUR");
            assert_eq!(rows[0].product_id, "coins_100");
            assert_eq!(rows[1].transaction_type, TransactionType::Refund);
            assert_eq!(rows[1].base_order_id, "GPA.1111-2222-3333-55555");
            assert_eq!(rows[1].order_id, "GPA.1111-2222-3333-55555..0");
            assert_eq!(rows[1].occurred_at, Some(1_796_256_000_000));
        }
    }

    #[test]
    fn renamed_headers_are_aliases_and_case_is_ignored() {
        let csv = "description,transaction date,Transaction Time,Transaction  Type,Refund Type,Package ID,Product Type,SKU ID,Buyer Country,Buyer Currency,Amount (Buyer Currency),Merchant Currency,Amount (Merchant Currency)\n\
            GPA.1-2-3-4,\"Dec 23, 2024\",1:20:34 PM PST,Google fee,,com.example.pwa,1,sub_monthly,US,USD,-0.30,EUR,-0.28\n";
        let rows = read(
            "earnings/earnings_202412_1-0.zip",
            ReportKind::Earnings,
            csv.as_bytes(),
        )
        .unwrap();
        assert_eq!(rows[0].transaction_type, TransactionType::GoogleFee);
        assert_eq!(rows[0].package_name.as_deref(), Some("com.example.pwa"));
        assert_eq!(rows[0].merchant_currency.as_deref(), Some("EUR"));
        assert_eq!(rows[0].merchant_amount_micros, Some(-280_000));
        assert_eq!(rows[0].occurred_at, Some(1_734_988_834_000));
    }

    #[test]
    fn bad_input_is_named() {
        let e = read(
            "sales/salesreport_202612.zip",
            ReportKind::Sales,
            b"Order,Amount\nx,1\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "sales/salesreport_202612.zip: unknown column layout: no column `Order Number`"
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("the header has `Order`, `Amount`"),
            "{e}"
        );
        let e = read(
            "sales/salesreport_202612.zip",
            ReportKind::Sales,
            b"PK\x03\x04garbage",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a readable zip"), "{e}");
        let bad = SALES_CSV.replace("\"1,000.10\"", "one thousand");
        let e = read(
            "sales/salesreport_202612.zip",
            ReportKind::Sales,
            bad.as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2: column `Charged Amount` holds `one thousand`"),
            "{e}"
        );
        let e = read("s", ReportKind::Sales, &[0xFF, 0xFE, 0x00, 0xD8]).unwrap_err();
        assert!(e.to_string().contains("UTF-16"), "{e}");
    }
}
