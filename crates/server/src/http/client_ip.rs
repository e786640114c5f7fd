//! The client address: the peer, or, behind trusted proxies, the nearest untrusted
//! address in `X-Forwarded-For`.

use std::net::IpAddr;

/// An address range in CIDR form (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `addr` or `addr/prefix`.
    ///
    /// # Errors
    /// A message naming the bad entry.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
        let network: IpAddr =
            addr.parse().map_err(|_| format!("TRUSTED_PROXIES: {text:?} is not an address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)
                .ok_or_else(|| format!("TRUSTED_PROXIES: {text:?} has a bad prefix length"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` lies in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)) << 96, self.prefix)
                    == masked(u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix) == masked(u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(prefix.min(128)))) }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and ranges.
    ///
    /// # Errors
    /// A message naming the first bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(IpRange::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client address for a connection from `peer` carrying these
    /// `X-Forwarded-For` header values (in header order).
    ///
    /// The header is only read when `peer` is trusted; it is then walked from the
    /// right, skipping trusted proxies, and the first other address is the client.
    /// An unparsable entry stops the walk at the last address known to be good.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_match_their_members_only() {
        let range = IpRange::parse("10.1.0.0/16").unwrap();
        assert!(range.contains(ip("10.1.200.3")));
        assert!(!range.contains(ip("10.2.0.1")));
        assert!(range.contains(ip("::ffff:10.1.0.9")));
        assert!(IpRange::parse("::1").unwrap().contains(ip("::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "::/129"] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_cannot_pick_its_address() {
        let proxies = TrustedProxies::parse("10.0.0.1").unwrap();
        assert_eq!(
            proxies.client_ip(Some(ip("198.51.100.4")), ["1.2.3.4"].into_iter()),
            Some(ip("198.51.100.4"))
        );
        assert_eq!(
            TrustedProxies::default().client_ip(Some(ip("10.0.0.1")), ["1.2.3.4"].into_iter()),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        let headers = ["6.6.6.6, 203.0.113.9", "192.168.1.1"];
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.2")), headers.into_iter()), Some(ip("203.0.113.9")));
        assert_eq!(
            proxies.client_ip(Some(ip("10.0.0.2")), ["garbage, 10.0.0.7"].into_iter()),
            Some(ip("10.0.0.7"))
        );
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.2")), std::iter::empty()), Some(ip("10.0.0.2")));
    }
}
