//! Engineering: the failed-SMS spike notice — computed from the results rollups, sent to the
//! engineering viewers once when a window's failure rate crosses the threshold, not again in
//! the same window, and not below the minimum volume.

use semalink_control_plane::engineering::config::EngineeringConfig;
use semalink_control_plane::engineering::spike;
use semalink_protocol::contracts::DeliveryState;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::*;
use crate::credits::staff_token;
use crate::messages::{ready, sent};
use crate::results::{apply, event};

fn config() -> EngineeringConfig {
    EngineeringConfig {
        failure_spike_rate: 0.5,
        failure_spike_min_finals: 3,
        failure_spike_window_secs: 900,
        ..EngineeringConfig::default()
    }
}

async fn spike_notices(app: &TestApp, token: &str) -> usize {
    let r = app.get("/v1/admin/notifications", token).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.text);
    r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "engineering.failure_spike")
        .count()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_spike_over_the_threshold_is_notified_once_per_window(db: PgPool) {
    let app = spawn_app(db);
    let viewer = staff_token(&app, &[(Module::Engineering, Level::Read)]).await;
    let other = staff_token(&app, &[(Module::Billing, Level::Owner)]).await;
    let user = ready(&app, "spike@example.com", "100").await;
    let cfg = config();
    let base = "http://app.test";
    let now = OffsetDateTime::now_utc();

    // The window's first look takes the baseline: nothing yet.
    assert_eq!(
        spike::check(&app.app_pool, &cfg, now, base).await.unwrap(),
        None
    );
    let numbers: Vec<String> = (0..4).map(|i| format!("+2547120000{i:02}")).collect();
    let ids = sent(&app, &user.access, json!({"to": numbers, "text": "Hi"})).await;
    // Two finals: below the minimum volume, whatever the rate.
    apply(
        &app.app_pool,
        &[
            event(ids[0], DeliveryState::Failed, 10),
            event(ids[1], DeliveryState::Failed, 11),
        ],
    )
    .await;
    assert_eq!(
        spike::check(&app.app_pool, &cfg, now, base).await.unwrap(),
        None
    );
    // Four finals, three failed: 75 % ≥ 50 %.
    apply(
        &app.app_pool,
        &[
            event(ids[2], DeliveryState::Rejected, 12),
            event(ids[3], DeliveryState::Delivered, 13),
        ],
    )
    .await;
    let spike = spike::check(&app.app_pool, &cfg, now, base)
        .await
        .unwrap()
        .expect("the threshold was crossed");
    assert_eq!((spike.finals, spike.failures, spike.told), (4, 3, 1));
    assert_eq!(spike_notices(&app, &viewer).await, 1);
    assert_eq!(
        spike_notices(&app, &other).await,
        0,
        "not an engineering viewer"
    );

    // Still over the threshold in the same window: no second notice.
    assert_eq!(
        spike::check(&app.app_pool, &cfg, now, base).await.unwrap(),
        None
    );
    assert_eq!(spike_notices(&app, &viewer).await, 1);

    // The next window starts from a new baseline: the old failures do not count again.
    let next = now + time::Duration::seconds(900);
    assert_eq!(
        spike::check(&app.app_pool, &cfg, next, base).await.unwrap(),
        None
    );
    assert_eq!(
        spike::check(&app.app_pool, &cfg, next, base).await.unwrap(),
        None
    );
    assert_eq!(spike_notices(&app, &viewer).await, 1);
}
