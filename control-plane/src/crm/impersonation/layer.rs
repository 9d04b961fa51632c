//! The impersonation middleware, on every route: a request whose bearer token is an
//! impersonation token is checked (signature, audience, the row still live), audited, and
//! let through only as a read (GET or HEAD) with an [`Impersonated`] for the extractors;
//! anything else is refused with 403 — and audited too. Other requests pass untouched.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::admin::audit::{self, Entry};
use crate::admin::permissions::Module;
use crate::crm::impersonation::store;
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::identity::impersonation::{AUDIENCE, Impersonated, ImpersonationClaims, PREFIX};
use crate::identity::user::bearer;
use crate::state::AppState;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn impersonation(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Some(jwt) = bearer(&parts).and_then(|t| t.strip_prefix(PREFIX)) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let jwt = jwt.to_owned();
    let ip = match ClientIp::from_request_parts(&mut parts, &state).await {
        Ok(ClientIp(ip)) => ip.to_string(),
        Err(e) => return e.into_response(),
    };
    match check(&state, &jwt, &parts, &ip).await {
        Ok(view) => {
            parts.extensions.insert(view);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// Verifies the token, audits the request and answers whether it may proceed.
async fn check(state: &AppState, jwt: &str, parts: &Parts, ip: &str) -> Result<Impersonated> {
    let (method, path) = (parts.method.as_str(), parts.uri.path());
    let read = matches!(parts.method, Method::GET | Method::HEAD);
    let claims: ImpersonationClaims = state.customer_keys.verify(jwt, AUDIENCE)?;
    let view = store::live(&state.pool, claims.sub, claims.stf, claims.acc)
        .await?
        .ok_or(Error::Unauthorized("the impersonation has ended"))?;
    let action = if read {
        "impersonation.view"
    } else {
        "impersonation.refused"
    };
    let entry = Entry {
        staff_id: Some(view.staff_id),
        module: Module::Crm,
        action,
        target_type: Some("account"),
        target_id: Some(view.account_id.to_string()),
        metadata: json!({ "impersonation_id": view.id, "method": method, "path": path }),
        ip: Some(ip),
    };
    audit::record(&state.pool, entry).await?;
    if !read {
        return Err(Error::Forbidden(
            "impersonation is read-only: changes are refused",
        ));
    }
    Ok(view)
}
