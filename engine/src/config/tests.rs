//! Config parsing, overrides and validation errors naming their key.

use super::*;
use semalink_protocol::segment::{ConcatMethod, Encoding};

const SHIPPED: &str = include_str!("../../../configs/engine.toml");

fn load(text: &str) -> Result<Config> {
    Config::from_toml(text, Vec::new())
}

fn err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

/// The shipped config with one line replaced.
fn with(from: &str, to: &str) -> String {
    assert!(SHIPPED.contains(from), "{from}");
    SHIPPED.replacen(from, to, 1)
}

#[test]
fn the_shipped_config_loads() {
    let c = load(SHIPPED).unwrap();
    assert_eq!(c.http.listen.port(), 8090);
    let sim = &c.upstreams[0];
    assert_eq!((sim.name.as_str(), sim.binds, sim.window), ("sim", 4, 64));
    assert_eq!(sim.bind_type, BindType::Transceiver);
    assert_eq!(sim.password.expose(), "secret");
    assert_eq!(sim.concat, ConcatMethod::Udh8);
    assert_eq!(c.routes.len(), 2);
    assert!(c.routes[0].adaptive);
    assert_eq!(c.default_route.upstream, "sim");
    assert_eq!(c.upstream_index("sim"), Some(0));
}

#[test]
fn the_password_is_never_debug_printed() {
    let c = load(SHIPPED).unwrap();
    let dump = format!("{c:?}");
    assert!(!dump.contains("\"secret\""), "{dump}");
    assert!(dump.contains("[redacted]"));
}

#[test]
fn a_redis_url_in_the_environment_alone_turns_the_shared_store_on() {
    assert!(load(SHIPPED).unwrap().redis.is_none());
    let vars = vec![(
        "SEMALINK_ENGINE__REDIS__URL".into(),
        "redis://:pw@127.0.0.1:6379/2".into(),
    )];
    let c = Config::from_toml(SHIPPED, vars).unwrap();
    let redis = c.redis.as_ref().unwrap();
    assert_eq!(redis.url.expose(), "redis://:pw@127.0.0.1:6379/2");
    assert_eq!(
        (redis.key_prefix.as_str(), redis.mapping_ttl_secs),
        ("sl:", 259_200)
    );
    assert!(
        !format!("{c:?}").contains(":pw@"),
        "the URL is never printed"
    );
    let bad = vec![("SEMALINK_ENGINE__REDIS__URL".into(), "http://x".into())];
    let e = Config::from_toml(SHIPPED, bad).unwrap_err().to_string();
    assert!(e.contains("redis.url"), "{e}");
}

#[test]
fn environment_overrides_win() {
    let vars = vec![
        (
            "SEMALINK_ENGINE__UPSTREAMS__SIM__PASSWORD".into(),
            "from-env".into(),
        ),
        ("SEMALINK_ENGINE__UPSTREAMS__0__WINDOW".into(), "128".into()),
        ("SEMALINK_ENGINE__DEFAULT_ROUTE__RATE".into(), "42.5".into()),
    ];
    let c = Config::from_toml(SHIPPED, vars).unwrap();
    assert_eq!(c.upstreams[0].password.expose(), "from-env");
    assert_eq!(c.upstreams[0].window, 128);
    assert_eq!(c.default_route.rate, 42.5);
    let bad = vec![("SEMALINK_ENGINE__UPSTREAMS__0__WINDOW".into(), "0".into())];
    let e = Config::from_toml(SHIPPED, bad).unwrap_err().to_string();
    assert!(e.contains("upstreams[0].window"), "{e}");
}

#[test]
fn invalid_values_name_their_key() {
    let cases = [
        (with("window = 64 ", "window = 0 "), "upstreams[0].window"),
        (with("binds = 4", "binds = 0"), "upstreams[0].binds"),
        (with("port = 2775", "port = 0"), "upstreams[0].port"),
        (
            with("mno = \"ke-safaricom\"", "mno = \"ke-safaricon\""),
            "routes[0].mno",
        ),
        (
            with("country = \"KE\"", "country = \"ke\""),
            "routes[1].country",
        ),
        (
            with(
                "[default_route]\nupstream = \"sim\"",
                "[default_route]\nupstream = \"celcom\"",
            ),
            "default_route.upstream",
        ),
        (with("rate = 200.0", "rate = 0.0"), "routes[1].rate"),
        (
            with("reconnect_min_ms = 500 ", "reconnect_min_ms = 60000 "),
            "upstreams[0].reconnect_max_ms",
        ),
        (
            with("max_attempts = 5 ", "max_attempts = 0 "),
            "retry.max_attempts",
        ),
        (
            with(
                "system_id = \"semalink\"",
                "system_id = \"a-much-too-long-system-id\"",
            ),
            "upstreams[0].system_id",
        ),
    ];
    for (text, key) in cases {
        let e = err(&text);
        assert!(e.contains(key), "expected {key} in: {e}");
    }
}

#[test]
fn structural_errors_name_their_key() {
    let e = err(&with("window = 64 ", "windw = 64 "));
    assert!(e.contains("upstreams[0]") && e.contains("windw"), "{e}");
    let e = err(&with(
        "[default_route]\nupstream = \"sim\"\nrate = 100.0\nburst = 10\n",
        "",
    ));
    assert!(e.contains("default_route"), "{e}");
    let e = err(&with("bind_type = \"transceiver\"", "bind_type = \"both\""));
    assert!(e.contains("upstreams[0].bind_type"), "{e}");
    let e = err(&with(
        "mno = \"ke-safaricom\"\n",
        "mno = \"ke-safaricom\"\ncountry = \"KE\"\n",
    ));
    assert!(e.contains("routes[0]") && e.contains("exactly one"), "{e}");
    let e = err(&with("country = \"KE\"", "mno = \"ke-safaricom\""));
    assert!(e.contains("routes[1]") && e.contains("second route"), "{e}");
    let dup = format!(
        "{SHIPPED}\n[[upstreams]]\nname = \"sim\"\nhost = \"h\"\nport = 1\nsystem_id = \"x\"\npassword = \"p\"\n"
    );
    let e = err(&dup);
    assert!(
        e.contains("upstreams[1].name") && e.contains("duplicate"),
        "{e}"
    );
}

#[test]
fn no_upstreams_is_an_error() {
    let e = err(
        "upstreams = []\n[http]\nlisten = \"127.0.0.1:1\"\n[default_route]\nupstream = \"x\"\nrate = 1.0\n",
    );
    assert!(e.contains("upstreams"), "{e}");
}

#[test]
fn adaptive_floor_defaults_to_five_percent() {
    let c = load(SHIPPED).unwrap();
    assert_eq!(c.routes[0].target().floor(), 25.0);
    let t = RouteTarget {
        upstream: "sim".into(),
        rate: 10.0,
        burst: 1,
        adaptive: true,
        min_rate: None,
    };
    assert_eq!(t.floor(), 1.0);
}

#[test]
fn upstream_wire_preferences() {
    let text = with("data_coding = \"smsc_default\"", "data_coding = \"ia5\"")
        .replace("concat = \"udh8\"", "concat = \"udh16\"");
    let c = load(&text).unwrap();
    let u = &c.upstreams[0];
    assert_eq!(u.wire_data_coding(Encoding::Gsm7), 0x01);
    assert_eq!(u.wire_data_coding(Encoding::Ucs2), 0x08);
    let opts = u.segment_options();
    assert_eq!((opts.method, opts.packed), (ConcatMethod::Udh16, false));
    let packed = load(&with(
        "data_coding = \"smsc_default\"",
        "data_coding = \"smsc_default_packed\"",
    ))
    .unwrap();
    assert!(packed.upstreams[0].segment_options().packed);
    assert_eq!(packed.upstreams[0].wire_data_coding(Encoding::Gsm7), 0x00);
}

#[test]
fn the_amqp_section_is_off_by_default_and_an_env_url_alone_turns_it_on() {
    assert!(load(SHIPPED).unwrap().amqp.is_none());
    let vars = vec![(
        "SEMALINK_ENGINE__AMQP__URL".into(),
        "amqp://u:p@broker:5672/%2f".into(),
    )];
    let c = Config::from_toml(SHIPPED, vars).unwrap();
    let a = c.amqp.expect("section created by the variable");
    assert_eq!(a.url.expose(), "amqp://u:p@broker:5672/%2f");
    assert_eq!(
        (a.normal_queue.as_str(), a.priority_queue.as_str()),
        ("sms.normal", "sms.priority")
    );
    assert_eq!(a.retry_delay(1), Duration::from_millis(1_000));
    assert_eq!(
        a.retry_delay(99),
        Duration::from_millis(120_000),
        "the last delay repeats"
    );
    assert!(
        !format!("{a:?}").contains("u:p@"),
        "the URL carries a password"
    );
    let bad = vec![(
        "SEMALINK_ENGINE__AMQP__STATUS_QUEUE".into(),
        "sms.normal".into(),
    )];
    let e = Config::from_toml(SHIPPED, bad).unwrap_err().to_string();
    assert!(e.contains("amqp.status_queue"), "{e}");
    let bad = vec![("SEMALINK_ENGINE__AMQP__RETRY_DELAYS_MS".into(), "[]".into())];
    let e = Config::from_toml(SHIPPED, bad).unwrap_err().to_string();
    assert!(e.contains("amqp.retry_delays_ms"), "{e}");
}

#[test]
fn the_ingress_token_is_required_outside_development() {
    let shipped = load(SHIPPED).unwrap();
    assert_eq!(shipped.environment, Environment::Development);
    shipped.check_deployment().unwrap();
    let production = with(
        "environment = \"development\"",
        "environment = \"production\"",
    );
    let e = load(&production).unwrap().check_deployment().unwrap_err();
    assert!(
        e.to_string().contains("http.token") && e.to_string().contains("shipped"),
        "{e}"
    );
    let own = vec![(
        "SEMALINK_ENGINE__HTTP__TOKEN".to_owned(),
        "a-token-of-our-own-0123".to_owned(),
    )];
    Config::from_toml(&production, own)
        .unwrap()
        .check_deployment()
        .unwrap();
    let none = production.replace("token = \"dev-only-ingress-token-change-me\"", "");
    let e = load(&none).unwrap().check_deployment().unwrap_err();
    assert!(e.to_string().contains("required"), "{e}");
    // Without the key at all the environment is production.
    let silent = none.replace("environment = \"production\"", "");
    assert!(load(&silent).unwrap().check_deployment().is_err());
    let short = vec![(
        "SEMALINK_ENGINE__HTTP__TOKEN".to_owned(),
        "short".to_owned(),
    )];
    let e = Config::from_toml(SHIPPED, short).unwrap_err();
    assert!(e.to_string().contains("http.token"), "{e}");
}

#[test]
fn an_http_upstream_checks_its_own_keys() {
    let http = |extra: &str| {
        format!(
            "[http]\nlisten = \"127.0.0.1:0\"\n[[upstreams]]\nname = \"celcom\"\nkind = \"celcom_http\"\nurl = \"http://127.0.0.1:1/api/services/\"\napi_key = \"k\"\npartner_id = \"p\"\n{extra}\n[default_route]\nupstream = \"celcom\"\nrate = 5.0\n"
        )
    };
    let c = load(&http("dlr_callback_token = \"callback-token-0123456789\"")).unwrap();
    let token = c.upstreams[0].dlr_callback_token.as_ref().unwrap();
    assert_eq!(token.expose(), "callback-token-0123456789");
    assert!(!format!("{c:?}").contains("callback-token-0123456789"));
    let e = err(&http("dlr_callback_token = \"short\""));
    assert!(e.contains("dlr_callback_token"), "{e}");
    let e = err(&http("query_sm = true"));
    assert!(e.contains("query_sm"), "{e}");
}
