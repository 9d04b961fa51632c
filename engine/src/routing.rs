//! Destination → operator → route.
//!
//! The most specific rule wins: an operator rule (`mno = "ke-safaricom"`), then a country rule
//! (`country = "KE"`), then the default route. The answer for every operator and every country
//! of the prefix table is computed once at start, so routing a message is one trie walk (the
//! protocol crate's longest-prefix lookup) and one hash lookup.

use std::collections::HashMap;

use semalink_protocol::contracts::SubmitRequest;
use semalink_protocol::mno::{self, MnoId, UnknownMnoId};

use crate::config::{Config, RouteTarget};
use crate::error::{Error, Result};
use crate::shard::Map;

/// Why a request's routing hints cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// `route.mno` names no known operator.
    #[error("route.mno: {0}")]
    UnknownMno(UnknownMnoId),
    /// `route.upstream` names no configured upstream.
    #[error("route.upstream: no upstream {0:?}")]
    UnknownUpstream(String),
    /// `route.upstream` names an upstream no route sends to (it has no rate).
    #[error("route.upstream: no route sends to {0:?}")]
    Unrouted(String),
}

/// A route's index in [`Router::routes`] (the config's `routes` in order, then the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteId(pub u16);

impl RouteId {
    /// As an index.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A configured route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its id.
    pub id: RouteId,
    /// A stable label for logs and metrics: `mno:ke-safaricom`, `country:KE` or `default`.
    pub label: String,
    /// The index of its upstream in `Config::upstreams`.
    pub upstream: usize,
    /// Rate, burst, adaptive settings.
    pub target: RouteTarget,
}

/// Where one destination goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// The route.
    pub route: RouteId,
    /// The destination's operator, when the prefix table knows it.
    pub mno: Option<MnoId>,
    /// The destination's country (ISO alpha-2), when the prefix table knows it.
    pub country: Option<&'static str>,
}

/// The precomputed routing table.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Route>,
    /// Upstream names by index (for `route.upstream` hints).
    upstreams: Vec<String>,
    by_mno: Map<MnoId, RouteId>,
    by_country: Map<&'static str, RouteId>,
    default: RouteId,
}

impl Router {
    /// Builds the table from a validated config.
    pub fn new(config: &Config) -> Result<Router> {
        let count = config.routes.len() + 1;
        if count > usize::from(u16::MAX) {
            return Err(Error::invalid("routes", "too many routes"));
        }
        let mut routes = Vec::with_capacity(count);
        let mut mno_rules = HashMap::new();
        let mut country_rules: HashMap<&'static str, RouteId> = HashMap::new();
        for (i, r) in config.routes.iter().enumerate() {
            let id = RouteId(i as u16);
            let key = format!("routes[{i}]");
            let label = match (&r.mno, &r.country) {
                (Some(m), _) => {
                    let m = MnoId::parse(m)
                        .map_err(|e| Error::invalid(format!("{key}.mno"), e.to_string()))?;
                    mno_rules.insert(m, id);
                    format!("mno:{m}")
                }
                (None, Some(cc)) => {
                    let cc = static_country(cc).ok_or_else(|| {
                        Error::invalid(format!("{key}.country"), "unknown country")
                    })?;
                    country_rules.insert(cc, id);
                    format!("country:{cc}")
                }
                (None, None) => return Err(Error::invalid(key, "no mno or country")),
            };
            routes.push(route(config, id, label, r.target(), &key)?);
        }
        let default = RouteId(config.routes.len() as u16);
        routes.push(route(
            config,
            default,
            "default".into(),
            config.default_route.clone(),
            "default_route",
        )?);
        let mut by_country = Map::default();
        for d in mno::rows() {
            let id = country_rules.get(d.country()).copied().unwrap_or(default);
            by_country.insert(d.country(), id);
        }
        let by_mno = mno::operators()
            .iter()
            .map(|op| {
                let id = mno_rules
                    .get(&op.id)
                    .or_else(|| country_rules.get(op.country))
                    .copied()
                    .unwrap_or(default);
                (op.id, id)
            })
            .collect();
        Ok(Router {
            routes,
            upstreams: config.upstreams.iter().map(|u| u.name.clone()).collect(),
            by_mno,
            by_country,
            default,
        })
    }

    /// Routes an E.164 destination (with or without `+`). Numbers outside the prefix table go
    /// to the default route.
    pub fn route(&self, destination: &str) -> Routed {
        match mno::lookup_digits(destination) {
            Some(d) => match d.mno_id() {
                Some(m) => Routed {
                    route: self.route_mno(m),
                    mno: Some(m),
                    country: Some(d.country()),
                },
                None => Routed {
                    route: self.route_country(d.country()),
                    mno: None,
                    country: Some(d.country()),
                },
            },
            None => Routed {
                route: self.default,
                mno: None,
                country: None,
            },
        }
    }

    /// Routes a request: by its `route.mno` hint when it has one (an unknown operator id is
    /// an error naming the field), else by destination. A `route.upstream` hint then picks
    /// that upstream: the route found when it already uses it, else the first route (in
    /// config order, the default last) that does, so the hinted traffic is paced by that
    /// route's bucket. An upstream no route uses cannot be paced and is refused.
    pub fn route_request(&self, request: &SubmitRequest) -> Result<Routed, RouteError> {
        let routed = match request.route.mno.as_deref() {
            Some(hint) => {
                let mno = MnoId::parse(hint).map_err(RouteError::UnknownMno)?;
                Routed {
                    route: self.route_mno(mno),
                    mno: Some(mno),
                    country: Some(mno.operator().country),
                }
            }
            None => self.route(&request.destination),
        };
        let Some(name) = request.route.upstream.as_deref() else {
            return Ok(routed);
        };
        let upstream = self
            .upstreams
            .iter()
            .position(|u| u == name)
            .ok_or_else(|| RouteError::UnknownUpstream(name.to_owned()))?;
        if self.get(routed.route).upstream == upstream {
            return Ok(routed);
        }
        let route = self
            .routes
            .iter()
            .find(|r| r.upstream == upstream)
            .ok_or_else(|| RouteError::Unrouted(name.to_owned()))?;
        Ok(Routed {
            route: route.id,
            ..routed
        })
    }

    /// The route of an operator (for a request that names its operator in `route.mno`).
    pub fn route_mno(&self, mno: MnoId) -> RouteId {
        self.by_mno.get(&mno).copied().unwrap_or(self.default)
    }

    /// The route of a country without operator-level data.
    pub fn route_country(&self, country: &str) -> RouteId {
        self.by_country
            .get(country)
            .copied()
            .unwrap_or(self.default)
    }

    /// Every route, indexed by [`RouteId`].
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// One route.
    pub fn get(&self, id: RouteId) -> &Route {
        &self.routes[id.index()]
    }

    /// The default route's id.
    pub fn default_route(&self) -> RouteId {
        self.default
    }
}

fn route(
    config: &Config,
    id: RouteId,
    label: String,
    target: RouteTarget,
    key: &str,
) -> Result<Route> {
    let upstream = config.upstream_index(&target.upstream).ok_or_else(|| {
        Error::invalid(
            format!("{key}.upstream"),
            format!("no upstream {:?}", target.upstream),
        )
    })?;
    Ok(Route {
        id,
        label,
        upstream,
        target,
    })
}

/// The table's `'static` spelling of a country code.
fn static_country(cc: &str) -> Option<&'static str> {
    mno::rows().map(|d| d.country()).find(|c| *c == cc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
        [http]
        listen = "127.0.0.1:0"
        [[upstreams]]
        name = "a"
        host = "127.0.0.1"
        port = 1
        system_id = "x"
        password = "p"
        [[upstreams]]
        name = "b"
        host = "127.0.0.1"
        port = 2
        system_id = "x"
        password = "p"
        [[routes]]
        country = "KE"
        upstream = "a"
        rate = 10.0
        [[routes]]
        mno = "ke-safaricom"
        upstream = "b"
        rate = 20.0
        [[routes]]
        country = "NG"
        upstream = "b"
        rate = 30.0
        [default_route]
        upstream = "a"
        rate = 5.0
    "#;

    fn router() -> Router {
        Router::new(&Config::from_toml(CONFIG, Vec::new()).unwrap()).unwrap()
    }

    #[test]
    fn operator_beats_country_beats_default() {
        let r = router();
        let saf = r.route("+254712345678");
        assert_eq!(
            saf.route,
            RouteId(1),
            "operator rule, though listed after KE"
        );
        assert_eq!(saf.mno.unwrap().as_str(), "ke-safaricom");
        assert_eq!(r.get(saf.route).label, "mno:ke-safaricom");
        assert_eq!(r.get(saf.route).upstream, 1);
        // Airtel Kenya has no rule of its own: the country rule.
        let airtel = r.route("254733123456");
        assert_ne!(airtel.mno, saf.mno);
        assert_eq!(airtel.route, RouteId(0));
        // A Kenyan landline range without operator data: still the country rule.
        let landline = r.route("+254202222222");
        assert_eq!((landline.route, landline.mno), (RouteId(0), None));
        assert_eq!(landline.country, Some("KE"));
        assert_eq!(r.route("+2348031234567").route, RouteId(2));
        // Uganda has no rule; the US is not in the table.
        assert_eq!(r.route("+256772123456").route, r.default_route());
        let us = r.route("+14155550100");
        assert_eq!((us.route, us.country), (RouteId(3), None));
        assert_eq!(r.get(r.default_route()).label, "default");
    }

    #[test]
    fn hints_route_by_operator() {
        let r = router();
        let mut request: SubmitRequest = serde_json::from_value(serde_json::json!({
            "version": 1,
            "message_id": "00000000-0000-0000-0000-000000000001",
            "account_id": "00000000-0000-0000-0000-000000000002",
            "destination": "+2348031234567",
            "sender": "SEMA",
            "body": {"text": "hi"},
            "created_at": "2026-11-26T04:00:00Z"
        }))
        .unwrap();
        assert_eq!(r.route_request(&request).unwrap().route, RouteId(2));
        request.route.mno = Some("ke-safaricom".into());
        let hinted = r.route_request(&request).unwrap();
        assert_eq!((hinted.route, hinted.country), (RouteId(1), Some("KE")));
        request.route.mno = Some("xx-nobody".into());
        assert!(matches!(
            r.route_request(&request),
            Err(RouteError::UnknownMno(_))
        ));
        // An upstream hint picks the first route to that upstream unless the found one uses
        // it already.
        request.route.mno = None;
        request.route.upstream = Some("a".into());
        assert_eq!(r.route_request(&request).unwrap().route, RouteId(0));
        request.route.upstream = Some("b".into());
        assert_eq!(r.route_request(&request).unwrap().route, RouteId(2));
        request.destination = "+256772123456".into();
        assert_eq!(r.route_request(&request).unwrap().route, RouteId(1));
        request.route.upstream = Some("c".into());
        assert_eq!(
            r.route_request(&request).unwrap_err().to_string(),
            "route.upstream: no upstream \"c\""
        );
        assert_eq!(
            r.route_mno(MnoId::parse("ke-safaricom").unwrap()),
            RouteId(1)
        );
        assert_eq!(r.route_mno(MnoId::parse("ng-mtn").unwrap()), RouteId(2));
        assert_eq!(r.route_country("UG"), r.default_route());
        assert_eq!(r.routes().len(), 4);
    }
}
