#!/usr/bin/python3
"""Generates the small, deterministic test captures in tests/data/generated/.

    /usr/bin/python3 scripts/gen_captures.py --out tests/data/generated

One pcap per accounting case, each with `<case>.expected.json` written by running
scripts/expected_accounting.py (tshark-based) on the generated file. Each case also
asserts a few facts known from how its frames were built (byte sums of the IP lengths
that were put on the wire, connection counts, client keys), so the generator and the
accounting script check each other: a wrong rule in either one stops the run.

Addresses: LAN 192.168.1.0/24 and fd12:3456:789a:1::/64 (ULA, a LAN prefix by default)
plus link-local; router 192.168.1.1 / fe80::1 with MAC 02:00:00:00:00:01; "internet"
198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32. Times start 2026-01-01T00:00:00Z.
Nothing is random: the output is byte-identical on every run.
"""

import argparse
import json
import os
import struct
import subprocess
import sys

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import mac2str

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapgen import (  # noqa: E402
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_RAW,
    SLL_BROADCAST,
    SLL_HOST,
    SLL_OUTGOING,
    US,
    Capture,
    Ep,
    Tcp,
    udp,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNTING = os.path.join(HERE, "expected_accounting.py")

R_MAC = "02:00:00:00:00:01"
BCAST = "ff:ff:ff:ff:ff:ff"
ROUTER = Ep(R_MAC, "192.168.1.1")
ROUTER6 = Ep(R_MAC, "fe80::1")
ULA = "fd12:3456:789a:1::"
MS = 1000  # microseconds per millisecond


def mac(n):
    return "02:00:00:00:00:%02x" % n


def inet(ip):
    """A host beyond the router: its frames carry the router's MAC."""
    return Ep(R_MAC, ip)


def dns_query(qid, name, qtype="A"):
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def dns_answer(qid, name, qtype="A", rdata="198.51.100.80"):
    an = DNSRR(rrname=name, type=qtype, ttl=300, rdata=rdata) if qtype in ("A", "AAAA") else None
    return bytes(DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=an))


def dhcp(op, msg, client_mac, xid, yiaddr="0.0.0.0", ciaddr="0.0.0.0", opts=()):
    return BOOTP(op=op, xid=xid, chaddr=mac2str(client_mac) + b"\0" * 10, yiaddr=yiaddr, ciaddr=ciaddr,
                 flags=0x8000 if op == 1 and ciaddr == "0.0.0.0" else 0) / DHCP(
        options=[("message-type", msg), *opts, "end"])


def router_offer(cap, t, client_mac, yiaddr, xid=0x1000, msg="offer"):
    """DHCP OFFER/ACK from the router to the broadcast address: teaches the router MAC."""
    pkt = IP(src=ROUTER.ip, dst="255.255.255.255") / UDP(sport=67, dport=68) / dhcp(
        2, msg, client_mac, xid, yiaddr=yiaddr,
        opts=[("server_id", ROUTER.ip), ("lease_time", 43200), ("subnet_mask", "255.255.255.0"),
              ("router", ROUTER.ip), ("name_server", ROUTER.ip)])
    return cap.send_ip(t, R_MAC, BCAST, pkt)


def router_advert(cap, t):
    """ICMPv6 router advertisement: teaches the router MAC."""
    pkt = IPv6(src=ROUTER6.ip, dst="ff02::1", hlim=255) / ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(
        lladdr=R_MAC) / ICMPv6NDOptPrefixInfo(prefix=ULA, prefixlen=64)
    return cap.send_ip(t, R_MAC, "33:33:00:00:00:01", pkt)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --------------------------------------------------------------------------------------
# Cases. Each builds a Capture and returns (capture, checks) where checks(expected_json)
# asserts the hand-known facts.


def case_vlan_qinq():
    cap = Capture()
    a, b, c = Ep(mac(0x10), "192.168.1.10"), Ep(mac(0x20), "192.168.1.20"), Ep(mac(0x30), "192.168.1.30")
    router_offer(cap, 0, a.mac, a.ip)
    q1 = [(0x8100, 10)]
    qinq = [(0x88A8, 100), (0x8100, 20)]
    q88 = [(0x8100, 201), (0x8100, 200)]
    web = inet("198.51.100.10")
    # 802.1Q client: HTTPS.
    s = Tcp(cap, a, 50001, web, 443, tags=q1)
    tx_a = s.syn(1 * MS)
    rx_a = s.synack(21 * MS)
    tx_a += s.ack(22 * MS, "c") + s.data(23 * MS, "c", b"\x16\x03\x01" + b"\0" * 300)
    rx_a += s.data(45 * MS, "s", b"\x16\x03\x03" + b"\0" * 1400)
    # QinQ 88a8/8100 client: DNS to the router, then HTTP.
    tx_b = cap.send(100 * MS, b, ROUTER, udp(40000, 53, dns_query(1, "example.com")), tags=qinq)
    rx_b = cap.send(110 * MS, ROUTER, b, udp(53, 40000, dns_answer(1, "example.com")), tags=qinq)
    h = Tcp(cap, b, 50002, inet("203.0.113.5"), 80, tags=qinq)
    http_tx = h.syn(200 * MS) + h.ack(222 * MS, "c")
    http_rx = h.synack(220 * MS)
    http_tx += h.data(300 * MS, "c", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    http_rx += h.data(330 * MS, "s", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    # Double 8100/8100 client: ICMP echo.
    ping = inet("203.0.113.9")
    tx_c = cap.send(400 * MS, c, ping, ICMP(type=8, id=7, seq=1) / Raw(b"x" * 56), tags=q88)
    rx_c = cap.send(420 * MS, ping, c, ICMP(type=0, id=7, seq=1) / Raw(b"x" * 56), tags=q88)

    def checks(e):
        cl = e["clients"]
        check(set(cl) == {a.mac, b.mac, c.mac}, "three tagged clients, keyed by MAC")
        pa = cl[a.mac]["protocols"]["HTTPS"]
        check((pa["tx_bytes"], pa["rx_bytes"]) == (tx_a, rx_a), "802.1Q client HTTPS bytes")
        pb = cl[b.mac]["protocols"]
        check((pb["DNS"]["tx_bytes"], pb["DNS"]["rx_bytes"]) == (tx_b, rx_b), "QinQ DNS bytes")
        check((pb["HTTP"]["tx_bytes"], pb["HTTP"]["rx_bytes"]) == (http_tx, http_rx), "QinQ HTTP bytes")
        check(pb["HTTP"]["tx_packets"] == 3 and pb["HTTP"]["connections"] == 1, "QinQ HTTP packets")
        check(cl[c.mac]["protocols"]["ICMP"] == {"tx_bytes": tx_c, "rx_bytes": rx_c, "tx_packets": 1,
                                                  "rx_packets": 1, "connections": 1}, "8100/8100 ICMP")
        check(cl[b.mac]["dns_queries"] == {"A": 1}, "QinQ DNS query counted")

    return cap, checks


def case_ipv6_ext_headers():
    cap = Capture()
    a = Ep(mac(0x10), ULA + "10")
    srv = inet("2001:db8::443")
    router_advert(cap, 0)
    sums = {}

    def put(t, src, dst, l4, ext, name):
        pkt = IPv6(src=src.ip, dst=dst.ip) / ext / l4 if ext is not None else IPv6(src=src.ip, dst=dst.ip) / l4
        n = cap.send_ip(t, src.mac, dst.mac, pkt)
        key = (name, "tx" if src is a else "rx")
        sums[key] = sums.get(key, 0) + n

    hbh = IPv6ExtHdrHopByHop()
    rt = IPv6ExtHdrRouting(addresses=[], segleft=0)
    dst_opt = IPv6ExtHdrDestOpt()
    put(10 * MS, a, srv, TCP(sport=50010, dport=443, flags="S", seq=1), hbh, "HTTPS")
    put(30 * MS, srv, a, TCP(sport=443, dport=50010, flags="SA", seq=9, ack=2), None, "HTTPS")
    put(40 * MS, a, inet("2001:db8::53"), UDP(sport=40001, dport=53) / Raw(dns_query(2, "example.org", "AAAA")),
        dst_opt, "DNS")
    put(50 * MS, a, inet("2001:db8::80"), TCP(sport=50011, dport=80, flags="S", seq=1), rt, "HTTP")
    put(60 * MS, a, srv, UDP(sport=40002, dport=443) / Raw(b"\xc0" + b"\0" * 1199),
        IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=[], segleft=0) / IPv6ExtHdrDestOpt(),
        "QUIC")
    put(70 * MS, a, srv, ICMPv6EchoRequest(id=1, seq=1, data=b"p" * 32), IPv6ExtHdrDestOpt(), "IPv6-ICMP")
    put(80 * MS, srv, a, ICMPv6EchoReply(id=1, seq=1, data=b"p" * 32), None, "IPv6-ICMP")
    # The DNS answer comes back in 3 fragments (Fragment extension header); only the
    # first carries the UDP header, the others follow it by fragment identification.
    big = IPv6(src="2001:db8::53", dst=a.ip) / IPv6ExtHdrFragment(id=0xABCD) / UDP(sport=53, dport=40001) / Raw(
        dns_answer(2, "example.org", "AAAA", "2001:db8::1") + b"F" * 2500)
    frags6 = fragment6(big, 1280)
    check(len(frags6) == 3, "3 IPv6 fragments")
    for i, f in enumerate(frags6):
        n = cap.send_ip((90 + i) * MS, R_MAC, a.mac, f)
        sums[("DNS", "rx")] = sums.get(("DNS", "rx"), 0) + n
    # A later IPv6 fragment whose first one is missing: UDP without ports, so "other".
    lost = fragment6(IPv6(src="2001:db8::99", dst=a.ip) / IPv6ExtHdrFragment(id=0x5555) / UDP(
        sport=9, dport=9) / Raw(b"L" * 2000), 1280)
    sums[("other", "rx")] = cap.send_ip(95 * MS, R_MAC, a.mac, lost[1])

    def checks(e):
        p = e["clients"][a.mac]["protocols"]
        for (name, d), n in sums.items():
            check(p[name][d + "_bytes"] == n, f"{name} {d} bytes behind extension headers")
        check(set(p) == {"HTTPS", "DNS", "HTTP", "QUIC", "IPv6-ICMP", "other"}, "protocols behind ext headers")
        check(p["DNS"]["rx_packets"] == 3 and p["DNS"]["connections"] == 1, "IPv6 fragments follow the first")
        check(p["other"]["connections"] == 0, "an orphan IPv6 fragment opens nothing")
        check(e["clients"][a.mac]["dns_queries"] == {"AAAA": 1}, "DNS behind a dest-options header")

    return cap, checks


def case_ipv4_fragments():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    router_offer(cap, 0, a.mac, a.ip)
    res = inet("198.51.100.53")
    # A DNS query, answered by a large response in 4 fragments.
    q = cap.send(10 * MS, a, res, udp(41000, 53, dns_query(3, "big.example", "TXT")))
    big = IP(src=res.ip, dst=a.ip, id=0x1111) / UDP(sport=53, dport=41000) / Raw(
        dns_answer(3, "big.example", "TXT") + b"T" * 4000)
    frags = fragment(big, fragsize=1200)
    check(len(frags) == 4, "4 fragments")
    rx_dns = sum(cap.send_ip((20 + i) * MS, R_MAC, a.mac, f) for i, f in enumerate(frags))
    # An upload over UDP (WireGuard) in 2 fragments.
    wg = IP(src=a.ip, dst="203.0.113.20", id=0x2222) / UDP(sport=51820, dport=51820) / Raw(b"W" * 2000)
    wgf = fragment(wg, fragsize=1480)
    check(len(wgf) == 2, "2 fragments")
    tx_wg = sum(cap.send_ip((40 + i) * MS, a.mac, R_MAC, f) for i, f in enumerate(wgf))
    # A TCP segment in 3 fragments (HTTPS), the first one carrying the TCP header.
    tcp = IP(src=a.ip, dst="203.0.113.30", id=0x3333) / TCP(sport=50020, dport=443, flags="PA", seq=1, ack=1) / Raw(
        b"S" * 3000)
    tf = fragment(tcp, fragsize=1080)
    check(len(tf) == 3, "3 fragments")
    tx_tls = sum(cap.send_ip((60 + i) * MS, a.mac, R_MAC, f) for i, f in enumerate(tf))
    # A later fragment whose first fragment never came: proto UDP, so "other".
    lost = fragment(IP(src="198.51.100.99", dst=a.ip, id=0x4444) / UDP(sport=9999, dport=40000) / Raw(b"L" * 1600),
                    fragsize=1000)
    rx_other = cap.send_ip(80 * MS, R_MAC, a.mac, lost[1])

    def checks(e):
        p = e["clients"][a.mac]["protocols"]
        check(p["DNS"]["rx_bytes"] == rx_dns and p["DNS"]["rx_packets"] == 4, "4 DNS fragments, all DNS")
        check(p["DNS"]["tx_bytes"] == q and p["DNS"]["connections"] == 1, "fragments open no connection")
        check(p["WireGuard"]["tx_bytes"] == tx_wg and p["WireGuard"]["connections"] == 1, "UDP fragments")
        check(p["HTTPS"]["tx_bytes"] == tx_tls and p["HTTPS"]["tx_packets"] == 3, "TCP fragments")
        check(p["other"] == {"rx_bytes": rx_other, "rx_packets": 1, "tx_bytes": 0, "tx_packets": 0,
                             "connections": 0}, "orphan later fragment is other, opens nothing")

    return cap, checks


def case_snaplen_truncated():
    # snaplen 72: every frame below is longer, and every one keeps its IP and TCP/UDP
    # ports, and the DNS questions fit, so only the byte count depends on the IP length.
    cap = Capture(snaplen=72)
    a = Ep(mac(0x10), "192.168.1.10")
    b6 = Ep(mac(0x20), ULA + "20")
    router_offer(cap, 0, a.mac, a.ip)
    # DNS (EDNS0 OPT record makes the query longer than the snaplen).
    from scapy.layers.dns import DNSRROPT
    qd = bytes(DNS(id=5, rd=1, qd=DNSQR(qname="ex.com", qtype="A"), ar=DNSRROPT(rclass=1232)))
    dns = cap.send(10 * MS, a, ROUTER, udp(42000, 53, qd))
    dns += cap.send(20 * MS, ROUTER, a, udp(53, 42000, dns_answer(5, "ex.com")))
    # HTTPS over IPv4: every segment but SYN/SYN-ACK carries data.
    web = inet("198.51.100.10")
    s = Tcp(cap, a, 50030, web, 443)
    https = s.syn(30 * MS) + s.synack(50 * MS)
    https += s.data(51 * MS, "c", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x11" * 500)
    for i in range(6):
        https += s.data((70 + i) * MS, "s", b"\x17\x03\x03" + b"\x22" * 1445)
        https += s.data((71 + i) * MS, "c", b"\x17\x03\x03\x00\x13" + b"\x33" * 19)
    # HTTPS over IPv6 (even a bare ACK is 86 bytes).
    s6 = Tcp(cap, b6, 50031, inet("2001:db8::443"), 443)
    https6 = s6.handshake(100 * MS) + s6.data(130 * MS, "s", b"\x17\x03\x03" + b"\x44" * 1400)
    https6 += s6.ack(131 * MS, "c")

    for data in cap.records:
        check(len(data[1]) > 72, "every frame longer than the snaplen")

    def checks(e):
        pa = e["clients"][a.mac]["protocols"]
        check(pa["HTTPS"]["tx_bytes"] + pa["HTTPS"]["rx_bytes"] == https, "HTTPS counts full IP lengths")
        check(pa["DNS"]["tx_bytes"] + pa["DNS"]["rx_bytes"] == dns, "DNS counts full IP lengths")
        check(e["clients"][a.mac]["dns_queries"] == {"A": 1}, "truncated DNS query still counted")
        pb = e["clients"][b6.mac]["protocols"]["HTTPS"]
        check(pb["tx_bytes"] + pb["rx_bytes"] == https6, "IPv6 HTTPS full lengths")

    return cap, checks


def case_lan_and_broadcast():
    cap = Capture()
    a, b, d = Ep(mac(0x10), "192.168.1.10"), Ep(mac(0x20), "192.168.1.20"), Ep(mac(0x40), "0.0.0.0")
    lan_tx_a = lan_rx_a = lan_tx_b = lan_rx_b = 0
    # ARP who-has and reply (not IP).
    cap.add_frame(0, Ether(src=a.mac, dst=BCAST) / ARP(op=1, hwsrc=a.mac, psrc=a.ip, pdst=b.ip))
    cap.add_frame(1 * MS, Ether(src=b.mac, dst=a.mac) / ARP(op=2, hwsrc=b.mac, psrc=b.ip, hwdst=a.mac, pdst=a.ip))
    # Client to client unicast: SMB (LAN traffic has no protocol).
    s = Tcp(cap, a, 50040, b, 445)
    n = s.syn(10 * MS)
    lan_tx_a += n
    lan_rx_b += n
    n = s.synack(11 * MS)
    lan_tx_b += n
    lan_rx_a += n
    n = s.data(12 * MS, "c", b"\0\0\0\x40" + b"\xfeSMB" + b"\0" * 60)
    lan_tx_a += n
    lan_rx_b += n
    # Broadcasts and multicasts: LAN tx for the sender only.
    lan_tx_a += cap.send(20 * MS, a, Ep(BCAST, "255.255.255.255"), udp(6667, 6667, b"hello"))
    lan_tx_b += cap.send(21 * MS, b, Ep(BCAST, "192.168.1.255"), udp(138, 138, b"\x11" * 80))
    lan_tx_a += cap.send(22 * MS, a, Ep("01:00:5e:00:00:fb", "224.0.0.251"),
                         udp(5353, 5353, dns_query(0, "_googlecast._tcp.local", "PTR")))
    lan_tx_b += cap.send(23 * MS, b, Ep("01:00:5e:7f:ff:fa", "239.255.255.250"),
                         udp(50000, 1900, b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n"))
    a6 = Ep(a.mac, "fe80::10")
    lan_tx_a += cap.send(24 * MS, a6, Ep("33:33:00:00:00:fb", "ff02::fb"),
                         udp(5353, 5353, dns_query(0, "_airplay._tcp.local", "PTR")))
    # A new device: DHCP DISCOVER from 0.0.0.0 and DAD from :: (LAN tx for its MAC).
    disc = IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / dhcp(
        1, "discover", d.mac, 0x4242, opts=[("hostname", b"new-device")])
    lan_tx_d = cap.send_ip(30 * MS, d.mac, BCAST, disc)
    dad = IPv6(src="::", dst="ff02::1:ff00:40") / ICMPv6ND_NS(tgt="fe80::40")
    lan_tx_d += cap.send_ip(31 * MS, d.mac, "33:33:ff:00:00:40", dad)
    # The router answers: from now on it is known; its broadcast is nobody's traffic.
    router_offer(cap, 40 * MS, d.mac, "192.168.1.40", xid=0x4242)

    def checks(e):
        cl = e["clients"]
        check(set(cl) == {a.mac, b.mac, d.mac}, "clients are the three MACs")
        check(cl[a.mac]["lan"] == {"tx_bytes": lan_tx_a, "rx_bytes": lan_rx_a, "tx_packets": 5,
                                   "rx_packets": 1}, "client A LAN counts")
        check(cl[b.mac]["lan"]["tx_bytes"] == lan_tx_b and cl[b.mac]["lan"]["rx_bytes"] == lan_rx_b, "B LAN")
        check(cl[d.mac]["lan"]["tx_bytes"] == lan_tx_d and cl[d.mac]["ipv4"] == [], "DHCP DISCOVER is LAN tx")
        check(all(c["protocols"] == {} for c in cl.values()), "LAN traffic has no protocol")
        check(e["outcomes"]["not_ip"] == 2 and e["outcomes"]["no_client"] == 1, "ARP not_ip, offer no_client")
        check(cl[a.mac]["dns_queries"] == {}, "mDNS is not a DNS query")

    return cap, checks


def case_router_own_traffic():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    up = "02:00:00:00:00:fe"  # the ISP's gateway, seen as the router's upstream peer
    # Before the router is known, DNS to it is LAN traffic and the router is a client.
    pre = cap.send(0, a, ROUTER, udp(43000, 53, dns_query(7, "early.example")))
    pre += cap.send(5 * MS, ROUTER, a, udp(53, 43000, dns_answer(7, "early.example")))
    # DHCP ACK from the router: it becomes the router, its client entry is dropped.
    router_offer(cap, 10 * MS, a.mac, a.ip, msg="ack")
    # Client to router: bandwidth (DNS).
    dns = cap.send(20 * MS, a, ROUTER, udp(43001, 53, dns_query(8, "later.example", "AAAA")))
    dns += cap.send(25 * MS, ROUTER, a, udp(53, 43001, dns_answer(8, "later.example", "AAAA", "2001:db8::1")))
    # Router to client: a ping from the router (rx for the client).
    icmp_rx = cap.send(30 * MS, ROUTER, a, ICMP(type=8, id=9, seq=1) / Raw(b"r" * 32))
    icmp_tx = cap.send(31 * MS, a, ROUTER, ICMP(type=0, id=9, seq=1) / Raw(b"r" * 32))
    # Router's own internet traffic: nobody's.
    wan = Ep(R_MAC, "203.0.113.1")
    ntp = Ep(up, "198.51.100.123")
    cap.send(40 * MS, wan, ntp, udp(123, 123, b"\x23" + b"\0" * 47))
    cap.send(60 * MS, ntp, Ep(R_MAC, wan.ip), udp(123, 123, b"\x24" + b"\0" * 47))
    cap.send(70 * MS, ROUTER, Ep(up, "198.51.100.124"), udp(40000, 443, b"\xc0" + b"\0" * 100))

    def checks(e):
        cl = e["clients"]
        check(set(cl) == {a.mac}, "the router never stays a client")
        check(set(e["router_macs"]) == {R_MAC, up}, "router and its upstream peer learned")
        c = cl[a.mac]
        check(c["lan"]["tx_bytes"] + c["lan"]["rx_bytes"] == pre, "traffic before learning was LAN")
        check(c["protocols"]["DNS"]["tx_bytes"] + c["protocols"]["DNS"]["rx_bytes"] == dns, "DNS to router")
        check((c["protocols"]["ICMP"]["rx_bytes"], c["protocols"]["ICMP"]["tx_bytes"]) == (icmp_rx, icmp_tx),
              "router's ping is the client's rx")
        check(c["dns_queries"] == {"A": 1, "AAAA": 1}, "both DNS queries counted")
        check(e["outcomes"]["no_client"] == 4, "DHCP ACK broadcast and router's WAN traffic")

    return cap, checks


def case_tcp_midstream_rst():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    router_offer(cap, 0, a.mac, a.ip)
    # (1) captured mid-stream: ACK/data only, never closed: 1 connection, still active.
    m = Tcp(cap, a, 50050, inet("198.51.100.10"), 443, isn_c=700000, isn_s=900000)
    for i in range(3):
        m.data((10 + i * 10) * MS, "s", b"\x17\x03\x03" + b"m" * 1400)
        m.ack((15 + i * 10) * MS, "c")
    # (2) a full SYN ... FIN/FIN flow (HTTP), ended.
    web = inet("198.51.100.11")
    f = Tcp(cap, a, 50051, web, 80)
    f.handshake(100 * MS)
    f.data(130 * MS, "c", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    f.data(150 * MS, "s", b"HTTP/1.1 204 No Content\r\n\r\n")
    f.fin(160 * MS, "c")
    f.fin(170 * MS, "s")
    f.ack(171 * MS, "c")  # the last ACK lingers with the ended flow, opens nothing
    # (3) a flow closed by RST (SSH); a late segment within 120 s opens nothing.
    r = Tcp(cap, a, 50052, inet("203.0.113.22"), 22)
    r.handshake(200 * MS)
    r.data(230 * MS, "c", b"SSH-2.0-OpenSSH_9.6\r\n")
    r.rst(240 * MS, "s")
    r.data(30 * US, "c", b"\0" * 16)
    # (4) the HTTP ports reused after the close with a new SYN: a second connection.
    f2 = Tcp(cap, a, 50051, web, 80, isn_c=77000, isn_s=88000)
    f2.handshake(60 * US)
    f2.data(61 * US, "c", b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
    # (5) a flow idle for more than 7440 s, and one idle 121 s after a FIN: each reopens.
    i = Tcp(cap, a, 50053, inet("198.51.100.12"), 993)
    i.handshake(70 * US)  # last segment at 70.0201 s
    i.data(7512 * US, "c", b"a1 NOOP\r\n")
    g = Tcp(cap, a, 50054, inet("198.51.100.13"), 8080)
    g.handshake(80 * US)
    g.fin(81 * US, "c")
    g.data(81 * US + 120 * US + 1, "s", b"late")
    # The mid-stream flow (1) keeps going; its ACK at 7520 s is the last frame.
    m.ack(3600 * US, "c")
    m.ack(7520 * US, "c")

    def checks(e):
        p = e["clients"][a.mac]["protocols"]
        check(p["HTTPS"]["connections"] == 1, "mid-stream flow counted once")
        check(p["HTTP"]["connections"] == 2, "new SYN on closed ports opens a second connection")
        check(p["SSH"]["connections"] == 1, "RST flow: one connection, late segment lingers")
        check(p["IMAP"]["connections"] == 2, "idle > 7440 s reopens")
        check(p["HTTP-alt"]["connections"] == 2, "idle > 120 s after FIN reopens")
        # Active at 7520 s: HTTPS (1), IMAP's second flow (7512 s), HTTP-alt's second
        # (201 s, 7319 s idle). The second HTTP flow (last packet 61 s) has idled out.
        check(e["clients"][a.mac]["connections_active"] == 3, "active flows at the last frame")

    return cap, checks


def case_udp_idle_expiry():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    router_offer(cap, 0, a.mac, a.ip)
    stun = inet("198.51.100.20")
    # One-way UDP: 60 s exactly keeps the flow, 61 s more than 60 reopens it.
    cap.send(1 * US, a, stun, udp(45000, 3478, b"\0\x01\0\0" + b"\x21\x12\xa4\x42" + b"s" * 12))
    cap.send(61 * US, a, stun, udp(45000, 3478, b"\0\x01\0\0" + b"\x21\x12\xa4\x42" + b"s" * 12))
    cap.send(122 * US, a, stun, udp(45000, 3478, b"\0\x01\0\0" + b"\x21\x12\xa4\x42" + b"s" * 12))
    # Replied UDP: 179 s pause keeps it, 181 s pause reopens.
    wg = inet("203.0.113.21")
    cap.send(1 * US, a, wg, udp(51820, 51820, b"\x01" + b"\0" * 147))
    cap.send(1 * US + 30 * MS, wg, a, udp(51820, 51820, b"\x02" + b"\0" * 91))
    cap.send(180 * US, a, wg, udp(51820, 51820, b"\x04" + b"\0" * 31))
    cap.send(361 * US + 1, a, wg, udp(51820, 51820, b"\x04" + b"\0" * 31))
    # ICMP echo: 29 s keeps it, 31 s reopens.
    p = inet("203.0.113.9")
    for t in (400, 429, 460):
        cap.send(t * US, a, p, ICMP(type=8, id=3, seq=t) / Raw(b"i" * 56))
        cap.send(t * US + 10 * MS, p, a, ICMP(type=0, id=3, seq=t) / Raw(b"i" * 56))
    # A last unrelated frame at 470 s: STUN (122 s + 60 < 470) has expired, the
    # WireGuard flow (361 s, one-way since reopening: 60 s) too, ICMP (460 s) is active.
    cap.add_frame(470 * US, Ether(src=a.mac, dst=BCAST) / ARP(op=1, hwsrc=a.mac, psrc=a.ip, pdst=ROUTER.ip))

    def checks(e):
        c = e["clients"][a.mac]
        check(c["protocols"]["STUN"]["connections"] == 2, "one-way UDP: 60 s keeps, 61 s reopens")
        check(c["protocols"]["WireGuard"]["connections"] == 2, "replied UDP: 179 s keeps, 181 s reopens")
        check(c["protocols"]["ICMP"]["connections"] == 2, "ICMP: 29 s keeps, 31 s reopens")
        check(c["connections_active"] == 1, "only the ICMP flow is active at the last frame")

    return cap, checks


def case_dns_tcp_split():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    router_offer(cap, 0, a.mac, a.ip)

    def framed(msg):
        return struct.pack("!H", len(msg)) + msg

    s = Tcp(cap, a, 53000, ROUTER, 53)
    s.handshake(10 * MS)
    # Two queries in one segment.
    s.data(40 * MS, "c", framed(dns_query(0x10, "one.example", "A")) + framed(dns_query(0x11, "two.example", "AAAA")))
    s.data(50 * MS, "s", framed(dns_answer(0x10, "one.example")) + framed(
        dns_answer(0x11, "two.example", "AAAA", "2001:db8::2")))
    # One query split across three segments.
    q = framed(dns_query(0x12, "three.example", "HTTPS"))
    s.data(60 * MS, "c", q[:5])
    s.data(61 * MS, "c", q[5:20])
    s.data(62 * MS, "c", q[20:])
    s.data(70 * MS, "s", framed(dns_answer(0x12, "three.example", "HTTPS")))
    s.fin(80 * MS, "c")
    s.fin(81 * MS, "s")
    s.ack(82 * MS, "c")
    # UDP queries of a common and an unknown type.
    cap.send(90 * MS, a, ROUTER, udp(43100, 53, dns_query(0x13, "10.1.168.192.in-addr.arpa", "PTR")))
    cap.send(91 * MS, a, ROUTER, udp(43101, 53, dns_query(0x14, "odd.example", 65280)))

    def checks(e):
        c = e["clients"][a.mac]
        check(c["dns_queries"] == {"A": 1, "AAAA": 1, "HTTPS": 1, "PTR": 1, "TYPE65280": 1},
              "each DNS message counted once under its first question's type")
        check(c["protocols"]["DNS"]["connections"] == 3, "one TCP connection, two UDP flows")
        check(c["connections_active"] == 2, "TCP ended by FIN both ways; UDP flows alive")

    return cap, checks


def case_multi_address_client():
    cap = Capture()
    c = mac(0x50)
    router_advert(cap, 0)
    router_offer(cap, 1 * MS, c, "192.168.1.50", msg="ack")
    v4a, v4b = Ep(c, "192.168.1.50"), Ep(c, "192.168.1.51")
    ll = Ep(c, "fe80::50")
    privs = [Ep(c, "fd12:3456:789a:1:" + x) for x in ("1c2d:3e4f:5a6b:7c8d", "2d3e:4f5a:6b7c:8d9e", "3e4f:5a6b:7c8d:9eaf")]
    web = inet("198.51.100.10")
    web6 = inet("2001:db8::443")
    total = 0
    total += cap.send(10 * MS, v4a, web, TCP(sport=50060, dport=443, flags="S", seq=1))
    total += cap.send(30 * MS, web, v4a, TCP(sport=443, dport=50060, flags="SA", seq=1, ack=2))
    lan = cap.send(40 * MS, ll, Ep("33:33:00:00:00:fb", "ff02::fb"), udp(5353, 5353, dns_query(0, "x.local", "PTR")))
    for i, p in enumerate(privs):
        total += cap.send((50 + i) * MS, p, web6, TCP(sport=50070 + i, dport=443, flags="S", seq=1))
        total += cap.send((60 + i) * MS, web6, p, TCP(sport=443, dport=50070 + i, flags="SA", seq=1, ack=2))
    # DHCP renewal: REQUEST from the old address, ACK with a new one.
    total += cap.send(100 * MS, v4a, ROUTER, UDP(sport=68, dport=67) / dhcp(1, "request", c, 0x5050, ciaddr=v4a.ip))
    router_offer(cap, 101 * MS, c, v4b.ip, xid=0x5050, msg="ack")
    total += cap.send(110 * MS, v4b, web, TCP(sport=50080, dport=443, flags="S", seq=1))

    def checks(e):
        check(list(e["clients"]) == [c], "one client for all of its addresses")
        cl = e["clients"][c]
        check(cl["ipv4"] == ["192.168.1.50", "192.168.1.51"], "both IPv4 addresses")
        check(sorted(cl["ipv6"]) == sorted([p.ip for p in privs] + ["fe80::50"]), "privacy + link-local")
        check(sum(v["tx_bytes"] + v["rx_bytes"] for v in cl["protocols"].values()) == total, "bandwidth sum")
        check(cl["lan"]["tx_bytes"] == lan, "mDNS from link-local is LAN")
        check(cl["protocols"]["DHCP"]["tx_packets"] == 1, "unicast DHCP renewal to the router")

    return cap, checks


def case_sll_cooked():
    cap = Capture(linktype=LINKTYPE_LINUX_SLL)
    a = Ep(mac(0x10), "192.168.1.10")
    b = Ep(mac(0x20), "192.168.1.20")
    # The router's own DHCP ACK, captured as outgoing on the router.
    pkt = IP(src=ROUTER.ip, dst="255.255.255.255") / UDP(sport=67, dport=68) / dhcp(
        2, "ack", a.mac, 0x10, yiaddr=a.ip, opts=[("server_id", ROUTER.ip)])
    cap.send_ip(0, R_MAC, None, pkt, sll_type=SLL_OUTGOING)
    # Client ARP (teaches the neighbour table a.ip -> a.mac).
    arp = bytes(ARP(op=1, hwsrc=a.mac, psrc=a.ip, pdst=b.ip))
    cap.add_frame(1 * MS, cap.link(a.mac, None, 0x0806, arp, sll_type=SLL_BROADCAST))
    arp = bytes(ARP(op=2, hwsrc=b.mac, psrc=b.ip, hwdst=a.mac, pdst=a.ip))
    cap.add_frame(2 * MS, cap.link(b.mac, None, 0x0806, arp, sll_type=SLL_HOST))
    # HTTPS: client -> internet (sender a), internet -> client (sender: the router).
    web = inet("198.51.100.10")
    s = Tcp(cap, a, 50090, web, 443)
    up = s.syn(10 * MS)
    down = s.synack(30 * MS)
    up += s.ack(31 * MS, "c")
    down += s.data(50 * MS, "s", b"\x17\x03\x03" + b"d" * 1400)
    # DNS to the router: the receiver has no MAC in SLL; its IP was never sent with a
    # non-router MAC, so ... see checks.
    dns_q = cap.send(60 * MS, a, ROUTER, udp(44000, 53, dns_query(0x20, "sll.example")))
    dns_r = cap.send(61 * MS, ROUTER, a, udp(53, 44000, dns_answer(0x20, "sll.example")))
    # Client to client: b's MAC comes from the neighbour table (ARP reply).
    lan = cap.send(70 * MS, a, b, udp(5000, 5000, b"ping"))

    def checks(e):
        cl = e["clients"]
        check(a.mac in cl and b.mac in cl, "MAC-less receivers resolved through the neighbour table")
        pa = cl[a.mac]["protocols"]
        check((pa["HTTPS"]["tx_bytes"], pa["HTTPS"]["rx_bytes"]) == (up, down), "HTTPS both ways")
        check(cl[b.mac]["lan"]["rx_bytes"] == lan and cl[a.mac]["lan"]["tx_bytes"] == lan, "LAN via ARP")
        check(R_MAC in e["router_macs"], "router learned from its DHCP ACK")
        check(pa["DNS"]["rx_bytes"] == dns_r, "DNS answer from the router is rx")
        check(pa["DNS"]["tx_bytes"] == dns_q, "DNS to the router's IP (resolved to the router) is tx")

    return cap, checks


def case_raw_ip():
    cap = Capture(linktype=LINKTYPE_RAW)
    a = Ep(None, "192.168.1.60")
    a6 = Ep(None, ULA + "60")
    web = Ep(None, "198.51.100.30")
    r = Ep(None, "192.168.1.1")
    s = Tcp(cap, a, 50100, web, 443)
    https = s.handshake(0) + s.data(30 * MS, "s", b"\x17\x03\x03" + b"r" * 1200)
    dns = cap.send(40 * MS, a, r, udp(44100, 53, dns_query(0x30, "raw.example")))
    dns += cap.send(41 * MS, r, a, udp(53, 44100, dns_answer(0x30, "raw.example")))
    v6 = cap.send(50 * MS, a6, Ep(None, "2001:db8::53"), udp(44101, 53, dns_query(0x31, "raw6.example", "AAAA")))

    def checks(e):
        cl = e["clients"]
        check(set(cl) == {"192.168.1.60", ULA + "60", "192.168.1.1"}, "raw IP clients keyed by IP")
        check(cl["192.168.1.60"]["protocols"]["HTTPS"]["tx_bytes"] + cl["192.168.1.60"]["protocols"]["HTTPS"][
            "rx_bytes"] == https, "HTTPS bytes")
        check(cl["192.168.1.60"]["lan"]["tx_bytes"] + cl["192.168.1.60"]["lan"]["rx_bytes"] == dns,
              "without MACs the router's LAN address is just another LAN host")
        check(cl[ULA + "60"]["protocols"]["DNS"]["tx_bytes"] == v6, "IPv6 DNS")
        check(e["router_macs"] == [], "nothing to learn routers from")

    return cap, checks


def case_dhcp_renewal():
    cap = Capture()
    c = mac(0x60)
    old, new = Ep(c, "192.168.1.60"), Ep(c, "192.168.1.61")
    ident = [("hostname", b"renewing-laptop"), ("vendor_class_id", b"dhcpcd-9.4.1:Linux-6.1.0:x86_64:GenuineIntel"),
             ("param_req_list", [1, 121, 3, 6, 15, 119, 252])]
    bcast = Ep(BCAST, "255.255.255.255")
    unspec = Ep(c, "0.0.0.0")

    def client(t, src, dst, msg, xid, **kw):
        return cap.send(t, src, dst, UDP(sport=68, dport=67) / dhcp(1, msg, c, xid, **kw))

    # The first lease: DISCOVER, OFFER, REQUEST, ACK for .60.
    lan = client(0, unspec, bcast, "discover", 0x6001, opts=ident)
    router_offer(cap, 1 * MS, c, old.ip, xid=0x6001)
    lan += client(2 * MS, unspec, bcast, "request", 0x6001,
                  opts=[("requested_addr", old.ip), ("server_id", ROUTER.ip), *ident])
    router_offer(cap, 3 * MS, c, old.ip, xid=0x6001, msg="ack")
    web = inet("198.51.100.10")
    https = Tcp(cap, old, 50600, web, 443).handshake(10 * MS)
    # Renewal at T1: unicast REQUEST from .60; the server has moved the pool and
    # refuses it (NAK); the client starts over and is given .61.
    dhcp_tx = client(60 * US, old, ROUTER, "request", 0x6002, ciaddr=old.ip, opts=ident)
    nak = IP(src=ROUTER.ip, dst="255.255.255.255") / UDP(sport=67, dport=68) / dhcp(
        2, "nak", c, 0x6002, opts=[("server_id", ROUTER.ip)])
    cap.send_ip(60 * US + 1 * MS, R_MAC, BCAST, nak)
    lan += client(60 * US + 2 * MS, unspec, bcast, "discover", 0x6003, opts=ident)
    router_offer(cap, 60 * US + 3 * MS, c, new.ip, xid=0x6003)
    lan += client(60 * US + 4 * MS, unspec, bcast, "request", 0x6003,
                  opts=[("requested_addr", new.ip), ("server_id", ROUTER.ip), *ident])
    router_offer(cap, 60 * US + 5 * MS, c, new.ip, xid=0x6003, msg="ack")
    https += Tcp(cap, new, 50601, web, 443).handshake(61 * US)

    def checks(e):
        cl = e["clients"]
        check(list(cl) == [c], "one client across the renewal")
        check(cl[c]["ipv4"] == [old.ip, new.ip], "old and new address fold into the client")
        p = cl[c]["protocols"]
        check(p["HTTPS"]["tx_bytes"] + p["HTTPS"]["rx_bytes"] == https and p["HTTPS"]["connections"] == 2,
              "HTTPS before and after the renewal")
        check(p["DHCP"]["tx_bytes"] == dhcp_tx and p["DHCP"]["tx_packets"] == 1, "unicast renewal to the router")
        check(cl[c]["lan"]["tx_bytes"] == lan and cl[c]["lan"]["tx_packets"] == 4, "broadcast DHCP is LAN")

    return cap, checks


# --------------------------------------------------------------------------------------
# DNS cases. Messages that scapy would not write (pointers, loops, over-long names) are
# put together byte by byte here.


def wire_name(name):
    """A name's uncompressed wire form (labels, then the root label)."""
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def ptr(offset):
    """A compression pointer to `offset` in the message."""
    return struct.pack("!H", 0xC000 | offset)


def dns_header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QUERY_FLAGS = 0x0100  # RD
RESPONSE_FLAGS = 0x8180  # QR, RD, RA; rcode in the low 4 bits


def rr(name_wire, rtype, rdata, ttl=300):
    return name_wire + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def a_rdata(ip):
    return bytes(int(x) for x in ip.split("."))


def case_dns_compression_and_names():
    cap = Capture()
    a = Ep(mac(0x10), "192.168.1.10")
    router_offer(cap, 0, a.mac, a.ip)
    facts = {"queries": {}, "responses": {}}

    def exchange(t, qid, question, qtype, response, rcode_name, port):
        """A query with a literal question and the hand-built response to it."""
        query = dns_header(qid, QUERY_FLAGS) + question + struct.pack("!HH", qtype, 1)
        cap.send(t, a, ROUTER, udp(port, 53, query))
        if response is not None:
            cap.send(t + 7 * MS, ROUTER, a, udp(53, port, response))
            facts["responses"][rcode_name] = facts["responses"].get(rcode_name, 0) + 1
        return query

    # (1) A pointer chain: answer 1 is www.chain.example CNAME edge.<ptr chain.example>,
    # answer 2 is <ptr to answer 1's target> CNAME cdn.<ptr to answer 1's target>,
    # answer 3 is <ptr to answer 2's target> A: reading its name takes three jumps.
    q = wire_name("www.chain.example")
    body = dns_header(0x0101, RESPONSE_FLAGS, an=3) + q + struct.pack("!HH", 1, 1)
    target1 = len(body) + 2 + 10  # after answer 1's owner pointer and fixed fields
    rdata1 = b"\x04edge" + ptr(12 + 4)  # edge + "chain.example" inside the question
    body += rr(ptr(12), 5, rdata1)
    target2 = len(body) + 2 + 10
    body += rr(ptr(target1), 5, b"\x03cdn" + ptr(target1))
    body += rr(ptr(target2), 1, a_rdata("198.51.100.71"))
    exchange(10 * MS, 0x0101, q, 1, body, "NOERROR", 41001)

    # (2) Compression loops: the owner name of answer 1 points at itself; answer 2's
    # owner is a label followed by a pointer back to that label. Both A records.
    q = wire_name("loop.example")
    body = dns_header(0x0102, RESPONSE_FLAGS, an=2) + q + struct.pack("!HH", 1, 1)
    body += rr(ptr(len(body)), 1, a_rdata("198.51.100.72"))
    here = len(body)
    body += rr(b"\x04loop" + ptr(here), 1, a_rdata("198.51.100.73"))
    exchange(20 * MS, 0x0102, q, 1, body, "NOERROR", 41002)

    # (3) A forward pointer: answer 1's owner points at answer 2's owner name, which
    # comes later in the message.
    q = wire_name("fwd.example")
    body = dns_header(0x0103, RESPONSE_FLAGS, an=2) + q + struct.pack("!HH", 1, 1)
    first_len = 2 + 10 + 4
    body += rr(ptr(len(body) + first_len), 1, a_rdata("198.51.100.74"))
    body += rr(wire_name("fwd.example"), 1, a_rdata("198.51.100.75"))
    exchange(30 * MS, 0x0103, q, 1, body, "NOERROR", 41003)

    # (4) A name of exactly 255 octets on the wire (the longest there is, RFC 1035
    # 2.3.4): three 63-byte labels and one of 61, plus the root label. Answered REFUSED.
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    q = wire_name(longest)
    check(len(q) == 255, "255-octet name")
    body = dns_header(0x0104, RESPONSE_FLAGS | 5) + q + struct.pack("!HH", 1, 1)
    exchange(40 * MS, 0x0104, q, 1, body, "REFUSED", 41004)

    # (5) One octet more: 256 on the wire, not a valid name. Answered FORMERR.
    too_long = ".".join(["a" * 63, "b" * 63, "c" * 63, "e" * 62])
    q = wire_name(too_long)
    check(len(q) == 256, "256-octet name")
    body = dns_header(0x0105, RESPONSE_FLAGS | 1) + q + struct.pack("!HH", 28, 1)
    exchange(50 * MS, 0x0105, q, 28, body, "FORMERR", 41005)

    # (6) A query whose question is a pointer loop: it has a type, but no name.
    loop_q = dns_header(0x0106, QUERY_FLAGS) + ptr(12) + struct.pack("!HH", 16, 1)
    cap.send(60 * MS, a, ROUTER, udp(41006, 53, loop_q))

    # Flows to three answered addresses: each is named after its response's question,
    # however the owner names of the records were compressed.
    named = {}
    for i, (ip, name) in enumerate([("198.51.100.71", "www.chain.example"), ("198.51.100.73", "loop.example"),
                                    ("198.51.100.74", "fwd.example")]):
        h = Tcp(cap, a, 50200 + i, inet(ip), 80)
        tx = h.syn((100 + 50 * i) * MS) + h.ack((100 + 50 * i) * MS + 20100, "c")
        rx = h.synack((100 + 50 * i) * MS + 20000)
        get = b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n"
        tx += h.data((101 + 50 * i) * MS + 20000, "c", get)
        rx += h.data((102 + 50 * i) * MS + 20000, "s", b"HTTP/1.1 204 No Content\r\n\r\n")
        named[name] = {"rx_bytes": rx, "tx_bytes": tx, "connections": 1}

    def checks(e):
        c = e["clients"][a.mac]
        check(c["dns_responses"] == facts["responses"], "one response per message, by header rcode")
        check(c["dns_queries"] == {"A": 4, "AAAA": 1, "TXT": 1},
              "every query counts under its type, whatever its name")
        check(c["unique_domains"] == 4, "names: chain, loop, fwd and the 255-octet one; "
              "the 256-octet name and the looping question are no names")
        check(c["domain_bytes"] == named, "flows named after the question behind their address")

    return cap, checks


def tls_ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello(sni=None):
    """A TLS 1.2-style ClientHello record, with a server_name extension if `sni`."""
    exts = b""
    if sni is not None:
        names = struct.pack("!BH", 0, len(sni)) + sni.encode()
        exts += tls_ext(0x0000, struct.pack("!H", len(names)) + names)
    exts += tls_ext(0x000A, b"\x00\x04\x00\x1d\x00\x17")  # supported_groups
    exts += tls_ext(0x000D, b"\x00\x04\x04\x03\x08\x04")  # signature_algorithms
    suites = b"\x13\x01\xc0\x2b\xc0\x2f"
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def tls_session(cap, client, cport, server, t, sni, down=3000, port=443):
    """Handshake, ClientHello, a server flight and some data, FIN both ways. Returns
    (tx, rx, tx before the ClientHello, rx before the ClientHello) in IP bytes."""
    s = Tcp(cap, client, cport, server, port)
    tx0 = s.syn(t) + s.ack(t + 20100, "c")
    rx0 = s.synack(t + 20000)
    tx = tx0 + s.data(t + 21000, "c", client_hello(sni))
    rx = rx0
    for i in range(0, down, 1400):
        rx += s.data(t + 40000 + i, "s", b"\x17\x03\x03" + b"\x5a" * min(1400, down - i))
    tx += s.ack(t + 45000, "c")
    tx += s.fin(t + 50000, "c")
    rx += s.fin(t + 70000, "s")
    tx += s.ack(t + 70100, "c")
    return tx, rx, tx0, rx0


def case_dns_nxdomain_cname():
    from scapy.layers.dns import DNSRRSOA
    cap = Capture()
    a, a6, a_ll = Ep(mac(0x10), "192.168.1.10"), Ep(mac(0x10), ULA + "10"), Ep(mac(0x10), "fe80::10")
    b = Ep(mac(0x20), "192.168.1.20")
    router_advert(cap, 0)
    router_offer(cap, 1 * MS, a.mac, a.ip)
    soa = DNSRRSOA(rrname="example", ttl=900, mname="ns.example", rname="hostmaster.example",
                   serial=2026010101, refresh=7200, retry=3600, expire=1209600, minimum=300)

    def response(qid, name, qtype, rcode=0, an=None, ns=None):
        return bytes(DNS(id=qid, qr=1, rd=1, ra=1, rcode=rcode, qd=DNSQR(qname=name, qtype=qtype),
                         an=an, ns=ns))

    # NXDOMAIN (with the zone's SOA, as resolvers send it) over IPv4 and over IPv6
    # link-local, and a SERVFAIL.
    cap.send(10 * MS, a, ROUTER, udp(42001, 53, dns_query(0x201, "nope.example")))
    cap.send(14 * MS, ROUTER, a, udp(53, 42001, response(0x201, "nope.example", "A", 3, ns=soa)))
    cap.send(20 * MS, a_ll, ROUTER6, udp(42002, 53, dns_query(0x202, "gone.example", "AAAA")))
    cap.send(26 * MS, ROUTER6, a_ll, udp(53, 42002, response(0x202, "gone.example", "AAAA", 3, ns=soa)))
    cap.send(30 * MS, a, ROUTER, udp(42003, 53, dns_query(0x203, "broken.example")))
    cap.send(45 * MS, ROUTER, a, udp(53, 42003, response(0x203, "broken.example", "A", 2)))

    # A CNAME chain www.shop.example -> shop.cdn.example -> edge.cdnprovider.net -> A/AAAA.
    def chain(last):
        return (DNSRR(rrname="www.shop.example", type="CNAME", ttl=300, rdata="shop.cdn.example")
                / DNSRR(rrname="shop.cdn.example", type="CNAME", ttl=60, rdata="edge.cdnprovider.net") / last)

    cap.send(50 * MS, a, ROUTER, udp(42004, 53, dns_query(0x204, "www.shop.example")))
    cap.send(58 * MS, ROUTER, a, udp(53, 42004, response(0x204, "www.shop.example", "A", an=chain(
        DNSRR(rrname="edge.cdnprovider.net", type="A", ttl=20, rdata="198.51.100.90")))))
    cap.send(51 * MS, a, ROUTER, udp(42005, 53, dns_query(0x205, "www.shop.example", "AAAA")))
    cap.send(61 * MS, ROUTER, a, udp(53, 42005, response(0x205, "www.shop.example", "AAAA", an=chain(
        DNSRR(rrname="edge.cdnprovider.net", type="AAAA", ttl=20, rdata="2001:db8::90")))))

    # HTTPS to the chain's addresses: with the queried name as SNI (IPv4), without SNI
    # (IPv6: the DNS answer alone names it), and with another SNI, which renames the
    # flow from the ClientHello on.
    web, web6 = inet("198.51.100.90"), inet("2001:db8::90")
    tx1, rx1, _, _ = tls_session(cap, a, 50301, web, 100 * MS, "www.shop.example")
    tx2, rx2, _, _ = tls_session(cap, a6, 50302, web6, 200 * MS, None)
    tx3, rx3, tx3_before, rx3_before = tls_session(cap, a, 50303, web, 300 * MS, "API.Shop.Example.")

    # Client b: a query retransmitted after 1 s, answered once (the latency runs from
    # the first copy); a query to a public resolver; two queries in one TCP segment
    # answered in one segment (NXDOMAIN and NOERROR).
    cap.send(500 * MS, b, ROUTER, udp(43001, 53, dns_query(0x301, "www.shop.example")))
    cap.send(1500 * MS, b, ROUTER, udp(43001, 53, dns_query(0x301, "www.shop.example")))
    cap.send(1510 * MS, ROUTER, b, udp(53, 43001, response(0x301, "www.shop.example", "A", an=chain(
        DNSRR(rrname="edge.cdnprovider.net", type="A", ttl=20, rdata="198.51.100.90")))))
    cap.send(1600 * MS, b, inet("9.9.9.9"), udp(43002, 53, dns_query(0x302, "bypass.example")))
    cap.send(1620 * MS, inet("9.9.9.9"), b, udp(53, 43002, response(0x302, "bypass.example", "A", an=DNSRR(
        rrname="bypass.example", type="A", ttl=60, rdata="203.0.113.77"))))

    def framed(msg):
        return struct.pack("!H", len(msg)) + msg

    s = Tcp(cap, b, 53100, ROUTER, 53)
    s.handshake(1700 * MS)
    s.data(1730 * MS, "c",
           framed(dns_query(0x303, "tcp-nx.example")) + framed(dns_query(0x304, "tcp.example")))
    s.data(1740 * MS, "s", framed(response(0x303, "tcp-nx.example", "A", 3, ns=soa)) + framed(
        response(0x304, "tcp.example", "A", an=DNSRR(rrname="tcp.example", type="A", rdata="203.0.113.78"))))
    s.fin(1750 * MS, "c")
    s.fin(1751 * MS, "s")
    s.ack(1752 * MS, "c")

    # Client b also goes around the router's resolver over TLS: DNS over TLS to
    # 9.9.9.9:853, DNS over HTTPS to 1.1.1.1 (no server name) and to an address behind
    # the name dns.google.
    tls_session(cap, b, 53201, inet("9.9.9.9"), 2000 * MS, "dns.quad9.net", down=1400, port=853)
    tls_session(cap, b, 53202, inet("1.1.1.1"), 2100 * MS, None, down=1400)
    tls_session(cap, b, 53203, inet("203.0.113.53"), 2200 * MS, "dns.google", down=1400)

    def checks(e):
        ca, cb = e["clients"][a.mac], e["clients"][b.mac]
        check(ca["dns_responses"] == {"NXDOMAIN": 2, "SERVFAIL": 1, "NOERROR": 2}, "a's rcodes")
        check(ca["unique_domains"] == 4, "nope, gone, broken, www.shop")
        check(ca["tls_server_names"] == ["api.shop.example", "www.shop.example"], "SNI lower-cased, no dot")
        check(ca["domain_bytes"] == {
            "www.shop.example": {"tx_bytes": tx1 + tx2 + tx3_before, "rx_bytes": rx1 + rx2 + rx3_before,
                                 "connections": 3},
            "api.shop.example": {"tx_bytes": tx3 - tx3_before, "rx_bytes": rx3 - rx3_before,
                                 "connections": 1},
        }, "connections to the end of a CNAME chain count to the queried name")
        check(cb["dns_responses"] == {"NOERROR": 3, "NXDOMAIN": 1}, "b's rcodes, two in one TCP segment")
        check(cb["dns_queries"] == {"A": 5}, "the retransmitted query counts twice (two messages)")
        check(cb["dns_latency"] == {"count": 4, "sum_ns": (1010 + 20 + 10 + 10) * 1_000_000},
              "latency from the first copy of the retransmitted query")
        check(cb["dns_bypass_other_resolver"] == 1, "one query to 9.9.9.9")
        check(cb["tls_server_names"] == ["dns.google", "dns.quad9.net"], "b's server names")

    return cap, checks


FLOOD_NAMES = 1200  # distinct names from the flooding client: more than lanwatch's default 1024


def case_dns_random_subdomain_flood():
    import hashlib
    cap = Capture()
    flooder = Ep(mac(0x66), "192.168.1.66")
    n1, n2 = Ep(mac(0x10), "192.168.1.10"), Ep(mac(0x20), "192.168.1.20")
    router_offer(cap, 0, flooder.mac, flooder.ip)
    # The flood: one query a millisecond, each for a new pseudo-random label under one
    # domain (the labels are hashes of the counter, so the file never changes), from a
    # few source ports; the resolver answers none of them.
    for i in range(FLOOD_NAMES):
        label = hashlib.sha1(str(i).encode()).hexdigest()[:8]
        cap.send((10 + i) * MS, flooder, ROUTER,
                 udp(40000 + i % 16, 53, dns_query(i & 0xFFFF, label + ".flood.example")))
    # Meanwhile two clients resolve and get answers, before, during and after the flood.
    normal = {n1.mac: 0, n2.mac: 0}
    names = ["www.example.com", "mail.example.com", "cdn.example.net", "api.example.org"]
    for k, t in enumerate(range(0, 1400, 70)):
        who = n1 if k % 2 == 0 else n2
        name, qtype = names[k % len(names)], ("A", "AAAA", "HTTPS")[k % 3]
        port = 45000 + k
        cap.send(t * MS + 500, who, ROUTER, udp(port, 53, dns_query(0x4000 + k, name, qtype)))
        answer = {"A": "198.51.100.%d" % (10 + k), "AAAA": "2001:db8::%x" % (0x10 + k)}.get(qtype)
        reply = dns_answer(0x4000 + k, name, qtype, answer) if answer else dns_answer(0x4000 + k, name, qtype)
        cap.send(t * MS + 500 + (3 + k % 5) * MS, ROUTER, who, udp(53, port, reply))
        normal[who.mac] += 1
    # One query is waiting for its answer while the flood overflows lanwatch's table of
    # unanswered queries (1024 by default; the 1024th flood query leaves at 1033 ms).
    cap.send(1030 * MS, n1, ROUTER, udp(45999, 53, dns_query(0x4999, "slow.example.com")))
    cap.send(1040 * MS, ROUTER, n1, udp(53, 45999, dns_answer(0x4999, "slow.example.com")))
    normal[n1.mac] += 1

    def checks(e):
        f = e["clients"][flooder.mac]
        check(f["dns_queries"] == {"A": FLOOD_NAMES}, "every flood query counts")
        check(f["unique_domains"] == FLOOD_NAMES, "every flood name is distinct")
        for m, n in normal.items():
            c = e["clients"][m]
            check(sum(c["dns_queries"].values()) == n and c["dns_responses"] == {"NOERROR": n},
                  "the other clients' queries and responses")
            check(c["dns_latency"]["count"] == n, "every answer matched")

    return cap, checks


CASES = {
    "vlan_qinq": case_vlan_qinq,
    "ipv6_ext_headers": case_ipv6_ext_headers,
    "ipv4_fragments": case_ipv4_fragments,
    "snaplen_truncated": case_snaplen_truncated,
    "lan_and_broadcast": case_lan_and_broadcast,
    "router_own_traffic": case_router_own_traffic,
    "tcp_midstream_rst": case_tcp_midstream_rst,
    "udp_idle_expiry": case_udp_idle_expiry,
    "dns_tcp_split": case_dns_tcp_split,
    "multi_address_client": case_multi_address_client,
    "sll_cooked": case_sll_cooked,
    "raw_ip": case_raw_ip,
    "dhcp_renewal": case_dhcp_renewal,
    "dns_compression_and_names": case_dns_compression_and_names,
    "dns_nxdomain_cname": case_dns_nxdomain_cname,
    "dns_random_subdomain_flood": case_dns_random_subdomain_flood,
}


def sort_frames(cap):
    """Frames must be in time order in the file (stable for equal times)."""
    cap.records, cap.ip_bytes = map(list, zip(*sorted(zip(cap.records, cap.ip_bytes), key=lambda r: r[0][0])))


def expected_json(pcap):
    out = subprocess.run(["/usr/bin/python3", ACCOUNTING, pcap], stdout=subprocess.PIPE, check=True).stdout
    return out, json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "data", "generated"))
    ap.add_argument("cases", nargs="*", help="only these cases (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.cases or CASES:
        cap, checks = CASES[name]()
        sort_frames(cap)
        path = os.path.join(args.out, name + ".pcap")
        cap.write(path)
        raw, exp = expected_json(path)
        with open(os.path.join(args.out, name + ".expected.json"), "wb") as f:
            f.write(raw)
        try:
            checks(exp)
        except AssertionError as err:
            raise SystemExit(f"{name}: check failed: {err}")
        print(f"{name}: {len(cap.records)} frames, {os.path.getsize(path)} bytes, checks ok")


if __name__ == "__main__":
    main()
