//! `--set path=value` overrides: any [`SimConfig`] field by its dotted path, so every
//! behaviour is switchable from the command line without a flag per knob.

use serde_json::Value;

use super::SimConfig;
use crate::Error;

/// Applies `path=value` pairs (e.g. `behaviour.flow.tps_per_bind=100`,
/// `behaviour.message_id=hex_upper`). Values are read as JSON when they parse, else as strings.
pub fn apply(config: SimConfig, sets: &[String]) -> Result<SimConfig, Error> {
    if sets.is_empty() {
        return Ok(config);
    }
    let mut value = serde_json::to_value(&config).map_err(|e| Error::Config(e.to_string()))?;
    for set in sets {
        let (path, raw) = set
            .split_once('=')
            .ok_or_else(|| Error::Config(format!("--set {set:?}: expected path=value")))?;
        let new: Value =
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        let mut slot = &mut value;
        for key in path.split('.') {
            slot = slot
                .get_mut(key)
                .ok_or_else(|| Error::Config(format!("--set: unknown key {path:?}")))?;
        }
        *slot = new;
    }
    let config: SimConfig =
        serde_json::from_value(value).map_err(|e| Error::Config(e.to_string()))?;
    config.behaviour.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_values_and_rejects_unknown_keys() {
        let c = apply(
            SimConfig::default(),
            &[
                "behaviour.flow.tps_per_bind=100".into(),
                "behaviour.message_id=hex_lower:8".into(),
                "behaviour.receipts.delay=uniform:5-10".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.behaviour.flow.tps_per_bind, 100);
        assert_eq!(String::from(c.behaviour.message_id), "hex_lower:8");
        assert!(apply(SimConfig::default(), &["behaviour.nope=1".into()]).is_err());
        assert!(
            apply(
                SimConfig::default(),
                &["behaviour.flow.syserr_rate=2".into()]
            )
            .is_err()
        );
    }
}
