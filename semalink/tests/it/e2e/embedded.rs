//! The customer path over the in-process bus: one `semalink up` system (simulator, engine
//! with its in-process correlation store, control plane) in this process, no demo seed.

use sqlx::PgPool;

use super::{assert_settled, customer_campaign, sim_config, tag};
use crate::spine::start_with;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn signup_to_settled_campaign_over_the_in_process_bus(db: PgPool) {
    let (system, plan) = start_with(
        &db,
        |plan| plan.demo = false,
        |configs| {
            configs.sim = sim_config();
            // The test reads the verification token from the email outbox (the inbox's
            // stand-in); a sending email worker would redact it first.
            configs.api.workers.email_outbox = false;
        },
    )
    .await;
    let base = format!("http://{}", system.api_addr().unwrap());
    let sim = system.sim().unwrap().clone();

    let outcome = customer_campaign(&base, &db, &tag()).await;

    assert_settled(&outcome);
    assert!(
        sim.stats().submits >= outcome.contacts,
        "every message went upstream"
    );
    system.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&plan.state_dir);
}
