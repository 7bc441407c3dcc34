//! The classic BPF filter attached to every capture socket.
//!
//! The kernel runs it on each frame before the frame is copied into the ring,
//! so it decides two things at once: which frames lanwatch sees at all (the
//! ones it can account: IPv4, IPv6, ARP, VLAN-tagged and PPPoE-session
//! frames), and how many bytes of each are copied — with TPACKET_V3 the
//! filter's accept value *is* the snaplen.
//!
//! The programs are written as short tables of [`Step`]s that read like
//! `tcpdump -d` output; [`program`] turns a table into kernel instructions,
//! working out the jump offsets so no one has to count them by hand.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::decode::LinkType;

// Opcode parts from linux/bpf_common.h and linux/filter.h.
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_H: u16 = 0x08;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_AND: u16 = 0x50;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;

/// Base of the kernel's "ancillary data" loads (SKF_AD_OFF).
const SKF_AD_OFF: i32 = -0x1000;
/// 1 when the kernel holds a VLAN tag in skb metadata (SKF_AD_VLAN_TAG_PRESENT).
const SKF_AD_VLAN_TAG_PRESENT: i32 = 48;

/// `setsockopt(SOL_SOCKET, SO_ATTACH_FILTER)`, the same number on every
/// architecture OpenWrt runs on (asm-generic, mips, arm, x86).
const SO_ATTACH_FILTER: libc::c_int = 26;

/// One step of a filter program.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `ld vlan_avail`: A = 1 if the kernel moved a VLAN tag into metadata.
    LoadVlanPresent,
    /// `ldh [offset]`: A = the big-endian 16-bit word at `offset`.
    LoadHalf(u32),
    /// `ldb [offset]`: A = the byte at `offset`.
    LoadByte(u32),
    /// `and #mask`
    And(u32),
    /// `jeq #k, accept`: accept when A == k, otherwise go on.
    AcceptIf(u32),
    /// `ret #0`: drop the frame.
    Drop,
    /// `ret #snaplen`: keep the frame, at most snaplen bytes. The last step.
    Accept,
}

use Step::*;

/// Ethernet frames (also loopback, which is Ethernet-framed on Linux).
const ETHERNET: &[Step] = &[
    LoadVlanPresent,
    AcceptIf(1),      // tag already moved into metadata: a VLAN frame
    LoadHalf(12),     // EtherType
    AcceptIf(0x0800), // IPv4
    AcceptIf(0x86dd), // IPv6
    AcceptIf(0x0806), // ARP
    AcceptIf(0x8100), // 802.1Q VLAN tag still in the frame
    AcceptIf(0x88a8), // 802.1ad (QinQ) service tag
    AcceptIf(0x8864), // PPPoE session
    Drop,
    Accept,
];

/// Raw IP (tun, PPP, ARPHRD_NONE): the frame starts at the IP header.
const RAW_IP: &[Step] = &[
    LoadByte(0),
    And(0xf0),      // IP version nibble
    AcceptIf(0x40), // IPv4
    AcceptIf(0x60), // IPv6
    Drop,
    Accept,
];

/// The kernel's `struct sock_filter`, built portably.
pub(crate) type Instruction = libc::sock_filter;

/// The filter program for a link type, accepting up to `snaplen` bytes.
pub(crate) fn program(link: LinkType, snaplen: u32) -> Vec<Instruction> {
    let steps = match link {
        LinkType::RawIp => RAW_IP,
        _ => ETHERNET,
    };
    assemble(steps, snaplen)
}

/// Turns a table of steps into instructions. Each `AcceptIf` jumps to the
/// final `Accept`; the tables are a dozen steps long, so every jump fits the
/// 8-bit offset (checked by the tests).
fn assemble(steps: &[Step], snaplen: u32) -> Vec<Instruction> {
    let last = steps.len().saturating_sub(1);
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let to_accept = u8::try_from(last.saturating_sub(i.saturating_add(1))).unwrap_or(0);
            let (code, jt, k) = match *step {
                LoadVlanPresent => (
                    BPF_LD | BPF_W | BPF_ABS,
                    0,
                    (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT) as u32,
                ),
                LoadHalf(offset) => (BPF_LD | BPF_H | BPF_ABS, 0, offset),
                LoadByte(offset) => (BPF_LD | BPF_B | BPF_ABS, 0, offset),
                And(mask) => (BPF_ALU | BPF_AND | BPF_K, 0, mask),
                AcceptIf(value) => (BPF_JMP | BPF_JEQ | BPF_K, to_accept, value),
                Drop => (BPF_RET | BPF_K, 0, 0),
                Accept => (BPF_RET | BPF_K, 0, snaplen),
            };
            Instruction { code, jt, jf: 0, k }
        })
        .collect()
}

/// Attaches `program` to the socket (SO_ATTACH_FILTER).
pub(crate) fn attach(fd: BorrowedFd<'_>, program: &[Instruction]) -> io::Result<()> {
    let len = u16::try_from(program.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "filter program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        // The kernel only reads through this pointer (it copies the program).
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `len` valid instructions that outlive the
    // call, and its size is passed alongside; the kernel copies them.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_FILTER,
            std::ptr::addr_of!(fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame as the kernel presents it to a socket filter: the bytes from
    /// the link header on, and whether a VLAN tag sits in metadata.
    struct Skb<'a> {
        data: &'a [u8],
        vlan_tag_present: bool,
    }

    /// A classic-BPF interpreter for the opcodes the programs use, following
    /// the semantics in the kernel's Documentation/networking/filter.rst:
    /// loads past the end of the packet end the program with 0 (drop).
    fn run(program: &[Instruction], skb: &Skb<'_>) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0usize;
        while let Some(insn) = program.get(pc) {
            pc += 1;
            let class = insn.code & 0x07;
            match class {
                c if c == BPF_LD => {
                    assert_eq!(insn.code & 0xe0, BPF_ABS, "only absolute loads are used");
                    let offset = insn.k as i32;
                    if offset == SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT {
                        a = u32::from(skb.vlan_tag_present);
                        continue;
                    }
                    assert!(offset >= 0, "unknown ancillary load {offset}");
                    let at = offset as usize;
                    let size = match insn.code & 0x18 {
                        s if s == BPF_W => 4,
                        s if s == BPF_H => 2,
                        s if s == BPF_B => 1,
                        s => panic!("bad load size {s:#x}"),
                    };
                    let Some(bytes) = skb.data.get(at..at + size) else {
                        return 0;
                    };
                    a = bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                }
                c if c == BPF_ALU => {
                    assert_eq!(insn.code, BPF_ALU | BPF_AND | BPF_K);
                    a &= insn.k;
                }
                c if c == BPF_JMP => {
                    assert_eq!(insn.code, BPF_JMP | BPF_JEQ | BPF_K);
                    let skip = if a == insn.k { insn.jt } else { insn.jf };
                    pc += usize::from(skip);
                }
                c if c == BPF_RET => return insn.k,
                c => panic!("unexpected instruction class {c:#x}"),
            }
        }
        panic!("program fell off its end");
    }

    fn ethernet(ethertype: u16, payload_len: usize) -> Vec<u8> {
        let mut f = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.resize(14 + payload_len, 0);
        f
    }

    fn verdict(link: LinkType, data: &[u8], vlan_tag_present: bool) -> u32 {
        run(
            &program(link, 1024),
            &Skb {
                data,
                vlan_tag_present,
            },
        )
    }

    #[test]
    fn ethernet_filter_keeps_what_lanwatch_accounts_with_snaplen_as_verdict() {
        for (name, ethertype) in [
            ("IPv4", 0x0800),
            ("IPv6", 0x86dd),
            ("ARP", 0x0806),
            ("802.1Q", 0x8100),
            ("802.1ad", 0x88a8),
            ("PPPoE session", 0x8864),
        ] {
            let frame = ethernet(ethertype, 46);
            assert_eq!(
                verdict(LinkType::Ethernet, &frame, false),
                1024,
                "{name} must be kept"
            );
        }
    }

    #[test]
    fn ethernet_filter_drops_everything_else() {
        for (name, ethertype) in [
            ("LLDP", 0x88cc),
            ("PPPoE discovery", 0x8863),
            ("EAPOL", 0x888e),
            ("802.3 length field", 0x0040),
        ] {
            let frame = ethernet(ethertype, 46);
            assert_eq!(
                verdict(LinkType::Ethernet, &frame, false),
                0,
                "{name} must be dropped"
            );
        }
    }

    #[test]
    fn frame_whose_vlan_tag_is_in_metadata_is_kept_whatever_its_inner_type() {
        let lldp_inside_vlan = ethernet(0x88cc, 46);
        assert_eq!(verdict(LinkType::Ethernet, &lldp_inside_vlan, true), 1024);
    }

    #[test]
    fn frame_too_short_for_an_ethertype_is_dropped() {
        assert_eq!(verdict(LinkType::Ethernet, &[0xff; 13], false), 0);
    }

    #[test]
    fn raw_ip_filter_keeps_ipv4_and_ipv6_only() {
        // First bytes of real headers: 0x45 (IPv4, IHL 5), 0x60 (IPv6, TC 0).
        assert_eq!(verdict(LinkType::RawIp, &[0x45, 0, 0, 20], false), 1024);
        assert_eq!(verdict(LinkType::RawIp, &[0x60, 0, 0, 0], false), 1024);
        assert_eq!(verdict(LinkType::RawIp, &[0x46, 0, 0, 24], false), 1024);
        assert_eq!(verdict(LinkType::RawIp, &[0x00, 0, 0, 0], false), 0);
        assert_eq!(verdict(LinkType::RawIp, &[], false), 0);
    }

    #[test]
    fn accept_jumps_land_on_the_final_accept() {
        for steps in [ETHERNET, RAW_IP] {
            let program = assemble(steps, 7);
            let last = program.len() - 1;
            assert_eq!(program[last].code, BPF_RET | BPF_K);
            assert_eq!(program[last].k, 7);
            for (i, insn) in program.iter().enumerate() {
                if insn.code == BPF_JMP | BPF_JEQ | BPF_K {
                    assert_eq!(i + 1 + usize::from(insn.jt), last, "jump at {i}");
                    assert_eq!(insn.jf, 0);
                }
            }
        }
    }
}
