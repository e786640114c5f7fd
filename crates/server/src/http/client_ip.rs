//! The client address: the peer, or, behind trusted proxies, the nearest untrusted
//! address in `X-Forwarded-For` or in the RFC 7239 `Forwarded` header, whichever the
//! proxies are configured to set.

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

/// Which header the trusted proxies write the client chain into. Only that one is read:
/// a proxy passes the other on as the client sent it, so reading both would let a
/// client choose its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"` (Envoy, Traefik,
    /// Caddy can be set to it).
    Forwarded,
}

impl ForwardingHeader {
    /// Parses `x-forwarded-for` or `forwarded` (any case).
    ///
    /// # Errors
    /// A message naming the setting.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("TRUSTED_PROXY_HEADER: {text:?} is neither x-forwarded-for nor forwarded")),
        }
    }

    /// The hops these header values list, in order: an address, or `None` for an entry
    /// that is not one (`unknown`, an obfuscated name, garbage).
    pub fn hops<'a>(self, values: impl Iterator<Item = &'a str>) -> Vec<Option<IpAddr>> {
        let entries = values.flat_map(|value| value.split(','));
        match self {
            Self::XForwardedFor => entries.map(|entry| entry.trim().parse().ok()).collect(),
            Self::Forwarded => entries
                .map(|element| {
                    rfc7239::parse(element)
                        .next()
                        .and_then(Result::ok)
                        .and_then(|forwarded| forwarded.forwarded_for.and_then(|node| node.ip().copied()))
                })
                .collect(),
        }
    }
}

/// The proxies whose forwarding header is believed, and which header that is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpRange>, ForwardingHeader);

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
            .map(|ranges| Self(ranges, ForwardingHeader::default()))
    }

    /// The same proxies, read through `header`.
    #[must_use]
    pub fn reading(self, header: ForwardingHeader) -> Self {
        Self(self.0, header)
    }

    /// The header the proxies write the client chain into.
    pub fn header(&self) -> ForwardingHeader {
        self.1
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client address for a connection from `peer` carrying these values of the
    /// configured forwarding header (in header order).
    ///
    /// The header is only read when `peer` is trusted; it is then walked from the
    /// right, skipping trusted proxies, and the first other address is the client.
    /// An entry that is not an address stops the walk at the last address known to be
    /// good.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        values: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in self.1.hops(values).into_iter().rev() {
            let Some(ip) = hop else { break };
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

    #[test]
    fn the_forwarded_header_is_walked_the_same_way() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap().reading(ForwardingHeader::Forwarded);
        let peer = Some(ip("10.0.0.2"));
        let chain = ["for=6.6.6.6;proto=https, for=\"[2001:db8:cafe::17]:4711\"", "for=10.0.0.7;by=10.0.0.2"];
        assert_eq!(proxies.client_ip(peer, chain.into_iter()), Some(ip("2001:db8:cafe::17")));
        assert_eq!(proxies.client_ip(peer, ["For=198.51.100.7:80"].into_iter()), Some(ip("198.51.100.7")));
        assert_eq!(proxies.client_ip(peer, ["for=unknown, for=10.0.0.9"].into_iter()), Some(ip("10.0.0.9")));
        assert_eq!(proxies.client_ip(peer, ["for=_hidden"].into_iter()), Some(ip("10.0.0.2")));
        assert_eq!(
            proxies.client_ip(Some(ip("198.51.100.4")), ["for=1.2.3.4"].into_iter()),
            Some(ip("198.51.100.4")),
            "only from a trusted peer"
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        assert_eq!(ForwardingHeader::parse("Forwarded").unwrap(), ForwardingHeader::Forwarded);
        assert_eq!(ForwardingHeader::parse("").unwrap(), ForwardingHeader::XForwardedFor);
        assert!(ForwardingHeader::parse("x-real-ip").unwrap_err().contains("TRUSTED_PROXY_HEADER"));
        let hops = ForwardingHeader::Forwarded.hops(["1.2.3.4"].into_iter());
        assert_eq!(hops, [None], "an X-Forwarded-For value is not a Forwarded element");
    }
}
