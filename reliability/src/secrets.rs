//! Scenario 7, secrets: no purchase token, account id or key material in the `info` log; the
//! service-account key refused when world-readable; CORS only for configured origins;
//! server-to-server endpoints refuse users' tokens and users' endpoints refuse server keys.

use play_emulator::faults::Faults;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::procs::{ADMIN_KEY, JWT_SECRET};
use crate::report::Row;
use crate::world::{unique, user_jwt, Database, Env, World};

const APP_ORIGIN: &str = "https://app.reliability.test";
const OTHER_ORIGIN: &str = "https://evil.reliability.test";

/// Runs the scenario with `purchases` verified purchases in the log check.
pub async fn run(env: &Env, purchases: usize) -> anyhow::Result<Vec<Row>> {
    let world = World::start(env, Database::Sqlite, 1, &[APP_ORIGIN]).await?;
    let mut rows = vec![logs(&world, purchases).await?, catalog(&world).await?];
    rows.push(key_file(&world)?);
    rows.push(cors(&world).await?);
    rows.extend(server_endpoints(&world).await?);
    Ok(rows)
}

/// Verifications granted, refused, replaced and failing upstream, then the log searched for
/// every secret that went through the server.
async fn logs(world: &World, purchases: usize) -> anyhow::Result<Row> {
    let mut secrets: Vec<(String, &str)> = vec![
        (JWT_SECRET.into(), "JWT secret"),
        (ADMIN_KEY.into(), "admin API key"),
        ("PRIVATE KEY".into(), "private key PEM"),
        ("ya29.".into(), "Google access token"),
    ];
    let key: Value = serde_json::from_str(&std::fs::read_to_string(&world.key_path)?)?;
    if let Some(id) = key["private_key_id"].as_str() {
        secrets.push((id.into(), "private_key_id"));
    }
    let remember = |account: &str, token: &str, secrets: &mut Vec<(String, &str)>| {
        secrets.push((account.into(), "account id"));
        secrets.push((user_jwt(account), "user JWT"));
        secrets.push((token.into(), "purchase token"));
        secrets.push((token.chars().take(12).collect(), "purchase token prefix"));
    };
    let mut answers = Vec::new();
    for i in 0..purchases {
        let account = unique("acct");
        let item = ["coins_100", "premium_unlock"][i % 2];
        let token = world.buy(item).await?;
        remember(&account, &token, &mut secrets);
        answers.push(world.verify(&account, item, &token).await?.0);
        // The same token from a second account: refused (and logged as refused).
        let thief = unique("thief");
        remember(&thief, &token, &mut secrets);
        answers.push(world.verify(&thief, item, &token).await?.0);
    }
    // A subscription replaced by a linked purchase (logs the old token's retirement).
    let account = unique("subscriber");
    let old = world.buy("sub_monthly").await?;
    remember(&account, &old, &mut secrets);
    answers.push(world.verify(&account, "sub_monthly", &old).await?.0);
    let new = world.replace(&old, "sub_yearly").await?;
    remember(&account, &new, &mut secrets);
    answers.push(world.verify(&account, "sub_yearly", &new).await?.0);
    // Google failing (slower than the request timeout, then 503s): the errors are logged.
    let failing = world.buy("coins_100").await?;
    let account = unique("unlucky");
    remember(&account, &failing, &mut secrets);
    world
        .control
        .set_faults(&Faults::status(1.0, 503).with_latency_ms(2500))
        .await?;
    answers.push(world.verify(&account, "coins_100", &failing).await?.0);
    world.control.set_faults(&Faults::status(1.0, 503)).await?;
    answers.push(world.verify(&account, "coins_100", &failing).await?.0);
    world.control.clear_faults().await?;

    let expected_answers = purchases * 2 + 4;
    let ok = answers.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = answers
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    let unavailable = answers
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let log = world.server_logs();
    let verification_lines = log.lines().filter(|l| l.contains("verif")).count();
    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(secret, _)| !secret.is_empty() && log.contains(secret.as_str()))
        .map(|(secret, what)| format!("{what} {}…", secret.chars().take(8).collect::<String>()))
        .collect();
    let answered_as_meant = answers.len() == expected_answers
        && ok == purchases + 2
        && conflicts == purchases
        && unavailable == 2;
    let pass = answered_as_meant && verification_lines >= expected_answers && leaks.is_empty();
    Ok(Row::new(
        "secrets: info log",
        format!("{expected_answers} verifications ({ok} 200, {conflicts} 409, {unavailable} 503), {} secrets searched", secrets.len()),
        "Google 503 and timeouts",
        "0 tokens, prefixes, account ids, keys in the log",
        format!(
            "{} log lines on verifications; leaks: {}",
            verification_lines,
            if leaks.is_empty() { "none".to_string() } else { format!("{} ({})", leaks.len(), leaks.iter().take(4).cloned().collect::<Vec<_>>().join(", ")) }
        ),
        pass,
    ))
}

/// Both processes run from the catalog file (`reliability/catalog.toml`), as a user's do:
/// its products sell, an id outside it is refused, and no log warns of a deprecation.
async fn catalog(world: &World) -> anyhow::Result<Row> {
    let account = unique("catalog");
    let token = world.buy("premium_unlock").await?;
    let (sold, _) = world.verify(&account, "premium_unlock", &token).await?;
    let (unknown, body) = world.verify(&account, "gems_500", &token).await?;
    let log = world.server_logs();
    let deprecations = log.lines().filter(|l| l.contains("deprecated")).count();
    Ok(Row::new(
        "secrets: catalog file",
        "2 verifications",
        "an id outside the catalog",
        "its product 200, another id 422; 0 deprecation warnings in the server log",
        format!(
            "{} / {} {}; {deprecations} deprecation warnings in {} log lines",
            sold.as_u16(),
            unknown.as_u16(),
            body["error"]["code"].as_str().unwrap_or("-"),
            log.lines().count()
        ),
        sold == StatusCode::OK && unknown == StatusCode::UNPROCESSABLE_ENTITY && deprecations == 0,
    ))
}

/// The server started with its key file world-readable must refuse to start, naming it.
fn key_file(world: &World) -> anyhow::Result<Row> {
    let (ended, stderr) = world.servers[0].refused_start(&world.key_path, 0o644)?;
    let names_it = stderr.contains("service_account_key") && stderr.contains("chmod");
    let pass = ended == Some(false) && names_it;
    Ok(Row::new(
        "secrets: key file mode",
        "1 start",
        "key file mode 0644",
        "start refused, message names the key and chmod",
        match ended {
            None => "kept running (killed)".to_string(),
            Some(true) => "exited 0".to_string(),
            Some(false) => format!(
                "refused: {}",
                stderr.lines().last().unwrap_or_default().trim()
            ),
        },
        pass,
    ))
}

/// Preflight and simple requests from the configured origin and from another one.
async fn cors(world: &World) -> anyhow::Result<Row> {
    let mut allowed = 0;
    let mut refused = 0;
    let mut checks = 0;
    for (path, method) in [
        ("/v1/purchases/verify", "POST"),
        ("/v1/entitlements", "GET"),
        ("/v1/purchases/sync", "POST"),
    ] {
        for origin in [APP_ORIGIN, OTHER_ORIGIN] {
            checks += 2;
            let preflight = world
                .http
                .request(reqwest::Method::OPTIONS, format!("{}{path}", world.url()))
                .header(ORIGIN, origin)
                .header("access-control-request-method", method)
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                )
                .send()
                .await?;
            let simple = world
                .http
                .get(format!("{}/v1/entitlements", world.url()))
                .header(ORIGIN, origin)
                .bearer_auth(user_jwt("cors-check"))
                .send()
                .await?;
            for response in [preflight, simple] {
                let allow = response
                    .headers()
                    .get(ACCESS_CONTROL_ALLOW_ORIGIN)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match (origin, allow.as_deref()) {
                    (APP_ORIGIN, Some(APP_ORIGIN)) => allowed += 1,
                    (OTHER_ORIGIN, None) => refused += 1,
                    _ => {}
                }
            }
        }
    }
    Ok(Row::new(
        "secrets: CORS",
        format!("{checks} requests (preflight + simple) on 3 routes"),
        format!("origin {OTHER_ORIGIN}"),
        format!(
            "{} allowed for {APP_ORIGIN}, {} refused for the other",
            checks / 2,
            checks / 2
        ),
        format!("{allowed} allowed, {refused} refused"),
        allowed == checks / 2 && refused == checks / 2,
    ))
}

/// Server-to-server endpoints (the RTDN push, and every operation `/openapi.json` secures
/// with something other than users' bearer JWTs) refuse a user's JWT; users' endpoints
/// refuse the server API key.
async fn server_endpoints(world: &World) -> anyhow::Result<Vec<Row>> {
    let user = user_jwt(&unique("browser-user"));
    let (_, openapi) = world
        .send(world.http.get(format!("{}/openapi.json", world.url())))
        .await?;
    let mut targets = Vec::new();
    if let Some(paths) = openapi["paths"].as_object() {
        for (path, ops) in paths {
            for (method, op) in ops.as_object().into_iter().flatten() {
                let admin = op["security"].as_array().is_some_and(|reqs| {
                    reqs.iter().any(|r| {
                        r.as_object()
                            .is_some_and(|o| o.keys().any(|scheme| scheme != "bearer"))
                    })
                });
                if admin {
                    targets.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    let rtdn = ("POST".to_string(), "/v1/rtdn".to_string());
    if !targets.contains(&rtdn) {
        targets.push(rtdn);
    }
    let mut refused = 0;
    let mut seen = Vec::new();
    for (method, path) in &targets {
        let concrete = path.replace('{', "x-").replace('}', "");
        let response = world
            .http
            .request(method.parse()?, format!("{}{concrete}", world.url()))
            .bearer_auth(&user)
            .json(&json!({}))
            .send()
            .await?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            refused += 1;
        }
        seen.push(format!("{method} {path} {}", status.as_u16()));
    }
    let mut key_refused = 0;
    let user_routes = [
        ("GET", "/v1/entitlements"),
        ("POST", "/v1/purchases/verify"),
    ];
    for (method, path) in user_routes {
        let status = world
            .http
            .request(method.parse()?, format!("{}{path}", world.url()))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({ "itemId": "coins_100", "purchaseToken": "x" }))
            .send()
            .await?
            .status();
        if status == StatusCode::UNAUTHORIZED {
            key_refused += 1;
        }
    }
    Ok(vec![
        Row::new(
            "secrets: user JWT on server endpoints",
            format!("{} endpoint(s)", targets.len()),
            "a browser user's valid JWT",
            "401/403 on every one",
            format!("{refused} refused ({})", seen.join(", ")),
            refused == targets.len(),
        ),
        Row::new(
            "secrets: server key on user endpoints",
            format!("{} endpoint(s)", user_routes.len()),
            "the admin API key as a bearer",
            "401 on every one",
            format!("{key_refused} refused"),
            key_refused == user_routes.len(),
        ),
    ])
}
