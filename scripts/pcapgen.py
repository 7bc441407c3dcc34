"""Small helpers shared by gen_captures.py and gen_sample.py: endpoints, link framing,
a TCP conversation builder and a deterministic pcap writer.

Frames are built with scapy; the pcap file itself is written here (a 24-byte global
header and 16-byte record headers) so that timestamps are exact integers, the snaplen
really cuts frames (caplen < wire length) and the output is byte-identical on every run.
"""

import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

# 2026-01-01T00:00:00Z
T0 = 1767225600
US = 1_000_000

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113

# Linux cooked packet types.
SLL_HOST, SLL_BROADCAST, SLL_MULTICAST, SLL_OTHERHOST, SLL_OUTGOING = 0, 1, 2, 3, 4


class Ep:
    """One end of a conversation as seen on the LAN: the MAC the frame carries for it
    (the router's for anything beyond the router) and its IP address."""

    def __init__(self, mac, ip):
        self.mac = mac
        self.ip = ip

    @property
    def v6(self):
        return ":" in self.ip


def l3(src, dst, l4, **ipkw):
    if src.v6:
        return IPv6(src=src.ip, dst=dst.ip, **ipkw) / l4
    return IP(src=src.ip, dst=dst.ip, **ipkw) / l4


def ip_length(data_from_ip):
    """IP-layer length of an IP packet's bytes, read from its header (rule: bytes)."""
    ver = data_from_ip[0] >> 4
    if ver == 4:
        return struct.unpack("!H", data_from_ip[2:4])[0]
    return 40 + struct.unpack("!H", data_from_ip[4:6])[0]


class Capture:
    """A list of frames with their times, in one link type, written as pcap."""

    def __init__(self, linktype=LINKTYPE_ETHERNET, tags=(), snaplen=262144):
        self.linktype = linktype
        self.tags = tags  # for Ethernet: () or [(tpid, vid), ...] outermost first
        self.snaplen = snaplen
        self.records = []  # (usec since T0, frame bytes)
        self.ip_bytes = []  # IP length of each frame, None for non-IP

    def add_frame(self, t_us, frame, ip_len=None):
        self.records.append((int(round(t_us)), bytes(frame)))
        self.ip_bytes.append(ip_len)
        return ip_len

    def send(self, t_us, src, dst, l4, dst_mac=None, tags=None, sll_type=None, **ipkw):
        """Builds and adds one IP frame from src to dst; returns its IP length."""
        pkt = l3(src, dst, l4, **ipkw)
        return self.send_ip(t_us, src.mac, dst_mac or dst.mac, pkt, tags=tags, sll_type=sll_type)

    def send_ip(self, t_us, src_mac, dst_mac, pkt, tags=None, sll_type=None):
        raw = bytes(pkt)
        ethertype = 0x86DD if raw[0] >> 4 == 6 else 0x0800
        return self.add_frame(t_us, self.link(src_mac, dst_mac, ethertype, raw, tags, sll_type), ip_length(raw))

    def link(self, src_mac, dst_mac, ethertype, payload, tags=None, sll_type=None):
        if self.linktype == LINKTYPE_RAW:
            return payload
        if self.linktype == LINKTYPE_LINUX_SLL:
            if sll_type is None:
                sll_type = SLL_HOST
            addr = bytes.fromhex(src_mac.replace(":", "")) + b"\0\0"
            return struct.pack("!HHH8sH", sll_type, 1, 6, addr, ethertype) + payload
        tags = self.tags if tags is None else tags
        frame = Ether(src=src_mac, dst=dst_mac)
        for tpid, vid in tags:
            frame = frame / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
        raw = bytes(frame)
        # Patch the last type field (scapy fills it from the next layer otherwise).
        return raw[:-2] + struct.pack("!H", ethertype) + payload if tags else (
            bytes(Ether(src=src_mac, dst=dst_mac, type=ethertype)) + payload)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, self.linktype))
            for t_us, data in self.records:
                cap = data[: self.snaplen]
                ts = T0 * US + t_us
                f.write(struct.pack("<IIII", ts // US, ts % US, len(cap), len(data)))
                f.write(cap)


TS_OPT = [("NOP", None), ("NOP", None), ("Timestamp", (1000, 0))]
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]


class Tcp:
    """A TCP conversation between a client and a server with consistent seq/ack numbers.
    Every method adds one segment to the capture and returns its IP length."""

    def __init__(self, cap, client, cport, server, sport, isn_c=1000, isn_s=5000, opts=True, **kw):
        self.cap, self.c, self.s = cap, client, server
        self.cport, self.sport = cport, sport
        self.seq = {"c": isn_c, "s": isn_s}
        self.opts = opts
        self.kw = kw

    def _seg(self, t, who, flags, payload=b"", syn_opts=False):
        other = "s" if who == "c" else "c"
        src, dst = (self.c, self.s) if who == "c" else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if who == "c" else (self.sport, self.cport)
        opts = (SYN_OPTS if syn_opts else TS_OPT) if self.opts else []
        ack = self.seq[other] if "A" in flags else 0
        seg = TCP(sport=sp, dport=dp, flags=flags, seq=self.seq[who], ack=ack, window=502, options=opts)
        if payload:
            seg = seg / Raw(payload)
        n = self.cap.send(t, src, dst, seg, **self.kw)
        self.seq[who] += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        return n

    def syn(self, t):
        return self._seg(t, "c", "S", syn_opts=True)

    def synack(self, t):
        return self._seg(t, "s", "SA", syn_opts=True)

    def handshake(self, t, rtt=20_000):
        return self.syn(t) + self.synack(t + rtt) + self.ack(t + rtt + 100, "c")

    def ack(self, t, who):
        return self._seg(t, who, "A")

    def data(self, t, who, payload, flags="PA"):
        return self._seg(t, who, flags, payload)

    def fin(self, t, who):
        return self._seg(t, who, "FA")

    def rst(self, t, who):
        return self._seg(t, who, "R")


def udp(sport, dport, payload=b""):
    return UDP(sport=sport, dport=dport) / Raw(payload) if payload else UDP(sport=sport, dport=dport)
