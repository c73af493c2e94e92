//! Each layer, the order of the layers, and every error message.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::auth::AuthMethod;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn minimal() -> Vec<(String, String)> {
    pairs(&[
        ("PWA_BILLING_PACKAGE_NAME", "com.example.app"),
        ("PWA_BILLING_SERVICE_ACCOUNT_KEY", "/key.json"),
        ("PWA_BILLING_AUTH_JWT_HS256_SECRET", SECRET),
        (
            "PWA_BILLING_PRODUCTS",
            "coins_100=consumable, sub_monthly=subscription",
        ),
    ])
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn with(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = minimal();
    env.extend(pairs(extra));
    env
}

/// The error of the minimal environment plus `extra`.
fn env_error(extra: &[(&str, &str)]) -> ConfigError {
    Config::load_from(None, with(extra)).unwrap_err()
}

fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn sources(file: Option<&Path>, env: Vec<(String, String)>, flags: &[(&str, &str)]) -> Sources {
    Sources {
        file: file.map(Path::to_path_buf),
        env,
        flags: pairs(flags),
    }
}

#[test]
fn defaults_apply_and_the_environment_alone_is_enough() {
    let c = Config::load_from(None, minimal()).unwrap();
    assert_eq!(c.package_name, "com.example.app");
    assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(c.play_api_base_url.as_str(), GOOGLE_PLAY_API_BASE_URL);
    assert_eq!(c.products["coins_100"], ProductKind::Consumable);
    assert_eq!(c.products["sub_monthly"], ProductKind::Subscription);
    assert!(matches!(c.auth.method(), Ok(AuthMethod::Hs256 { .. })));
    assert_eq!(c.limits, Limits::default());
    assert_eq!(c.limits.max_body_bytes.get(), 64 * 1024);
    assert_eq!(c.rtdn.jwks_url.as_str(), GOOGLE_OIDC_JWKS_URL);
    assert_eq!(c.reports.storage_base_url.as_str(), GOOGLE_STORAGE_BASE_URL);
    assert_eq!(c.voided.poll_interval, Duration::from_secs(600));
    assert_eq!(c.external_transactions.writes_per_minute.get(), 1188);
    assert!(c.admin.api_keys.is_empty() && c.cors.allowed_origins.is_empty());
}

#[test]
fn the_file_then_the_environment_then_flags_each_win() {
    let (_dir, path) = file(
        "listen = \"127.0.0.1:9000\"\npackage_name = \"com.file.app\"\n\
         [limits]\nmax_body_bytes = 100\nrequest_timeout_secs = 7\n\
         [worker]\nbatch_size = 4\n[products]\npremium = \"non_consumable\"\n",
    );
    let env = with(&[
        ("PWA_BILLING_PACKAGE_NAME", "com.env.app"),
        ("PWA_BILLING_LIMITS_MAX_BODY_BYTES", "2048"),
        ("PWA_BILLING_WORKER_ENABLED", "false"),
        ("PWA_BILLING_TEST_DATABASE_URL", "postgres://ignored"),
        ("PWA_BILLING_CONFIG", "names the file, not a key"),
        ("OTHER_VARIABLE", "ignored"),
    ]);
    let c = sources(Some(&path), env.clone(), &[]).load().unwrap();
    assert_eq!(c.listen.port(), 9000, "the file over the default");
    assert_eq!(c.limits.request_timeout, Duration::from_secs(7));
    assert_eq!(
        c.package_name, "com.env.app",
        "the environment over the file"
    );
    assert_eq!(c.limits.max_body_bytes.get(), 2048);
    assert!(!c.worker.enabled, "booleans parse from strings");
    assert_eq!(c.products["premium"], ProductKind::NonConsumable);
    assert_eq!(c.products["coins_100"], ProductKind::Consumable);
    let c = sources(
        Some(&path),
        env,
        &[
            ("limits.max_body_bytes", "512"),
            ("worker.batch_size", "2"),
            ("admin.api_keys", &format!("{SECRET}, {}", "k".repeat(32))),
            ("products.gems", "consumable"),
        ],
    )
    .load()
    .unwrap();
    assert_eq!(c.limits.max_body_bytes.get(), 512, "flags over everything");
    assert_eq!(c.worker.batch_size.get(), 2, "flags over the file");
    assert_eq!(c.admin.api_keys, [SECRET.to_string(), "k".repeat(32)]);
    assert_eq!(c.products["gems"], ProductKind::Consumable);
}

#[test]
fn every_key_reaches_the_file_the_environment_and_flags() {
    let defaults = serde_json::to_value(Config::default()).unwrap();
    let keys = keys();
    assert!(keys.len() > 40, "{keys:?}");
    for key in [
        "listen",
        "limits.fetch_reuse_ms",
        "external_transactions.warn_after_secs",
        "products",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
    for key in &keys {
        let value = key.split('.').fold(&defaults, |v, part| &v[part]);
        let text = match value {
            serde_json::Value::Null | serde_json::Value::Object(_) => {
                // Unset by default: the name is known to each layer.
                let env = with(&[(&env_name(key), "")]);
                let e = Sources {
                    env,
                    ..Sources::default()
                }
                .extract()
                .err();
                assert!(e.as_ref().is_none_or(|e| &e.key == key), "{key}: {e:?}");
                continue;
            }
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let toml_value = match value {
            serde_json::Value::String(s) => toml::Value::String(s.clone()),
            other => toml::Value::try_from(other).unwrap(),
        };
        let mut table = toml::Table::new();
        let (section, leaf) = key
            .rsplit_once('.')
            .map_or((None, key.as_str()), |(s, l)| (Some(s), l));
        match section {
            Some(s) => {
                let mut inner = toml::Table::new();
                inner.insert(leaf.into(), toml_value);
                table.insert(s.into(), toml::Value::Table(inner));
            }
            None => {
                table.insert(leaf.into(), toml_value);
            }
        }
        let (_dir, path) = file(&toml::to_string(&table).unwrap());
        let by_file = sources(Some(&path), Vec::new(), &[]).extract();
        let by_env = sources(None, pairs(&[(&env_name(key), &text)]), &[]).extract();
        let by_flag = sources(None, Vec::new(), &[(key, &text)]).extract();
        for (layer, result) in [
            ("file", by_file),
            ("environment", by_env),
            ("--set", by_flag),
        ] {
            assert_eq!(result, Ok(Config::default()), "{key} = {text} by {layer}");
        }
    }
}

#[test]
fn the_sandbox_file_round_trips() {
    let c = Config::load_from(
        None,
        with(&[
            ("PWA_BILLING_ADMIN_API_KEYS", &"k".repeat(32)),
            ("PWA_BILLING_RTDN_AUDIENCE", "https://b.example/v1/rtdn"),
            ("PWA_BILLING_LIMITS_PENDING_RECHECK_MS", "0"),
        ]),
    )
    .unwrap();
    let (_dir, path) = file(&toml::to_string(&c).unwrap());
    assert_eq!(Config::load_from(Some(&path), Vec::new()).unwrap(), c);
}

#[test]
fn errors_name_the_key_and_where_its_value_came_from() {
    let e = env_error(&[("PWA_BILLING_LIMITS_MAX_BODY_BYTES", "lots")]);
    assert_eq!(e.key, "limits.max_body_bytes");
    assert_eq!(
        e.origin.as_deref(),
        Some("from PWA_BILLING_LIMITS_MAX_BODY_BYTES")
    );
    assert!(
        e.to_string().starts_with(
            "configuration key `limits.max_body_bytes` (from PWA_BILLING_LIMITS_MAX_BODY_BYTES): "
        ),
        "{e}"
    );
    let (_dir, path) = file("[limits]\nmax_body_bytes = \"lots\"\n");
    let e = Config::load_from(Some(&path), minimal()).unwrap_err();
    assert_eq!(e.key, "limits.max_body_bytes");
    assert_eq!(e.origin, Some(format!("in {}", path.display())));
    let e = sources(None, minimal(), &[("limits.max_body_bytes", "lots")])
        .load()
        .unwrap_err();
    assert_eq!(
        e.origin.as_deref(),
        Some("from --set limits.max_body_bytes")
    );
    // A check after the types names the layer too.
    let e = sources(None, minimal(), &[("database_url", "mysql://x")])
        .load()
        .unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.origin.as_deref()),
        ("database_url", Some("from --set database_url"))
    );
    assert!(e.message.contains("sqlite: or postgres://"), "{e}");
}

#[test]
fn every_error_message() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("PWA_BILLING_LISTEN", "nope", "listen", "invalid"),
        (
            "PWA_BILLING_PRODUCTS",
            "a=gadget",
            "products.a",
            "unknown variant",
        ),
        (
            "PWA_BILLING_PRODUCTS",
            "a",
            "products",
            "`a` is not `product_id=kind`",
        ),
        (
            "PWA_BILLING_PACKAGE_NAME",
            "com..app",
            "package_name",
            "not a package name",
        ),
        (
            "PWA_BILLING_PLAY_API_BASE_URL",
            "ftp://x/",
            "play_api_base_url",
            "http(s)",
        ),
        (
            "PWA_BILLING_DATABASE_URL",
            "mysql://x",
            "database_url",
            "sqlite:",
        ),
        (
            "PWA_BILLING_AUTH_JWT_HS256_SECRET",
            "short",
            "auth.jwt_hs256_secret",
            "at least 32 bytes",
        ),
        (
            "PWA_BILLING_AUTH_JWKS_URL",
            "https://x/jwks",
            "auth.jwt_hs256_secret",
            "not both",
        ),
        (
            "PWA_BILLING_FROBNICATE",
            "1",
            "frobnicate",
            "no such configuration key",
        ),
        (
            "PWA_BILLING_WORKER_LEASE_SECS",
            "0",
            "worker.lease_secs",
            "greater than 0",
        ),
        (
            "PWA_BILLING_WORKER_POLL_INTERVAL_MS",
            "0",
            "worker.poll_interval_ms",
            "greater than 0",
        ),
        (
            "PWA_BILLING_WORKER_BATCH_SIZE",
            "0",
            "worker.batch_size",
            "nonzero",
        ),
        (
            "PWA_BILLING_LIMITS_MAX_BODY_BYTES",
            "0",
            "limits.max_body_bytes",
            "nonzero",
        ),
        (
            "PWA_BILLING_LIMITS_FETCH_REUSE_MS",
            "soon",
            "limits.fetch_reuse_ms",
            "invalid type",
        ),
        (
            "PWA_BILLING_RETRY_MAX_ATTEMPTS",
            "0",
            "retry.max_attempts",
            "nonzero",
        ),
        (
            "PWA_BILLING_RTDN_JWKS_URL",
            "ftp://x/certs",
            "rtdn.jwks_url",
            "http(s)",
        ),
        (
            "PWA_BILLING_VOIDED_POLL_INTERVAL_SECS",
            "0",
            "voided.poll_interval_secs",
            "greater than 0",
        ),
        (
            "PWA_BILLING_VOIDED_MAX_PAGES",
            "0",
            "voided.max_pages",
            "nonzero",
        ),
        (
            "PWA_BILLING_EXTERNAL_TRANSACTIONS_WRITES_PER_MINUTE",
            "1201",
            "external_transactions.writes_per_minute",
            "at most 1200",
        ),
        (
            "PWA_BILLING_EXTERNAL_TRANSACTIONS_WARN_AFTER_SECS",
            "0",
            "external_transactions.warn_after_secs",
            "greater than 0",
        ),
        (
            "PWA_BILLING_ADMIN_API_KEYS",
            "short",
            "admin.api_keys",
            "openssl rand -hex 32",
        ),
        (
            "PWA_BILLING_REPORTS_BUCKET",
            "Bad Bucket",
            "reports.bucket",
            "Copy Cloud Storage URI",
        ),
        (
            "PWA_BILLING_REPORTS_STORAGE_BASE_URL",
            "ftp://x/",
            "reports.storage_base_url",
            "http(s)",
        ),
        (
            "PWA_BILLING_CATALOG",
            "missing.toml",
            "catalog",
            "missing.toml",
        ),
    ];
    for (var, value, key, message) in cases {
        let e = env_error(&[(var, value)]);
        assert_eq!(&e.key, key, "{var}={value}: {e}");
        assert!(e.to_string().contains(message), "{var}={value}: {e}");
        let var = if key.starts_with("products") {
            env_name("products")
        } else {
            env_name(key)
        };
        assert_eq!(e.origin, Some(format!("from {var}")), "{e}");
    }
    let k = "k".repeat(32);
    let e = env_error(&[("PWA_BILLING_ADMIN_API_KEYS", &format!("{k}.x"))]);
    assert!(e.message.contains("never be taken for a JWT"), "{e}");
}

#[test]
fn missing_keys_say_how_to_set_them() {
    let without = |var: &str| -> Vec<(String, String)> {
        minimal().into_iter().filter(|(k, _)| k != var).collect()
    };
    let e = Config::load_from(None, without("PWA_BILLING_PACKAGE_NAME")).unwrap_err();
    assert_eq!((e.key.as_str(), e.origin.as_ref()), ("package_name", None));
    assert!(e.to_string().contains("PWA_BILLING_PACKAGE_NAME"), "{e}");
    assert!(e.to_string().contains("--set package_name="), "{e}");
    let e = Config::load_from(None, without("PWA_BILLING_SERVICE_ACCOUNT_KEY")).unwrap_err();
    assert_eq!(e.key, "service_account_key");
    let e = Config::load_from(None, without("PWA_BILLING_AUTH_JWT_HS256_SECRET")).unwrap_err();
    assert_eq!(e.key, "auth");
    assert!(e.message.contains("auth.jwks_url"), "{e}");
    let e = Config::load_from(None, without("PWA_BILLING_PRODUCTS")).unwrap_err();
    assert_eq!(e.key, "catalog");
    assert!(e.message.contains("PWA_BILLING_CATALOG"), "{e}");
}

#[test]
fn jwks_needs_issuer_and_audience() {
    let mut env: Vec<_> = minimal()
        .into_iter()
        .filter(|(k, _)| k != "PWA_BILLING_AUTH_JWT_HS256_SECRET")
        .chain(pairs(&[(
            "PWA_BILLING_AUTH_JWKS_URL",
            "https://id.example/jwks",
        )]))
        .collect();
    let e = Config::load_from(None, env.clone()).unwrap_err();
    assert_eq!(e.key, "auth.issuer");
    assert!(e.message.contains("PWA_BILLING_AUTH_ISSUER"), "{e}");
    env.extend(pairs(&[("PWA_BILLING_AUTH_ISSUER", "https://id.example")]));
    assert_eq!(
        Config::load_from(None, env.clone()).unwrap_err().key,
        "auth.audience"
    );
    env.extend(pairs(&[("PWA_BILLING_AUTH_AUDIENCE", "pwa")]));
    let c = Config::load_from(None, env).unwrap();
    assert!(matches!(c.auth.method(), Ok(AuthMethod::Jwks { .. })));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let k = "k".repeat(32);
    let c = Config::load_from(None, with(&[("PWA_BILLING_ADMIN_API_KEYS", &k)])).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains(&k) && !debug.contains(SECRET), "{debug}");
}

#[test]
fn file_errors() {
    let (_dir, path) = file("[limits]\nmax_bodyy = 1\n");
    let e = Config::load_from(Some(&path), minimal()).unwrap_err();
    assert_eq!(e.key, "limits.max_bodyy", "{e}");
    assert_eq!(e.origin, Some(format!("in {}", path.display())));
    assert!(e.message.contains("unknown field"), "{e}");
    let (_dir, path) = file("listen = \n");
    let e = Config::load_from(Some(&path), minimal()).unwrap_err();
    assert_eq!(e.key, "--config");
    assert!(e.message.contains("is not valid TOML"), "{e}");
    let e = Config::load_from(Some(Path::new("/nonexistent/c.toml")), minimal()).unwrap_err();
    assert_eq!(e.key, "--config");
    assert!(e.message.contains("cannot read /nonexistent/c.toml"), "{e}");
    let e = sources(None, minimal(), &[("limits.max_bodyy", "1")])
        .load()
        .unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.origin.as_deref()),
        ("limits.max_bodyy", Some("from --set limits.max_bodyy"))
    );
}

#[test]
fn reports_bucket_loses_its_scheme_and_empty_values_unset() {
    let c = Config::load_from(
        None,
        with(&[
            (
                "PWA_BILLING_REPORTS_BUCKET",
                "gs://pubsite_prod_rev_0123456789/",
            ),
            ("PWA_BILLING_RTDN_AUDIENCE", ""),
        ]),
    )
    .unwrap();
    assert_eq!(
        c.reports.bucket.map(|b| b.to_string()).as_deref(),
        Some("pubsite_prod_rev_0123456789")
    );
    assert_eq!(c.rtdn.audience, None);
}

/// A `whsec_` secret (32 bytes).
const WHSEC: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn webhook_endpoints_reach_the_file_the_environment_and_flags() {
    let env = with(&[
        (
            "PWA_BILLING_WEBHOOKS_ENDPOINTS_MY_BACKEND_URL",
            "https://b.example/hook",
        ),
        (
            "PWA_BILLING_WEBHOOKS_ENDPOINTS_MY_BACKEND_SECRETS",
            &format!("{WHSEC}, {WHSEC}"),
        ),
        (
            "PWA_BILLING_WEBHOOKS_ENDPOINTS_MY_BACKEND_EVENT_TYPES",
            "entitlement.granted",
        ),
        (
            "PWA_BILLING_WEBHOOKS_ENDPOINTS_MY_BACKEND_ALLOW_PRIVATE",
            "true",
        ),
    ]);
    let c = Config::load_from(None, env).unwrap();
    let endpoint = &c.webhooks.endpoints["my_backend"];
    assert_eq!(endpoint.url.as_str(), "https://b.example/hook");
    assert_eq!(endpoint.secrets, [WHSEC, WHSEC]);
    assert_eq!(endpoint.event_types, ["entitlement.granted"]);
    assert!(endpoint.allow_private);

    // The environment rotates the secret of an endpoint of the file; a flag changes its URL.
    let (_dir, path) = file(
        "[webhooks.endpoints.backend]\nurl = \"https://old.example/\"\nsecrets = [\"whsec_old\"]\n",
    );
    let env = with(&[("PWA_BILLING_WEBHOOKS_ENDPOINTS_BACKEND_SECRETS", WHSEC)]);
    let flags = [("webhooks.endpoints.backend.url", "https://new.example/")];
    let c = sources(Some(&path), env, &flags).load().unwrap();
    let endpoint = &c.webhooks.endpoints["backend"];
    assert_eq!(
        (endpoint.url.as_str(), &endpoint.secrets[..]),
        ("https://new.example/", &[WHSEC.to_string()][..])
    );

    // Every field is a key of the environment.
    let sample = EndpointConfig {
        url: "https://b.example/".parse().unwrap(),
        secrets: Vec::new(),
        event_types: Vec::new(),
        allow_private: false,
    };
    let fields = serde_json::to_value(sample).unwrap();
    let fields: Vec<&str> = fields
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = EndpointConfig::KEYS.to_vec();
    keys.sort_unstable();
    assert_eq!(fields, keys);
}

#[test]
fn webhook_endpoint_errors() {
    let prefix = "PWA_BILLING_WEBHOOKS_ENDPOINTS_BACKEND";
    let cases = [
        (
            "",
            "x",
            "webhooks_endpoints_backend",
            "no such configuration key",
        ),
        (
            "_URL",
            "http://b.example/hook",
            "webhooks.endpoints.backend.url",
            "https",
        ),
        (
            "_SECRETS",
            "",
            "webhooks.endpoints.backend.secrets",
            "at least one `whsec_…` secret",
        ),
        (
            "_SECRETS",
            "s3cret",
            "webhooks.endpoints.backend.secrets",
            "starts with `whsec_`",
        ),
        (
            "_EVENT_TYPES",
            "purchase.made",
            "webhooks.endpoints.backend.event_types",
            "`purchase.made` is not an event type",
        ),
    ];
    for (suffix, value, key, message) in cases {
        let var = format!("{prefix}{suffix}");
        let e = env_error(&[
            (&format!("{prefix}_URL"), "https://b.example/hook"),
            (&format!("{prefix}_SECRETS"), WHSEC),
            (&var, value),
        ]);
        assert_eq!(
            (e.key.as_str(), e.origin.clone()),
            (key, Some(format!("from {var}"))),
            "{e}"
        );
        assert!(e.message.contains(message), "{e}");
    }
    let (_dir, path) = file(&format!(
        "[webhooks.endpoints.\"back end\"]\nurl = \"https://b.example/\"\nsecrets = [\"{WHSEC}\"]\n"
    ));
    let e = Config::load_from(Some(&path), minimal()).unwrap_err();
    assert_eq!(e.key, "webhooks.endpoints");
    assert!(e.message.contains("letters, digits, `_` and `-`"), "{e}");
}
