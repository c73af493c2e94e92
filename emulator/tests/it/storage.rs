//! The Cloud Storage bucket and the financial reports generated from the emulator's sales:
//! listing by prefix with paging, `%2F`-escaped downloads, Google's error bodies, and the
//! reports' rows matching the purchases actually sold, renewed, refunded and voided.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use base64::Engine;
use serde_json::{json, Value};
use support::{assertion, exchange, Emu};

const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";

/// An access token with the storage scope.
async fn storage_token(e: &Emu) -> String {
    let key = e.emu.service_account_key();
    let (status, body) = exchange(
        &e.http,
        key["token_uri"].as_str().unwrap(),
        &assertion(&key, |c| c["scope"] = json!(STORAGE_SCOPE)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn get(e: &Emu, token: Option<&str>, path: &str) -> (u16, Vec<u8>) {
    let mut req = e.http.get(e.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn get_json(e: &Emu, token: Option<&str>, path: &str) -> (u16, Value) {
    let (status, bytes) = get(e, token, path).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|err| panic!("{path}: not JSON ({err}): {bytes:?}"));
    (status, body)
}

/// Checks an object resource's shape against Google's `storage#object`: int64 fields as
/// decimal strings, `md5Hash` the base64 of 16 bytes, RFC 3339 times.
fn check_object(o: &Value, bucket: &str) {
    assert_eq!(o["kind"], "storage#object", "{o}");
    assert_eq!(o["bucket"], bucket, "{o}");
    for field in ["size", "generation", "metageneration"] {
        let v = o[field].as_str().unwrap_or_else(|| panic!("{field}: {o}"));
        assert!(v.parse::<u64>().is_ok(), "{field} = {v}");
    }
    let md5 = base64::engine::general_purpose::STANDARD
        .decode(o["md5Hash"].as_str().unwrap())
        .unwrap();
    assert_eq!(md5.len(), 16);
    for field in ["updated", "timeCreated"] {
        assert!(
            o[field].as_str().is_some_and(|t| t.ends_with('Z')),
            "{field}: {o}"
        );
    }
}

/// Every object of a listing, following `nextPageToken`; also the number of pages.
async fn list_all(e: &Emu, token: &str, query: &str) -> (Vec<Value>, usize) {
    let bucket = e.emu.bucket_name();
    let mut items = Vec::new();
    let mut page_token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/storage/v1/b/{bucket}/o?{query}");
        if let Some(t) = &page_token {
            path.push_str(&format!("&pageToken={t}"));
        }
        let (status, body) = get_json(e, Some(token), &path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["kind"], "storage#objects");
        pages += 1;
        for o in body["items"].as_array().into_iter().flatten() {
            check_object(o, &bucket);
            items.push(o.clone());
        }
        match body["nextPageToken"].as_str() {
            Some(t) => page_token = Some(t.to_string()),
            None => return (items, pages),
        }
    }
}

/// The CSV inside a zip, as rows keyed by header.
fn zip_rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 1);
    let mut text = String::new();
    archive
        .by_index(0)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

async fn download(e: &Emu, token: &str, name: &str) -> Vec<u8> {
    let escaped = name.replace('/', "%2F");
    let (status, bytes) = get(
        e,
        Some(token),
        &format!(
            "/storage/v1/b/{}/o/{escaped}?alt=media",
            e.emu.bucket_name()
        ),
    )
    .await;
    assert_eq!(status, 200, "{name}");
    bytes
}

async fn buy(e: &Emu, body: Value) -> (String, String) {
    let (status, v) = e
        .control("POST", "/emulator/v1/purchases", Some(body))
        .await;
    assert_eq!(status, 201, "{v}");
    (
        v["purchaseToken"].as_str().unwrap().to_string(),
        v["orderId"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn reports_list_what_was_sold_renewed_and_refunded() {
    let e = Emu::start().await;
    let token = storage_token(&e).await;
    let (_, coins) = buy(&e, json!({"productId": "coins_100", "quantity": 2})).await;
    let (unlock_token, unlock) = buy(&e, json!({"productId": "premium_unlock"})).await;
    let (sub_token, sub) = buy(&e, json!({"productId": "sub_monthly"})).await;
    let (_, tested) = buy(&e, json!({"productId": "coins_100", "test": true})).await;
    let (s, v) = e.action(&unlock_token, "void", Some(json!({}))).await;
    assert_eq!(s, 200, "{v}");
    // Two renewals: orders ..0 and ..1.
    for _ in 0..2 {
        let (s, v) = e.action(&sub_token, "renew", Some(json!({}))).await;
        assert_eq!(s, 200, "{v}");
    }

    let (sales, _) = list_all(&e, &token, "prefix=sales/").await;
    let mut charged = BTreeMap::new();
    let mut refunded = BTreeSet::new();
    for o in &sales {
        let name = o["name"].as_str().unwrap();
        assert!(
            name.starts_with("sales/salesreport_") && name.ends_with(".zip"),
            "{name}"
        );
        let bytes = download(&e, &token, name).await;
        assert_eq!(bytes.len().to_string(), o["size"].as_str().unwrap());
        for row in zip_rows(&bytes) {
            assert_eq!(row["Product ID"], support::PKG);
            match row["Financial Status"].as_str() {
                "Charged" => {
                    charged.insert(row["Order Number"].clone(), row);
                }
                "Refund" => {
                    refunded.insert(row["Order Number"].clone());
                }
                other => panic!("status {other}"),
            }
        }
    }
    let expected: BTreeSet<String> = [
        coins.clone(),
        unlock.clone(),
        sub.clone(),
        format!("{sub}..0"),
        format!("{sub}..1"),
    ]
    .into();
    assert_eq!(charged.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(
        !charged.contains_key(&tested),
        "test purchases are never charged"
    );
    assert_eq!(refunded, [unlock.clone()].into());
    // Two coins at 0.99 (demo price), 10 % tax on top.
    let row = &charged[&coins];
    assert_eq!(row["SKU ID"], "coins_100");
    assert_eq!(row["Product Type"], "inapp");
    assert_eq!(row["Item Price"], "1.98");
    assert_eq!(row["Taxes Collected"], "0.20");
    assert_eq!(row["Charged Amount"], "2.18");
    assert_eq!(
        charged[&format!("{sub}..0")]["Product Type"],
        "subscription"
    );

    // Earnings: listed by prefix, several objects in the purchase month.
    let month = sales[0]["name"].as_str().unwrap()[18..24].to_string();
    let (earnings, _) = list_all(&e, &token, &format!("prefix=earnings/earnings_{month}")).await;
    assert!(earnings.len() >= 2, "{earnings:?}");
    let mut types: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in &earnings {
        let bytes = download(&e, &token, o["name"].as_str().unwrap()).await;
        for row in zip_rows(&bytes) {
            types
                .entry(row["Description"].clone())
                .or_default()
                .push(row["Transaction Type"].clone());
        }
    }
    assert_eq!(types[&coins], ["Charge", "Google fee", "Tax"]);
    assert_eq!(
        types[&unlock],
        [
            "Charge",
            "Google fee",
            "Tax",
            "Charge refund",
            "Google fee refund",
            "Tax refund"
        ]
    );
    assert!(!types.contains_key(&tested));

    // The subscription statistics file: UTF-16LE with a BOM.
    let (stats, _) = list_all(&e, &token, "prefix=financial-stats/").await;
    assert!(!stats.is_empty());
    let bytes = download(&e, &token, stats[0]["name"].as_str().unwrap()).await;
    assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert!(String::from_utf16(&units)
        .unwrap()
        .starts_with("Date,Package Name,Product ID,Country,New Subscriptions"));
}

#[tokio::test]
async fn a_report_keeps_its_generation_until_its_content_changes() {
    let e = Emu::start().await;
    let token = storage_token(&e).await;
    buy(&e, json!({"productId": "coins_100"})).await;
    let (first, _) = list_all(&e, &token, "prefix=sales/").await;
    let (again, _) = list_all(&e, &token, "prefix=sales/").await;
    assert_eq!(first, again);
    buy(&e, json!({"productId": "premium_unlock"})).await;
    let (grown, _) = list_all(&e, &token, "prefix=sales/").await;
    let latest = grown.last().unwrap();
    let before = first.iter().find(|o| o["name"] == latest["name"]).unwrap();
    let generation = |o: &Value| o["generation"].as_str().unwrap().parse::<i64>().unwrap();
    assert!(generation(latest) > generation(before));
    assert_ne!(latest["md5Hash"], before["md5Hash"]);
    // The metadata answer is the listing's resource; the bytes match md5Hash.
    let name = latest["name"].as_str().unwrap();
    let (status, meta) = get_json(
        &e,
        Some(&token),
        &format!(
            "/storage/v1/b/{}/o/{}",
            e.emu.bucket_name(),
            name.replace('/', "%2F")
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(&meta, latest);
    let bytes = download(&e, &token, name).await;
    use md5::Digest;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&bytes)),
        latest["md5Hash"].as_str().unwrap()
    );
}

#[tokio::test]
async fn listing_pages_over_a_thousand_objects_and_errors_are_googles() {
    let e = Emu::start().await;
    let token = storage_token(&e).await;
    let bucket = e.emu.bucket_name();
    for i in 0..1005 {
        e.emu.put_object(
            &format!(
                "stats/installs/installs_{}_{i:04}_overview.csv",
                support::PKG
            ),
            vec![b'x'; i % 7],
            "text/csv",
        );
    }
    let (items, pages) = list_all(&e, &token, "prefix=stats/installs/").await;
    assert_eq!(items.len(), 1005);
    assert_eq!(pages, 2, "1,000 a page at most");
    let names: Vec<&str> = items.iter().map(|o| o["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "lexicographic order");
    let (small, pages) = list_all(&e, &token, "prefix=stats/&maxResults=250").await;
    assert_eq!((small.len(), pages), (1005, 5));
    let (status, body) = get_json(
        &e,
        Some(&token),
        &format!("/storage/v1/b/{bucket}/o?delimiter=/"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["prefixes"], json!(["stats/"]));

    let expect_error = |status: u16, body: &Value, code: u16, message: &str| {
        assert_eq!(status, code, "{body}");
        assert_eq!(body["error"]["code"], code);
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{body}"
        );
        assert!(body["error"]["errors"][0]["reason"].is_string(), "{body}");
    };
    let (s, b) = get_json(
        &e,
        Some(&token),
        &format!("/storage/v1/b/{bucket}/o/sales%2Fsalesreport_190001.zip?alt=media"),
    )
    .await;
    expect_error(
        s,
        &b,
        404,
        &format!("No such object: {bucket}/sales/salesreport_190001.zip"),
    );
    let (s, b) = get_json(
        &e,
        Some(&token),
        &format!("/storage/v1/b/{bucket}/o/stats/installs/x.csv?alt=media"),
    )
    .await;
    expect_error(s, &b, 404, "Not Found");
    let (s, b) = get_json(&e, Some(&token), "/storage/v1/b/pubsite_prod_rev_other/o").await;
    expect_error(s, &b, 404, "bucket does not exist");
    let (s, b) = get_json(&e, None, &format!("/storage/v1/b/{bucket}/o")).await;
    expect_error(s, &b, 401, "authentication credential");
    e.emu.set_storage_denied(true);
    let (s, b) = get_json(&e, Some(&token), &format!("/storage/v1/b/{bucket}/o")).await;
    expect_error(s, &b, 403, "Permission 'storage.objects.list' denied");
    let (s, v) = e
        .control(
            "PUT",
            "/emulator/v1/storage/access",
            Some(json!({"denied": false})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = get_json(&e, Some(&token), &format!("/storage/v1/b/{bucket}/o")).await;
    assert_eq!(s, 200);
}
