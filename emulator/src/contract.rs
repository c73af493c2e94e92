//! The contract with Google's own description of the API: values checked against the
//! discovery document's schemas (a copy of Google's `androidpublisher` v3 document in
//! `tests/data/`). Responses are checked strictly, as Google writes them (int64 as strings,
//! no empty lists); request bodies as Google's JSON parser reads them (proto3 JSON: numbers
//! as numbers or strings, `null` for an absent field, empty lists allowed), which refuses an
//! unknown field, a wrong JSON type or an unknown enum value with `400`.
//!
//! With the `contract` feature the Google-side pipeline refuses every request body that
//! breaks its method's request schema, so every client test run against the emulator (the
//! server's included) proves its requests against Google's document, not a shared type.

use std::sync::OnceLock;

use serde_json::Value;

/// The discovery document.
pub fn discovery() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = include_str!("../tests/data/androidpublisher.v3.discovery.json");
        serde_json::from_str(text).expect("the discovery document parses")
    })
}

/// Every method of the discovery document.
pub fn methods() -> Vec<&'static Value> {
    fn walk(resources: &'static Value, out: &mut Vec<&'static Value>) {
        if let Some(map) = resources.as_object() {
            for r in map.values() {
                if let Some(methods) = r["methods"].as_object() {
                    out.extend(methods.values());
                }
                walk(&r["resources"], out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&discovery()["resources"], &mut out);
    out
}

/// The discovery method of an id.
pub fn method(id: &str) -> Option<&'static Value> {
    methods().into_iter().find(|m| m["id"] == id)
}

/// Which side of an exchange a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A response body, as Google writes it.
    Response,
    /// A request body, as Google's parser accepts it.
    Request,
}

/// Validates a value against a schema (a `$ref` or an inline schema); each violation is
/// pushed to `errors` with its JSON path (`at`).
pub fn validate(schema: &Value, value: &Value, at: &str, side: Side, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        match discovery()["schemas"].get(r) {
            Some(s) => validate(s, value, at, side, errors),
            None => errors.push(format!("{at}: unresolved $ref {r}")),
        }
        return;
    }
    if side == Side::Request && value.is_null() {
        return;
    }
    let request = side == Side::Request;
    match schema["type"].as_str().unwrap_or("any") {
        "object" => {
            let Some(obj) = value.as_object() else {
                return errors.push(format!("{at}: expected object, got {value}"));
            };
            let props = schema["properties"].as_object();
            let additional = schema.get("additionalProperties");
            for (k, v) in obj {
                let path = format!("{at}.{k}");
                match (props.and_then(|p| p.get(k)), additional) {
                    (Some(s), _) => validate(s, v, &path, side, errors),
                    (None, Some(a)) => validate(a, v, &path, side, errors),
                    (None, None) => errors.push(format!("{path}: no such field in the schema")),
                }
            }
        }
        "array" => {
            let Some(arr) = value.as_array() else {
                return errors.push(format!("{at}: expected array, got {value}"));
            };
            if arr.is_empty() && !request {
                errors.push(format!("{at}: an empty list, which Google leaves out"));
            }
            for (i, v) in arr.iter().enumerate() {
                validate(&schema["items"], v, &format!("{at}[{i}]"), side, errors);
            }
        }
        "string" => {
            let format = schema["format"].as_str();
            let numeric = matches!(format, Some("int64" | "uint64"));
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) if request && numeric => n.to_string(),
                _ => return errors.push(format!("{at}: expected string, got {value}")),
            };
            if let Some(problem) = string_problem(format, &text) {
                errors.push(format!("{at}: {text:?} {problem}"));
            }
            if let Some(allowed) = schema["enum"].as_array() {
                if !allowed.iter().any(|a| *a == text) {
                    errors.push(format!("{at}: {text:?} is not one of the enum values"));
                }
            }
        }
        "integer" => {
            let n = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) if request => s.parse().ok(),
                _ => None,
            };
            match n {
                None => errors.push(format!("{at}: expected integer, got {value}")),
                Some(v) if schema["format"] == "int32" && i32::try_from(v).is_err() => {
                    errors.push(format!("{at}: {v} is not an int32"))
                }
                Some(_) => {}
            }
        }
        "number" if !(value.is_number() || request && value.is_string()) => {
            errors.push(format!("{at}: expected number, got {value}"))
        }
        "boolean" if !value.is_boolean() => {
            errors.push(format!("{at}: expected boolean, got {value}"))
        }
        _ => {}
    }
}

/// What is wrong with a string of a discovery `format`, if anything.
fn string_problem(format: Option<&str>, s: &str) -> Option<&'static str> {
    let ok = match format {
        Some("int64") => s.parse::<i64>().is_ok(),
        Some("uint64") => s.parse::<u64>().is_ok(),
        Some("google-datetime") => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        }
        Some("google-duration") => s
            .strip_suffix('s')
            .is_some_and(|n| n.parse::<f64>().is_ok()),
        _ => true,
    };
    (!ok).then_some(match format {
        Some("int64") => "is not an int64",
        Some("uint64") => "is not a uint64",
        Some("google-datetime") => "is not an RFC 3339 datetime",
        _ => "is not a duration",
    })
}

/// The violations of a request body of method `id` (none for a method without a request
/// schema and an empty body).
pub fn request_violations(id: &str, body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    match method(id).map(|m| &m["request"]) {
        Some(Value::Null) | None if body.is_null() => {}
        Some(Value::Null) | None => {
            if body.as_object().is_some_and(|o| !o.is_empty()) {
                errors.push(format!("{id} takes no request body"));
            }
        }
        Some(schema) => validate(schema, body, "$", Side::Request, &mut errors),
    }
    errors
}
