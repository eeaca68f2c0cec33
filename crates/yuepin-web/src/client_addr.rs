//! The client's address behind configured trusted proxies (ASVS 4.1.3): `X-Forwarded-For` is
//! read only when the connection's peer is a trusted proxy, and then its right-most entry that
//! is not itself a trusted proxy is the client. Anything else (no proxies configured, an
//! untrusted peer, a malformed header) gives the peer's own address, so a client cannot choose
//! the address it is throttled under.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// A list of addresses and CIDR ranges (`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// Why a trusted-proxy entry does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR range: {0:?}")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// Parses each entry (surrounding spaces ignored, empty entries skipped).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadProxy> {
        let mut out = Vec::new();
        for raw in entries {
            let e = raw.as_ref().trim();
            if e.is_empty() {
                continue;
            }
            let bad = || BadProxy(e.to_string());
            let (ip, bits) = match e.split_once('/') {
                Some((ip, bits)) => (
                    ip.parse::<IpAddr>().map_err(|_| bad())?,
                    Some(bits.parse::<u8>().map_err(|_| bad())?),
                ),
                None => (e.parse::<IpAddr>().map_err(|_| bad())?, None),
            };
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(bad());
            }
            out.push((ip, bits));
        }
        Ok(TrustedProxies(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is in one of the ranges (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, bits)| in_range(ip, net, bits))
    }

    /// The client's address for a connection from `peer` carrying `headers`.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.contains(peer) {
            return Some(peer);
        }
        let mut hops = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return Some(peer);
            };
            for hop in text.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(canonical(ip)),
                    Err(_) => return Some(peer),
                }
            }
        }
        Some(
            hops.into_iter()
                .rev()
                .find(|ip| !self.contains(*ip))
                .unwrap_or(peer),
        )
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn ranges_parse_and_match() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32", ""]).unwrap();
        assert!(t.contains("10.200.1.1".parse().unwrap()));
        assert!(t.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(t.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!t.contains("2001:db9::1".parse().unwrap()));
        assert!(TrustedProxies::parse(&["0.0.0.0/0"])
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0.1/x", "::/129"] {
            assert_eq!(
                TrustedProxies::parse(&[bad]),
                Err(BadProxy(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_peers() {
        let none = TrustedProxies::default();
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let h = headers(&["198.51.100.9, 203.0.113.5, 10.0.0.2"]);
        assert_eq!(none.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        assert_eq!(t.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        // The right-most untrusted entry: the left ones are the client's own claims.
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        assert_eq!(
            t.client(ip("10.0.0.1"), &headers(&["198.51.100.9", "203.0.113.5"])),
            ip("203.0.113.5")
        );
        assert_eq!(t.client(ip("10.0.0.1"), &headers(&[])), ip("10.0.0.1"));
        assert_eq!(
            t.client(ip("10.0.0.1"), &headers(&["10.0.0.3"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            t.client(ip("10.0.0.1"), &headers(&["203.0.113.5, garbage"])),
            ip("10.0.0.1")
        );
        assert_eq!(t.client(None, &h), None);
    }
}
