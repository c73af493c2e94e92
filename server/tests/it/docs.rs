//! The documentation in `docs/` keeps up with the binary: every subcommand of
//! `pwa-billing` (found by walking its `help` output) is named there as
//! `pwa-billing <path>`, every configuration key (`config::keys()`) has exactly one row in
//! `docs/server.md`'s configuration table, and the external transaction id example is the id
//! the server derives.

use std::path::{Path, PathBuf};
use std::process::Command;

use pwa_billing_server::external_transactions::model;

/// The repository's `docs/` folder.
fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ is inside the repository")
        .join("docs")
}

/// One page of `docs/`.
fn page(name: &str) -> String {
    let path = docs_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every page of `docs/`, as (file name, text), sorted by name.
fn pages() -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = std::fs::read_dir(docs_dir())
        .expect("docs/ exists")
        .map(|entry| entry.expect("a readable docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, text)
        })
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "docs/ has no page");
    pages
}

/// `pwa-billing help <path…>`: the help text of one command.
fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pwa-billing"))
        .arg("help")
        .args(path)
        .output()
        .expect("pwa-billing runs");
    assert!(
        out.status.success(),
        "pwa-billing help {}: {}",
        path.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The names in a help text's `Commands:` list (clap prints each at two spaces' indent,
/// wrapped descriptions deeper), without clap's own `help`.
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim_end() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every subcommand path of the binary, parents before their children
/// (`catalog`, `catalog apply`, …).
fn subcommand_paths() -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        for name in commands_in(&help(&path)) {
            let mut child = path.clone();
            child.push(name);
            paths.push(child.clone());
            todo.push(child);
        }
    }
    paths
}

/// Whether `text` has `needle` not followed by more of a command name (so that
/// `pwa-billing reports` is not found in `pwa-billing reports-x`).
fn mentions(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        text[at + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
    })
}

#[test]
fn the_help_parser_reads_clap_command_lists() {
    let sample = "Usage: x <COMMAND>\n\nCommands:\n  serve    Serve the API\n           \
                  (production)\n  external-transactions  Payments\n  help     Print help\n\n\
                  Options:\n  --config <FILE>\n";
    assert_eq!(commands_in(sample), ["serve", "external-transactions"]);
    assert!(commands_in("Usage: x [OPTIONS]\n\nOptions:\n  -h, --help\n").is_empty());
}

#[test]
fn mentions_needs_the_whole_command_name() {
    assert!(mentions(
        "run `pwa-billing catalog plan`.",
        "pwa-billing catalog plan"
    ));
    assert!(mentions(
        "pwa-billing catalog plan",
        "pwa-billing catalog plan"
    ));
    assert!(mentions(
        "`pwa-billing catalog validate`",
        "pwa-billing catalog"
    ));
    assert!(!mentions(
        "`pwa-billing catalog planner`",
        "pwa-billing catalog plan"
    ));
    assert!(!mentions(
        "`pwa-billing catalog plan-x`",
        "pwa-billing catalog plan"
    ));
    assert!(!mentions("`pwa-billing reports`", "pwa-billing reconcile"));
}

#[test]
fn every_subcommand_is_named_in_the_docs() {
    let paths = subcommand_paths();
    // The walk must reach the nested commands, or the check below proves nothing.
    for expected in [
        "serve",
        "sandbox",
        "catalog plan",
        "reports import",
        "external-transactions status",
    ] {
        assert!(
            paths.iter().any(|p| p.join(" ") == expected),
            "`pwa-billing help` did not lead to `{expected}`; found {paths:?}"
        );
    }
    let pages = pages();
    let missing: Vec<String> = paths
        .iter()
        .map(|path| format!("pwa-billing {}", path.join(" ")))
        .filter(|command| !pages.iter().any(|(_, text)| mentions(text, command)))
        .collect();
    assert!(
        missing.is_empty(),
        "commands that no page of docs/ names (as `pwa-billing <subcommand>`): {missing:?}"
    );
}

#[test]
fn the_documented_external_transaction_id_is_the_servers() {
    let text = page("external-transactions.md");
    let marker = "For example, `paymentId` `";
    let at = text
        .find(marker)
        .expect("external-transactions.md gives an example id")
        + marker.len();
    let rest = &text[at..];
    let payment_id = &rest[..rest.find('`').expect("the payment id's closing backtick")];
    let after = &rest[rest.find("gives").expect("`… gives `pb-…``")..];
    let id = after
        .split('`')
        .nth(1)
        .expect("the example id in backticks");
    assert_eq!(
        id,
        model::transaction_id(payment_id),
        "for paymentId {payment_id}"
    );
}

/// The first cell of each row of `server.md`'s configuration table: the key, in backticks.
fn configuration_table_keys(server_md: &str) -> Vec<String> {
    server_md
        .lines()
        .skip_while(|line| line.trim_end() != "## Configuration")
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|cell| cell.split_once("` |").map(|(key, _)| key.to_string()))
        .collect()
}

#[test]
fn the_table_parser_reads_one_key_per_row() {
    let sample = "## Commands\n| `pwa-billing serve` | … |\n## Configuration\n\n\
                  | key | environment |\n|---|---|\n| `listen` | `PWA_BILLING_LISTEN` |\n\
                  | `auth.issuer` | `PWA_BILLING_AUTH_ISSUER` |\n\n```toml\nlisten = \"x\"\n```\n\
                  ## HTTP API\n| `GET /healthz` | 200 |\n";
    assert_eq!(configuration_table_keys(sample), ["listen", "auth.issuer"]);
}

#[test]
fn every_configuration_key_has_one_row_in_the_configuration_table() {
    let keys = pwa_billing_server::config::keys();
    assert!(
        keys.iter().any(|k| k == "limits.max_body_bytes"),
        "{keys:?}"
    );
    let rows = configuration_table_keys(&page("server.md"));
    let not_once: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            let n = rows.iter().filter(|row| *row == key).count();
            (n != 1).then(|| format!("{key} ({n} rows)"))
        })
        .collect();
    assert!(
        not_once.is_empty(),
        "keys without exactly one row in docs/server.md's configuration table: {not_once:?}"
    );
    let unknown: Vec<&String> = rows.iter().filter(|row| !keys.contains(row)).collect();
    assert!(
        unknown.is_empty(),
        "rows of docs/server.md's configuration table that are no configuration key: {unknown:?}"
    );
}
