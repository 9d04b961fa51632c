//! The OpenAPI 3.1 document: generated from the handlers' `#[utoipa::path]` annotations as the
//! routers are merged; this file adds the info block, security schemes and shared schemas.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sema Link API",
        description = "Bulk SMS control plane: accounts, teams, API keys, staff. Errors are RFC 9457 problem documents (application/problem+json). Timestamps are RFC 3339 UTC; ids are UUIDs; lists use cursor pagination.",
        version = "0.1.0"
    ),
    modifiers(&Security),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Signup, login, tokens, sessions, email links"),
        (name = "mfa", description = "TOTP two-factor authentication"),
        (name = "users", description = "My profile"),
        (name = "accounts", description = "Organisations"),
        (name = "team", description = "Members and invitations"),
        (name = "api-keys", description = "Machine-to-machine keys"),
        (name = "admin", description = "Sema Link staff"),
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
