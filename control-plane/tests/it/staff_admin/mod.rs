//! The staff admin modules (issue 17): CRM, impersonation, audit viewer and export, staff
//! management, campaigns oversight (and its human content-check queue), engineering (and the
//! retry of failed messages, the failed-SMS spike notice) and the staff bell. Each module's file has
//! its permission matrix (none / read / admin / owner × every route) and the audit rows of
//! its mutations.

mod audit;
mod campaigns;
mod crm;
mod crm_gate;
mod engineering;
mod impersonation;
mod retry;
mod review;
mod spike;
mod staff;

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

/// One token per level on `module` (`none` is a staff member with no permission there).
pub async fn tokens_per_level(app: &TestApp, module: Module) -> Vec<(Level, String)> {
    let mut out = Vec::new();
    for level in [Level::None, Level::Read, Level::Admin, Level::Owner] {
        let perms: Vec<(Module, Level)> = if level == Level::None {
            vec![(Module::Billing, Level::Owner)]
        } else {
            vec![(module, level)]
        };
        out.push((level, crate::credits::staff_token(app, &perms).await));
    }
    out
}

/// One route of a permission matrix: method, path, body and the lowest level allowed.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub needs: Level,
}

pub fn route(method: Method, path: impl Into<String>, body: Option<Value>, needs: Level) -> Route {
    Route {
        method,
        path: path.into(),
        body,
        needs,
    }
}

/// Calls every route with every level's token: below the route's level the answer is 403,
/// at or above it anything but 403 (and never a 5xx).
pub async fn check_matrix(app: &TestApp, tokens: &[(Level, String)], routes: &[Route]) {
    for r in routes {
        for (level, token) in tokens {
            let resp = app
                .call(r.method.clone(), &r.path, Some(token), r.body.clone())
                .await;
            assert!(
                !resp.status.is_server_error(),
                "{} {} as {level:?}: {}",
                r.method,
                r.path,
                resp.text
            );
            if *level < r.needs {
                assert_eq!(
                    resp.status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {level:?}: {}",
                    r.method,
                    r.path,
                    resp.text
                );
            } else {
                assert_ne!(
                    resp.status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {level:?}: {}",
                    r.method,
                    r.path,
                    resp.text
                );
            }
        }
    }
}

/// The audit rows of `action`: (staff id, target type, target id, metadata).
pub async fn audit_rows(
    app: &TestApp,
    action: &str,
) -> Vec<(Option<Uuid>, Option<String>, Option<String>, Value)> {
    sqlx::query_as(
        "SELECT staff_id, target_type, target_id, metadata FROM audit_log WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The staff id behind a staff access token (`GET /v1/admin/me`).
pub async fn staff_id(app: &TestApp, token: &str) -> Uuid {
    let me = app.get("/v1/admin/me", token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.json["id"].as_str().unwrap().parse().unwrap()
}
