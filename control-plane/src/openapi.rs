//! The OpenAPI 3.1 document: generated from the handlers' `#[utoipa::path]` annotations as the
//! routers are merged; this file adds the info block, security schemes and shared schemas.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};
use crate::exports::stream::FileFormat;
use crate::imports::decode::RequestedEncoding;

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sema Link API",
        description = "Bulk SMS control plane: accounts, teams, API keys, staff. Errors are RFC 9457 problem documents (application/problem+json). Timestamps are RFC 3339 UTC; ids are UUIDs; lists use cursor pagination.",
        version = "0.1.0"
    ),
    modifiers(&Security),
    // Schemas referenced only from query parameters are not collected by `routes!`: list them.
    components(schemas(Problem, FieldError, FileFormat, RequestedEncoding)),
    tags(
        (name = "auth", description = "Signup, login, tokens, sessions, email links"),
        (name = "mfa", description = "TOTP two-factor authentication"),
        (name = "users", description = "My profile"),
        (name = "accounts", description = "Organisations"),
        (name = "team", description = "Members and invitations"),
        (name = "api-keys", description = "Machine-to-machine keys"),
        (name = "notifications", description = "In-app notifications"),
        (name = "sender-ids", description = "Sender IDs: register, review status, default"),
        (name = "contacts", description = "Contacts, lists, trash, opt-out, the suppression list, CSV imports and exports"),
        (name = "admin", description = "Sema Link staff"),
        (name = "admin-sender-ids", description = "Staff: sender ID approval queue, decisions, history"),
        (name = "pricing", description = "Rates, the public pricing table and price quotes"),
        (name = "credits", description = "Balance, credit history, low-credit alert"),
        (name = "pricing-admin", description = "Staff: rates, upstream costs, margins"),
        (name = "billing-admin", description = "Staff: top-ups, adjustments, refunds, credit limits, ledger"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let jwt = || {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            )
        };
        components.add_security_scheme("bearer", jwt());
        components.add_security_scheme("staff_bearer", jwt());
        components.add_security_scheme(
            "bearer_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sl_live_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// Adds the responses every operation can give whatever its handler does: 500 everywhere, and
/// 401 and 429 (per-account or per-key rate limit) on every authenticated operation.
pub fn document_common_errors(api: &mut utoipa::openapi::OpenApi) {
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_common(operation);
        }
    }
}

fn add_common(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut add = |code: &str, description: &str| {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", problem)
            .build();
        operation
            .responses
            .responses
            .entry(code.to_owned())
            .or_insert(RefOr::T(response));
    };
    add(
        "500",
        "Internal error (the body reveals nothing; the cause is logged)",
    );
    if secured {
        add("401", "Missing, invalid or expired credentials");
        add("429", "Rate limited (see Retry-After)");
    }
}
