#!/usr/bin/python3
"""Generates samples/home-lan.pcap: five minutes of a made-up home LAN, as a router's
br-lan capture would see it, plus samples/home-lan.expected.json (from
scripts/expected_accounting.py).

    /usr/bin/python3 scripts/gen_sample.py --out samples

Everything is synthetic and deterministic (fixed seed, fixed clock starting
2026-01-01T00:00:00Z): running it twice gives byte-identical files. See samples/README.md
for what the capture contains.
"""

import argparse
import ipaddress
import os
import random
import struct
import subprocess
import sys

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import mac2str

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapgen import US, Capture, Ep, Tcp, udp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = random.Random(20260101)
MS = 1000

BCAST = "ff:ff:ff:ff:ff:ff"
R_MAC = "94:83:c4:2a:10:01"  # GL.iNet (OpenWrt) router
ROUTER = Ep(R_MAC, "192.168.1.1")
ROUTER_LL = Ep(R_MAC, "fe80::9683:c4ff:fe2a:1001")
ULA = "fd5e:8a21:4c07:1:"


class Device:
    def __init__(self, name, mac, ip, vendor_class=None, prl=(1, 3, 6, 15, 28, 51, 58, 59)):
        self.name, self.mac, self.ip = name, mac, ip
        self.ep = Ep(mac, ip)
        self.vendor_class = vendor_class
        self.prl = list(prl)
        self.port = 49152 + RNG.randrange(8000)

    def next_port(self):
        self.port += 1 + RNG.randrange(7)
        return self.port


IPHONE = Device("Lucas-iPhone", "a6:5b:1f:7c:33:d2", "192.168.1.101", prl=(1, 121, 3, 6, 15, 108, 114, 119, 252))
TV = Device("living-room-tv", "a8:23:fe:4d:91:0e", "192.168.1.102", vendor_class=b"LGE webOS")
PI = Device("raspberrypi", "dc:a6:32:5b:0c:7f", "192.168.1.103",
            vendor_class=b"dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835",
            prl=(1, 121, 33, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119))
LAPTOP = Device("work-laptop", "3c:a9:f4:18:62:a5", "192.168.1.104", vendor_class=b"MSFT 5.0",
                prl=(1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252))
GALAXY = Device("Galaxy-S21", "8c:77:12:e0:5a:14", "192.168.1.105", vendor_class=b"android-dhcp-13",
                prl=(1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108))
MACBOOK = Device("Annas-MacBook-Air", "f0:18:98:a1:2b:6c", "192.168.1.106",
                 prl=(1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46))
DEVICES = [IPHONE, TV, PI, LAPTOP, GALAXY, MACBOOK]

# iPhone's IPv6: link-local and two temporary (privacy) addresses in the router's ULA prefix.
IPHONE_LL = Ep(IPHONE.mac, "fe80::1c8f:4e2a:9b3d:7a10")
IPHONE_TMP = [Ep(IPHONE.mac, ULA + "5d2e:91c4:a37b:e018"), Ep(IPHONE.mac, ULA + "b8f1:06d3:2c5a:9e47")]
MACBOOK_LL = Ep(MACBOOK.mac, "fe80::8c2:5bd1:e4a7:3f09")

# Servers (documentation ranges, plus Cloudflare's 1.1.1.1 for DoT and ping).
SITES = {
    "www.netflix.com": ("198.51.100.20", "2001:db8:20::20"),
    "nflxvideo.net": ("198.51.100.21", None),
    "www.youtube.com": ("198.51.100.30", "2001:db8:30::30"),
    "rr3---sn-4g5e6nzz.googlevideo.com": ("198.51.100.31", None),
    "outlook.office365.com": ("203.0.113.40", None),
    "teams.microsoft.com": ("203.0.113.41", None),
    "github.com": ("203.0.113.42", None),
    "www.icloud.com": ("203.0.113.50", "2001:db8:50::50"),
    "gateway.icloud.com": ("203.0.113.51", "2001:db8:50::51"),
    "connectivitycheck.gstatic.com": ("198.51.100.60", None),
    "deb.debian.org": ("198.51.100.70", None),
    "www.instagram.com": ("203.0.113.80", None),
    "www.wikipedia.org": ("203.0.113.90", "2001:db8:90::90"),
}
NTP_SERVER = "198.51.100.123"
DOT = "1.1.1.1"


def inet(ip):
    return Ep(R_MAC, ip)


def rbytes(n):
    return RNG.randbytes(n)


# ---- DHCP / ND ---------------------------------------------------------------------------


def dhcp_dora(cap, t, dev):
    xid = RNG.getrandbits(32)
    base = [("client_id", b"\x01" + mac2str(dev.mac)), ("hostname", dev.name.encode())]
    if dev.vendor_class:
        base.append(("vendor_class_id", dev.vendor_class))
    base.append(("param_req_list", dev.prl))

    def client_msg(when, msg, extra):
        pkt = IP(src="0.0.0.0", dst="255.255.255.255", ttl=64) / UDP(sport=68, dport=67) / BOOTP(
            op=1, xid=xid, flags=0, chaddr=mac2str(dev.mac) + b"\0" * 10) / DHCP(
            options=[("message-type", msg), *extra, *base, ("max_dhcp_size", 1500), "end"])
        cap.send_ip(when, dev.mac, BCAST, pkt)

    def server_msg(when, msg):
        pkt = IP(src=ROUTER.ip, dst=dev.ip, ttl=64) / UDP(sport=67, dport=68) / BOOTP(
            op=2, xid=xid, yiaddr=dev.ip, siaddr=ROUTER.ip, chaddr=mac2str(dev.mac) + b"\0" * 10) / DHCP(
            options=[("message-type", msg), ("server_id", ROUTER.ip), ("lease_time", 43200),
                     ("renewal_time", 21600), ("rebinding_time", 37800), ("subnet_mask", "255.255.255.0"),
                     ("broadcast_address", "192.168.1.255"), ("router", ROUTER.ip), ("name_server", ROUTER.ip),
                     ("domain", b"lan"), "end"])
        cap.send_ip(when, R_MAC, dev.mac, pkt)

    client_msg(t, "discover", [])
    server_msg(t + 2 * MS, "offer")
    client_msg(t + 1010 * MS, "request", [("requested_addr", dev.ip), ("server_id", ROUTER.ip)])
    server_msg(t + 1013 * MS, "ack")
    # Gratuitous ARP announcing the new address.
    cap.add_frame(t + 1200 * MS, Ether(src=dev.mac, dst=BCAST) / ARP(
        op=1, hwsrc=dev.mac, psrc=dev.ip, hwdst="00:00:00:00:00:00", pdst=dev.ip))
    return t + 1300 * MS


def solicited_node(addr):
    """The solicited-node multicast group of an address and its Ethernet group MAC."""
    tail = ipaddress.IPv6Address(addr).packed[-3:]
    return "ff02::1:ff%02x:%02x%02x" % tuple(tail), "33:33:ff:%02x:%02x:%02x" % tuple(tail)


def router_advert(cap, t):
    pkt = IPv6(src=ROUTER_LL.ip, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(
        lladdr=R_MAC) / ICMPv6NDOptPrefixInfo(prefix=ULA + ":", prefixlen=64, validlifetime=7200,
                                              preferredlifetime=3600) / ICMPv6NDOptRDNSS(dns=[ULA + ":1"])
    cap.send_ip(t, R_MAC, "33:33:00:00:00:01", pkt)


# ---- DNS ---------------------------------------------------------------------------------


def https_rr(name):
    # SvcPriority 1, TargetName ".", alpn="h2,h3"
    rdata = b"\x00\x01\x00" + b"\x00\x01\x00\x06\x02h2\x02h3"
    return DNSRR(rrname=name, type=65, ttl=300, rdata=rdata)


def dns_exchange(cap, t, dev_ep, name, qtypes=("A", "AAAA")):
    """Queries from the device to the router, each answered 3-25 ms later."""
    v4, v6 = SITES.get(name, (None, None))
    for i, qt in enumerate(qtypes):
        qid = RNG.getrandbits(16)
        sport = 30000 + RNG.randrange(30000)
        q = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qt))
        cap.send(t + i * MS, dev_ep, ROUTER, udp(sport, 53, bytes(q)))
        if qt == "A" and v4:
            an = DNSRR(rrname=name, type="A", ttl=300, rdata=v4)
        elif qt == "AAAA" and v6:
            an = DNSRR(rrname=name, type="AAAA", ttl=300, rdata=v6)
        elif qt == "HTTPS":
            an = https_rr(name)
        elif qt == "PTR":
            an = DNSRR(rrname=name, type="PTR", ttl=300, rdata="OpenWrt.lan")
        else:
            an = None
        r = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qt), an=an)
        cap.send(t + i * MS + (3 + RNG.randrange(22)) * MS, ROUTER, dev_ep, udp(53, sport, bytes(r)))
    return t + 40 * MS


# ---- TLS ---------------------------------------------------------------------------------


def ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello(sni, alpn=(b"h2", b"http/1.1")):
    names = struct.pack("!BH", 0, len(sni)) + sni.encode()
    alpn_list = b"".join(struct.pack("!B", len(a)) + a for a in alpn)
    exts = b"".join([
        ext(0x0000, struct.pack("!H", len(names)) + names),  # server_name
        ext(0x0017, b""),  # extended_master_secret
        ext(0xFF01, b"\x00"),  # renegotiation_info
        ext(0x000A, b"\x00\x06\x00\x1d\x00\x17\x00\x18"),  # supported_groups
        ext(0x000B, b"\x01\x00"),  # ec_point_formats
        ext(0x0023, b""),  # session_ticket
        ext(0x0010, struct.pack("!H", len(alpn_list)) + alpn_list),  # ALPN
        ext(0x0005, b"\x01\x00\x00\x00\x00"),  # status_request
        ext(0x000D, b"\x00\x0c\x04\x03\x08\x04\x04\x01\x05\x03\x08\x05\x05\x01"),  # signature_algorithms
        ext(0x0033, b"\x00\x24\x00\x1d\x00\x20" + rbytes(32)),  # key_share x25519
        ext(0x002D, b"\x01\x01"),  # psk_key_exchange_modes
        ext(0x002B, b"\x04\x03\x04\x03\x03"),  # supported_versions: TLS 1.3, 1.2
    ])
    suites = b"\x13\x01\x13\x02\x13\x03\xc0\x2b\xc0\x2f\xc0\x2c\xc0\x30\xcc\xa9\xcc\xa8\xc0\x13\xc0\x14\x00\x9c\x00\x9d"
    body = b"\x03\x03" + rbytes(32) + b"\x20" + rbytes(32) + struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello():
    exts = ext(0x002B, b"\x03\x04") + ext(0x0033, b"\x00\x1d\x00\x20" + rbytes(32))
    body = b"\x03\x03" + rbytes(32) + b"\x20" + rbytes(32) + b"\x13\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01"


def app_records(n, rec=16401):
    """n bytes of TLS 1.3 application data records (header + encrypted body)."""
    out = b""
    while len(out) < n:
        body = min(rec, max(n - len(out) - 5, 22))
        out += b"\x17\x03\x03" + struct.pack("!H", body) + rbytes(body)
    return out


def stream(s, t, who, data, mss=1448, gap=300, ack_every=2):
    """Sends data from one side in MSS-sized segments; the other side ACKs every
    ack_every segments. Returns the time after the last segment."""
    other = "c" if who == "s" else "s"
    n = 0
    for off in range(0, len(data), mss):
        s.data(t, who, data[off:off + mss], flags="A" if off + mss < len(data) else "PA")
        n += 1
        if n % ack_every == 0:
            s.ack(t + 40, other)
        t += gap
    if n % ack_every:
        s.ack(t + 40, other)
    return t + 100


def https_session(cap, t, dev_ep, name, down, up=600, rtt=18 * MS, chunks=1, chunk_gap=0, close=True, v6=False):
    ip = SITES[name][1 if v6 else 0]
    s = Tcp(cap, dev_ep, dev_ep.port, inet(ip), 443,
            isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
    return tls_flow(s, t, name, down, up, rtt, chunks, chunk_gap, close)


def tls_flow(s, t, sni, down, up, rtt, chunks, chunk_gap, close, alpn=(b"h2", b"http/1.1")):
    s.handshake(t, rtt)
    t += rtt + 200
    s.data(t, "c", client_hello(sni, alpn))
    t += rtt
    sh = server_hello() + app_records(2600 + RNG.randrange(1800))  # encrypted certificate etc.
    t = stream(s, t, "s", sh)
    s.data(t + rtt // 2, "c", app_records(80) + app_records(up))
    t += rtt
    for i in range(chunks):
        t = stream(s, t, "s", app_records(down // chunks))
        if i + 1 < chunks:
            t += chunk_gap
            s.data(t, "c", app_records(120 + RNG.randrange(200)))
            t += rtt
    if close:
        s.data(t + 5 * MS, "c", app_records(19))
        s.fin(t + 6 * MS, "c")
        s.fin(t + 6 * MS + rtt, "s")
        s.ack(t + 6 * MS + rtt + 100, "c")
    return t + rtt + 10 * MS


# ---- QUIC --------------------------------------------------------------------------------


def quic_session(cap, t, dev_ep, sport, server_ip, down_pkts, up_every=6, rtt=15 * MS, gap=500):
    srv = inet(server_ip)
    dcid, scid = rbytes(8), rbytes(8)

    def long_hdr(first, dst_cid, src_cid, size):
        hdr = bytes([first]) + b"\x00\x00\x00\x01" + bytes([len(dst_cid)]) + dst_cid + bytes([len(src_cid)]) + src_cid
        if first & 0x30 == 0:  # Initial: token length 0
            hdr += b"\x00"
        rest = size - len(hdr) - 2
        return hdr + struct.pack("!H", 0x4000 | rest) + rbytes(rest)

    def short(cid, size):
        return bytes([0x40 | RNG.randrange(4)]) + cid + rbytes(size - 1 - len(cid))

    cap.send(t, dev_ep, srv, udp(sport, 443, long_hdr(0xC3, dcid, b"", 1250)))
    t += rtt
    cap.send(t, srv, dev_ep, udp(443, sport, long_hdr(0xC1, b"", scid, 1250)))
    cap.send(t + 200, srv, dev_ep, udp(443, sport, long_hdr(0xE1, b"", scid, 1250)))
    cap.send(t + rtt, dev_ep, srv, udp(sport, 443, long_hdr(0xE1, scid, b"", 90)))
    t += rtt + 1 * MS
    cap.send(t, dev_ep, srv, udp(sport, 443, short(scid, 110)))
    for i in range(down_pkts):
        t += gap
        cap.send(t, srv, dev_ep, udp(443, sport, short(b"", 1250)))
        if i % up_every == up_every - 1:
            cap.send(t + 100, dev_ep, srv, udp(sport, 443, short(scid, 40)))
    return t


# ---- the five minutes ----------------------------------------------------------------------


def build():
    cap = Capture()
    # Router advertisement every ~60 s (ULA prefix, RDNSS).
    for k in range(5):
        router_advert(cap, k * 60 * US + 500 * MS)

    # Everybody joins over the first 40 s.
    joins = {IPHONE: 2, TV: 5, PI: 9, LAPTOP: 14, GALAXY: 25, MACBOOK: 38}
    ready = {d: dhcp_dora(cap, s * US, d) for d, s in joins.items()}

    # iPhone IPv6: RS, DAD for the link-local and temporary addresses, then v6 traffic.
    t = ready[IPHONE]
    cap.send_ip(t, IPHONE.mac, "33:33:00:00:00:02",
                IPv6(src=IPHONE_LL.ip, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(
                    lladdr=IPHONE.mac))
    for i, a in enumerate([IPHONE_LL] + IPHONE_TMP):
        group, group_mac = solicited_node(a.ip)
        cap.send_ip(t + (i + 1) * 10 * MS, IPHONE.mac, group_mac,
                    IPv6(src="::", dst=group, hlim=255) / ICMPv6ND_NS(tgt=a.ip))
    # Neighbour exchange with the router before the first global packet.
    cap.send_ip(t + 60 * MS, IPHONE.mac, R_MAC, IPv6(src=IPHONE_TMP[0].ip, dst=ROUTER_LL.ip, hlim=255) / ICMPv6ND_NS(
        tgt=ROUTER_LL.ip) / ICMPv6NDOptSrcLLAddr(lladdr=IPHONE.mac))
    cap.send_ip(t + 61 * MS, R_MAC, IPHONE.mac, IPv6(src=ROUTER_LL.ip, dst=IPHONE_TMP[0].ip, hlim=255) / ICMPv6ND_NA(
        tgt=ROUTER_LL.ip, R=1, S=1, O=1))

    # --- iPhone: iCloud over IPv6 (two privacy addresses), Instagram over IPv4, QUIC.
    def iphone():
        t = ready[IPHONE] + 200 * MS
        for tmp, site, start in ((IPHONE_TMP[0], "www.icloud.com", 0), (IPHONE_TMP[1], "gateway.icloud.com", 90)):
            tt = t + start * US
            dns_exchange(cap, tt, IPHONE.ep, site, ("A", "AAAA", "HTTPS"))
            tmp.port = IPHONE.next_port()
            https_session(cap, tt + 50 * MS, tmp, site, 20000 + RNG.randrange(20000), v6=True)
        tt = t + 130 * US
        dns_exchange(cap, tt, IPHONE.ep, "www.instagram.com", ("A", "AAAA", "HTTPS"))
        ep = Ep(IPHONE.mac, IPHONE.ip)
        ep.port = IPHONE.next_port()
        https_session(cap, tt + 40 * MS, ep, "www.instagram.com", 70000, chunks=4, chunk_gap=6 * US)
        quic_session(cap, t + 200 * US, IPHONE.ep, IPHONE.next_port(), SITES["www.youtube.com"][0], 40)

    # --- TV: Netflix, a long video stream in 4 s chunks for the rest of the capture.
    def tv():
        t = ready[TV] + 500 * MS
        dns_exchange(cap, t, TV.ep, "www.netflix.com", ("A",))
        ep = Ep(TV.mac, TV.ip)
        ep.port = TV.next_port()
        https_session(cap, t + 30 * MS, ep, "www.netflix.com", 30000)
        dns_exchange(cap, t + 2 * US, TV.ep, "nflxvideo.net", ("A",))
        ep2 = Ep(TV.mac, TV.ip)
        ep2.port = TV.next_port()
        s = Tcp(cap, ep2, ep2.port, inet(SITES["nflxvideo.net"][0]), 443,
                isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
        chunks = 36
        tls_flow(s, t + 2 * US + 40 * MS, "nflxvideo.net", chunks * 8 * 1448, 500, 12 * MS, chunks, 7800 * MS, True)
        # SSDP NOTIFY from the TV every 30 s.
        for k in range(9):
            cap.send(t + (k * 30 + 3) * US, TV.ep, Ep("01:00:5e:7f:ff:fa", "239.255.255.250"), udp(
                1900, 1900, b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
                b"LOCATION: http://192.168.1.102:1990/dial.xml\r\nNT: urn:dial-multiscreen-org:service:dial:1\r\n"
                b"NTS: ssdp:alive\r\nSERVER: WebOS/6.0 UPnP/1.0\r\nUSN: uuid:3a1f6b2c-lg-tv::"
                b"urn:dial-multiscreen-org:service:dial:1\r\n\r\n"))

    # --- Raspberry Pi: NTP, apt over HTTP, DNS over TLS straight to 1.1.1.1.
    def pi():
        t = ready[PI] + 300 * MS
        for k in range(4):
            sp = PI.next_port()
            ntp = b"\x23\x00\x06\x20" + b"\0" * 36 + rbytes(8)
            cap.send(t + k * 64 * US, PI.ep, inet(NTP_SERVER), udp(sp, 123, ntp))
            cap.send(t + k * 64 * US + 21 * MS, inet(NTP_SERVER), PI.ep,
                     udp(123, sp, b"\x24\x02\x06\xe9" + rbytes(44)))
        # DoT: the Pi's resolver bypasses the router.
        ep = Ep(PI.mac, PI.ip)
        for k in range(3):
            s = Tcp(cap, ep, PI.next_port(), inet(DOT), 853, isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
            tls_flow(s, t + (5 + k * 70) * US, "one.one.one.one", 1200, 150, 9 * MS, 1, 0, True, alpn=(b"dot",))
        # apt update over plain HTTP (deb.debian.org resolved over DoT, so no local query).
        s = Tcp(cap, ep, PI.next_port(), inet(SITES["deb.debian.org"][0]), 80,
                isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
        tt = t + 8 * US
        s.handshake(tt, 25 * MS)
        s.data(tt + 30 * MS, "c", b"GET /debian/dists/bookworm/InRelease HTTP/1.1\r\nHost: deb.debian.org\r\n"
               b"User-Agent: Debian APT-HTTP/1.3 (2.6.1)\r\nAccept: text/*\r\n\r\n")
        body = (b"Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\n" * 900)[:52000]
        resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        tt = stream(s, tt + 60 * MS, "s", resp)
        s.fin(tt + 2 * US, "c")
        s.fin(tt + 2 * US + 25 * MS, "s")
        s.ack(tt + 2 * US + 25 * MS + 100, "c")

    # --- Laptop: Office 365 and Teams, GitHub, YouTube over QUIC, ping, PTR lookups,
    # SSDP search, and an SSH session to the Raspberry Pi (LAN traffic).
    def laptop():
        t = ready[LAPTOP] + 400 * MS
        dns_exchange(cap, t, LAPTOP.ep, "1.1.168.192.in-addr.arpa", ("PTR",))
        cap.send(t + 100 * MS, LAPTOP.ep, Ep("01:00:5e:7f:ff:fa", "239.255.255.250"), udp(
            LAPTOP.next_port(), 1900, b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
            b"MX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n"))
        for k, site in enumerate(("outlook.office365.com", "teams.microsoft.com", "github.com", "www.wikipedia.org")):
            tt = t + (1 + k * 35) * US
            dns_exchange(cap, tt, LAPTOP.ep, site, ("A", "AAAA", "HTTPS"))
            ep = Ep(LAPTOP.mac, LAPTOP.ip)
            ep.port = LAPTOP.next_port()
            https_session(cap, tt + 45 * MS, ep, site, 15000 + RNG.randrange(25000), up=2000 + RNG.randrange(4000),
                          chunks=2, chunk_gap=3 * US)
        tt = t + 150 * US
        dns_exchange(cap, tt, LAPTOP.ep, "www.youtube.com", ("A", "AAAA", "HTTPS"))
        quic_session(cap, tt + 40 * MS, LAPTOP.ep, LAPTOP.next_port(), SITES["www.youtube.com"][0], 30)
        dns_exchange(cap, tt + 5 * US, LAPTOP.ep, "rr3---sn-4g5e6nzz.googlevideo.com", ("A", "HTTPS"))
        quic_session(cap, tt + 5 * US + 40 * MS, LAPTOP.ep, LAPTOP.next_port(),
                     SITES["rr3---sn-4g5e6nzz.googlevideo.com"][0], 70, gap=150)
        # ping 1.1.1.1
        for k in range(4):
            pkt = ICMP(type=8, id=0x2a31, seq=k + 1) / Raw(bytes(range(32)) + b"abcdefghijklmnopqrstuvw")
            cap.send(t + (200 + k) * US, LAPTOP.ep, inet(DOT), pkt)
            rep = ICMP(type=0, id=0x2a31, seq=k + 1) / Raw(bytes(range(32)) + b"abcdefghijklmnopqrstuvw")
            cap.send(t + (200 + k) * US + 11 * MS, inet(DOT), LAPTOP.ep, rep)
        # SSH to the Pi: ARP first, then a short interactive session.
        tt = t + 60 * US
        cap.add_frame(tt, Ether(src=LAPTOP.mac, dst=BCAST) / ARP(op=1, hwsrc=LAPTOP.mac, psrc=LAPTOP.ip, pdst=PI.ip))
        cap.add_frame(tt + 2 * MS, Ether(src=PI.mac, dst=LAPTOP.mac) / ARP(
            op=2, hwsrc=PI.mac, psrc=PI.ip, hwdst=LAPTOP.mac, pdst=LAPTOP.ip))
        s = Tcp(cap, LAPTOP.ep, LAPTOP.next_port(), PI.ep, 22, isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
        s.handshake(tt + 3 * MS, 2 * MS)
        tt += 10 * MS
        s.data(tt, "c", b"SSH-2.0-OpenSSH_for_Windows_9.5\r\n")
        s.data(tt + 3 * MS, "s", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
        s.data(tt + 5 * MS, "c", rbytes(1400))
        s.data(tt + 8 * MS, "s", rbytes(1100))
        for k in range(40):
            s.data(tt + (1 + k * 0.4) * US, "c", rbytes(36))
            s.data(tt + (1 + k * 0.4) * US + 3 * MS, "s", rbytes(36 + (k % 5) * 120))
        s.fin(tt + 20 * US, "c")
        s.fin(tt + 20 * US + 2 * MS, "s")
        s.ack(tt + 20 * US + 3 * MS, "c")

    # --- Push-notification keepalives (iPhone APNs on 5223, Galaxy FCM on 5228; both
    # unlisted ports, so "other") and a short Teams call over UDP 3478 from the laptop.
    def background():
        for dev, port, ip, period in ((IPHONE, 5223, "203.0.113.55", 20), (GALAXY, 5228, "198.51.100.88", 28)):
            s = Tcp(cap, dev.ep, dev.next_port(), inet(ip), port, isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
            t = ready[dev] + 2 * US
            s.handshake(t, 30 * MS)
            s.data(t + 40 * MS, "c", client_hello("push.example.net", (b"apns-security-v3",)))
            s.data(t + 80 * MS, "s", server_hello() + app_records(1800))
            s.ack(t + 81 * MS, "c")
            t += period * US
            while t < 295 * US:
                s.data(t, "c", app_records(31))
                s.data(t + 35 * MS, "s", app_records(31))
                s.ack(t + 36 * MS, "c")
                t += period * US
        t = ready[LAPTOP] + 220 * US
        sport = LAPTOP.next_port()
        turn = inet("203.0.113.41")
        for k in range(8 * 25):
            tt = t + k * 40 * MS
            cap.send(tt, LAPTOP.ep, turn, udp(sport, 3478, b"\x80\x6f" + rbytes(118)))
            cap.send(tt + 21 * MS, turn, LAPTOP.ep, udp(3478, sport, b"\x80\x6f" + rbytes(110 + (k % 7))))

    # --- Galaxy: connectivity check over HTTP, Instagram, YouTube QUIC, casting to the TV.
    def galaxy():
        t = ready[GALAXY] + 300 * MS
        dns_exchange(cap, t, GALAXY.ep, "connectivitycheck.gstatic.com", ("A",))
        s = Tcp(cap, GALAXY.ep, GALAXY.next_port(), inet(SITES["connectivitycheck.gstatic.com"][0]), 80,
                isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
        s.handshake(t + 30 * MS)
        s.data(t + 60 * MS, "c", b"GET /generate_204 HTTP/1.1\r\nHost: connectivitycheck.gstatic.com\r\n"
               b"User-Agent: Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B)\r\n\r\n")
        s.data(t + 80 * MS, "s", b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        s.fin(t + 90 * MS, "c")
        s.fin(t + 110 * MS, "s")
        s.ack(t + 111 * MS, "c")
        tt = t + 20 * US
        dns_exchange(cap, tt, GALAXY.ep, "www.instagram.com", ("A", "AAAA"))
        ep = Ep(GALAXY.mac, GALAXY.ip)
        ep.port = GALAXY.next_port()
        https_session(cap, tt + 40 * MS, ep, "www.instagram.com", 50000, chunks=3, chunk_gap=10 * US)
        quic_session(cap, t + 120 * US, GALAXY.ep, GALAXY.next_port(), SITES["www.youtube.com"][0], 30)
        # Cast session to the TV (LAN).
        s = Tcp(cap, GALAXY.ep, GALAXY.next_port(), TV.ep, 8009, isn_c=RNG.getrandbits(32), isn_s=RNG.getrandbits(32))
        tt = t + 150 * US
        s.handshake(tt, 3 * MS)
        for k in range(20):
            s.data(tt + (1 + k * 2) * US, "c", rbytes(120 + (k % 3) * 40))
            s.data(tt + (1 + k * 2) * US + 4 * MS, "s", rbytes(80 + (k % 4) * 60))

    # --- MacBook: mDNS announcements (IPv4 + IPv6), iCloud, Wikipedia.
    def macbook():
        t = ready[MACBOOK] + 200 * MS
        for k in range(6):
            name = "Annas-MacBook-Air.local"
            msg = bytes(DNS(id=0, qr=1, aa=1, qd=None, an=DNSRR(rrname=name, type="A", rclass=0x8001, ttl=120,
                                                                   rdata=MACBOOK.ip) / DNSRR(
                rrname="_companion-link._tcp.local", type="PTR", ttl=4500, rdata="Annas-MacBook-Air._companion-link._tcp.local")))
            cap.send(t + k * 40 * US, MACBOOK.ep, Ep("01:00:5e:00:00:fb", "224.0.0.251"), udp(5353, 5353, msg))
            cap.send(t + k * 40 * US + 1 * MS, MACBOOK_LL, Ep("33:33:00:00:00:fb", "ff02::fb"), udp(5353, 5353, msg))
        q = bytes(DNS(id=0, qd=DNSQR(qname="_airplay._tcp.local", qtype="PTR")))
        cap.send(t + 3 * US, IPHONE.ep, Ep("01:00:5e:00:00:fb", "224.0.0.251"), udp(5353, 5353, q))
        cap.send(t + 3 * US + 1 * MS, IPHONE_LL, Ep("33:33:00:00:00:fb", "ff02::fb"), udp(5353, 5353, q))
        for k, site in enumerate(("www.icloud.com", "www.wikipedia.org")):
            tt = t + (10 + k * 60) * US
            dns_exchange(cap, tt, MACBOOK.ep, site, ("A", "AAAA", "HTTPS"))
            ep = Ep(MACBOOK.mac, MACBOOK.ip)
            ep.port = MACBOOK.next_port()
            https_session(cap, tt + 40 * MS, ep, site, 30000 + RNG.randrange(20000), chunks=2, chunk_gap=2 * US)

    for fn in (iphone, tv, pi, laptop, galaxy, macbook, background):
        fn()

    # Periodic ARP from the router for every client.
    for k, d in enumerate(DEVICES):
        for j in range(2):
            tt = (100 + j * 120 + k) * US
            cap.add_frame(tt, Ether(src=R_MAC, dst=BCAST) / ARP(op=1, hwsrc=R_MAC, psrc=ROUTER.ip, pdst=d.ip))
            cap.add_frame(tt + 3 * MS, Ether(src=d.mac, dst=R_MAC) / ARP(
                op=2, hwsrc=d.mac, psrc=d.ip, hwdst=R_MAC, pdst=ROUTER.ip))
    return cap


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "samples"))
    args = ap.parse_args()
    cap = build()
    order = sorted(range(len(cap.records)), key=lambda i: cap.records[i][0])
    cap.records = [cap.records[i] for i in order]
    cap.records = [r for r in cap.records if r[0] <= 300 * US]
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "home-lan.pcap")
    cap.write(path)
    exp = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "expected_accounting.py"), path],
                         stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(args.out, "home-lan.expected.json"), "wb") as f:
        f.write(exp)
    print(f"{path}: {len(cap.records)} frames, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
