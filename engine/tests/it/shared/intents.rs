//! Submit intents on the shared Redis: what one engine recorded before a submit left is
//! found by another (the one that got the receipt), and an answered submit leaves nothing.

use std::time::Duration;

use semalink_engine::config::Config;
use semalink_engine::correlation::intents::{Intent, Intents};
use uuid::Uuid;

use super::{REDIS_URL, cleanup, prefix};

fn intents(prefix: &str) -> Intents {
    let text = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\n[[upstreams]]\nname = \"a\"\nhost = \"127.0.0.1\"\nport = 1\nsystem_id = \"x\"\npassword = \"p\"\n[default_route]\nupstream = \"a\"\nrate = 1.0\n[redis]\nurl = \"{REDIS_URL}\"\nkey_prefix = \"{prefix}\"\nmapping_ttl_secs = 60\n"
    );
    Intents::from_config(&Config::from_toml(&text, Vec::new()).unwrap()).unwrap()
}

#[tokio::test]
async fn another_engine_finds_what_one_recorded() {
    let prefix = prefix();
    let (killed, survivor) = (intents(&prefix), intents(&prefix));
    let intent = |segment, text: &str| Intent {
        upstream: 0,
        destination: "254712345678".into(),
        message_id: Uuid::now_v7(),
        segment,
        segments: 2,
        at_ms: 1_000 + u64::from(segment),
        text: text.into(),
    };
    let answered = intent(1, "answered");
    let lost = intent(2, "lost: on the wire");
    killed.record(&answered).await.unwrap();
    killed.record(&lost).await.unwrap();
    killed.forget(&answered).await.unwrap();
    let found = survivor
        .find(0, "254712345678", Some("lost: on the wire"), None)
        .await
        .unwrap();
    assert_eq!(found, Some(lost.clone()));
    survivor.forget(&lost).await.unwrap();
    assert_eq!(
        survivor.find(0, "254712345678", None, None).await.unwrap(),
        None
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    cleanup(&prefix).await;
}
