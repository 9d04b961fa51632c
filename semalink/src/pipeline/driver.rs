//! The customer's and the staff's side of a pipeline run, through the public API only: a staff
//! member logs in (changing the seeded password as the first login must), a customer signs up
//! and verifies the email (the token read from the email outbox, the stand-in for an inbox),
//! registers a sender ID that the staff member approves, the staff member sets platform rates
//! and records a top-up, the customer imports the recipients as a CSV into a new list and
//! creates, submits and sends a campaign to it; then the campaign is followed until it is
//! `completed`.

use std::time::Duration;

use anyhow::{Context, bail};
use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

use crate::client::Api;
use crate::numbers;

/// The staff member the run seeds (`semalink-api seed-staff` does the same).
pub const STAFF_EMAIL: &str = "ops@pipeline.semalink.africa";
/// Its first password (must be changed at first login) and the one it is changed to.
pub const STAFF_FIRST_PASSWORD: &str = "Pipeline-first-login-42";
const STAFF_PASSWORD: &str = "Pipeline-staff-changed-43";
/// The customer's password.
const CUSTOMER_PASSWORD: &str = "Pipeline-customer-pass-44";
/// Platform rates per segment the run sets (country rates).
const RATES: &[(&str, &str)] = &[("KE", "0.80"), ("UG", "1.00"), ("TZ", "1.10")];

/// A customer organisation ready to send.
#[derive(Debug, Clone)]
pub struct Org {
    /// The owner, logged in.
    pub api: Api,
    /// The organisation.
    pub account_id: Uuid,
    /// Its approved default sender ID.
    pub sender_id: String,
    /// The imported list.
    pub list_id: String,
    /// Contacts in it.
    pub contacts: u64,
    /// The top-up.
    pub topup: rust_decimal::Decimal,
    /// The owner's login.
    pub email: String,
    /// Seconds the CSV import took (upload + commit).
    pub import_secs: f64,
}

/// Logs the seeded staff member in, changing the first password when asked to.
pub async fn staff(base: &str) -> anyhow::Result<Api> {
    let mut api = Api::new(base);
    for password in [STAFF_PASSWORD, STAFF_FIRST_PASSWORD] {
        let body = json!({ "email": STAFF_EMAIL, "password": password });
        let r = api
            .send(Method::POST, "/v1/admin/auth/login", Some(&body))
            .await?;
        if !r.status.is_success() {
            continue;
        }
        let token = r.json["access_token"]
            .as_str()
            .context("staff login without access token")?;
        api.set_token(token);
        if r.json["must_change_password"].as_bool() != Some(true) {
            return Ok(api);
        }
        api.post(
            "/v1/admin/auth/password",
            &json!({ "current_password": password, "new_password": STAFF_PASSWORD }),
        )
        .await?;
        let body = json!({ "email": STAFF_EMAIL, "password": STAFF_PASSWORD });
        let r = api.post("/v1/admin/auth/login", &body).await?;
        api.set_token(r["access_token"].as_str().context("no access token")?);
        return Ok(api);
    }
    bail!("the staff member {STAFF_EMAIL} cannot log in (seeded?)")
}

/// Signs a customer up, verifies the email, gets a sender ID approved, rates set, credit
/// topped up and `contacts` recipients imported; `db` (the owner's login) reads the
/// verification email from the outbox.
pub async fn organisation(
    base: &str,
    db: &PgPool,
    staff: &Api,
    tag: &str,
    contacts: usize,
) -> anyhow::Result<Org> {
    let email = format!("owner+{tag}@pipeline.example.com");
    let mut api = Api::new(base);
    let signup = api
        .post(
            "/v1/auth/signup",
            &json!({"email": email, "password": CUSTOMER_PASSWORD, "first_name": "Pipeline",
                    "last_name": "Owner", "organisation_name": format!("Pipeline {tag}")}),
        )
        .await?;
    let account_id: Uuid = signup["account_id"]
        .as_str()
        .context("signup without account_id")?
        .parse()?;
    let token = verification_token(db, &email).await?;
    api.post("/v1/auth/verify-email", &json!({ "token": token }))
        .await?;
    api.login(&email, CUSTOMER_PASSWORD).await?;

    let sender = api
        .post(
            "/v1/sender-ids",
            &json!({"name": "PipeRun", "country": "KE", "traffic_type": "transactional",
                    "use_case": "Order updates and delivery notices for our customers"}),
        )
        .await?;
    let sender_id = sender["id"].as_str().context("sender ID id")?.to_owned();
    staff
        .post(
            &format!("/v1/admin/sender-ids/{sender_id}/approve"),
            &json!({"note": "pipeline run"}),
        )
        .await?;
    let r = api
        .send(
            Method::PUT,
            &format!("/v1/sender-ids/{sender_id}/default"),
            None,
        )
        .await?;
    if !r.status.is_success() {
        bail!(
            "making the sender ID default answered {}: {}",
            r.status,
            r.json
        );
    }
    for (country, rate) in RATES {
        let body = json!({"scope": "platform", "country": country, "rate": rate});
        let r = staff
            .send(Method::POST, "/v1/admin/pricing/rates", Some(&body))
            .await?;
        if !r.status.is_success() && r.status != hyper::StatusCode::CONFLICT {
            bail!("rate {country} answered {}: {}", r.status, r.json);
        }
    }
    // Enough for every recipient at the highest rate, twice.
    let topup = rust_decimal::Decimal::from(contacts as u64 * 3 + 100);
    staff
        .post(
            &format!("/v1/admin/billing/accounts/{account_id}/topups"),
            &json!({"amount": topup.to_string(), "reference": format!("pipeline-{tag}"),
                    "reason": "pipeline run credit"}),
        )
        .await?;

    let import_started = Instant::now();
    let mut csv = String::from("phone,first_name\n");
    for (i, (number, _)) in numbers::generate(contacts, 15).iter().enumerate() {
        let first = numbers::FIRST_NAMES[i % numbers::FIRST_NAMES.len()];
        csv.push_str(&format!("{number},{first}\n"));
    }
    let import = api
        .post_bytes(
            "/v1/contacts/imports?header=true&filename=pipeline.csv",
            "text/csv",
            Bytes::from(csv),
        )
        .await?;
    let import_id = import["id"].as_str().context("import id")?;
    let done = api
        .post(
            &format!("/v1/contacts/imports/{import_id}/commit"),
            &json!({"list_name": format!("Pipeline {tag}")}),
        )
        .await?;
    let list_id = done["list_id"]
        .as_str()
        .with_context(|| format!("the import did not make a list: {done}"))?
        .to_owned();
    let contacts = done["linked_contacts"].as_u64().unwrap_or(0);
    Ok(Org {
        api,
        account_id,
        sender_id,
        list_id,
        contacts,
        topup,
        email,
        import_secs: import_started.elapsed().as_secs_f64(),
    })
}

/// The newest verification token emailed to `email`.
async fn verification_token(db: &PgPool, email: &str) -> anyhow::Result<String> {
    for _ in 0..50 {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body_text FROM email_outbox WHERE lower(to_address) = lower($1)
                AND template = 'verification' ORDER BY id DESC LIMIT 1",
        )
        .bind(email)
        .fetch_optional(db)
        .await?;
        if let Some(body) = body
            && let Some(at) = body.find("token=")
        {
            return Ok(body[at + 6..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no verification email to {email}")
}

/// Creates, submits and sends the campaign; its id.
pub async fn send_campaign(org: &Org, text: &str) -> anyhow::Result<String> {
    let c = org
        .api
        .post(
            "/v1/campaigns",
            &json!({"name": "Pipeline run", "sender_id": org.sender_id,
                    "list_ids": [org.list_id], "message": text}),
        )
        .await?;
    let id = c["id"].as_str().context("campaign id")?.to_owned();
    let r = org
        .api
        .post(&format!("/v1/campaigns/{id}/submit"), &json!({}))
        .await?;
    if r["status"] != "approved" {
        bail!("the campaign was not approved: {r}");
    }
    let r = org
        .api
        .post(&format!("/v1/campaigns/{id}/send"), &json!({}))
        .await?;
    if r["status"] != "queued" {
        bail!("the campaign was not queued: {r}");
    }
    Ok(id)
}

/// The campaign as its owner reads it; `None` while the API does not answer (a control plane
/// being restarted). Logs in again when the access token has expired.
pub async fn campaign(org: &mut Org, id: &str) -> Option<Value> {
    let path = format!("/v1/campaigns/{id}");
    let r = org.api.send(Method::GET, &path, None).await.ok()?;
    match r.status {
        hyper::StatusCode::OK => Some(r.json),
        hyper::StatusCode::UNAUTHORIZED => {
            org.api.login(&org.email, CUSTOMER_PASSWORD).await.ok()?;
            None
        }
        _ => None,
    }
}
