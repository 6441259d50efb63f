//! Which network addresses an outgoing call made on a tenant's behalf may reach. A webhook URL
//! is chosen by an organisation's admin; without this check it could point dakoku at the
//! machine's own services or the cloud's metadata endpoint and read back their status.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True for addresses inside the host or its private network: loopback, private ranges,
/// link-local (cloud metadata lives there), carrier-grade NAT, unspecified, multicast,
/// broadcast, documentation and benchmark ranges, and IPv6 forms that embed such an IPv4.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (18..20).contains(&b)) // 198.18.0.0/15, benchmarking
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 of an IPv4 address
        || first == 0x2002 // 6to4 of an IPv4 address
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible ::a.b.c.d
}

/// Whether a URL names an internal host literally: an internal IP address in any spelling the
/// URL standard accepts (`127.1`, `0x7f.1`, `[::ffff:127.0.0.1]`), or `localhost`. Names that
/// need resolving are judged again on their resolved addresses when the call is made.
pub fn url_names_internal_host(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else { return true };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_internal_v4(ip),
        Some(url::Host::Ipv6(ip)) => is_internal_v6(ip),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().expect("address")), "{internal} is internal");
        }
        for url in [
            "http://127.1/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://[::ffff:7f00:1]/",
            "http://LOCALHOST./x",
            "http://169.254.169.254/latest",
        ] {
            assert!(url_names_internal_host(url), "{url} names an internal host");
        }
        assert!(!url_names_internal_host("https://hooks.example.com/x?token=1"));
        for public in ["8.8.8.8", "203.0.114.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!is_internal(public.parse().expect("address")), "{public} is public");
        }
    }
}
