//! The served OpenAPI document is valid enough for client generators: every `$ref` resolves,
//! no component name stands for two types, and a structural OpenAPI 3.1 check passes (no
//! validator crate is lean enough to add; this checks the rules generators trip on).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;

/// Every `$ref` in `node`, with the JSON path where it occurs.
fn refs(node: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref"
                    && let Some(target) = value.as_str()
                {
                    out.push((at.to_owned(), target.to_owned()));
                }
                refs(value, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                refs(value, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Structural OpenAPI 3.1 rules; returns every violation found.
fn violations(spec: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    if !spec["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1."))
    {
        bad.push("openapi must be 3.1.x".into());
    }
    if !spec["info"]["title"].is_string() || !spec["info"]["version"].is_string() {
        bad.push("info.title and info.version are required".into());
    }
    let mut found = Vec::new();
    refs(spec, "#", &mut found);
    for (at, target) in &found {
        let resolved = target
            .strip_prefix('#')
            .and_then(|pointer| spec.pointer(pointer));
        if resolved.is_none() {
            bad.push(format!("{at}: $ref {target} does not resolve"));
        }
    }
    let methods = [
        "get", "put", "post", "delete", "patch", "options", "head", "trace",
    ];
    let mut operation_ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        if !path.starts_with('/') {
            bad.push(format!("path {path} must start with /"));
        }
        let templated: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        for (method, op) in item.as_object().into_iter().flatten() {
            if !methods.contains(&method.as_str()) {
                continue;
            }
            let here = format!("{method} {path}");
            if let Some(id) = op["operationId"].as_str()
                && !operation_ids.insert(id.to_owned())
            {
                bad.push(format!("{here}: operationId {id} used twice"));
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut seen = BTreeSet::new();
            for p in &params {
                let (name, place) = (p["name"].as_str(), p["in"].as_str());
                if name.is_none() || !matches!(place, Some("query" | "header" | "path" | "cookie"))
                {
                    bad.push(format!("{here}: parameter without name or valid `in`: {p}"));
                    continue;
                }
                if !seen.insert((name, place)) {
                    bad.push(format!("{here}: parameter {name:?} in {place:?} twice"));
                }
                if place == Some("path") && p["required"] != Value::Bool(true) {
                    bad.push(format!("{here}: path parameter {name:?} must be required"));
                }
                if p.get("schema").is_none() && p.get("content").is_none() {
                    bad.push(format!("{here}: parameter {name:?} has no schema"));
                }
            }
            for name in &templated {
                if !seen.contains(&(Some(*name), Some("path"))) {
                    bad.push(format!("{here}: path parameter {name} is not declared"));
                }
            }
            let responses = op["responses"].as_object();
            if responses.is_none_or(|r| r.is_empty()) {
                bad.push(format!("{here}: no responses"));
            }
            for (code, response) in responses.into_iter().flatten() {
                let code_ok = code == "default"
                    || (code.len() == 3 && code.chars().all(|c| c.is_ascii_digit() || c == 'X'));
                if !code_ok {
                    bad.push(format!("{here}: bad response code {code}"));
                }
                if response.get("$ref").is_none() && !response["description"].is_string() {
                    bad.push(format!("{here} {code}: response without description"));
                }
            }
        }
    }
    let types = [
        "string", "number", "integer", "boolean", "array", "object", "null",
    ];
    let check_types = |node: &Value, bad: &mut Vec<String>| {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n {
                Value::Object(map) => {
                    if let Some(t) = map.get("type") {
                        let ok = match t {
                            Value::String(s) => types.contains(&s.as_str()),
                            Value::Array(a) => a
                                .iter()
                                .all(|s| s.as_str().is_some_and(|s| types.contains(&s))),
                            _ => false,
                        };
                        // `type` is also a property name in some schemas (Problem.type).
                        if !ok && !t.is_object() {
                            bad.push(format!("bad JSON Schema type {t}"));
                        }
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    };
    check_types(&spec["components"]["schemas"], &mut bad);
    bad
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_served_document_is_valid(db: PgPool) {
    let app = spawn_app(db);
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let bad = violations(&r.json);
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // The bulk contact action answers with its own result type.
    let bulk = &r.json["paths"]["/v1/contacts/bulk"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    assert_eq!(bulk, "#/components/schemas/ContactBulkResult");
    let schemas = &r.json["components"]["schemas"];
    assert!(schemas["ContactBulkResult"]["properties"]["affected"].is_object());
    assert!(schemas["SenderIdBulkResult"]["properties"]["outcome"].is_object());
}

#[test]
fn no_component_name_stands_for_two_types() {
    use utoipa::OpenApi;
    let mut by_name: BTreeMap<String, (usize, Value)> = BTreeMap::new();
    let base = semalink_control_plane::openapi::ApiDoc::openapi();
    let parts = std::iter::once(base).chain(
        semalink_control_plane::app::modules()
            .into_iter()
            .map(|m| m.split_for_parts().1),
    );
    let mut clashes = Vec::new();
    for (module, api) in parts.enumerate() {
        let Some(components) = api.components else {
            continue;
        };
        for (name, schema) in components.schemas {
            let json = serde_json::to_value(&schema).unwrap();
            match by_name.get(&name) {
                Some((first, other)) if *other != json => {
                    clashes.push(format!(
                        "{name}: module #{first} and module #{module} differ"
                    ));
                }
                Some(_) => {}
                None => {
                    by_name.insert(name, (module, json));
                }
            }
        }
    }
    assert!(clashes.is_empty(), "{}", clashes.join("\n"));
}
