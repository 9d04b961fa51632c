//! The demo seed (`semalink up` on first start; `--no-demo` skips it): a demo organisation
//! whose owner has a printed password and a verified email, an approved default sender ID,
//! platform rates for Kenya, Uganda and Tanzania where the platform list has none, a top-up
//! through the ledger and a 10,000-contact list of realistic numbers across operators.
//!
//! Every step goes through the control plane's own stores and services — the signup's user
//! and account writes, the sender-ID store and its status events, the pricing store, the
//! manual top-up provider (the ledger), the contact import (streamed CSV, COPY, one set-based
//! commit into a new list) — and each one first looks whether it is already done, so a
//! restart seeds nothing twice. Only in `environment = "development"`: a demo organisation
//! with free credit has no place in a real deployment.
//!
//! The password is generated at first start and kept (with the API's address) in
//! `demo-owner.json` of the state directory (`.semalink/` by default), where `semalink demo`
//! reads it; when that file is lost the password is reset to a new one.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rust_decimal::Decimal;
use semalink_control_plane::AppState;
use semalink_control_plane::accounts::store as accounts;
use semalink_control_plane::config::Environment;
use semalink_control_plane::contacts::lists::store as lists;
use semalink_control_plane::credits::topup::{ManualTopup, TopupProvider, TopupRequest};
use semalink_control_plane::credits::types::Actor;
use semalink_control_plane::http::with::newest;
use semalink_control_plane::identity::scope::AccountScope;
use semalink_control_plane::imports::commit::{self, Target};
use semalink_control_plane::imports::types::UploadParams;
use semalink_control_plane::imports::upload::{self, Uploader};
use semalink_control_plane::pricing::store::{self as pricing, NewRate};
use semalink_control_plane::pricing::types::RateScope;
use semalink_control_plane::sender_ids::name::SenderName;
use semalink_control_plane::sender_ids::store::{self as sender_ids, Event, NewSenderId};
use semalink_control_plane::sender_ids::types::{SenderIdStatus, TrafficType};
use semalink_control_plane::users::store as users;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::numbers;

/// The demo owner's login.
pub const DEMO_EMAIL: &str = "owner@demo.semalink.africa";
/// The demo organisation.
pub const DEMO_ORGANISATION: &str = "Sema Link Demo";
/// Its approved default sender ID.
pub const DEMO_SENDER: &str = "SemaDemo";
/// The contact list `semalink demo` sends to.
pub const DEMO_LIST: &str = "Demo contacts";
/// Contacts in it.
pub const DEMO_CONTACTS: usize = 10_000;
/// Credits of the seed's top-up (enough for several demo runs at about 1 credit a message).
pub const DEMO_TOPUP: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);
/// The top-up's ledger reference (what makes it happen once).
const TOPUP_REFERENCE: &str = "demo-seed-topup";
/// The number generator's seed: every demo database gets the same list.
const NUMBERS_SEED: u64 = 19;
/// The credentials file in the state directory.
const CREDENTIALS_FILE: &str = "demo-owner.json";

/// Platform rates the demo needs (credits per segment): a country rate for every operator
/// without its own, and the main operators'.
const RATES: &[(&str, Option<&str>, i64)] = &[
    ("KE", None, 80),
    ("KE", Some("ke-safaricom"), 80),
    ("KE", Some("ke-airtel"), 60),
    ("KE", Some("ke-telkom"), 60),
    ("UG", None, 100),
    ("UG", Some("ug-mtn"), 100),
    ("UG", Some("ug-airtel"), 95),
    ("TZ", None, 110),
    ("TZ", Some("tz-vodacom"), 110),
    ("TZ", Some("tz-airtel"), 105),
    ("TZ", Some("tz-yas"), 105),
];

/// The seeded demo organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Demo {
    /// Owner login.
    pub email: String,
    /// Owner password.
    pub password: String,
    /// The organisation.
    pub account_id: Uuid,
    /// The demo contact list.
    pub list_id: Uuid,
    /// The API's base URL when it was seeded (what `semalink demo` talks to).
    pub api: String,
}

impl Demo {
    /// Lines for the start-up banner.
    pub fn banner(&self) -> String {
        format!(
            "  demo login   {} / {}  (organisation {DEMO_ORGANISATION:?}, sender {DEMO_SENDER}, \
             list {DEMO_LIST:?} of {DEMO_CONTACTS} contacts)\n  run the demo: semalink demo\n",
            self.email, self.password
        )
    }

    /// Reads the credentials `semalink up` wrote.
    pub fn read(state_dir: &Path) -> anyhow::Result<Demo> {
        let path = state_dir.join(CREDENTIALS_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (start `semalink up` first, or pass --email/--password)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    fn write(&self, state_dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating {}", state_dir.display()))?;
        let path = state_dir.join(CREDENTIALS_FILE);
        let text = serde_json::to_string_pretty(self)?;
        write_private(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A password the strength rule accepts: 24 random letters and digits, grouped.
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = fastrand::Rng::new();
    let mut out = String::new();
    for group in 0..4 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..6 {
            out.push(char::from(ALPHABET[rng.usize(0..ALPHABET.len())]));
        }
    }
    // One of each class whatever the draw.
    out.push_str("-Ka7");
    out
}

/// Seeds (or finds) the demo organisation; `api` is the public base URL written with the
/// credentials into `state_dir`.
pub async fn seed(state: &AppState, state_dir: &Path, api: &str) -> anyhow::Result<Demo> {
    if state.config.server.environment != Environment::Development {
        bail!(
            "the demo seed runs only with server.environment = \"development\" (it grants free \
             credit); start with --no-demo"
        );
    }
    let saved = Demo::read(state_dir).ok();
    let (user_id, account_id, password) = owner(state, saved.as_ref()).await?;
    let scope = AccountScope::trusted(account_id);
    sender_id(state, scope, user_id).await?;
    rates(state).await?;
    topup(state, account_id).await?;
    let list_id = contact_list(state, scope, account_id, user_id).await?;
    let demo = Demo {
        email: DEMO_EMAIL.into(),
        password,
        account_id,
        list_id,
        api: api.to_owned(),
    };
    let path = demo.write(state_dir)?;
    tracing::info!(account_id = %account_id, credentials = %path.display(), "demo organisation ready");
    Ok(demo)
}

/// The owner and organisation, created as the signup does, the email verified.
async fn owner(state: &AppState, saved: Option<&Demo>) -> anyhow::Result<(Uuid, Uuid, String)> {
    let pool = &state.pool;
    if let Some(existing) = users::credentials_by_email(pool, DEMO_EMAIL).await? {
        let (account_id, _) = accounts::default_membership(pool, existing.id)
            .await?
            .context("the demo owner has no organisation")?;
        let known = match saved {
            Some(s) => {
                state
                    .passwords
                    .verify(s.password.clone(), existing.password_hash.clone())
                    .await
            }
            None => false,
        };
        let password = match (known, saved) {
            (true, Some(s)) => s.password.clone(),
            _ => {
                let password = generate_password();
                let hash = state.passwords.hash(password.clone()).await?;
                users::set_password(pool, existing.id, &hash).await?;
                tracing::info!("demo owner password reset (its credentials file was missing)");
                password
            }
        };
        return Ok((existing.id, account_id, password));
    }
    let password = generate_password();
    let hash = state.passwords.hash(password.clone()).await?;
    let user_id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    users::insert(&mut *tx, user_id, DEMO_EMAIL, "Demo", "Owner", &hash).await?;
    let account_id =
        accounts::create_with_owner(&mut tx, user_id, DEMO_ORGANISATION, "Africa/Nairobi", "KE")
            .await?;
    users::mark_verified(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok((user_id, account_id, password))
}

/// An approved default sender ID, registered and approved with its status events.
async fn sender_id(state: &AppState, scope: AccountScope, user_id: Uuid) -> anyhow::Result<()> {
    if sender_ids::approved_sender(&state.pool, scope, Some(DEMO_SENDER))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let name = SenderName::parse(DEMO_SENDER, "KE").map_err(anyhow::Error::msg)?;
    let mut tx = state.pool.begin().await?;
    let new = NewSenderId {
        account_id: scope.id(),
        name: &name,
        country: "KE",
        traffic_type: TrafficType::Transactional,
        use_case: "Sema Link demo: campaign and delivery reports",
        sample_message: Some("Habari! This is the Sema Link demo."),
        submitted_by: Some(user_id),
    };
    let pending = sender_ids::insert(&mut tx, &new).await?;
    let note = Some("approved by the demo seed");
    let approved =
        sender_ids::set_status(&mut *tx, pending.id, SenderIdStatus::Approved, None, note).await?;
    let event = Event {
        from: Some(SenderIdStatus::Pending),
        to: SenderIdStatus::Approved,
        staff_id: None,
        user_id: None,
        note,
    };
    sender_ids::insert_event(&mut *tx, &approved, &event).await?;
    sender_ids::make_default(&mut tx, scope, approved.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The platform rates of [`RATES`] that the platform list does not have yet.
async fn rates(state: &AppState) -> anyhow::Result<()> {
    let countries: Vec<String> = ["KE", "UG", "TZ"].map(String::from).to_vec();
    let now = OffsetDateTime::now_utc();
    let in_force = pricing::in_force(&state.pool, None, Some(&countries), now).await?;
    let mut tx = state.pool.begin().await?;
    for &(country, mno_id, cents) in RATES {
        let present = in_force.iter().any(|r| {
            r.scope == RateScope::Platform && r.country == country && r.mno_id.as_deref() == mno_id
        });
        if present {
            continue;
        }
        let new = NewRate {
            scope: RateScope::Platform,
            account_id: None,
            country,
            mno_id,
            rate: Decimal::new(cents, 2),
            effective_from: now,
            created_by: None,
            note: Some("demo seed"),
        };
        pricing::insert_rate(&mut *tx, &new).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The demo credit, through the manual top-up provider (once: keyed by its reference).
async fn topup(state: &AppState, account_id: Uuid) -> anyhow::Result<()> {
    let provider = ManualTopup;
    let request = TopupRequest {
        account_id,
        amount: DEMO_TOPUP,
        reference: TOPUP_REFERENCE.into(),
        requested_by: Actor::System("demo_seed"),
        reason: Some("demo credit".into()),
    };
    let initiated = provider.initiate(&request).await?;
    let mut tx = state.pool.begin().await?;
    let base_url = state.config.server.public_base_url.clone();
    provider
        .confirm(&mut tx, &request, &initiated, &base_url)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The demo list, imported through the contact import (upload, then commit into a new list).
async fn contact_list(
    state: &AppState,
    scope: AccountScope,
    account_id: Uuid,
    user_id: Uuid,
) -> anyhow::Result<Uuid> {
    let needle = DEMO_LIST.to_lowercase();
    let existing = lists::list(&state.pool, scope, Some(&needle), &newest(100)).await?;
    if let Some(list) = existing.iter().find(|l| l.name == DEMO_LIST) {
        return Ok(list.id);
    }
    let mut csv = String::from("phone,first_name,last_name\n");
    let mut rng = fastrand::Rng::with_seed(NUMBERS_SEED);
    for (number, _) in numbers::generate(DEMO_CONTACTS, NUMBERS_SEED) {
        let first = numbers::FIRST_NAMES[rng.usize(0..numbers::FIRST_NAMES.len())];
        let last = numbers::LAST_NAMES[rng.usize(0..numbers::LAST_NAMES.len())];
        csv.push_str(&format!("{number},{first},{last}\n"));
    }
    let who = Uploader {
        account_id,
        scope,
        user_id: Some(user_id),
        api_key_id: None,
    };
    let params = UploadParams {
        filename: Some("demo-contacts.csv".into()),
        header: Some(true),
        ..UploadParams::default()
    };
    let length = i64::try_from(csv.len()).ok();
    let import = upload::upload(state, who, params, length, axum::body::Body::from(csv)).await?;
    let done = commit::commit(
        &state.pool,
        state.config.database.bulk_statement_timeout_ms,
        scope,
        import.id,
        Target::NewList(DEMO_LIST.into()),
    )
    .await?;
    let existing = lists::list(&state.pool, scope, Some(&needle), &newest(100)).await?;
    let list = existing
        .iter()
        .find(|l| l.name == DEMO_LIST)
        .context("the demo import did not create its list")?;
    tracing::info!(import_id = %done.id, list_id = %list.id, "demo contacts imported");
    Ok(list.id)
}
