//! `POST /v1/webhooks/callbacks/rotate-secret`: the secret that signs the organisation's
//! adapter callbacks (Kannel dlr-url, Africa's Talking callbackUrl). The first call creates
//! it; later calls rotate it with an overlap like an endpoint's. Admins and owners; each
//! organisation has its own.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store;
use crate::error::Result;
use crate::http::reply::found;
use crate::http::{Json, with::With};
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::webhooks::store as endpoints;
use crate::webhooks::types::{RotateSecret, RotatedSecret};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rotate_callback_secret))
}

/// The callback signing secret: created by the first call, rotated by later ones (the
/// previous one keeps signing for `overlap_seconds`). The secret is in this response only.
#[utoipa::path(post, path = "/v1/webhooks/callbacks/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    request_body = RotateSecret,
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
    ))]
async fn rotate_callback_secret(
    With(state, user): With<AuthUser>,
    Json(req): Json<RotateSecret>,
) -> Result<Json<RotatedSecret>> {
    user.require(Role::Admin)?;
    let until = req.overlap_until(state.config.webhooks.rotation_overlap_secs)?;
    let mut tx = state.pool.begin().await?;
    if let Some(secret) = store::ensure_endpoint(&mut *tx, user.account_id).await? {
        tx.commit().await?;
        return Ok(Json(RotatedSecret {
            secret,
            previous_secret_until: None,
        }));
    }
    let id = found(store::endpoint_id(&mut *tx, user.account_id).await?)?;
    let rotated = found(endpoints::rotate(&mut *tx, user.scope(), id, until).await?)?;
    tx.commit().await?;
    Ok(Json(rotated))
}
