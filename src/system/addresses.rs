//! The capture interfaces' own prefixes and MACs, which make the default
//! LAN prefixes and the router's addresses in live capture.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The prefixes configured on `interfaces`, and on the bridge each is a
/// member port of (member ports carry no addresses themselves).
pub fn interface_prefixes(interfaces: &[String]) -> Vec<IpNet> {
    let mut names: Vec<String> = interfaces.to_vec();
    for iface in interfaces {
        if let Some(master) = bridge_master(iface) {
            names.push(master);
        }
    }
    let mut prefixes = Vec::new();
    let mut addrs: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `addrs` with a list we free below.
    if unsafe { libc::getifaddrs(&mut addrs) } != 0 {
        return prefixes;
    }
    let mut cursor = addrs;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        if entry.ifa_name.is_null() || entry.ifa_addr.is_null() || entry.ifa_netmask.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(entry.ifa_name) }.to_string_lossy();
        if !names.iter().any(|n| *n == name) {
            continue;
        }
        // SAFETY: both pointers are non-null sockaddrs of the family read.
        let (addr, mask) = unsafe { (sockaddr_ip(entry.ifa_addr), sockaddr_ip(entry.ifa_netmask)) };
        if let (Some(addr), Some(mask)) = (addr, mask) {
            let len = prefix_len(mask);
            if let Ok(net) = IpNet::new(addr, len) {
                let net = net.trunc();
                if !prefixes.contains(&net) {
                    prefixes.push(net);
                }
            }
        }
    }
    // SAFETY: `addrs` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(addrs) };
    prefixes
}

/// The bridge an interface is enslaved to, from sysfs.
pub fn bridge_master(iface: &str) -> Option<String> {
    let link = std::fs::read_link(format!("/sys/class/net/{iface}/master")).ok()?;
    link.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// # Safety
/// `sa` must point to a valid sockaddr whose size matches its family.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    match i32::from((*sa).sa_family) {
        libc::AF_INET => {
            let sin = &*(sa as *const libc::sockaddr_in);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            let sin6 = &*(sa as *const libc::sockaddr_in6);
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

fn prefix_len(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => u32::from(m).count_ones(),
        IpAddr::V6(m) => u128::from(m).count_ones(),
    };
    u8::try_from(ones).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_prefix() {
        let prefixes = interface_prefixes(&["lo".to_string()]);
        assert!(
            prefixes.contains(&"127.0.0.0/8".parse().unwrap()),
            "{prefixes:?}"
        );
    }

    #[test]
    fn a_missing_interface_has_no_prefixes() {
        assert!(interface_prefixes(&["lw-no-such-if".to_string()]).is_empty());
    }
}
