//! One AF_PACKET socket and its TPACKET_V3 receive ring.
//!
//! The kernel fills fixed-size blocks of the mmapped ring with variable-size
//! frames and hands a block to user space by setting `TP_STATUS_USER` in the
//! block's status word; user space gives it back by writing
//! `TP_STATUS_KERNEL`. Blocks are retired strictly in order, so the ring only
//! has to remember which block comes next and how far it has walked into it.
//!
//! The kernel structures are read from byte slices through the `block` and
//! `packet` field tables (offsets from linux/if_packet.h), never by casting
//! pointers to structs: a bad offset from the kernel becomes "skip the rest of
//! this block", not undefined behaviour. The only raw memory accesses are the
//! volatile status reads/writes that hand blocks back and forth, and the slice
//! over a block that user space currently owns.

use std::io;
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};

use super::bpf;
use crate::decode::LinkType;

/// Constants and setsockopt arguments from linux/if_packet.h.
mod abi {
    use libc::{c_int, c_uint, c_ushort};

    pub const PACKET_ADD_MEMBERSHIP: c_int = 1;
    pub const PACKET_DROP_MEMBERSHIP: c_int = 2;
    pub const PACKET_RX_RING: c_int = 5;
    pub const PACKET_STATISTICS: c_int = 6;
    pub const PACKET_VERSION: c_int = 10;
    pub const PACKET_FANOUT: c_int = 18;
    pub const PACKET_FANOUT_HASH: c_uint = 0;
    pub const PACKET_MR_PROMISC: c_ushort = 1;
    pub const TPACKET_V3: c_int = 2;

    pub const TP_STATUS_KERNEL: u32 = 0;
    pub const TP_STATUS_USER: u32 = 1 << 0;
    pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
    pub const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;

    pub const PACKET_OUTGOING: u8 = 4;

    /// TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + sizeof(struct sockaddr_ll).
    pub const TPACKET3_HDRLEN: u32 = 48 + 20;

    #[repr(C)]
    pub struct TpacketReq3 {
        pub block_size: c_uint,
        pub block_nr: c_uint,
        pub frame_size: c_uint,
        pub frame_nr: c_uint,
        pub retire_blk_tov: c_uint,
        pub sizeof_priv: c_uint,
        pub feature_req_word: c_uint,
    }

    #[repr(C)]
    #[derive(Default)]
    pub struct TpacketStatsV3 {
        pub packets: c_uint,
        pub drops: c_uint,
        pub freeze_q_cnt: c_uint,
    }

    #[repr(C)]
    pub struct PacketMreq {
        pub ifindex: c_int,
        pub kind: c_ushort,
        pub alen: c_ushort,
        pub address: [u8; 8],
    }
}

/// `struct tpacket_block_desc` with its `tpacket_hdr_v1`.
mod block {
    use std::ops::Range;
    /// Byte offset of `block_status`, read and written volatile.
    pub const STATUS: usize = 8;
    pub const NUM_PKTS: Range<usize> = 12..16;
    pub const OFFSET_TO_FIRST_PKT: Range<usize> = 16..20;
}

/// `struct tpacket3_hdr`, followed by a `struct sockaddr_ll` at offset 48.
mod packet {
    use std::ops::Range;
    pub const NEXT_OFFSET: Range<usize> = 0..4;
    pub const SEC: Range<usize> = 4..8;
    pub const NSEC: Range<usize> = 8..12;
    pub const SNAPLEN: Range<usize> = 12..16;
    pub const LEN: Range<usize> = 16..20;
    pub const STATUS: Range<usize> = 20..24;
    pub const MAC: Range<usize> = 24..26;
    pub const VLAN_TCI: Range<usize> = 32..36;
    pub const VLAN_TPID: Range<usize> = 36..38;
    /// `sockaddr_ll.sll_pkttype` (48 + 10).
    pub const PKTTYPE: usize = 58;
}

/// Ring geometry and filter settings for one socket.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RingConfig {
    pub snaplen: u32,
    pub promiscuous: bool,
    pub block_size: u32,
    pub block_count: u32,
    pub block_timeout_ms: u32,
    /// PACKET_FANOUT group to join (hash mode).
    pub fanout_group: Option<u16>,
}

/// One frame's ring header, decoded.
#[derive(Clone, Debug)]
pub(crate) struct PacketMeta {
    pub ts_nanos: u64,
    /// `tp_len`: the frame's length as the kernel saw it.
    pub wire_len: u32,
    /// Where the captured bytes are inside the current block.
    pub data: Range<usize>,
    /// A VLAN tag the kernel moved into metadata: (TPID, TCI).
    pub vlan: Option<(u16, u16)>,
    pub outgoing: bool,
}

/// Where the walk through the current (user-owned) block stands.
#[derive(Clone, Copy, Debug)]
struct Walk {
    /// Offset of the next frame header from the start of the block.
    next: usize,
    /// Frames not yet handed out.
    remaining: u32,
}

/// A bound AF_PACKET socket with its mapped TPACKET_V3 ring.
pub(crate) struct Ring {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    /// The block the kernel retires next.
    current: usize,
    /// Set while user space owns `current`.
    walk: Option<Walk>,
    /// Frame headers that pointed outside their block (never expected).
    malformed: u64,
}

// SAFETY: the mapping and the socket belong to this Ring alone; nothing else
// holds the pointer, and borrows of the mapped bytes are tied to `&self`, so
// moving the Ring to another thread moves sole ownership with it.
unsafe impl Send for Ring {}

/// A failed step while opening a ring: what was being done, and the error.
pub(crate) type OpenError = (&'static str, io::Error);

fn check(rc: libc::c_int, what: &'static str) -> Result<(), OpenError> {
    if rc < 0 {
        Err((what, io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

fn set_option<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    what: &'static str,
) -> Result<(), OpenError> {
    // SAFETY: `value` is a live, initialised T and its exact size is passed;
    // the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(rc, what)
}

/// Creates an AF_PACKET socket that receives nothing until bound
/// (protocol 0). Used both for rings and as the interface-query socket; it
/// fails with EPERM without CAP_NET_RAW.
pub(crate) fn packet_socket(kind: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_PACKET, kind | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn round_up(value: u32, multiple: u32) -> u32 {
    if multiple == 0 {
        return value;
    }
    value.div_ceil(multiple).saturating_mul(multiple)
}

fn page_size() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u32::try_from(size).ok().filter(|s| *s > 0).unwrap_or(4096)
}

/// Binds a packet socket to `ifindex`, all protocols.
fn bind_to(raw: BorrowedFd<'_>, ifindex: i32) -> Result<(), OpenError> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex;
    // SAFETY: `addr` is a valid sockaddr_ll and its exact size is passed.
    let rc = unsafe {
        libc::bind(
            raw.as_raw_fd(),
            std::ptr::addr_of!(addr).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    check(rc, "binding to the interface")
}

/// Adds or drops (`option`) the promiscuous membership on `ifindex`.
fn set_membership(
    raw: BorrowedFd<'_>,
    ifindex: i32,
    option: libc::c_int,
    what: &'static str,
) -> Result<(), OpenError> {
    let mreq = abi::PacketMreq {
        ifindex,
        kind: abi::PACKET_MR_PROMISC,
        alen: 0,
        address: [0; 8],
    };
    set_option(raw, libc::SOL_PACKET, option, &mreq, what)
}

/// The receive ring's geometry for `cfg`: a block holds at least one frame
/// of the full snaplen, and there are at least two blocks.
fn ring_request(cfg: &RingConfig) -> abi::TpacketReq3 {
    let page = page_size();
    let frame_size = round_up(abi::TPACKET3_HDRLEN.saturating_add(cfg.snaplen), 16);
    let block_size = round_up(cfg.block_size.max(frame_size.saturating_add(64)), page);
    let block_count = cfg.block_count.max(2);
    let frames_per_block = block_size / frame_size.max(1);
    abi::TpacketReq3 {
        block_size,
        block_nr: block_count,
        frame_size,
        frame_nr: frames_per_block.saturating_mul(block_count),
        retire_blk_tov: cfg.block_timeout_ms,
        sizeof_priv: 0,
        feature_req_word: 0,
    }
}

/// Maps the `map_len` bytes of the receive ring the kernel allocated for
/// the socket; the caller owns the mapping.
fn map_ring(raw: BorrowedFd<'_>, map_len: usize) -> Result<NonNull<u8>, OpenError> {
    // SAFETY: maps the ring the kernel just allocated for this socket;
    // length and flags are what packet_mmap.rst prescribes.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            map_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            raw.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(("mapping the receive ring", io::Error::last_os_error()));
    }
    NonNull::new(ptr.cast::<u8>()).ok_or((
        "mapping the receive ring",
        io::Error::from(io::ErrorKind::Other),
    ))
}

/// Binds the socket to `ifindex`, then enters promiscuous mode and joins
/// the fanout group when `cfg` asks for them.
fn attach_to(raw: BorrowedFd<'_>, ifindex: i32, cfg: &RingConfig) -> Result<(), OpenError> {
    bind_to(raw, ifindex)?;
    if cfg.promiscuous {
        set_membership(
            raw,
            ifindex,
            abi::PACKET_ADD_MEMBERSHIP,
            "entering promiscuous mode",
        )?;
    }
    if let Some(group) = cfg.fanout_group {
        let arg: libc::c_int = (u32::from(group) | (abi::PACKET_FANOUT_HASH << 16)) as libc::c_int;
        set_option(
            raw,
            libc::SOL_PACKET,
            abi::PACKET_FANOUT,
            &arg,
            "joining the fanout group",
        )?;
    }
    Ok(())
}

impl Ring {
    /// Opens a socket on `ifindex` with the filter for `link`, maps its ring
    /// and binds it. The order follows packet_mmap.rst: version, filter and
    /// ring are set up before bind, so no frame arrives unfiltered.
    pub(crate) fn open(ifindex: i32, link: LinkType, cfg: &RingConfig) -> Result<Ring, OpenError> {
        let fd = packet_socket(libc::SOCK_RAW).map_err(|e| ("creating packet socket", e))?;
        let raw = fd.as_fd();

        set_option(
            raw,
            libc::SOL_PACKET,
            abi::PACKET_VERSION,
            &abi::TPACKET_V3,
            "selecting TPACKET_V3",
        )?;
        bpf::attach(raw, &bpf::program(link, cfg.snaplen))
            .map_err(|e| ("attaching the capture filter", e))?;

        let req = ring_request(cfg);
        let (block_size, block_count) = (req.block_size, req.block_nr);
        set_option(
            raw,
            libc::SOL_PACKET,
            abi::PACKET_RX_RING,
            &req,
            "setting up the receive ring",
        )?;

        let map_len =
            usize::try_from(u64::from(block_size) * u64::from(block_count)).map_err(|_| {
                (
                    "mapping the receive ring",
                    io::Error::from(io::ErrorKind::OutOfMemory),
                )
            })?;
        let map = map_ring(raw, map_len)?;
        // From here on the Ring owns the mapping and unmaps it on any error.
        let ring = Ring {
            fd,
            map,
            map_len,
            block_size: block_size as usize,
            block_count: block_count as usize,
            current: 0,
            walk: None,
            malformed: 0,
        };
        attach_to(ring.fd.as_fd(), ifindex, cfg)?;
        Ok(ring)
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Moves this socket, ring and all, to `ifindex` (the interface was
    /// recreated, or went down and up): re-attaches the filter for `link`,
    /// re-binds, and moves the promiscuous membership from `old_ifindex`.
    ///
    /// None of these steps needs a capability on a socket that is already
    /// open (only creating an AF_PACKET socket needs CAP_NET_RAW), so this is
    /// how a capture that dropped its privileges gets an interface back. The
    /// kernel refuses to re-bind a socket in a fanout group (EINVAL).
    pub(crate) fn rebind(
        &mut self,
        old_ifindex: i32,
        ifindex: i32,
        link: LinkType,
        cfg: &RingConfig,
    ) -> Result<(), OpenError> {
        let raw = self.fd.as_fd();
        // A stale ENETDOWN from the old interface would read as a new loss.
        let _ = self.take_error();
        bpf::attach(raw, &bpf::program(link, cfg.snaplen))
            .map_err(|e| ("attaching the capture filter", e))?;
        bind_to(raw, ifindex)?;
        if cfg.promiscuous {
            // Gone with the interface if it was deleted; still held if it
            // only went down. Either way, hold exactly one afterwards.
            let _ = set_membership(raw, old_ifindex, abi::PACKET_DROP_MEMBERSHIP, "");
            set_membership(
                raw,
                ifindex,
                abi::PACKET_ADD_MEMBERSHIP,
                "entering promiscuous mode",
            )?;
        }
        Ok(())
    }

    /// Pointer to the status word of block `index`.
    fn status_ptr(&self, index: usize) -> *mut u32 {
        let offset = index
            .saturating_mul(self.block_size)
            .saturating_add(block::STATUS);
        debug_assert!(offset + 4 <= self.map_len);
        // SAFETY: `index < block_count`, so the offset lies inside the mapping
        // (blocks are page-aligned, so the u32 is aligned).
        unsafe { self.map.as_ptr().add(offset).cast::<u32>() }
    }

    /// Makes the next block ours if the kernel has retired it. Returns
    /// whether a block is being walked.
    pub(crate) fn try_acquire(&mut self) -> bool {
        if self.walk.is_some() {
            return true;
        }
        // SAFETY: the status word is inside the mapping and aligned; the
        // kernel writes it concurrently, hence the volatile read.
        let status = unsafe { std::ptr::read_volatile(self.status_ptr(self.current)) };
        if status & abi::TP_STATUS_USER == 0 {
            return false;
        }
        // Everything the kernel wrote into the block before flipping its
        // status must be visible before we read the block.
        fence(Ordering::Acquire);
        self.walk = Some(Walk {
            next: 0,
            remaining: 0,
        });
        let (first, count) = match self.owned_block() {
            Some(b) => (
                read_u32(b, block::OFFSET_TO_FIRST_PKT),
                read_u32(b, block::NUM_PKTS),
            ),
            None => (None, None),
        };
        self.walk = Some(Walk {
            next: first.map_or(0, |f| f as usize),
            remaining: count.unwrap_or(0),
        });
        true
    }

    /// The current block, while user space owns it.
    fn owned_block(&self) -> Option<&[u8]> {
        self.walk?;
        let offset = self.current.saturating_mul(self.block_size);
        // SAFETY: the block lies inside the mapping; its status is
        // TP_STATUS_USER (we hold a Walk), so the kernel does not write it
        // until `release` hands it back, which needs `&mut self` and so
        // outlives every borrow of this slice.
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(offset), self.block_size) })
    }

    /// Bytes of the current block (empty if the range is not inside it).
    pub(crate) fn bytes(&self, range: Range<usize>) -> &[u8] {
        self.owned_block().and_then(|b| b.get(range)).unwrap_or(&[])
    }

    /// The next frame of the current block, or `None` when it is used up.
    pub(crate) fn next_packet(&mut self) -> Option<PacketMeta> {
        let walk = self.walk?;
        if walk.remaining == 0 {
            return None;
        }
        let parsed = self.owned_block().and_then(|b| parse_packet(b, walk.next));
        match parsed {
            Some((meta, next_offset)) => {
                self.walk = Some(Walk {
                    next: walk.next.saturating_add(next_offset),
                    remaining: walk.remaining - 1,
                });
                Some(meta)
            }
            None => {
                self.malformed = self.malformed.wrapping_add(1);
                if self.malformed == 1 {
                    tracing::warn!(
                        block = self.current,
                        "capture ring block holds a frame header outside the block; skipping the rest of the block"
                    );
                }
                self.walk = Some(Walk {
                    next: walk.next,
                    remaining: 0,
                });
                None
            }
        }
    }

    /// Hands the current block back to the kernel and moves on.
    pub(crate) fn release(&mut self) {
        if self.walk.take().is_none() {
            return;
        }
        // Our reads of the block happen before the kernel may refill it.
        fence(Ordering::Release);
        // SAFETY: the status word is inside the mapping and aligned; the
        // volatile write is the hand-over the kernel polls for.
        unsafe { std::ptr::write_volatile(self.status_ptr(self.current), abi::TP_STATUS_KERNEL) };
        self.current = (self.current + 1) % self.block_count.max(1);
    }

    /// Reads (and thereby resets) the kernel's counters for this socket:
    /// (packets including drops, drops, freeze-queue count).
    pub(crate) fn take_stats(&self) -> io::Result<(u32, u32, u32)> {
        let mut stats = abi::TpacketStatsV3::default();
        let mut len = std::mem::size_of::<abi::TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `stats` is a writable buffer of `len` bytes and `len` is a
        // valid in/out length.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                abi::PACKET_STATISTICS,
                std::ptr::addr_of_mut!(stats).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((stats.packets, stats.drops, stats.freeze_q_cnt))
    }

    /// The pending socket error (SO_ERROR), clearing it.
    pub(crate) fn take_error(&self) -> Option<io::Error> {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` is a writable c_int and `len` its size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                std::ptr::addr_of_mut!(err).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            Some(io::Error::last_os_error())
        } else if err != 0 {
            Some(io::Error::from_raw_os_error(err))
        } else {
            None
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are exactly what mmap returned; no borrow
        // of the mapping can outlive `self`. The socket closes afterwards.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

fn read_u32(bytes: &[u8], range: Range<usize>) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(range)?.try_into().ok()?))
}

fn read_u16(bytes: &[u8], range: Range<usize>) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(range)?.try_into().ok()?))
}

/// Decodes the frame header at `offset` of `block`; returns it with the
/// distance to the next header (`tp_next_offset`).
fn parse_packet(block: &[u8], offset: usize) -> Option<(PacketMeta, usize)> {
    let hdr = block.get(offset..)?;
    let at = |r: Range<usize>| read_u32(hdr, r);
    let next_offset = at(packet::NEXT_OFFSET)? as usize;
    let sec = at(packet::SEC)?;
    let nsec = at(packet::NSEC)?;
    let snaplen = at(packet::SNAPLEN)? as usize;
    let len = at(packet::LEN)?;
    let status = at(packet::STATUS)?;
    let mac = usize::from(read_u16(hdr, packet::MAC)?);
    let pkttype = *hdr.get(packet::PKTTYPE)?;

    let start = offset.checked_add(mac)?;
    let data = start..start.checked_add(snaplen)?;
    if data.end > block.len() {
        return None;
    }
    let vlan = if status & abi::TP_STATUS_VLAN_VALID != 0 {
        let tci = (at(packet::VLAN_TCI)? & 0xffff) as u16;
        let tpid = if status & abi::TP_STATUS_VLAN_TPID_VALID != 0 {
            read_u16(hdr, packet::VLAN_TPID)?
        } else {
            0x8100
        };
        Some((tpid, tci))
    } else {
        None
    };
    let ts_nanos = u64::from(sec)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(nsec));
    Some((
        PacketMeta {
            ts_nanos,
            wire_len: len,
            data,
            vlan,
            outgoing: pkttype == abi::PACKET_OUTGOING,
        },
        next_offset,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tpacket3_hdr + sockaddr_ll laid out as in linux/if_packet.h
    /// (offsetof() in C: tp_mac 24, hv1.tp_vlan_tci 32, sizeof 48,
    /// sockaddr_ll.sll_pkttype 10).
    fn header(next: u32, snaplen: u32, len: u32, status: u32, mac: u16, pkttype: u8) -> Vec<u8> {
        let mut h = vec![0u8; 68];
        h[0..4].copy_from_slice(&next.to_ne_bytes());
        h[4..8].copy_from_slice(&1_700_000_000u32.to_ne_bytes());
        h[8..12].copy_from_slice(&123_456_789u32.to_ne_bytes());
        h[12..16].copy_from_slice(&snaplen.to_ne_bytes());
        h[16..20].copy_from_slice(&len.to_ne_bytes());
        h[20..24].copy_from_slice(&status.to_ne_bytes());
        h[24..26].copy_from_slice(&mac.to_ne_bytes());
        h[32..36].copy_from_slice(&0x2064u32.to_ne_bytes());
        h[36..38].copy_from_slice(&0x88a8u16.to_ne_bytes());
        h[58] = pkttype;
        h
    }

    #[test]
    fn header_gives_timestamp_lengths_and_direction() {
        let mut block = header(0, 60, 1514, 1, 80, 4);
        block.resize(200, 0);
        let (meta, next) = parse_packet(&block, 0).unwrap();
        assert_eq!(next, 0);
        assert_eq!(meta.ts_nanos, 1_700_000_000_123_456_789);
        assert_eq!(meta.wire_len, 1514);
        assert_eq!(meta.data, 80..140);
        assert!(meta.outgoing);
        assert_eq!(meta.vlan, None);
    }

    #[test]
    fn vlan_metadata_is_reported_with_its_tpid() {
        let status =
            abi::TP_STATUS_USER | abi::TP_STATUS_VLAN_VALID | abi::TP_STATUS_VLAN_TPID_VALID;
        let mut block = header(0, 60, 60, status, 80, 0);
        block.resize(200, 0);
        let (meta, _) = parse_packet(&block, 0).unwrap();
        assert_eq!(meta.vlan, Some((0x88a8, 0x2064)));
        assert!(!meta.outgoing);

        let mut block = header(0, 60, 60, abi::TP_STATUS_VLAN_VALID, 80, 0);
        block.resize(200, 0);
        assert_eq!(
            parse_packet(&block, 0).unwrap().0.vlan,
            Some((0x8100, 0x2064))
        );
    }

    #[test]
    fn frame_reaching_past_its_block_is_rejected() {
        let mut block = header(0, 150, 150, 1, 80, 0);
        block.resize(200, 0);
        assert!(parse_packet(&block, 0).is_none());
        assert!(parse_packet(&block, 190).is_none());
        assert!(parse_packet(&block, usize::MAX).is_none());
    }
}
