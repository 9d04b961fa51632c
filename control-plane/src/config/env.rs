//! Where the configuration comes from besides the file: `SEMALINK_API__<SECTION>__<KEY>`
//! variables (the engine's shape), the old `SEMALINK_<SECTION>__<KEY>` form for one more
//! release (with a warning naming the new key), `DATABASE_URL` and `DATABASE_OWNER_URL`.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use crate::config::{Config, ConfigError};

/// Prefix of this service's environment variables: `SEMALINK_API__<SECTION>__<KEY>`, the
/// shape the engine's `SEMALINK_ENGINE__<SECTION>__<KEY>` has too.
pub const ENV_PREFIX: &str = "SEMALINK_API__";

/// The sections of [`Config`], for recognising variables of the old form.
const SECTIONS: [&str; 7] = [
    "server",
    "database",
    "auth",
    "admin",
    "email",
    "rate_limit",
    "workers",
];

/// Whether a variable (prefix `SEMALINK_` removed) is of the old form `<SECTION>__<KEY>`
/// for one of our sections.
fn is_old_form(rest: &str) -> bool {
    rest.split_once("__")
        .is_some_and(|(section, _)| SECTIONS.contains(&section.to_ascii_lowercase().as_str()))
}

/// For each variable of the old form `SEMALINK_<SECTION>__<KEY>` among `names`, the name it
/// has now. Old names are still read for one release, below the new ones, with a warning.
pub fn old_form_variables(names: impl IntoIterator<Item = String>) -> Vec<(String, String)> {
    names
        .into_iter()
        .filter_map(|name| {
            let rest = name.strip_prefix("SEMALINK_")?;
            is_old_form(rest).then(|| (name.clone(), format!("{ENV_PREFIX}{rest}")))
        })
        .collect()
}

impl Config {
    /// Loads `path`, then the old-form `SEMALINK_<SECTION>__<KEY>` variables (warning about
    /// each), then `SEMALINK_API__<SECTION>__<KEY>`, then `DATABASE_URL` and
    /// `DATABASE_OWNER_URL`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
        for (old, new) in old_form_variables(names) {
            tracing::warn!(
                variable = %old,
                use_instead = %new,
                "old-form configuration variable: still read for this release, rename it"
            );
        }
        let config: Config = Figment::from(Toml::file_exact(path))
            .merge(
                Env::prefixed("SEMALINK_")
                    .filter(|k| is_old_form(k.as_str()))
                    .split("__"),
            )
            .merge(Env::prefixed(ENV_PREFIX).split("__"))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .merge(
                Env::raw()
                    .only(&["DATABASE_OWNER_URL"])
                    .map(|_| "database.migration_url".into()),
            )
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_form_variables_of_our_sections_are_named_with_their_new_key() {
        let names = [
            "SEMALINK_SERVER__BIND",
            "SEMALINK_database__max_connections",
            "SEMALINK_SEED_PASSWORD",
            "SEMALINK_ENGINE__AMQP__URL",
            "SEMALINK_API__AUTH__JWT_SECRET",
            "DATABASE_URL",
        ];
        let old = old_form_variables(names.iter().map(|n| (*n).to_owned()));
        assert_eq!(
            old,
            vec![
                (
                    "SEMALINK_SERVER__BIND".to_owned(),
                    "SEMALINK_API__SERVER__BIND".to_owned()
                ),
                (
                    "SEMALINK_database__max_connections".to_owned(),
                    "SEMALINK_API__database__max_connections".to_owned()
                ),
            ]
        );
    }
}
