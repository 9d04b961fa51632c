//! The SSRF guard: a webhook may only reach the public internet. An address that is
//! loopback, private (RFC 1918, unique-local), carrier-grade NAT, link-local (which holds
//! the cloud metadata service, 169.254.169.254 and fd00:ec2::254), multicast, broadcast,
//! unspecified, reserved or documentation-only is refused, for IPv4 and IPv6 (including
//! IPv4-mapped, IPv4-compatible and NAT64 forms of a refused IPv4 address). Checked when an
//! endpoint is registered ([`Guard::check_url`]) and again at every connection
//! ([`Guard::allowed_addrs`]: the sender connects to the very addresses it checked, so a DNS
//! answer that changes after registration — DNS rebinding — cannot point it inward).
//! `[webhooks] allowed_networks` exempts networks (a local receiver in development).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::Uri;

use super::config::WebhooksConfig;

/// Why a URL or an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an absolute `https://` (or, in development, `http://`) URL with a host.
    #[error("{0}")]
    Url(&'static str),
    /// The name does not resolve.
    #[error("the host does not resolve")]
    Unresolved,
    /// It resolves to (or is) an address webhooks may not reach.
    #[error("the host resolves to a forbidden address ({0})")]
    Forbidden(IpAddr),
}

/// The checks, with the configured exemptions.
#[derive(Debug, Clone)]
pub struct Guard {
    allow_http: bool,
    allowed: Vec<(IpAddr, u8)>,
}

impl Guard {
    /// The guard of `config`; an error names an `allowed_networks` entry that is no CIDR.
    pub fn new(config: &WebhooksConfig) -> Result<Guard, String> {
        let allowed = config
            .allowed_networks
            .iter()
            .map(|n| parse_cidr(n).ok_or_else(|| n.clone()))
            .collect::<Result<_, _>>()?;
        Ok(Guard {
            allow_http: config.allow_http,
            allowed,
        })
    }

    /// Whether `ip` may be reached.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        if self
            .allowed
            .iter()
            .any(|(net, len)| contains(*net, *len, ip))
            || !forbidden(ip)
        {
            Ok(())
        } else {
            Err(Refused::Forbidden(ip))
        }
    }

    /// The URL's scheme, host and port, if the URL is acceptable in form.
    pub fn parse<'a>(&self, uri: &'a Uri) -> Result<(bool, &'a str, u16), Refused> {
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if self.allow_http => false,
            Some("http") => return Err(Refused::Url("must be an https:// URL")),
            _ => return Err(Refused::Url("must be an absolute https:// URL")),
        };
        let authority = uri.authority().ok_or(Refused::Url("must name a host"))?;
        if authority.as_str().contains('@') {
            return Err(Refused::Url("must not hold credentials"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(Refused::Url("must name a host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok((tls, host, port))
    }

    /// Registration: the URL's form, and every address its host resolves to now.
    pub async fn check_url(&self, url: &str) -> Result<(), Refused> {
        let uri: Uri = url
            .parse()
            .map_err(|_| Refused::Url("is not a valid URL"))?;
        let (_, host, port) = self.parse(&uri)?;
        for addr in resolve(host, port).await? {
            self.check_ip(addr.ip())?;
        }
        Ok(())
    }

    /// Connection: the addresses of `host` that may be reached (the sender connects only to
    /// these); refused when there are none.
    pub async fn allowed_addrs(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
        let mut first_refusal = None;
        let mut ok = Vec::new();
        for addr in resolve(host, port).await? {
            match self.check_ip(addr.ip()) {
                Ok(()) => ok.push(addr),
                Err(e) => {
                    first_refusal.get_or_insert(e);
                }
            }
        }
        match (ok.is_empty(), first_refusal) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(Refused::Unresolved),
            _ => Ok(ok),
        }
    }
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| Refused::Unresolved)?
        .collect();
    if addrs.is_empty() {
        return Err(Refused::Unresolved);
    }
    Ok(addrs)
}

/// Whether webhooks must never reach `ip`.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18.0.0/15
        || a >= 240 // reserved, 240.0.0.0/4
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d) carry an
    // IPv4 address: judge that.
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
    let compat = s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback();
    if nat64 || compat {
        let [.., a, b, c, d] = ip.octets();
        return forbidden_v4(Ipv4Addr::new(a, b, c, d));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7 (fd00:ec2::254 is in it)
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, 2001:db8::/32
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only, 100::/64
}

/// `a.b.c.d/n` or `x::y/n` (a bare address is its /32 or /128).
fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inward_addresses_are_forbidden() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.5",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
        ] {
            assert!(forbidden(ip(a)), "{a} should be forbidden");
        }
        for a in [
            "8.8.8.8",
            "41.90.1.1",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip(a)), "{a} should be allowed");
        }
    }

    #[test]
    fn allowed_networks_exempt_and_cidrs_parse() {
        let config = WebhooksConfig {
            allowed_networks: vec!["127.0.0.0/8".into(), "::1".into()],
            ..Default::default()
        };
        let g = Guard::new(&config).unwrap();
        g.check_ip(ip("127.0.0.9")).unwrap();
        g.check_ip(ip("::1")).unwrap();
        assert!(g.check_ip(ip("10.0.0.1")).is_err());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("nope").is_none());
        let bad = WebhooksConfig {
            allowed_networks: vec!["10.0.0.0/x".into()],
            ..Default::default()
        };
        assert!(Guard::new(&bad).is_err());
    }

    #[test]
    fn urls_need_https_a_host_and_no_credentials() {
        let g = Guard::new(&WebhooksConfig::default()).unwrap();
        let p = |u: &str| {
            g.parse(&u.parse::<Uri>().unwrap())
                .map(|(t, h, p)| (t, h.to_owned(), p))
        };
        assert_eq!(
            p("https://hooks.example/x").unwrap(),
            (true, "hooks.example".into(), 443)
        );
        assert_eq!(p("https://[2001:db8::1]:8443/").unwrap().1, "2001:db8::1");
        assert!(p("http://hooks.example/").is_err());
        assert!(p("https://user:pw@hooks.example/").is_err());
        assert!(p("/relative").is_err());
    }
}
