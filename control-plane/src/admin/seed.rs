//! `semalink-api seed-staff`: creates the first staff member, owner of every module, who must
//! change the password at first login. Refuses when staff already exist.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::admin::audit::{self, Entry};
use crate::admin::permissions::{Module, all_owner};
use crate::admin::store;
use crate::error::{Error, Result};
use crate::identity::password::Passwords;
use crate::users::types::parse_email;

/// Creates the first owner; returns their id.
pub async fn seed_first_owner(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    name: &str,
    password: &str,
) -> Result<Uuid> {
    let mut errors = Vec::new();
    let email = parse_email("email", email, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let hash = passwords.hash(password.to_owned()).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE admin_staff IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    if store::count(&mut *tx).await? > 0 {
        return Err(Error::Conflict(
            "staff already exist; create more from the staff module",
        ));
    }
    let id = store::insert(&mut *tx, &email, name, &hash).await?;
    store::set_permissions(&mut tx, id, &all_owner()).await?;
    let entry = Entry {
        staff_id: None,
        module: Module::Staff,
        action: "staff.seed_owner",
        target_type: Some("staff"),
        target_id: Some(id.to_string()),
        metadata: json!({ "email": email }),
        ip: None,
    };
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(id)
}
