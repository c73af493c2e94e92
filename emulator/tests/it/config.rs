//! Catalog and configuration files, and the `play-emulator` binary's flags.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use play_emulator::{Catalog, Config};
use serde_json::{json, Value};
use support::Emu;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[tokio::test]
async fn catalog_file_toml_and_json() {
    let toml = Catalog::from_file(&data("catalog.toml")).unwrap();
    assert_eq!(toml.products.len(), 2);
    assert_eq!(toml.subscriptions[0].base_plans.len(), 2);
    let json_text = serde_json::to_string(&toml).unwrap();
    assert_eq!(Catalog::from_json(&json_text).unwrap(), toml);
    assert!(
        Catalog::from_toml("[[products]]\nsku = \"a\"\ntitle = \"A\"\nprice = \"x\"\n").is_err()
    );
    assert!(Catalog::from_toml(
        "[[products]]\nsku = \"a\"\ntitle = \"A\"\nprice = \"1\"\ncolour = \"red\"\n"
    )
    .is_err());

    let e = Emu::start_with(move |c| c.catalog = toml).await;
    let (_, items) = e
        .control(
            "GET",
            "/emulator/v1/device/items?ids=gems_50,old_item,vip,coins_100",
            None,
        )
        .await;
    assert_eq!(
        items.as_array().unwrap().len(),
        2,
        "inactive and unknown items are left out: {items}"
    );
    assert_eq!(
        items[0]["price"],
        json!({ "currency": "EUR", "value": "1.49" })
    );
    assert_eq!(
        items[1]["subscriptionPeriod"], "P1M",
        "the backwards-compatible base plan"
    );
    let t = e
        .buy(json!({ "productId": "vip", "basePlanId": "annual" }))
        .await;
    let (_, sub) = e.subscription(&t).await;
    assert_eq!(
        sub["lineItems"][0]["autoRenewingPlan"]["recurringPrice"],
        json!({ "currencyCode": "EUR", "units": "39", "nanos": 990000000 })
    );
    let (_, sub) = e.google("GET", "subscriptions/vip", None).await;
    assert_eq!(
        sub["basePlans"][1]["regionalConfigs"][0]["regionCode"],
        "DE"
    );
}

#[test]
fn config_file() {
    let dir = std::env::temp_dir().join(format!("play-emulator-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(data("catalog.toml"), dir.join("catalog.toml")).unwrap();
    std::fs::write(
        dir.join("emulator.toml"),
        "port = 0\npackage_name = \"com.example.other\"\ncatalog = \"catalog.toml\"\n[quotas]\npurchases_per_minute = 7\n[rtdn]\npush_url = \"http://127.0.0.1:9/rtdn\"\n",
    )
    .unwrap();
    let c = Config::from_file(&dir.join("emulator.toml")).unwrap();
    assert_eq!(c.package_name, "com.example.other");
    assert_eq!(c.quotas.purchases_per_minute, 7);
    assert_eq!(
        c.quotas.voided_purchases_per_30s, 30,
        "defaults for the rest"
    );
    assert_eq!(c.catalog.products[0].sku, "gems_50");
    assert_eq!(c.rtdn.push_url.as_deref(), Some("http://127.0.0.1:9/rtdn"));
    std::fs::write(dir.join("bad.toml"), "prot = 1\n").unwrap();
    assert!(
        Config::from_file(&dir.join("bad.toml")).is_err(),
        "unknown keys are refused"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn binary_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_play-emulator"))
        .arg("--print-demo-catalog")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        Catalog::from_toml(&String::from_utf8(out.stdout).unwrap()).unwrap(),
        Catalog::demo()
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_play-emulator"))
        .args([
            "--port",
            "0",
            "--package-name",
            "com.example.flags",
            "--quota",
            "purchases_per_minute=1",
        ])
        .arg("--catalog")
        .arg(data("catalog.toml"))
        .args([
            "--rtdn-push-url",
            "http://127.0.0.1:9/rtdn",
            "--rtdn-audience",
            "aud-1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the URL is printed")
        .to_string();
    let http = support::http_client();
    let get = |path: &str| http.get(format!("{url}{path}")).send();
    let key: Value = get("/emulator/v1/service-account.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(key["token_uri"], format!("{url}/token"));
    let items: Value = get("/emulator/v1/device/items?ids=gems_50")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(items[0]["itemId"], "gems_50");
    let quotas: Value = get("/emulator/v1/quotas")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quotas["purchases_per_minute"], 1);
    let rtdn: Value = get("/emulator/v1/rtdn")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rtdn["pushUrl"].as_str(), rtdn["audience"].as_str()),
        (Some("http://127.0.0.1:9/rtdn"), Some("aud-1"))
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let bad = Command::new(env!("CARGO_BIN_EXE_play-emulator"))
        .args(["--quota", "nope=1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
