//! Environment overrides for the config file.
//!
//! `SEMALINK_ENGINE__<SECTION>__<KEY>=value` sets `section.key` (names are case-insensitive and
//! matched in lowercase). Inside an array of tables, a segment selects the element by index
//! (`SEMALINK_ENGINE__UPSTREAMS__0__PASSWORD`) or by its `name` key
//! (`SEMALINK_ENGINE__UPSTREAMS__SIM__PASSWORD`), which is how secrets are usually injected.
//! The value is read as a TOML value when it parses as one (`42`, `true`, `1.5`, `"quoted"`,
//! `["a"]`), else taken as a plain string. Missing tables are created, so a whole key can come
//! from the environment alone.

use toml::{Table, Value};

use crate::error::{Error, Result};

/// The variable prefix.
pub const PREFIX: &str = "SEMALINK_ENGINE__";

/// Applies every `SEMALINK_ENGINE__*` variable of `vars` to `root`, in name order (so the
/// result does not depend on the environment's iteration order).
pub fn apply(root: &mut Table, vars: impl IntoIterator<Item = (String, String)>) -> Result<()> {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    for (var, value) in vars {
        let path: Vec<String> = var[PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        set(root, &path, parse_value(&value)).map_err(|message| Error::ConfigEnv {
            var: var.clone(),
            message,
        })?;
    }
    Ok(())
}

/// A TOML scalar or array if the text is one, else the text as a string.
fn parse_value(text: &str) -> Value {
    let doc = format!("v = {text}");
    match doc.parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(text.to_owned())),
        Err(_) => Value::String(text.to_owned()),
    }
}

fn set(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("empty key".into());
    };
    if first.is_empty() {
        return Err("empty key segment".into());
    }
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let slot = table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    set_in(slot, first, rest, value)
}

fn set_in(slot: &mut Value, name: &str, rest: &[String], value: Value) -> Result<(), String> {
    match slot {
        Value::Table(t) => set(t, rest, value),
        Value::Array(items) => {
            let (selector, tail) = rest.split_first().ok_or("cannot replace a whole array")?;
            let item = match selector.parse::<usize>() {
                Ok(i) => items
                    .get_mut(i)
                    .ok_or_else(|| format!("{name} has no element {i}"))?,
                Err(_) => items
                    .iter_mut()
                    .find(|v| {
                        v.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(selector))
                    })
                    .ok_or_else(|| format!("{name} has no element named {selector:?}"))?,
            };
            if tail.is_empty() {
                *item = value;
                Ok(())
            } else {
                set_in(item, selector, tail, value)
            }
        }
        _ => Err(format!("{name} is not a table")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sets_scalars_by_path_index_and_name() {
        let mut root: Table = r#"
            [http]
            listen = "127.0.0.1:1"
            [[upstreams]]
            name = "sim"
            window = 10
            [[upstreams]]
            name = "celcom"
            window = 20
        "#
        .parse()
        .unwrap();
        apply(
            &mut root,
            vars(&[
                ("SEMALINK_ENGINE__HTTP__LISTEN", "0.0.0.0:9000"),
                ("SEMALINK_ENGINE__UPSTREAMS__1__WINDOW", "64"),
                ("SEMALINK_ENGINE__UPSTREAMS__SIM__PASSWORD", "s3cret"),
                ("SEMALINK_ENGINE__RETRY__MAX_ATTEMPTS", "7"),
                ("OTHER__HTTP__LISTEN", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(root["http"]["listen"].as_str(), Some("0.0.0.0:9000"));
        assert_eq!(root["upstreams"][1]["window"].as_integer(), Some(64));
        assert_eq!(root["upstreams"][0]["password"].as_str(), Some("s3cret"));
        assert_eq!(root["retry"]["max_attempts"].as_integer(), Some(7));
    }

    #[test]
    fn bad_selectors_name_the_variable() {
        let mut root: Table = "[[upstreams]]\nname = \"sim\"\n".parse().unwrap();
        let err = apply(
            &mut root,
            vars(&[("SEMALINK_ENGINE__UPSTREAMS__NOPE__PORT", "1")]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("SEMALINK_ENGINE__UPSTREAMS__NOPE__PORT"),
            "{text}"
        );
        assert!(text.contains("nope"), "{text}");
    }
}
