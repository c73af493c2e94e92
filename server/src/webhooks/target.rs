//! Where a delivery may go: `https://` (or `http://` to a loopback address), never to a
//! private or link-local address unless the endpoint allows it, never following a
//! redirect. The check runs on the configured URL and again on every address its host
//! resolves to, at connection time (so a name that later resolves inward is refused too).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether `ip` is a loopback address.
fn loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether `ip` is private, link-local, or otherwise not a public unicast address
/// (unspecified, broadcast, multicast, documentation, shared address space, unique local).
pub fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => private(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Whether a delivery may connect to `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    loopback(ip) || allow_private || !private(ip)
}

/// Checks a configured URL: its scheme, and its host when it is an address.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::from([127, 0, 0, 1]))
        }
        Some(Host::Domain(_)) => None,
        None => return Err("must name a host".into()),
    };
    match url.scheme() {
        "https" => {}
        "http" if ip.is_some_and(loopback) => {}
        "http" => {
            return Err(
                "must be https:// (http:// only to a loopback address, for development)".into(),
            )
        }
        _ => return Err("must be an https:// URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold credentials (sign with `secrets`)".into());
    }
    match ip {
        Some(ip) if !allowed(ip, allow_private) => Err(format!(
            "{ip} is a private or link-local address: set allow_private = true if this endpoint is meant to be inside your network"
        )),
        _ => Ok(()),
    }
}

/// Resolves names with the system resolver and drops the addresses a delivery may not
/// reach; a name left with none fails.
#[derive(Debug, Clone, Copy)]
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| allowed(a.ip(), allow_private))
                .collect();
            if kept.is_empty() {
                return Err(format!(
                    "{host} resolves only to private or link-local addresses ({all:?}); refused (allow_private)"
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of one endpoint: no redirects, `timeout` per attempt, guarded resolver.
pub fn client(timeout: Duration, allow_private: bool) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Guarded { allow_private }))
        .user_agent(concat!("pwa-billing-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("reqwest client with the ring provider installed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let check = |u: &str, p| check_url(&Url::parse(u).unwrap(), p);
        assert!(check("https://backend.example/hooks", false).is_ok());
        assert!(check("http://127.0.0.1:9000/hooks", false).is_ok());
        assert!(check("http://localhost:9000/hooks", false).is_ok());
        assert!(check("http://[::1]:9000/hooks", false).is_ok());
        assert!(
            check("http://backend.example/hooks", false).is_err(),
            "plain http"
        );
        assert!(check("ftp://backend.example/", false).is_err());
        assert!(check("https://10.1.2.3/hooks", false).is_err());
        assert!(check("https://10.1.2.3/hooks", true).is_ok());
        assert!(check("https://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check("https://192.168.1.1/", false).is_err());
        assert!(check("https://[fd00::1]/", false).is_err());
        assert!(check("https://[fe80::1]/", false).is_err());
        assert!(check("https://[::ffff:10.0.0.1]/", false).is_err());
        assert!(check("https://user:pw@backend.example/", false).is_err());
    }

    #[tokio::test]
    async fn resolver_drops_private_addresses() {
        let guarded = Guarded {
            allow_private: false,
        };
        // localhost resolves to loopback: allowed for development.
        let addrs: Vec<_> = guarded
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        assert!(private("10.0.0.1".parse().unwrap()));
        assert!(!private("93.184.216.34".parse().unwrap()));
    }
}
