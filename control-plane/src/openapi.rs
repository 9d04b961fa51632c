//! The OpenAPI 3.1 document: generated from the handlers' `#[utoipa::path]` annotations as the
//! routers are merged; this file adds the info block, security schemes, shared schemas and
//! the problem responses every operation shares ([`document_common_errors`]), so a handler
//! documents only what is particular to it (its 2xx, 402/409, a 403 or 422 with a reason of
//! its own, and the like).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
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
    components(schemas(
        Problem,
        FieldError,
        FileFormat,
        RequestedEncoding,
        crate::inbound::types::InboundAction,
        crate::analytics::types::CampaignSort,
        crate::analytics::types::SortOrder,
        crate::agents::types::Period
    )),
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
        (name = "admin-staff", description = "Staff: sign-in, staff members and their permissions"),
        (name = "admin-audit", description = "Staff: the audit log"),
        (name = "admin-sender-ids", description = "Staff: sender ID approval queue, decisions, history"),
        (name = "pricing", description = "Rates, the public pricing table and price quotes"),
        (name = "credits", description = "Balance, credit history, low-credit alert"),
        (name = "compat", description = "Drop-in adapters for clients of Kannel and Africa's Talking"),
        (name = "messages", description = "Send messages (idempotent), read them and their timeline; inbound replies"),
        (name = "campaigns", description = "Campaigns: drafts, content check, preview, schedule, pause, resume, cancel, live progress; spend caps"),
        (name = "admin-campaigns", description = "Staff: the kill switch (halt sending for an organisation or the platform)"),
        (name = "analytics", description = "Reports over a date range (JSON or CSV) and the dashboard"),
        (name = "admin-pricing", description = "Staff: rates, upstream costs, margins"),
        (name = "admin-billing", description = "Staff: top-ups, adjustments, refunds, credit limits, ledger"),
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "agent", description = "Agents (resellers): sub-customers, their retail rates and limits, usage and margins"),
        (name = "admin-agents", description = "Staff: the agent manager"),
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

/// The problem responses shared by every operation, as reusable components
/// (`#/components/responses/<name>`): status, component name, description.
const COMMON: [(&str, &str, &str); 8] = [
    (
        "400",
        "MalformedRequest",
        "Malformed request: an id that does not parse, an unknown or mistyped query parameter, or a body that is not the documented JSON (the problem names the field when it can)",
    ),
    (
        "401",
        "Unauthorized",
        "Missing, invalid or expired credentials",
    ),
    (
        "403",
        "Forbidden",
        "The member's role or the API key's scope is too low for this operation (the problem says which)",
    ),
    (
        "403",
        "StaffForbidden",
        "The staff member's permission for this module is too low, or a password change is pending",
    ),
    (
        "404",
        "NotFound",
        "No such resource (one of another organisation is not found either)",
    ),
    (
        "422",
        "ValidationFailed",
        "Validation failed: `errors` names each offending field",
    ),
    ("429", "RateLimited", "Rate limited (see Retry-After)"),
    (
        "500",
        "Internal",
        "Internal error (the body reveals nothing; the cause is logged)",
    ),
];

/// Adds the problem responses an operation can give whatever its handler does, unless the
/// operation documents its own: 500 everywhere; 401, 403 and 429 (per-account or per-key rate
/// limit) on every authenticated operation (the staff 403 on `staff_bearer` ones); 400 where
/// it takes a path, query or body; 404 where a path names a resource; 422 where a query or
/// body is validated. Each is a reference to one shared component.
pub fn document_common_errors(api: &mut utoipa::openapi::OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", problem)
            .build();
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
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
    let staff_only = SecurityRequirement::new("staff_bearer", Vec::<String>::new());
    let staff = operation
        .security
        .as_ref()
        .is_some_and(|s| s.contains(&staff_only));
    let located = |at: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == at,
            RefOr::Ref(_) => false,
        })
    };
    let (path, query) = (located(ParameterIn::Path), located(ParameterIn::Query));
    let body = operation.request_body.is_some();
    for (status, name, _) in COMMON {
        let applies = match status {
            "400" => path || query || body,
            "401" | "429" => secured,
            "403" => secured && (name == "StaffForbidden") == staff,
            "404" => path,
            "422" => query || body,
            _ => true,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}
