//! `pwa-billing catalog`: the binary against a Play emulator on loopback (real HTTP), each
//! test with its own emulator seeded through `play_emulator::Catalog`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use play_emulator::catalog_file::CatalogFile;
use play_emulator::{Catalog, Emulator};
use serde_json::{json, Value};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pwa-billing");

struct Setup {
    emulator: play_emulator::RunningEmulator,
    dir: tempfile::TempDir,
    key: PathBuf,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn parse(text: &str) -> CatalogFile {
    CatalogFile::parse(text, false).unwrap()
}

/// An emulator whose live catalog is `live` (a migrated app: `inappproducts` answers 403).
async fn setup(live: &str, edit: impl FnOnce(&mut play_emulator::Config)) -> Setup {
    let mut config = play_emulator::Config {
        port: 0,
        share_keys: true,
        inappproducts_migrated: true,
        catalog: Catalog::from_catalog_file(parse(live)),
        ..Default::default()
    };
    edit(&mut config);
    let emulator = Emulator::bind(config).await.expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    std::fs::write(&key, emulator.service_account_key().to_string()).unwrap();
    // The server refuses a service-account key others can read.
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Setup { emulator, dir, key }
}

impl Setup {
    fn catalog(&self) -> PathBuf {
        self.dir.path().join("catalog.toml")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.catalog(), text).unwrap();
    }

    async fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .env_clear()
            .env("RUST_LOG", "warn")
            .env("PWA_BILLING_PACKAGE_NAME", self.emulator.package_name())
            .env("PWA_BILLING_SERVICE_ACCOUNT_KEY", &self.key)
            .env("PWA_BILLING_PLAY_API_BASE_URL", self.emulator.url())
            .arg("catalog")
            .arg("--catalog")
            .arg(self.catalog())
            .args(args)
            .args(match args.first() {
                Some(&("validate" | "schema")) => &[][..],
                _ => &["--retry-base-ms", "5"][..],
            })
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Calls of `method` (a discovery id suffix) so far.
    fn calls(&self, method: &str) -> u64 {
        self.emulator
            .calls()
            .iter()
            .filter(|(id, _)| id.ends_with(method))
            .map(|(_, n)| n)
            .sum()
    }

    /// Modification calls so far (every catalog write method).
    fn modifications(&self) -> u64 {
        self.emulator
            .calls()
            .iter()
            .filter(|(id, _)| {
                id.contains("monetization.")
                    && [
                        ".batchUpdate",
                        ".batchUpdateStates",
                        ".batchDelete",
                        ".patch",
                        ".delete",
                    ]
                    .iter()
                    .any(|m| id.ends_with(m))
            })
            .map(|(_, n)| n)
            .sum()
    }

    async fn google(&self, method: &str, rest: &str, body: Option<Value>) -> (u16, Value) {
        let http = reqwest::Client::new();
        let token = self.token().await;
        let url = format!(
            "{}/androidpublisher/v3/applications/{}/{rest}",
            self.emulator.url(),
            self.emulator.package_name()
        );
        let mut r = http
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self) -> String {
        let key: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.key).unwrap()).unwrap();
        let key = pwa_billing_server::play::ServiceAccountKey::from_json(&key.to_string()).unwrap();
        let http = reqwest::Client::new();
        let tokens = pwa_billing_server::play::TokenSource::new(
            key,
            http,
            pwa_billing_server::metrics::Metrics::new(),
        )
        .unwrap();
        tokens.token().await.unwrap()
    }

    async fn control(&self, method: &str, path: &str, body: Value) {
        let r = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("{}{path}", self.emulator.url()),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
}

/// `n` one-time products `p00000…` with one active option priced in the US.
fn many(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[one_time_products.p{i:05}]\nlistings.en-US = {{ title = \"Product {i}\" }}\npurchase_options.buy = {{ legacy_compatible = true, prices = {{ US = \"{}.99 USD\" }} }}\n",
            i % 50
        ));
    }
    text
}

const DEMO: &str = include_str!("../../../catalog.toml");

#[tokio::test]
async fn schema_is_published_and_the_demo_catalog_is_valid() {
    let published = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog.schema.json"),
    )
    .unwrap();
    assert_eq!(
        published.trim_end(),
        pwa_billing_server::catalog::schema_text(),
        "catalog.schema.json is stale: run `pwa-billing catalog schema > catalog.schema.json`"
    );
    let s = setup("", |_| {}).await;
    s.write(DEMO);
    let r = s.run(&["validate"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("valid (2 one-time products, 2 subscriptions)"),
        "{r:?}"
    );
    // Every error names its entry; exit 2.
    s.write("[one_time_products.Coins]\nlistings.en-US = { title = \"C\" }\npurchase_options.buy = { prices = { US = \"0.99\" } }\n");
    let r = s.run(&["validate"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("one_time_products.Coins: product id \"Coins\""),
        "{r:?}"
    );
    assert!(r.stdout.contains("one_time_products.Coins.purchase_options.buy.prices.US: \"0.99\" is not \"<decimal> <CURRENCY>\""), "{r:?}");
    // A float price or an unknown key is a parse error naming the line.
    s.write("[one_time_products.coins]\nlistings.en-US = { title = \"C\" }\npurchase_options.buy = { prices = { US = 0.99 } }\n");
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("line 3"), "{r:?}");
    assert_eq!(
        s.modifications() + s.calls("list"),
        0,
        "nothing called for an invalid file"
    );
}

#[tokio::test]
async fn demo_catalog_applies_pulls_back_and_plans_nothing() {
    let s = setup("", |_| {}).await;
    s.write(DEMO);
    let r = s.run(&["plan", "--json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        plan["regions_version"], "2025/03",
        "from convertRegionPrices"
    );
    // The explicit price wins over the converted one; the rest is converted.
    let coins = &plan["converted_prices"]["0.99 USD"];
    assert_eq!(coins["DE"], "0.91 EUR");
    assert_eq!(
        plan["writes"].as_array().unwrap().len(),
        6,
        "4 products and 2 offers"
    );
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("verified: the live catalog matches the file"),
        "{r:?}"
    );
    let (_, coins) = s.google("GET", "oneTimeProducts/coins_100", None).await;
    let de = coins["purchaseOptions"][0]["regionalPricingAndAvailabilityConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["regionCode"] == "DE")
        .unwrap()
        .clone();
    assert_eq!(
        de["price"],
        json!({ "currencyCode": "EUR", "units": "0", "nanos": 990_000_000 })
    );
    assert_eq!(coins["purchaseOptions"][0]["state"], "ACTIVE");

    // pull writes the live catalog (explicit prices, kinds kept), plan then finds nothing.
    let r = s.run(&["pull"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let pulled = std::fs::read_to_string(s.catalog()).unwrap();
    let file = parse(&pulled);
    assert_eq!(
        file.one_time_products["coins_100"].kind,
        play_emulator::catalog_file::OneTimeKind::Consumable
    );
    assert!(file.one_time_products["coins_100"].purchase_options["buy"]
        .auto_price
        .is_none());
    assert!(
        !pulled.contains("state = \"DRAFT\"") && !pulled.contains("packageName"),
        "{pulled}"
    );
    let before = s.modifications();
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing to do"), "{r:?}");
    assert_eq!(s.modifications(), before);
    // Pulling twice gives the same bytes.
    s.run(&["pull"]).await;
    assert_eq!(std::fs::read_to_string(s.catalog()).unwrap(), pulled);
}

#[tokio::test]
async fn ten_thousand_products_in_one_hundred_tolerant_batches() {
    let s = setup("", |_| {}).await;
    s.write(&many(10_000));
    let r = s.run(&["plan", "--json"]).await;
    let plan: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{r:?}"));
    assert_eq!(plan["cost"]["latency_tolerant"], true);
    assert_eq!(plan["cost"]["modification_calls"], 200);
    let started = std::time::Instant::now();
    let r = s.run(&["apply", "--yes"]).await;
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{r:?}");
    // The minimum: 100 batchUpdate + 100 batchUpdateStates (options start DRAFT), and
    // tolerant batches (10,000 sensitive entries would break the 7,200/h quota).
    assert_eq!(s.calls("onetimeproducts.batchUpdate"), 100);
    assert_eq!(s.calls("purchaseOptions.batchUpdateStates"), 100);
    assert_eq!(s.modifications(), 200);
    println!(
        "catalog apply, 10,000 one-time products: {} modification calls (minimum 200: 100 batchUpdate + 100 batchUpdateStates), {} reads, {:.1} s",
        s.modifications(),
        s.calls("onetimeproducts.list") + s.calls("convertRegionPrices"),
        took.as_secs_f64()
    );
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        s.modifications(),
        200,
        "a second plan makes no modification call"
    );
}

const ONE: &str = r#"
[one_time_products.gems]
listings.en-US = { title = "Gems", description = "Shiny" }
listings.fr-FR = { title = "Gemmes" }
purchase_options.buy = { legacy_compatible = true, prices = { US = "1.99 USD", DE = "1.99 EUR" } }
[subscriptions.pro.listings.en-US]
title = "Pro"
[subscriptions.pro.base_plans.monthly]
billing_period = "P1M"
legacy_compatible = true
prices = { US = "2.99 USD", DE = "2.99 EUR" }
[subscriptions.pro.base_plans.yearly]
billing_period = "P1Y"
state = "inactive"
prices = { US = "29.99 USD" }
"#;

#[tokio::test]
async fn one_field_change_is_one_patch_with_its_mask() {
    let s = setup(ONE, |_| {}).await;
    s.write(&ONE.replace("title = \"Gemmes\"", "title = \"Pierres\""));
    let r = s.run(&["plan", "--json", "--exit-code"]).await;
    assert_eq!(r.code, 3, "{r:?}");
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        plan["writes"],
        json!([{ "kind": "one_time_product", "id": "gems", "create": false, "update_mask": ["listings"] }])
    );
    assert_eq!(plan["state_changes"], json!([]));
    assert_eq!(
        plan["cost"]["latency_tolerant"], false,
        "a small change propagates within minutes"
    );
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(s.calls("onetimeproducts.batchUpdate"), 1);
    assert_eq!(s.modifications(), 1);
    let (_, gems) = s.google("GET", "oneTimeProducts/gems", None).await;
    assert_eq!(gems["listings"][1]["title"], "Pierres");
    assert_eq!(
        gems["purchaseOptions"][0]["regionalPricingAndAvailabilityConfigs"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "regions untouched"
    );
    assert_eq!(gems["purchaseOptions"][0]["state"], "ACTIVE");

    // A price change patches the base plans; a state change goes through batchUpdateStates.
    let renamed = ONE.replace("title = \"Gemmes\"", "title = \"Pierres\"");
    s.write(
        &renamed
            .replace("2.99 EUR", "3.49 EUR")
            .replace("state = \"inactive\"", "state = \"active\""),
    );
    let r = s.run(&["plan", "--json"]).await;
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["writes"][0]["update_mask"], json!(["basePlans"]));
    assert_eq!(
        plan["state_changes"],
        json!([{ "kind": "subscription", "id": "pro", "entry": "yearly", "to": "ACTIVE" }])
    );
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("warning: subscriptions.pro: 2 active base plans"),
        "the PWA warning: {r:?}"
    );
    assert_eq!(s.calls("subscriptions.batchUpdate"), 1);
    assert_eq!(s.calls("basePlans.batchUpdateStates"), 1);
}

#[tokio::test]
async fn refusals_come_before_any_call() {
    let s = setup(ONE, |_| {}).await;
    let cases = [
        (
            ONE.replace(", DE = \"1.99 EUR\"", ""),
            "one_time_products.gems.purchase_options.buy.prices.DE",
            "withdrawn = [\"DE\"]",
        ),
        (
            ONE.replace("billing_period = \"P1M\"", "billing_period = \"P3M\""),
            "subscriptions.pro.base_plans.monthly",
            "new id",
        ),
        (
            ONE.split("[subscriptions.pro").next().unwrap().to_string(),
            "subscriptions.pro",
            "Play deletes drafts only",
        ),
        (
            ONE.replace("state = \"inactive\"", "state = \"draft\""),
            "subscriptions.pro.base_plans.yearly",
            "set state = \"inactive\"",
        ),
        (
            String::new(),
            "(file)",
            "the catalog file is empty but the app has 2 products",
        ),
    ];
    for (file, path, fix) in cases {
        s.write(&file);
        let r = s.run(&["plan"]).await;
        assert_eq!(r.code, 4, "{path}: {r:?}");
        assert!(
            r.stdout.contains(path) && r.stdout.contains(fix),
            "{path}: {r:?}"
        );
        let r = s.run(&["apply", "--yes"]).await;
        assert_eq!(r.code, 4, "{path}: {r:?}");
        assert!(r.stderr.contains("nothing applied"), "{r:?}");
    }
    assert_eq!(s.modifications(), 0, "no modification call");
    // The fix works: the region stays, withdrawn.
    s.write(&ONE.replace(
        "DE = \"1.99 EUR\" }",
        "DE = \"1.99 EUR\" }, withdrawn = [\"DE\"]",
    ));
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let (_, gems) = s.google("GET", "oneTimeProducts/gems", None).await;
    let de = &gems["purchaseOptions"][0]["regionalPricingAndAvailabilityConfigs"][0];
    assert_eq!(
        (de["regionCode"].as_str(), de["availability"].as_str()),
        (Some("DE"), Some("NO_LONGER_AVAILABLE"))
    );
}

#[tokio::test]
async fn deletes_need_the_flag_and_only_drafts_go() {
    let live = format!("{ONE}\n[one_time_products.old]\nlistings.en-US = {{ title = \"Old\" }}\npurchase_options.buy = {{ state = \"draft\", prices = {{ US = \"1.00 USD\" }} }}\n");
    let s = setup(&live, |_| {}).await;
    s.write(ONE);
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("1 deletes need --allow-delete"), "{r:?}");
    assert_eq!(s.modifications(), 0);
    let r = s.run(&["apply", "--yes", "--allow-delete"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(s.calls("onetimeproducts.batchDelete"), 1);
    assert_eq!(s.google("GET", "oneTimeProducts/old", None).await.0, 404);
}

#[tokio::test]
async fn quota_exhaustion_exits_75_and_a_rerun_finishes_without_repeats() {
    let s = setup("", |c| c.quotas.catalog_modifications_per_hour = 4).await;
    s.write(&many(250));
    // 3 batchUpdate + 3 batchUpdateStates: the 5th modification call of the hour is refused.
    let r = s.run(&["apply", "--yes", "--latency", "tolerant"]).await;
    assert_eq!(r.code, 75, "{r:?}");
    assert!(
        r.stderr.contains("hourly quota exhausted") && r.stderr.contains("rerun apply after"),
        "{r:?}"
    );
    let checkpoint: Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.path().join("catalog.toml.checkpoint.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(checkpoint["appliedEntries"], 350);
    assert!(checkpoint["resumeAfter"].is_string());
    s.emulator.advance_clock(3600);
    let r = s.run(&["apply", "--yes", "--latency", "tolerant"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("applied 150 of 150 entries in 2 modification calls"),
        "{r:?}"
    );
    assert_eq!(
        s.calls("onetimeproducts.batchUpdate"),
        3,
        "no product written twice"
    );
    assert_eq!(
        s.calls("purchaseOptions.batchUpdateStates"),
        4,
        "1 + the refused one + 2"
    );
    assert!(!s.dir.path().join("catalog.toml.checkpoint.json").exists());
}

#[tokio::test]
async fn injected_5xx_leave_the_catalog_converged_or_resumable() {
    let s = setup("", |_| {}).await;
    s.write(&many(500));
    s.control(
        "PUT",
        "/emulator/v1/faults",
        json!({ "rate": 0.5, "status": 503, "methods": [
        "androidpublisher.monetization.onetimeproducts.batchUpdate",
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates",
    ] }),
    )
    .await;
    let r = s.run(&["apply", "--yes", "--max-attempts", "3"]).await;
    match r.code {
        0 => assert!(r.stdout.contains("verified"), "{r:?}"),
        5 => assert!(r.stderr.contains("rerun apply to converge"), "{r:?}"),
        _ => panic!("neither converged nor resumable: {r:?}"),
    }
    assert!(r.stdout.contains("retries"), "{r:?}");
    s.control("DELETE", "/emulator/v1/faults", json!({})).await;
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

/// The catalog retries through the server's client and its one rule (issue 19): a 409
/// `concurrentUpdate` is retried, and a `Retry-After` longer than `--retry-max-delay-ms`
/// stops apply at once, resumable (it used to wait up to 60 s per attempt).
#[tokio::test]
async fn a_retry_after_longer_than_the_max_delay_stops_apply_at_once() {
    let s = setup("", |_| {}).await;
    s.write(&many(5));
    let batch = "androidpublisher.monetization.onetimeproducts.batchUpdate";
    s.control(
        "PUT",
        "/emulator/v1/faults",
        json!({ "rate": 1.0, "status": 409, "methods": [batch] }),
    )
    .await;
    let r = s.run(&["apply", "--yes", "--max-attempts", "3"]).await;
    assert_eq!(r.code, 5, "{r:?}");
    assert_eq!(s.calls("onetimeproducts.batchUpdate"), 3, "409 retried");
    assert!(r.stdout.contains("2 retries"), "{r:?}");
    s.control(
        "PUT",
        "/emulator/v1/faults",
        json!({ "rate": 1.0, "status": 429, "retryAfterSecs": 60, "methods": [batch] }),
    )
    .await;
    let started = std::time::Instant::now();
    let r = s
        .run(&[
            "apply",
            "--yes",
            "--max-attempts",
            "5",
            "--retry-max-delay-ms",
            "2000",
        ])
        .await;
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stderr.contains("rerun apply to converge"), "{r:?}");
    assert_eq!(
        s.calls("onetimeproducts.batchUpdate"),
        4,
        "one more call, no retry"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    s.control("DELETE", "/emulator/v1/faults", json!({})).await;
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test]
async fn a_refused_batch_is_narrowed_to_the_entry_at_fault() {
    // `clash` is a draft subscription on Play and a one-time product in the file: Play
    // refuses that entry until the subscription is deleted (the last phase).
    let s = setup("[subscriptions.clash.listings.en-US]\ntitle = \"C\"\n[subscriptions.clash.base_plans.m]\nbilling_period = \"P1M\"\nstate = \"draft\"\nprices = { US = \"1.00 USD\" }\n", |_| {}).await;
    let file = many(150).replace("p00042", "clash");
    s.write(&file);
    let r = s.run(&["apply", "--yes", "--allow-delete"]).await;
    assert_eq!(r.code, 5, "{r:?}");
    assert!(
        r.stderr.contains("refused: clash:") && r.stderr.contains("1 entries refused"),
        "{r:?}"
    );
    let (_, list) = s.google("GET", "oneTimeProducts?pageSize=1000", None).await;
    assert_eq!(
        list["oneTimeProducts"].as_array().unwrap().len(),
        149,
        "every other entry applied"
    );
    let r = s.run(&["apply", "--yes", "--allow-delete"]).await;
    assert_eq!(r.code, 0, "the rerun converges: {r:?}");
}

#[tokio::test]
async fn pull_reads_legacy_inappproducts_of_an_app_not_migrated() {
    let s = setup(ONE, |c| c.inappproducts_migrated = false).await;
    let legacy = json!({ "sku": "old_coins", "status": "active", "defaultLanguage": "en-US",
        "defaultPrice": { "priceMicros": "990000", "currency": "USD" },
        "prices": { "US": { "priceMicros": "990000", "currency": "USD" } },
        "listings": { "en-US": { "title": "Old coins", "description": "d" } } });
    assert_eq!(s.google("POST", "inappproducts", Some(legacy)).await.0, 200);
    let r = s.run(&["pull"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let file = CatalogFile::read(&s.catalog()).unwrap();
    let old = &file.one_time_products["old_coins"];
    let option = &old.purchase_options["legacy-base"];
    assert!(option.legacy_compatible);
    assert_eq!(
        option.prices,
        BTreeMap::from([("US".to_string(), "0.99 USD".to_string())])
    );
    assert!(
        file.one_time_products.contains_key("gems"),
        "and the new model's products"
    );
}

#[tokio::test]
async fn the_server_and_the_sandbox_read_the_same_file() {
    use pwa_billing_server::config::Config;
    use pwa_billing_server::product::ProductKind;
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog.toml");
    let env = |extra: &[(&str, &str)]| {
        let mut env: Vec<(String, String)> = [
            ("PWA_BILLING_PACKAGE_NAME", "com.example.pwa"),
            ("PWA_BILLING_SERVICE_ACCOUNT_KEY", "key.json"),
            (
                "PWA_BILLING_AUTH_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.sort();
        env
    };
    let path = demo.to_str().unwrap();
    let c = Config::load_from(None, env(&[("PWA_BILLING_CATALOG", path)])).unwrap();
    assert_eq!(c.products["coins_100"], ProductKind::Consumable);
    assert_eq!(c.products["premium_unlock"], ProductKind::NonConsumable);
    assert_eq!(c.products["sub_yearly"], ProductKind::Subscription);
    // The deprecated list still works, and must agree with the file.
    let c =
        Config::load_from(None, env(&[("PWA_BILLING_PRODUCTS", "old=non_consumable")])).unwrap();
    assert_eq!(c.products["old"], ProductKind::NonConsumable);
    let e = Config::load_from(
        None,
        env(&[
            ("PWA_BILLING_CATALOG", path),
            ("PWA_BILLING_PRODUCTS", "coins_100=non_consumable"),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.key, "products.coins_100", "{e}");
    assert_eq!(
        Config::load_from(None, env(&[])).unwrap_err().key,
        "catalog"
    );
    let e = Config::load_from(None, env(&[("PWA_BILLING_CATALOG", "missing.toml")])).unwrap_err();
    assert!(
        e.key == "catalog" && e.to_string().contains("missing.toml"),
        "{e}"
    );

    // The sandbox's emulator starts from the file and the server sells its products.
    let catalog = Catalog::from_file(&demo).unwrap();
    let products = pwa_billing_server::sandbox::sandbox_products(&catalog);
    assert_eq!(products["coins_100"], ProductKind::Consumable);
    let s = setup("", |c| c.catalog = catalog).await;
    // The device sandbox shows the file's free trial and introductory price.
    let items: Value = reqwest::get(format!(
        "{}/emulator/v1/device/items?ids=sub_monthly,sub_yearly",
        s.emulator.url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(items[0]["freeTrialPeriod"], "P7D", "{items}");
    assert_eq!(items[1]["introductoryPrice"]["value"], "9.99", "{items}");
    let (status, coins) = s.google("GET", "oneTimeProducts/coins_100", None).await;
    assert_eq!(status, 200);
    let options = &coins["purchaseOptions"][0];
    assert_eq!(options["state"], "ACTIVE");
    assert_eq!(
        options["regionalPricingAndAvailabilityConfigs"]
            .as_array()
            .unwrap()
            .len(),
        29,
        "auto_price converted to every region"
    );
    s.write(DEMO);
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(
        r.code, 0,
        "an emulator seeded from the file matches it: {r:?}"
    );
}

#[tokio::test]
async fn migrate_prices_is_explicit_and_states_the_notice() {
    let s = setup(ONE, |_| {}).await;
    let base = [
        "migrate-prices",
        "--subscription",
        "pro",
        "--base-plan",
        "monthly",
    ];
    // Without --yes (and no terminal) nothing is sent.
    let r = s.run(&base).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("37 days' notice") && r.stderr.contains("pass --yes"),
        "{r:?}"
    );
    assert_eq!(s.calls("migratePrices"), 0);
    let r = s.run(&[&base[..], &["--yes"]].concat()).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("in 2 regions (DE, US)") && r.stdout.contains("price migration started"),
        "{r:?}"
    );
    assert_eq!(s.calls("migratePrices"), 1);
    // Google's refusals are exit 4: an opt-out increase (the first is the Console's), a
    // base plan never published.
    let r = s
        .run(&[&base[..], &["--yes", "--increase-type", "opt-out"]].concat())
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains("must be initiated in the Play Console"),
        "{r:?}"
    );
    let r = s
        .run(&[
            "migrate-prices",
            "--subscription",
            "pro",
            "--base-plan",
            "nope",
            "--yes",
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    // A catalog apply never migrates prices.
    s.write(&ONE.replace("2.99 USD", "3.99 USD"));
    assert_eq!(s.run(&["apply", "--yes"]).await.code, 0);
    assert_eq!(
        s.calls("migratePrices"),
        2,
        "the one started and the one refused"
    );
}

#[tokio::test]
async fn offers_are_written_activated_and_pulled() {
    let with_offer = format!(
        "{ONE}\n[subscriptions.pro.base_plans.monthly.offers.trial]\ntags = [\"trial\"]\nphases = [{{ duration = \"P7D\", free = true }}, {{ duration = \"P1M\", prices = {{ US = \"0.99 USD\", DE = \"0.99 EUR\" }} }}]\n"
    );
    let s = setup(ONE, |_| {}).await;
    s.write(&with_offer);
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("+ create subscription offer pro/monthly/trial"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("> activate offer pro/monthly/trial"),
        "{r:?}"
    );
    assert_eq!(s.calls("offers.batchUpdate"), 1);
    assert_eq!(s.calls("offers.batchUpdateStates"), 1);
    let (_, offer) = s
        .google(
            "GET",
            "subscriptions/pro/basePlans/monthly/offers/trial",
            None,
        )
        .await;
    assert_eq!(offer["state"], "ACTIVE");
    assert_eq!(
        offer["phases"][0]["regionalConfigs"][0],
        json!({ "regionCode": "DE", "free": {} })
    );
    assert!(offer["targeting"]["acquisitionRule"].is_object(), "{offer}");

    // One tag changed: one patch with mask offerTags.
    s.write(&with_offer.replace("tags = [\"trial\"]", "tags = [\"trial\", \"intro\"]"));
    let r = s.run(&["plan", "--json"]).await;
    let plan: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{r:?}"));
    assert_eq!(
        plan["writes"],
        json!([{ "kind": "subscription_offer", "id": "pro/monthly/trial", "create": false, "update_mask": ["offerTags"] }])
    );
    // A second active offer: the PWA warning; a published offer cannot be dropped.
    let second = "[subscriptions.pro.base_plans.monthly.offers.other]\nphases = [{ duration = \"P3D\", free = true }]\n";
    s.write(&format!("{with_offer}{second}"));
    let r = s.run(&["validate"]).await;
    assert!(r.stdout.contains("warning: subscriptions.pro.base_plans.monthly: 2 active offers: a TWA buys the first offer"), "{r:?}");
    s.write(ONE);
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("subscriptions.pro.base_plans.monthly.offers.trial: a published offer cannot be removed"), "{r:?}");

    // pull then plan: nothing to do.
    s.write(&with_offer);
    assert_eq!(s.run(&["pull"]).await.code, 0);
    let pulled = CatalogFile::read(&s.catalog()).unwrap();
    assert_eq!(
        pulled.subscriptions["pro"].base_plans["monthly"].offers["trial"].tags,
        ["trial"]
    );
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test]
async fn an_offer_phase_priced_by_conversion_sells_in_each_region_of_its_base_plan() {
    // Explicit prices win for their regions; the rest of the base plan's regions (US here)
    // get the converted price, and no region the base plan does not sell in.
    let with_offer = format!(
        "{ONE}\n[subscriptions.pro.base_plans.monthly.offers.intro]\nphases = [{{ duration = \"P1M\", auto_price = \"0.99 USD\", prices = {{ DE = \"0.89 EUR\" }} }}]\n"
    );
    let s = setup(ONE, |_| {}).await;
    s.write(&with_offer);
    let r = s.run(&["validate"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("auto_price 0.99 USD → "), "{r:?}");
    assert!(
        r.stdout
            .contains("+ create subscription offer pro/monthly/intro"),
        "{r:?}"
    );
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let (_, offer) = s
        .google(
            "GET",
            "subscriptions/pro/basePlans/monthly/offers/intro",
            None,
        )
        .await;
    let configs: BTreeMap<String, Value> = offer["phases"][0]["regionalConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["regionCode"].as_str().unwrap().to_string(),
                c["price"].clone(),
            )
        })
        .collect();
    assert_eq!(configs.keys().collect::<Vec<_>>(), ["DE", "US"], "{offer}");
    assert_eq!(configs["DE"]["currencyCode"], "EUR");
    assert_eq!(configs["DE"]["nanos"], 890_000_000);
    assert_eq!(configs["US"]["currencyCode"], "USD");
    assert_eq!(configs["US"]["nanos"], 990_000_000);
    // Converged: the same file plans nothing.
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

/// A one-time product whose buy option sells in three regions, in table syntax so offers can
/// be added below it.
const OTP: &str = r#"
[one_time_products.gems]
kind = "consumable"
listings.en-US = { title = "Gems" }
[one_time_products.gems.purchase_options.buy]
legacy_compatible = true
prices = { US = "4.99 USD", DE = "4.99 EUR", GB = "4.49 GBP" }
"#;

const LAUNCH: &str = r#"
[one_time_products.gems.purchase_options.buy.offers.launch]
tags = ["launch"]
discounted = { start = "2027-01-01T00:00:00Z", end = "2027-02-01T00:00:00Z", redemption_limit = 1 }
discounts = { US = "1.00 USD", DE = "20%", GB = "none" }
"#;

const PREORDER: &str = r#"
[one_time_products.gems.purchase_options.buy.offers.early]
state = "draft"
pre_order = { start = "2027-01-01T00:00:00Z", end = "2027-03-01T00:00:00Z", release = "2027-03-01T00:00:00Z" }
discounts = { US = "none", DE = "none", GB = "none" }
"#;

#[tokio::test]
async fn one_time_offers_are_written_patched_moved_through_their_states_and_pulled() {
    let s = setup(OTP, |_| {}).await;
    let file = format!("{OTP}{LAUNCH}{PREORDER}");
    s.write(&file);
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    for line in [
        "+ create one-time offer gems/buy/launch (updateMask=regionalPricingAndAvailabilityConfigs,offerTags,discountedOffer)",
        "+ create one-time offer gems/buy/early (updateMask=regionalPricingAndAvailabilityConfigs,offerTags,preOrderOffer)",
        "> activate offer gems/buy/launch",
    ] {
        assert!(r.stdout.contains(line), "{line}: {r:?}");
    }
    assert!(
        r.stderr.contains("legacy billing flows"),
        "the PWA warning: {r:?}"
    );
    // Both offers in one batchUpdate, the activation in one batchUpdateStates.
    assert_eq!(s.calls("purchaseOptions.offers.batchUpdate"), 1);
    assert_eq!(s.calls("purchaseOptions.offers.batchUpdateStates"), 1);
    let (status, list) = s
        .google(
            "GET",
            "oneTimeProducts/gems/purchaseOptions/buy/offers",
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let offers = list["oneTimeProductOffers"].as_array().unwrap();
    let launch = offers.iter().find(|o| o["offerId"] == "launch").unwrap();
    let early = offers.iter().find(|o| o["offerId"] == "early").unwrap();
    assert_eq!(
        (launch["state"].as_str(), early["state"].as_str()),
        (Some("ACTIVE"), Some("DRAFT"))
    );
    let region = |r: &str| {
        launch["regionalPricingAndAvailabilityConfigs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["regionCode"] == r)
            .cloned()
            .unwrap()
    };
    assert_eq!(region("US")["absoluteDiscount"]["units"], "1");
    assert_eq!(region("DE")["relativeDiscount"], 0.2);
    assert_eq!(region("GB")["noOverride"], json!({}));
    assert_eq!(launch["discountedOffer"]["redemptionLimit"], "1");
    assert_eq!(
        early["preOrderOffer"]["priceChangeBehavior"],
        "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_TWO_POINT_LOWEST"
    );

    // One field changed: one batchUpdate call with the mask offerTags.
    let tagged = file.replace("tags = [\"launch\"]", "tags = [\"launch\", \"winter\"]");
    s.write(&tagged);
    let r = s.run(&["plan", "--json"]).await;
    let plan: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{r:?}"));
    assert_eq!(
        plan["writes"],
        json!([{ "kind": "one_time_offer", "id": "gems/buy/launch", "create": false, "update_mask": ["offerTags"] }])
    );
    let before = s.modifications();
    assert_eq!(s.run(&["apply", "--yes"]).await.code, 0);
    assert_eq!(s.modifications() - before, 1, "one call");

    // Deactivate, then cancel; a cancelled offer is never activated again.
    for (state, verb, live) in [
        ("inactive", "deactivate", "INACTIVE"),
        ("cancelled", "cancel", "CANCELLED"),
    ] {
        let text = tagged.replacen(
            "tags = [\"launch\", \"winter\"]",
            &format!("state = \"{state}\"\ntags = [\"launch\", \"winter\"]"),
            1,
        );
        s.write(&text);
        let r = s.run(&["apply", "--yes"]).await;
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stdout
                .contains(&format!("> {verb} offer gems/buy/launch")),
            "{r:?}"
        );
        let (_, o) = s
            .google(
                "GET",
                "oneTimeProducts/gems/purchaseOptions/buy/offers",
                None,
            )
            .await;
        let o = o["oneTimeProductOffers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["offerId"] == "launch")
            .cloned()
            .unwrap();
        assert_eq!(o["state"], live);
    }
    s.write(&tagged);
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout.contains("one_time_products.gems.purchase_options.buy.offers.launch: a cancelled offer stays cancelled"),
        "{r:?}"
    );
    let cancelled = tagged.replacen(
        "tags = [\"launch\", \"winter\"]",
        "state = \"cancelled\"\ntags = [\"launch\", \"winter\"]",
        1,
    );

    // Refused before any call: a region removed, the offer's type changed.
    let before = s.modifications();
    for (text, why) in [
        (
            cancelled.replace(
                ", GB = \"none\" }\n\n[one_time_products.gems.purchase_options.buy.offers.early]",
                " }\n\n[one_time_products.gems.purchase_options.buy.offers.early]",
            ),
            "offers.launch.discounts.GB: region GB was removed",
        ),
        (
            cancelled
                .replace("pre_order = { start", "discounted = { start")
                .replace(", release = \"2027-03-01T00:00:00Z\" }", " }"),
            "offers.early: an offer's type is immutable (live: pre_order, file: discounted)",
        ),
    ] {
        s.write(&text);
        let r = s.run(&["apply", "--yes"]).await;
        assert_eq!(r.code, 4, "{why}: {r:?}");
        assert!(r.stdout.contains(why), "{why}: {r:?}");
    }
    assert_eq!(s.modifications(), before, "nothing sent");

    // The draft pre-order dropped from the file: deleted with --allow-delete.
    let without_early = cancelled.replace(PREORDER, "");
    s.write(&without_early);
    assert_eq!(s.run(&["apply", "--yes"]).await.code, 4);
    let r = s.run(&["apply", "--yes", "--allow-delete"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("- delete one-time offer gems/buy/early"),
        "{r:?}"
    );
    assert_eq!(s.calls("purchaseOptions.offers.batchDelete"), 1);

    // pull then plan: nothing to do, and the file holds the offer as written.
    assert_eq!(s.run(&["pull"]).await.code, 0);
    let pulled = CatalogFile::read(&s.catalog()).unwrap();
    let written = parse(&without_early);
    assert_eq!(
        pulled.one_time_products["gems"].purchase_options["buy"].offers,
        written.one_time_products["gems"].purchase_options["buy"].offers
    );
    let r = s.run(&["plan", "--exit-code"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test]
async fn rent_options_apply_and_pull_and_what_the_file_cannot_hold_stops_pull() {
    let rent = r#"
[one_time_products.movie]
listings.en-US = { title = "A movie" }
[one_time_products.movie.purchase_options.rent-48h]
rent = { period = "P2D", expiration = "PT24H" }
prices = { US = "3.99 USD" }
"#;
    let s = setup(OTP, |_| {}).await;
    // A new product and its offer in one apply: the product first, then the offer.
    let bundle = "[one_time_products.bundle]\nlistings.en-US = { title = \"Bundle\" }\n[one_time_products.bundle.purchase_options.buy]\nprices = { US = \"9.99 USD\" }\n[one_time_products.bundle.purchase_options.buy.offers.intro]\ndiscounted = {}\ndiscounts = { US = \"50%\" }\n";
    s.write(&format!("{OTP}{rent}{bundle}"));
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let (_, intro) = s
        .google(
            "GET",
            "oneTimeProducts/bundle/purchaseOptions/-/offers",
            None,
        )
        .await;
    assert_eq!(
        intro["oneTimeProductOffers"][0]["state"], "ACTIVE",
        "{intro}"
    );
    s.write(&format!("{OTP}{rent}"));
    assert_eq!(
        s.run(&["apply", "--yes", "--allow-delete"]).await.code,
        4,
        "a published product stays"
    );
    s.write(&format!("{OTP}{rent}{bundle}"));
    let (_, movie) = s.google("GET", "oneTimeProducts/movie", None).await;
    let option = &movie["purchaseOptions"][0];
    assert_eq!(
        (option["rentOption"].clone(), option["buyOption"].is_null()),
        (
            json!({ "rentalPeriod": "P2D", "expirationPeriod": "PT24H" }),
            true
        ),
        "{movie}"
    );
    // A rent option never becomes a buy option.
    s.write(&format!(
        "{OTP}{}",
        rent.replace("rent = { period = \"P2D\", expiration = \"PT24H\" }\n", "")
    ));
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout
            .contains("a purchase option's type is immutable (live: rent, file: buy)"),
        "{r:?}"
    );
    // Validate: a rent option is not legacy-compatible.
    s.write(&format!(
        "{OTP}{}",
        rent.replace("rent = {", "legacy_compatible = true\nrent = {")
    ));
    let r = s.run(&["validate"]).await;
    assert!(
        r.stdout
            .contains("a rent option is never legacy_compatible"),
        "{r:?}"
    );

    s.write(&format!("{OTP}{rent}"));
    assert_eq!(s.run(&["pull"]).await.code, 0);
    assert_eq!(
        CatalogFile::read(&s.catalog()).unwrap().one_time_products["movie"],
        parse(rent).one_time_products["movie"]
    );

    // A game reward offer (games only) cannot be written in the file: pull refuses and
    // leaves the file alone.
    let reward = json!({ "requests": [{
        "oneTimeProductOffer": {
            "productId": "gems", "purchaseOptionId": "buy", "offerId": "reward",
            "gameRewardOffer": {},
            "regionalPricingAndAvailabilityConfigs": [{ "regionCode": "US", "availability": "AVAILABLE", "noOverride": {} }],
        },
        "allowMissing": true, "updateMask": "gameRewardOffer", "regionsVersion": { "version": "2025/03" },
    }] });
    let (status, b) = s
        .google(
            "POST",
            "oneTimeProducts/-/purchaseOptions/-/offers:batchUpdate",
            Some(reward),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let before = std::fs::read_to_string(s.catalog()).unwrap();
    let r = s.run(&["pull"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains(
            "one_time_products.gems.purchase_options.buy.offers.reward: a game reward offer"
        ),
        "{r:?}"
    );
    assert_eq!(std::fs::read_to_string(s.catalog()).unwrap(), before);
}

#[tokio::test]
async fn migrate_prices_of_several_base_plans_is_one_batch_call() {
    let s = setup(ONE, |_| {}).await;
    let r = s
        .run(&[
            "migrate-prices",
            "--subscription",
            "pro",
            "--base-plan",
            "monthly",
            "--base-plan",
            "yearly",
            "--yes",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("migrate pro/monthly in 2 regions (DE, US)")
            && r.stdout.contains("migrate pro/yearly in 1 regions (US)")
            && r.stdout.contains("for 2 base plans, 3 regions in 1 calls"),
        "{r:?}"
    );
    assert_eq!(s.calls("basePlans.batchMigratePrices"), 1);
    assert_eq!(s.calls("basePlans.migratePrices"), 0);
    // One refused entry refuses the batch (exit 4): yearly does not sell in DE.
    let r = s
        .run(&[
            "migrate-prices",
            "--subscription",
            "pro",
            "--base-plan",
            "monthly",
            "--base-plan",
            "yearly",
            "--region",
            "DE",
            "--yes",
        ])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("requests[1] (pro/yearly)"), "{r:?}");
}

#[tokio::test]
async fn installments_base_plans_apply_pull_and_stay_immutable() {
    let s = setup(ONE, |_| {}).await;
    let installments = "[subscriptions.pro.base_plans.twelve]\ntype = \"installments\"\nbilling_period = \"P1M\"\ncommitted_payments = 12\nprices = { US = \"2.49 USD\" }\n";
    s.write(&format!("{ONE}{installments}"));
    let r = s.run(&["apply", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let (_, pro) = s.google("GET", "subscriptions/pro", None).await;
    let twelve = pro["basePlans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["basePlanId"] == "twelve")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            twelve["state"].as_str(),
            twelve["installmentsBasePlanType"]["committedPaymentsCount"].as_u64(),
            twelve["installmentsBasePlanType"]["renewalType"].as_str()
        ),
        (
            Some("ACTIVE"),
            Some(12),
            Some("RENEWAL_TYPE_RENEWS_WITHOUT_COMMITMENT")
        ),
        "{twelve}"
    );
    // The commitment is immutable: refused before any call, with the fix.
    s.write(&format!("{ONE}{}", installments.replace("= 12", "= 6")));
    let r = s.run(&["plan"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout.contains("subscriptions.pro.base_plans.twelve: the base plan type, billing period and installments are immutable (live: Installments P1M × 12, file: Installments P1M × 6)"),
        "{r:?}"
    );
    s.write(&format!(
        "{ONE}{}",
        installments.replace("committed_payments = 12\n", "")
    ));
    let r = s.run(&["validate"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("needs committed_payments of at least 2"),
        "{r:?}"
    );
    // pull then plan: nothing to do, and the plan comes back as written.
    s.write(&format!("{ONE}{installments}"));
    assert_eq!(s.run(&["pull"]).await.code, 0);
    let pulled = CatalogFile::read(&s.catalog()).unwrap();
    let twelve = &pulled.subscriptions["pro"].base_plans["twelve"];
    assert_eq!(
        (twelve.committed_payments, twelve.renews_with_commitment),
        (Some(12), false)
    );
    assert_eq!(s.run(&["plan", "--exit-code"]).await.code, 0);
}
