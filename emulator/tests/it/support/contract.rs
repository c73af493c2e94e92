//! The contract: every response body of Google's side is checked against the discovery
//! document's schema for its method (field names, JSON types, int64 as strings, enums,
//! `$ref`s), every error body against Google's error shape, and every path against a
//! `flatPath`.

use serde_json::Value;

pub use play_emulator::contract::methods;
use play_emulator::contract::Side;

/// Whether a request path (no leading `/`, no query) matches a `flatPath` template.
pub fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| match t.strip_prefix('{') {
            Some(rest) => {
                let suffix = rest.split_once('}').map(|(_, s)| s).unwrap_or("");
                p.len() > suffix.len() && p.ends_with(suffix)
            }
            None => t == p,
        })
}

/// The discovery method of a request, by HTTP method and path.
pub fn method_for(http_method: &str, path: &str) -> Option<&'static Value> {
    let path = path.trim_start_matches('/');
    let mut candidates: Vec<&Value> = methods()
        .into_iter()
        .filter(|m| {
            m["httpMethod"] == http_method
                && path_matches(m["flatPath"].as_str().unwrap_or(""), path)
        })
        .collect();
    // Prefer the template with the most literal text (`{token}:acknowledge` over `{token}`).
    candidates
        .sort_by_key(|m| std::cmp::Reverse(literal_len(m["flatPath"].as_str().unwrap_or(""))));
    candidates.first().copied()
}

fn literal_len(template: &str) -> usize {
    let mut n = 0;
    let mut depth = 0;
    for c in template.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => n += 1,
            _ => {}
        }
    }
    n
}

/// Validates a response value against a schema (a `$ref` name or an inline schema).
pub fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    play_emulator::contract::validate(schema, value, at, Side::Response, errors);
}

/// Checks Google's error body.
pub fn validate_error(status: u16, body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let e = &body["error"];
    if e["code"].as_u64() != Some(status as u64) {
        errors.push(format!(
            "error.code {} is not the HTTP status {status}",
            e["code"]
        ));
    }
    for field in ["message", "status"] {
        if !e[field].is_string() {
            errors.push(format!("error.{field} missing"));
        }
    }
    match e["errors"].as_array() {
        Some(list) if !list.is_empty() => {
            for (i, item) in list.iter().enumerate() {
                for field in ["domain", "reason", "message"] {
                    if !item[field].is_string() {
                        errors.push(format!("error.errors[{i}].{field} missing"));
                    }
                }
            }
        }
        _ => errors.push("error.errors missing or empty".into()),
    }
    errors
}

/// Checks one exchange with Google's side; panics with every violation. Returns the method
/// id of a successful exchange (whose response was validated).
pub fn check(http_method: &str, path: &str, status: u16, body: Option<&Value>) -> Option<String> {
    let path = path
        .split('?')
        .next()
        .unwrap_or(path)
        .trim_start_matches('/');
    if status >= 400 {
        let body =
            body.unwrap_or_else(|| panic!("{http_method} /{path}: error {status} without a body"));
        let errors = validate_error(status, body);
        assert!(
            errors.is_empty(),
            "{http_method} /{path}: bad error body {body}: {errors:#?}"
        );
        return None;
    }
    let method = method_for(http_method, path)
        .unwrap_or_else(|| panic!("{http_method} /{path} matches no flatPath"));
    match (&method["response"], body) {
        (Value::Null, None) => assert_eq!(
            status, 204,
            "{http_method} /{path}: empty response should be 204"
        ),
        (Value::Null, Some(b)) => panic!(
            "{http_method} /{path} ({}) has no response schema but answered {b}",
            method["id"]
        ),
        (schema, Some(b)) => {
            let mut errors = Vec::new();
            validate(schema, b, "$", &mut errors);
            assert!(
                errors.is_empty(),
                "{http_method} /{path} ({}): {b}\n{errors:#?}",
                method["id"]
            );
        }
        (_, None) => panic!("{http_method} /{path} ({}) answered no body", method["id"]),
    }
    method["id"].as_str().map(String::from)
}

/// The constant of play-model's method table that names a method
/// (`androidpublisher.orders.get` → `ORDERS_GET`).
pub fn const_name(id: &str) -> String {
    id.trim_start_matches("androidpublisher.")
        .replace('.', "_")
        .to_uppercase()
}

/// The methods of play-model's table that Rust source `text` names (`methods::ORDERS_GET`,
/// `by_id("androidpublisher.orders.get")`); `Err` for a name that is no method of the table.
pub fn method_refs(text: &str) -> Result<std::collections::BTreeSet<&'static str>, String> {
    use play_model::methods::{by_id, ROUTES};
    let mut out = std::collections::BTreeSet::new();
    for (i, _) in text.match_indices("methods::") {
        let name: String = text[i + "methods::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // A `use` list, types and functions of the module (`Method`, `by_id`, `ROUTES`).
        if name.is_empty() || name.chars().any(|c| c.is_ascii_lowercase()) || name == "ROUTES" {
            continue;
        }
        let route = ROUTES
            .iter()
            .find(|r| const_name(r.id) == name)
            .ok_or_else(|| format!("methods::{name} is no method of play-model's table"))?;
        out.insert(route.id);
    }
    for (i, _) in text.match_indices("by_id(\"") {
        let id: String = text[i + "by_id(\"".len()..]
            .chars()
            .take_while(|c| *c != '"')
            .collect();
        let route = by_id(&id).ok_or_else(|| format!("by_id({id:?}) names no method"))?;
        out.insert(route.id);
    }
    Ok(out)
}

/// Every method of Google's API the server calls: the method table entries its source
/// (`server/src`) names, each with the files that name it.
pub fn server_methods() -> std::collections::BTreeMap<&'static str, Vec<String>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("server/src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut out: std::collections::BTreeMap<&'static str, Vec<String>> = Default::default();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a server source file");
        let refs = method_refs(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for id in refs {
            let name = file.strip_prefix(&root).unwrap_or(&file).display();
            out.entry(id).or_default().push(name.to_string());
        }
    }
    out
}
