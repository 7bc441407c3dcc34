//! What the capture needs to know about a network interface: its index, whether
//! it is up, its hardware type and MAC, and the MAC of its bridge master.
//!
//! The queries are ioctls on a socket, so they answer for the network
//! namespace the capture's sockets live in. The bridge master is only visible
//! in sysfs; sysfs shows the namespace it was mounted in, which may not be the
//! capture's, so its answer is used only when its ifindex agrees with the
//! ioctl's.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use super::ring;
use crate::decode::{LinkType, Mac};

/// Interface names are at most IFNAMSIZ - 1 bytes.
const IFNAMSIZ: usize = 16;

const ARPHRD_ETHER: u16 = 1;
const ARPHRD_PPP: u16 = 512;
const ARPHRD_RAWIP: u16 = 519;
const ARPHRD_LOOPBACK: u16 = 772;
const ARPHRD_NONE: u16 = 0xfffe;

/// `struct ifreq`: the name, then a union (ifindex, flags, hwaddr, ...) of at
/// most 24 bytes. Sized for 64-bit; 32-bit kernels read only the first 32.
#[repr(C)]
struct IfReq {
    name: [u8; IFNAMSIZ],
    data: [u8; 24],
}

/// A socket for interface queries (an AF_PACKET socket bound to nothing, so it
/// receives no traffic). Creating it is also the privilege check.
pub(crate) struct Control {
    fd: OwnedFd,
}

impl Control {
    pub(crate) fn new() -> io::Result<Control> {
        Ok(Control {
            fd: ring::packet_socket(libc::SOCK_DGRAM)?,
        })
    }

    fn query(&self, name: &str, request: libc::c_ulong) -> io::Result<[u8; 24]> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() >= IFNAMSIZ || bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a valid interface name (1 to 15 bytes)",
            ));
        }
        let mut req = IfReq {
            name: [0; IFNAMSIZ],
            data: [0; 24],
        };
        if let Some(dst) = req.name.get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        // SAFETY: `req` is a NUL-terminated ifreq as large as the kernel's;
        // the requests used here only read the name and write the union.
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                request as libc::Ioctl,
                std::ptr::addr_of_mut!(req),
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(req.data)
        }
    }

    /// The interface's index (ENODEV when there is no such interface).
    pub(crate) fn ifindex(&self, name: &str) -> io::Result<i32> {
        let data = self.query(name, libc::SIOCGIFINDEX)?;
        Ok(i32::from_ne_bytes([data[0], data[1], data[2], data[3]]))
    }

    /// Whether the interface is administratively up (IFF_UP).
    pub(crate) fn is_up(&self, name: &str) -> io::Result<bool> {
        let data = self.query(name, libc::SIOCGIFFLAGS)?;
        let flags = i16::from_ne_bytes([data[0], data[1]]);
        Ok(i32::from(flags) & libc::IFF_UP != 0)
    }

    /// The hardware type (ARPHRD_*) and, for Ethernet-like links, the MAC.
    pub(crate) fn hardware(&self, name: &str) -> io::Result<(u16, Mac)> {
        let data = self.query(name, libc::SIOCGIFHWADDR)?;
        let arphrd = u16::from_ne_bytes([data[0], data[1]]);
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&data[2..8]);
        Ok((arphrd, Mac(mac)))
    }
}

/// How frames on an interface of this hardware type are framed, if lanwatch
/// decodes it.
pub(crate) fn link_type(arphrd: u16) -> Option<LinkType> {
    match arphrd {
        // Loopback frames carry an (all-zero) Ethernet header on Linux.
        ARPHRD_ETHER | ARPHRD_LOOPBACK => Some(LinkType::Ethernet),
        ARPHRD_NONE | ARPHRD_PPP | ARPHRD_RAWIP => Some(LinkType::RawIp),
        _ => None,
    }
}

/// The MAC of the bridge `name` is a port of, read from sysfs — when sysfs
/// describes the same interface (same ifindex) the capture is bound to.
pub(crate) fn bridge_master_mac(name: &str, ifindex: i32) -> Option<Mac> {
    bridge_master_mac_in(Path::new("/sys/class/net"), name, ifindex)
}

fn bridge_master_mac_in(class_net: &Path, name: &str, ifindex: i32) -> Option<Mac> {
    let dir = class_net.join(name);
    let sysfs_index: i32 = std::fs::read_to_string(dir.join("ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if sysfs_index != ifindex {
        return None;
    }
    std::fs::read_to_string(dir.join("master").join("address"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_types_map_to_link_types() {
        assert_eq!(link_type(ARPHRD_ETHER), Some(LinkType::Ethernet));
        assert_eq!(link_type(ARPHRD_LOOPBACK), Some(LinkType::Ethernet));
        assert_eq!(link_type(ARPHRD_NONE), Some(LinkType::RawIp));
        assert_eq!(link_type(ARPHRD_PPP), Some(LinkType::RawIp));
        // ARPHRD_IEEE80211_RADIOTAP: a monitor interface is not decoded.
        assert_eq!(link_type(803), None);
    }

    #[test]
    fn master_mac_is_read_only_for_the_same_ifindex() {
        let root = std::env::temp_dir().join(format!("lanwatch-iface-{}", std::process::id()));
        let port = root.join("lan1");
        let master = root.join("br-lan");
        std::fs::create_dir_all(&port).unwrap();
        std::fs::create_dir_all(&master).unwrap();
        std::fs::write(port.join("ifindex"), "7\n").unwrap();
        std::fs::write(master.join("address"), "02:00:00:00:00:b0\n").unwrap();
        std::os::unix::fs::symlink(&master, port.join("master")).unwrap();

        let found = bridge_master_mac_in(&root, "lan1", 7);
        let other_namespace = bridge_master_mac_in(&root, "lan1", 8);
        let not_a_port = bridge_master_mac_in(&root, "br-lan", 7);
        std::fs::remove_dir_all(&root).unwrap();

        assert_eq!(found, Some("02:00:00:00:00:b0".parse().unwrap()));
        assert_eq!(other_namespace, None);
        assert_eq!(not_a_port, None);
    }
}
