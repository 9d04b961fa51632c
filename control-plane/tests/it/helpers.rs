//! Test harness: builds the app on a test database and drives it in-process (tower oneshot),
//! plus helpers for the common flows (signup, verification, reading queued emails).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use secrecy::SecretString;
use semalink_control_plane::config::*;
use semalink_control_plane::{AppState, app, db};
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// A strong password accepted by the strength rule.
pub const PASSWORD: &str = "Correct-Horse-42";

/// The configuration tests run with: cheap argon2id, generous limits.
pub fn test_config() -> Config {
    Config {
        server: ServerConfig {
            environment: Environment::Development,
            bind: "127.0.0.1:0".parse().unwrap(),
            metrics_bind: "127.0.0.1:0".parse().unwrap(),
            request_timeout_secs: 30,
            body_limit_bytes: 16 * 1024,
            cors_allowed_origins: vec!["http://localhost:5173".into()],
            public_base_url: "http://app.test".into(),
            trust_forwarded_for: false,
        },
        database: DatabaseConfig {
            url: SecretString::from("postgres://unused"),
            migration_url: None,
            // The app logs in as semalink_api itself (see spawn_app_with): no SET ROLE.
            app_role: String::new(),
            max_connections: 5,
            migrate_on_start: false,
            statement_timeout_ms: 5_000,
            bulk_statement_timeout_ms: 300_000,
        },
        auth: AuthConfig {
            jwt_secret: SecretString::from("test-customer-secret-0123456789abcdef"),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 3600,
            session_max_lifetime_secs: 30 * 24 * 3600,
            lockout_threshold: 5,
            lockout_secs: 900,
            account_lockout_threshold: 20,
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            argon2_parallelism: 1,
        },
        admin: AdminConfig {
            jwt_secret: SecretString::from("test-staff-secret-fedcba9876543210xx"),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 3600,
            session_max_lifetime_secs: 30 * 24 * 3600,
            lockout_threshold: 3,
            lockout_secs: 900,
            account_lockout_threshold: 20,
        },
        email: EmailConfig {
            from: "Sema Link <no-reply@semalink.test>".into(),
            smtp_url: None,
            poll_interval_ms: 50,
        },
        rate_limit: RateLimitConfig {
            auth_per_minute: 10_000,
            auth_burst: 10_000,
            api_per_second: 10_000,
            api_burst: 10_000,
        },
        workers: WorkersConfig::default(),
        amqp: None,
        publisher: Default::default(),
        results: Default::default(),
        inbound: Default::default(),
        campaigns: Default::default(),
        dispatcher: Default::default(),
        webhooks: semalink_control_plane::webhooks::config::WebhooksConfig {
            allow_http: true,
            allowed_networks: vec!["127.0.0.0/8".into(), "::1/128".into()],
            ..Default::default()
        },
        engineering: Default::default(),
        links: Default::default(),
    }
}

/// The app under test.
pub struct TestApp {
    pub router: Router,
    /// Superuser pool on the test database, for assertions.
    pub db: PgPool,
    /// The pool the app uses (logged in as semalink_api).
    pub app_pool: PgPool,
    pub state: AppState,
}

/// A response, body parsed as JSON when possible.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

/// Builds the app with the default test configuration.
pub fn spawn_app(db: PgPool) -> TestApp {
    spawn_app_with(db, test_config())
}

/// Builds the app with a custom configuration.
pub fn spawn_app_with(db: PgPool, config: Config) -> TestApp {
    // The service's least-privilege login on the test database, as in production.
    let login = (*db.connect_options()).clone().username("semalink_api");
    let app_pool = db::app_pool(login, &config.database);
    let state = AppState::new(config, app_pool.clone()).unwrap();
    let router =
        app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    TestApp {
        router,
        db,
        app_pool,
        state,
    }
}

impl TestApp {
    /// Sends a request with optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Resp {
        collect(self.router.clone().oneshot(request).await.unwrap()).await
    }

    /// GET on the internal listener (`/metrics`), which the public router does not serve.
    pub async fn internal_get(&self, uri: &str) -> Resp {
        let router = semalink_control_plane::app::internal(self.state.clone());
        let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        collect(router.oneshot(request).await.unwrap()).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Resp {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, uri, token, Some(body)).await
    }

    /// The token in the newest queued email of `template` to `to`.
    pub async fn email_token(&self, to: &str, template: &str) -> String {
        let body: String = sqlx::query_scalar(
            "SELECT body_text FROM email_outbox WHERE lower(to_address) = lower($1) AND template = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(to)
        .bind(template)
        .fetch_one(&self.db)
        .await
        .unwrap_or_else(|_| panic!("no {template} email to {to}"));
        let start = body.find("token=").expect("link with token") + 6;
        body[start..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect()
    }

    /// Number of queued emails of `template` to `to`.
    pub async fn email_count(&self, to: &str, template: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE lower(to_address) = lower($1) AND template = $2")
            .bind(to)
            .bind(template)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Signs up a user with their own organisation.
    pub async fn signup(&self, email: &str) -> User {
        let r = self
            .post(
                "/v1/auth/signup",
                None,
                json!({"email": email, "password": PASSWORD, "first_name": "Test", "last_name": "User", "organisation_name": format!("Org of {email}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        User::from_signup(&r.json)
    }

    /// Signs up and verifies the email.
    pub async fn verified(&self, email: &str) -> User {
        let user = self.signup(email).await;
        let token = self.email_token(email, "verification").await;
        let r = self
            .post("/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        user
    }

    /// Logs in (no MFA) and returns the token pair JSON.
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }
}

/// A response with its body read.
async fn collect(response: axum::response::Response) -> Resp {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        json,
        text,
    }
}

/// A signed-up user's handles.
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: Uuid,
    pub account_id: Uuid,
    pub access: String,
    pub refresh: String,
}

impl User {
    fn from_signup(json: &Value) -> User {
        User {
            user_id: json["user_id"].as_str().unwrap().parse().unwrap(),
            account_id: json["account_id"].as_str().unwrap().parse().unwrap(),
            access: json["tokens"]["access_token"].as_str().unwrap().into(),
            refresh: json["tokens"]["refresh_token"].as_str().unwrap().into(),
        }
    }
}

/// The problem `type` slug of an error response.
pub fn problem_type(r: &Resp) -> String {
    r.json["type"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Raises a notification for `account_id` the way modules do (`notifications::notify` in a
/// transaction on the app's pool); returns its id.
pub async fn notify(app: &TestApp, account_id: Uuid, kind: &str) -> Uuid {
    let mut tx = app.app_pool.begin().await.unwrap();
    let notice = semalink_control_plane::notifications::Notice {
        kind,
        title: "Something happened",
        body: "Details of what happened.",
        data: json!({"kind": kind}),
    };
    let id = semalink_control_plane::notifications::notify(
        &mut tx,
        account_id,
        &notice,
        "https://app.test",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}
