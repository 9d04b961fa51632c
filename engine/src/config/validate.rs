//! Start-up checks of a parsed [`Config`]: every error names the offending key as a path
//! (`upstreams[0].window`, `routes[2].mno`, `default_route.upstream`).

use std::collections::HashSet;

use semalink_protocol::mno::{self, MnoId};

use super::{AmqpConfig, Config, Environment, RouteTarget, UpstreamConfig, UpstreamKind};
use crate::error::{Error, Result};

/// Most binds per upstream: far above any contracted figure, low enough to catch typos.
const MAX_BINDS: u32 = 256;

/// The token `configs/engine.toml` ships with: good enough on a laptop, refused elsewhere.
pub const SHIPPED_DEV_TOKEN: &str = "dev-only-ingress-token-change-me";
/// Shortest ingress token accepted.
const MIN_TOKEN_LEN: usize = 16;

/// The checks that depend on where the engine runs: outside development the ingress needs a
/// token of its own.
pub(super) fn deployment(c: &Config) -> Result<()> {
    let production = c.environment != Environment::Development;
    match &c.http.token {
        None if production => Err(Error::invalid(
            "http.token",
            "required outside environment = \"development\" (anyone reaching the ingress could send SMS on any account)",
        )),
        Some(t) if t.expose() == SHIPPED_DEV_TOKEN && production => Err(Error::invalid(
            "http.token",
            "is the token shipped in configs/engine.toml: set your own (SEMALINK_ENGINE__HTTP__TOKEN)",
        )),
        _ => Ok(()),
    }
}

pub(super) fn config(c: &Config) -> Result<()> {
    if let Some(token) = &c.http.token {
        check(
            token.expose().chars().count() >= MIN_TOKEN_LEN,
            "http.token",
            format!("must be at least {MIN_TOKEN_LEN} characters"),
        )?;
    }
    check(
        c.http.max_body_bytes >= 1024,
        "http.max_body_bytes",
        "must be at least 1024",
    )?;
    let r = &c.reconcile;
    check(
        r.rate > 0.0 && r.rate.is_finite(),
        "reconcile.rate",
        "must be a positive number",
    )?;
    check(
        r.period_ms >= 1,
        "reconcile.period_ms",
        "must be at least 1",
    )?;
    check(
        c.http.queue_capacity >= 1,
        "http.queue_capacity",
        "must be at least 1",
    )?;
    check(
        c.http.max_batch >= 1,
        "http.max_batch",
        "must be at least 1",
    )?;
    if c.upstreams.is_empty() {
        return Err(Error::invalid(
            "upstreams",
            "at least one upstream is required",
        ));
    }
    let mut names = HashSet::new();
    for (i, u) in c.upstreams.iter().enumerate() {
        upstream(u, &format!("upstreams[{i}]"))?;
        if let Some(fallback) = &u.fallback {
            check(
                c.upstream_index(fallback).is_some_and(|f| f != i),
                format!("upstreams[{i}].fallback"),
                format!("no other upstream is named {fallback:?}"),
            )?;
        }
        check(
            names.insert(u.name.as_str()),
            format!("upstreams[{i}].name"),
            format!("duplicate upstream name {:?}", u.name),
        )?;
    }
    let mut seen = HashSet::new();
    for (i, r) in c.routes.iter().enumerate() {
        let key = format!("routes[{i}]");
        let rule = match (&r.mno, &r.country) {
            (Some(m), None) => MnoId::parse(m)
                .map(|id| format!("mno {id}"))
                .map_err(|e| Error::invalid(format!("{key}.mno"), e.to_string()))?,
            (None, Some(cc)) => {
                check(
                    is_known_country(cc),
                    format!("{key}.country"),
                    format!("{cc:?} is not an ISO 3166-1 alpha-2 country of the operator table"),
                )?;
                format!("country {cc}")
            }
            _ => {
                return Err(Error::invalid(
                    key,
                    "set exactly one of `mno` and `country`",
                ));
            }
        };
        check(
            seen.insert(rule.clone()),
            &key,
            format!("a second route for {rule}"),
        )?;
        target(c, &r.target(), &key)?;
    }
    target(c, &c.default_route, "default_route")?;
    let r = &c.retry;
    check(
        r.max_attempts >= 1,
        "retry.max_attempts",
        "must be at least 1",
    )?;
    check(
        r.backoff_min_ms >= 1,
        "retry.backoff_min_ms",
        "must be at least 1",
    )?;
    check(
        r.backoff_max_ms >= r.backoff_min_ms,
        "retry.backoff_max_ms",
        "must not be below retry.backoff_min_ms",
    )?;
    check(
        c.correlation.ttl_secs >= 1,
        "correlation.ttl_secs",
        "must be at least 1",
    )?;
    check(
        c.correlation.parked_ttl_secs >= 1,
        "correlation.parked_ttl_secs",
        "must be at least 1",
    )?;
    if let Some(r) = &c.redis {
        check(
            ["redis://", "redis+unix://"]
                .iter()
                .any(|scheme| r.url.expose().starts_with(scheme)),
            "redis.url",
            "must be a redis:// or redis+unix:// URL (TLS is not built in)",
        )?;
        check(
            r.mapping_ttl_secs >= 1,
            "redis.mapping_ttl_secs",
            "must be at least 1",
        )?;
    }
    check(
        c.shutdown.deadline_ms >= 1,
        "shutdown.deadline_ms",
        "must be at least 1",
    )?;
    match &c.amqp {
        Some(a) => amqp(a),
        None => Ok(()),
    }
}

fn amqp(a: &AmqpConfig) -> Result<()> {
    let url = a.url.expose();
    check(
        url.starts_with("amqp://") || url.starts_with("amqps://"),
        "amqp.url",
        "must start with amqp:// or amqps://",
    )?;
    let queues = [
        ("amqp.priority_queue", &a.priority_queue),
        ("amqp.normal_queue", &a.normal_queue),
        ("amqp.status_queue", &a.status_queue),
        ("amqp.inbound_queue", &a.inbound_queue),
    ];
    let mut names = HashSet::new();
    for (key, name) in queues {
        // AMQP 0-9-1 queue names are short strings of at most 255 octets; the retry
        // queues append a suffix.
        check(
            !name.trim().is_empty() && name.len() <= 200 && !name.starts_with("amq."),
            key,
            "must be 1 to 200 characters and not start with \"amq.\"",
        )?;
        check(names.insert(name.as_str()), key, "names another queue too")?;
    }
    check(
        !a.retry_delays_ms.is_empty() && a.retry_delays_ms.iter().all(|&d| d >= 1),
        "amqp.retry_delays_ms",
        "must list at least one delay, each at least 1",
    )?;
    check(
        a.max_attempts >= 1,
        "amqp.max_attempts",
        "must be at least 1",
    )?;
    check(
        a.batch_max_items >= 1,
        "amqp.batch_max_items",
        "must be at least 1",
    )?;
    check(
        a.batch_in_flight >= 1,
        "amqp.batch_in_flight",
        "must be at least 1",
    )?;
    check(
        a.reconnect_min_ms >= 1,
        "amqp.reconnect_min_ms",
        "must be at least 1",
    )?;
    check(
        a.reconnect_max_ms >= a.reconnect_min_ms,
        "amqp.reconnect_max_ms",
        "must not be below amqp.reconnect_min_ms",
    )
}

fn upstream(u: &UpstreamConfig, key: &str) -> Result<()> {
    let k = |field: &str| format!("{key}.{field}");
    check(!u.name.trim().is_empty(), k("name"), "must not be empty")?;
    if u.kind == UpstreamKind::CelcomHttp {
        return http_upstream(u, key);
    }
    check(!u.host.trim().is_empty(), k("host"), "must not be empty")?;
    check(u.port != 0, k("port"), "must not be 0")?;
    // SMPP 3.4 §4.1.1: system_id is a C-octet string of at most 16 octets, system_type 13.
    check(
        !u.system_id.is_empty() && u.system_id.len() <= 15,
        k("system_id"),
        "must be 1 to 15 characters (SMPP 3.4 §4.1.1)",
    )?;
    check(
        u.system_type.len() <= 12,
        k("system_type"),
        "must be at most 12 characters (SMPP 3.4 §4.1.1)",
    )?;
    check(
        (1..=MAX_BINDS).contains(&u.binds),
        k("binds"),
        format!("must be between 1 and {MAX_BINDS}"),
    )?;
    check(u.window >= 1, k("window"), "must be at least 1")?;
    check(
        u.enquire_link_ms >= 1_000,
        k("enquire_link_ms"),
        "must be at least 1000",
    )?;
    check(
        u.response_timeout_ms >= 1,
        k("response_timeout_ms"),
        "must be at least 1",
    )?;
    check(
        u.reconnect_min_ms >= 1,
        k("reconnect_min_ms"),
        "must be at least 1",
    )?;
    check(
        u.reconnect_max_ms >= u.reconnect_min_ms,
        k("reconnect_max_ms"),
        "must not be below reconnect_min_ms",
    )?;
    if let Some(cap) = u.tps_cap {
        check(positive(cap), k("tps_cap"), "must be a positive number")?;
    }
    Ok(())
}

fn http_upstream(u: &UpstreamConfig, key: &str) -> Result<()> {
    let k = |field: &str| format!("{key}.{field}");
    let url = u.url.as_deref().unwrap_or("");
    check(
        url.starts_with("http://") && url.ends_with('/'),
        k("url"),
        "must be an http:// URL ending in / (the API's base, e.g. http://host/api/services/)",
    )?;
    check(
        u.api_key.as_ref().is_some_and(|s| !s.expose().is_empty()),
        k("api_key"),
        "required for kind = \"celcom_http\"",
    )?;
    check(
        u.partner_id.as_ref().is_some_and(|s| !s.is_empty()),
        k("partner_id"),
        "required for kind = \"celcom_http\"",
    )?;
    check(u.window >= 1, k("window"), "must be at least 1")?;
    check(u.dlr_poll_ms >= 10, k("dlr_poll_ms"), "must be at least 10")?;
    check(
        !u.query_sm,
        k("query_sm"),
        "is for SMPP upstreams: an HTTP upstream's parts are always asked for with getdlr/",
    )?;
    if let Some(token) = &u.dlr_callback_token {
        check(
            token.expose().len() >= 16 && token.expose().bytes().all(|b| b.is_ascii_graphic()),
            k("dlr_callback_token"),
            "must be at least 16 printable characters (it is the callback URL's only secret)",
        )?;
    }
    check(
        u.response_timeout_ms >= 1,
        k("response_timeout_ms"),
        "must be at least 1",
    )?;
    Ok(())
}

fn target(c: &Config, t: &RouteTarget, key: &str) -> Result<()> {
    check(
        c.upstream_index(&t.upstream).is_some(),
        format!("{key}.upstream"),
        format!("no upstream is named {:?}", t.upstream),
    )?;
    check(
        positive(t.rate),
        format!("{key}.rate"),
        "must be a positive number",
    )?;
    check(t.burst >= 1, format!("{key}.burst"), "must be at least 1")?;
    if let Some(min) = t.min_rate {
        check(
            positive(min) && min <= t.rate,
            format!("{key}.min_rate"),
            "must be positive and not above rate",
        )?;
    }
    Ok(())
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Country rules use the table's (upper-case) ISO codes, so `ke` is a typo, not Kenya.
pub(crate) fn is_known_country(cc: &str) -> bool {
    mno::rows().any(|d| d.country() == cc)
}

fn check(ok: bool, key: impl Into<String>, message: impl Into<String>) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(key, message))
    }
}
