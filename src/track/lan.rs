//! Which addresses are on the LAN, and which are group (broadcast/multicast).

use ipnet::IpNet;
use std::net::IpAddr;

/// The private ranges used when no LAN prefix is configured or discovered:
/// RFC 1918, RFC 6598 (CGNAT), IPv4 link-local, IPv6 ULA and link-local.
pub const DEFAULT_LAN_PREFIXES: [&str; 7] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

/// The LAN prefixes.
#[derive(Clone, Debug)]
pub struct Lan {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    prefixes: Vec<IpNet>,
}

impl Default for Lan {
    fn default() -> Self {
        let prefixes = DEFAULT_LAN_PREFIXES
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect::<Vec<IpNet>>();
        Lan::new(&prefixes)
    }
}

impl Lan {
    pub fn new(prefixes: &[IpNet]) -> Lan {
        let mut lan = Lan {
            v4: Vec::new(),
            v6: Vec::new(),
            prefixes: prefixes.to_vec(),
        };
        for p in prefixes {
            match p {
                IpNet::V4(n) => lan
                    .v4
                    .push((u32::from(n.network()), u32::from(n.netmask()))),
                IpNet::V6(n) => lan
                    .v6
                    .push((u128::from(n.network()), u128::from(n.netmask()))),
            }
        }
        lan
    }

    pub fn prefixes(&self) -> &[IpNet] {
        &self.prefixes
    }

    /// Inside one of the LAN prefixes.
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|&(net, mask)| a & mask == net)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|&(net, mask)| a & mask == net)
            }
        }
    }
}

/// Multicast or limited broadcast.
#[inline]
pub fn is_group_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lan_is_the_private_ranges() {
        let lan = Lan::default();
        for ip in [
            "192.168.1.10",
            "10.1.2.3",
            "172.31.0.1",
            "100.64.0.5",
            "169.254.1.1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(lan.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "100.128.0.1"] {
            assert!(!lan.contains(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn configured_prefixes_replace_the_defaults() {
        let lan = Lan::new(&["192.168.7.0/24".parse().unwrap()]);
        assert!(lan.contains("192.168.7.9".parse().unwrap()));
        assert!(!lan.contains("192.168.8.9".parse().unwrap()));
        assert!(!lan.contains("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn multicast_and_broadcast_are_group_addresses() {
        assert!(is_group_ip("224.0.0.251".parse().unwrap()));
        assert!(is_group_ip("255.255.255.255".parse().unwrap()));
        assert!(is_group_ip("ff02::fb".parse().unwrap()));
        assert!(!is_group_ip("192.168.1.255".parse().unwrap()));
    }
}
