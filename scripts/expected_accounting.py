#!/usr/bin/python3
"""Independent per-client accounting of capture files, on top of tshark.

lanwatch's integration tests compare the daemon's `replay --format json` output with
the JSON this script prints. The two share nothing but the accounting rules of
DESIGN.md ("Accounting rules"): this script never looks at lanwatch's code, and it
lets tshark do all the packet parsing, so a parser bug in lanwatch shows up as a
difference instead of being copied into the expected numbers.

Usage:
    expected_accounting.py CAPTURE... [--lan CIDR]... [--router-mac MAC]...

Several captures are one stream, read in the order given (like `lanwatch replay F1 F2`):
router knowledge, the neighbour table, flows and fragments carry over from one file to
the next.

How tshark is run
-----------------
One `tshark -T fields` pass per file with IP and IPv6 reassembly switched off, so every
frame is one row and keeps its own IP header. TCP stream reassembly is left ON: it does
not merge rows (every segment keeps its own tcp.* and ip.* fields), it only makes tshark
show a DNS-over-TCP message in the frame that completes it. Without it a message split
over several segments is invisible and the following segments are misread as garbage
messages. Byte and packet accounting never look at reassembled data.

Where a frame holds several IP headers (IP-in-IP, GRE, an ICMP error quoting the packet
that caused it), tshark lists every value of ip.src, ip.len ... in tree order; the first
occurrence is the outermost header and is the one accounted. Transport fields (ports,
TCP flags, ICMP type) are only used when the outermost IP header's own protocol is
TCP/UDP/ICMP, so the ports quoted inside an ICMP error are never taken for the ICMP
packet's own. For IPv6 the transport protocol is found by walking the outermost header's
extension chain (Hop-by-Hop 0, Routing 43, Fragment 44, Destination Options 60) with
tshark's per-header "next header" fields.

Malformed frames
----------------
A frame is `malformed` (and is neither accounted nor learned from) when it carries IP
and one of these holds:
  * tshark raised a malformed-packet exception inside IPv4, IPv6 or an IPv6 extension
    header (`_ws.malformed` text "[Malformed Packet: IPv4...]" / "...: IPv6...]");
  * tshark could not read the outer header's addresses and length at all.
A frame that the snaplen cut inside IPv4 options or IPv6 extension headers (`_ws.short`
"[Packet size limited during capture: ...]") is not malformed: its fixed header's length
still says how many bytes were sent (DESIGN.md), so it is accounted; only a frame that
ends inside those headers although nothing was cut (tshark's malformed exception) is.
That frame's protocol is then unknown (the last next-header tshark could read).
  * the IPv4 header length is below 20 bytes, or the total length is below the header
    length (including a total length of 0);
  * the outer header's length (IPv4 total length, IPv6 40 + payload length) is more than
    the frame carried on the wire after its link-layer headers: frame.len (or the
    captured length, if a damaged record says less) minus the bytes of the layers
    tshark lists before it (LINK_HEADER_BYTES). A frame cut by the snaplen still counts
    its length as long as the wire carried it.
Malformed content above IP (a bad UDP length, a broken DNS message) is not malformed
for accounting: the IP header still says who sent how many bytes to whom.

Where the rules leave room, this script decides as follows
---------------------------------------------------------
  * A group destination (multicast/broadcast IP or a group-bit MAC) is never a client
    side, even an in-LAN address like 192.168.1.255 sent to ff:ff:ff:ff:ff:ff.
  * The IP->MAC neighbour table (used only for sides without a MAC: raw IP, the receiver
    of a Linux cooked frame) also records the router's LAN addresses; a side that
    resolves to a router MAC is the router, not a client. So in a cooked capture a DNS
    query to 192.168.1.1 is bandwidth to the router, not LAN traffic to an IP-keyed
    "client". ARP senders are learned only for unicast, specified LAN addresses.
  * An ended TCP flow lingers 120 s after its last packet (each packet in that time
    restarts the 120 s, like every other idle timeout).
  * A later fragment keeps its first fragment's flow alive (if it still is) and counts
    in the same direction; it never revives an expired flow.
  * A DNS query counts only if tshark could read its first question's type; a message
    without questions is not counted. Type names: tshark's mnemonic (255 is ANY),
    TYPE<n> for the rest.
  * Address lists are sorted numerically (IPv6 in compressed form).

DNS and TLS server names (rules 12-17)
--------------------------------------
tshark splits the messages; dns_messages() hands each message of a frame its share of
tshark's per-message, per-question and per-record fields. Only frames whose outer
protocol is TCP or UDP and that are not later fragments are looked at.
  12. dns_queries: a query message (QR=0) a client sends to port 53, by its first
      question's type (see above).
  13. dns_responses: a response message (QR=1) from port 53, not mDNS, that a client
      receives (the client is the destination side), one per message, under its 4-bit
      header rcode: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN,
      YXRRSET, NXRRSET, NOTAUTH, NOTZONE, else RCODE<n>.
      dns_latency: count and sum (nanoseconds) of tshark's dns.time over those responses.
      That is tshark's own matching (same conversation and id; a repeat of a query
      less than dns.retransmission_timer = 5 s after the first is a retransmission and
      the time runs from the first). tshark gives no dns.time to a response whose
      query it could not dissect to the end (cut by the snaplen), so this figure is
      only compared where that does not happen.
  14. mdns_queries: query messages (QR=0) on UDP port 5353 (either side) a client sends.
  15. dns_bypass_other_resolver: the rule-12 queries whose destination is a unicast
      address outside the LAN prefixes.
  16. unique_domains: distinct names among the rule-12 queries' first questions,
      lower-cased (ASCII), without the trailing dot, the root name and names tshark
      cannot read (shown as "<Root>", "<Name too long>", "<Name contains a pointer
      that loops>", ...) left out, last queried in the 24 h before the last frame.
      No capture used in the tests is anywhere near 24 h long, so the window never
      removes anything there.
  17. tls_server_names: the distinct server names (lower-cased, no trailing dot) of
      the ClientHellos a client sends over TCP on its bandwidth flows (to the router
      or beyond; LAN flows have no domain), as tshark dissects them with TCP
      reassembly (a ClientHello split over segments shows in the segment completing
      it). QUIC's ClientHellos are not counted (not TCP).
      domain_bytes: name -> bytes (rx/tx) and connections attributed to it. A new
      flow is named after the most recent A/AAAA answer (answer section) this client
      received for the remote address, under the response's first question's name
      (what the client asked for, whatever CNAME chain led to the address); a TLS
      server name renames the flow from its packet on. Each packet of a named flow,
      from the naming packet on, counts to the name; each naming counts one
      connection. Answers never expire here: the captures are short.

Everything else follows the numbered rules in the comments below.
"""

import argparse
import ipaddress
import json
import re
import subprocess
import sys
from collections import defaultdict

# --------------------------------------------------------------------------------------
# Rule 1: LAN prefixes (replay default: RFC 1918, RFC 6598, link-local, ULA, IPv6 LL).
DEFAULT_LAN = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
]

# Rule 9: protocol names. (ip protocol, port) for TCP/UDP ports; (ip protocol, None)
# for whole IP protocols. Lookup order: remote side's port, client's port, protocol
# number entry, else "other".
TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
PORT_TABLE = {
    (TCP, 80): "HTTP",
    (TCP, 443): "HTTPS",
    (UDP, 443): "QUIC",
    (TCP, 53): "DNS",
    (UDP, 53): "DNS",
    (TCP, 853): "DoT",
    (UDP, 853): "DoQ",
    (TCP, 22): "SSH",
    (UDP, 123): "NTP",
    (UDP, 67): "DHCP",
    (UDP, 68): "DHCP",
    (UDP, 546): "DHCPv6",
    (UDP, 547): "DHCPv6",
    (UDP, 5353): "mDNS",
    (UDP, 1900): "SSDP",
    (TCP, 21): "FTP",
    (TCP, 25): "SMTP",
    (TCP, 465): "SMTP",
    (TCP, 587): "SMTP",
    (TCP, 110): "POP3",
    (TCP, 995): "POP3",
    (TCP, 143): "IMAP",
    (TCP, 993): "IMAP",
    (TCP, 3389): "RDP",
    (TCP, 5222): "XMPP",
    (TCP, 1883): "MQTT",
    (TCP, 8883): "MQTT",
    (UDP, 3478): "STUN",
    (UDP, 19302): "STUN",
    (UDP, 51820): "WireGuard",
    (UDP, 1194): "OpenVPN",
    (UDP, 500): "IPsec",
    (UDP, 4500): "IPsec",
    (TCP, 8080): "HTTP-alt",
    (TCP, 445): "SMB",
    (UDP, 137): "NetBIOS",
    (UDP, 138): "NetBIOS",
    (UDP, 5355): "LLMNR",
}
PROTO_TABLE = {1: "ICMP", 58: "IPv6-ICMP", 47: "GRE", 50: "ESP", 2: "IGMP"}

# Rule 11: idle timeouts in seconds of packet time.
TCP_ESTABLISHED_TIMEOUT = 7440
TCP_CLOSING_TIMEOUT = 120  # after the first FIN, and the linger time of an ended flow
UDP_ONE_WAY_TIMEOUT = 60
UDP_REPLIED_TIMEOUT = 180
ICMP_TIMEOUT = 30
OTHER_TIMEOUT = 600

NS = 1_000_000_000

# Rule 14: mDNS is DNS on UDP port 5353 (either side), counted apart.
MDNS_PORT = 5353

# Rule 16: distinct names are counted over the 24 h before the last frame.
UNIQUE_WINDOW_NS = 24 * 3600 * NS

# Rule 13: the 4-bit header rcode's mnemonics (RFC 1035, RFC 2136); RCODE<n> otherwise.
RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
}

# Record types whose answers carry an address (rule 17): tshark's dns.a and dns.aaaa.
TYPE_A, TYPE_AAAA = 1, 28

# IPv6 extension headers that the chain walk steps over, with the tshark field that
# holds each one's "next header".
IPV6_EXT_NXT_FIELD = {
    0: "ipv6.hopopts.nxt",
    43: "ipv6.routing.nxt",
    44: "ipv6.fraghdr.nxt",
    60: "ipv6.dstopts.nxt",
}

FIELDS = [
    "frame.time_epoch",
    "frame.protocols",
    "frame.len",
    "frame.cap_len",
    "eth.src",
    "eth.dst",
    "sll.src.eth",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "ip.hdr_len",
    "ip.len",
    "ip.proto",
    "ip.id",
    "ip.frag_offset",
    "ip.flags.mf",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.plen",
    "ipv6.nxt",
    "ipv6.hopopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.dstopts.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "udp.srcport",
    "udp.dstport",
    "dhcp.type",
    "icmp.type",
    "icmpv6.type",
    "dns.flags.response",
    "dns.flags.rcode",
    "dns.count.queries",
    "dns.count.answers",
    "dns.count.auth_rr",
    "dns.count.add_rr",
    "dns.qry.type",
    "dns.qry.name",
    "dns.resp.type",
    "dns.a",
    "dns.aaaa",
    "dns.time",
    "tls.handshake.extensions_server_name",
    "_ws.malformed",
    "_ws.short",
]
# Multi-valued fields are joined by tshark with this character (not in any value we read).
AGG = "\x1e"

TSHARK_PREFS = [
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:TRUE",
]

# Bytes of each layer tshark may list before the outer IP header (frame.protocols).
# "ethertype" is tshark's pseudo-layer for the EtherType dispatch (no bytes of its own);
# a PPPoE session header is 6 bytes and PPP's protocol field 2.
LINK_HEADER_BYTES = {"eth": 14, "ethertype": 0, "vlan": 4, "ieee8021ad": 4, "pppoes": 6, "ppp": 2,
                     "sll": 16, "sll2": 20, "null": 4, "raw": 0}

MALFORMED_IP_RE = re.compile(r"\[(Malformed Packet|Packet size limited during capture): IPv[46]")


def tshark_rows(path):
    """Yields one dict per frame: field name -> list of values (outermost first)."""
    cmd = ["tshark", "-n", "-r", path, *TSHARK_PREFS, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for f in FIELDS:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"tshark failed on {path} (exit {proc.returncode})")
    for line in proc.stdout.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        yield {name: (col.split(AGG) if col else []) for name, col in zip(FIELDS, cols)}


def dns_type_names():
    """Query type number -> mnemonic, from tshark's own value table for dns.qry.type.

    tshark describes types as "AAAA (IPv6 Address)"; the mnemonic is the first word.
    255 is described as "* (...)" and becomes ANY; numbers without a mnemonic
    (0 "Unused") become TYPE<n>, like every number tshark does not know.
    """
    out = subprocess.run(["tshark", "-G", "values"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout.decode("utf-8", "replace")
    names = {}
    for line in out.split("\n"):
        parts = line.split("\t")
        if len(parts) >= 4 and parts[0] == "V" and parts[1] == "dns.qry.type":
            try:
                num = int(parts[2])
            except ValueError:
                continue
            word = parts[3].split(" ")[0]
            if num == 255:
                word = "ANY"
            if word and re.fullmatch(r"[A-Z][A-Z0-9-]*", word):
                names[num] = word
    return names


def first(row, name):
    vals = row[name]
    return vals[0] if vals else None


def to_int(s):
    if s is None or s == "":
        return None
    try:
        return int(s, 0)
    except ValueError:
        if s in ("True", "False"):
            return 1 if s == "True" else 0
        return None


def time_ns(s):
    sec, _, frac = s.partition(".")
    frac = (frac + "000000000")[:9]
    return int(sec) * NS + int(frac)


def rcode_name(code):
    return RCODE_NAMES.get(code, f"RCODE{code}")


# tshark shows a name it cannot read as a placeholder in angle brackets: "<Root>",
# "<Name too long>" (more than 255 octets on the wire), "<Name contains a pointer that
# loops>", ...
TSHARK_NAME_PLACEHOLDER = re.compile(r"<[A-Z][^.<>]*>")


def dns_name(text):
    """A name as tshark shows it -> lower-case (ASCII only), no trailing dot; None for
    no name, the root, or a name tshark could not read (a placeholder): no domain."""
    if not text or TSHARK_NAME_PLACEHOLDER.fullmatch(text):
        return None
    name = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text).rstrip(".")
    return name or None


def dns_messages(row):
    """Splits one frame's DNS fields into its messages (several when a TCP segment
    completes more than one), in order.

    tshark lists the header fields (QR, counts) once per message, rcode once per response,
    question fields once per question read, dns.resp.type once per resource record read
    (the answer section first), dns.a / dns.aaaa once per A / AAAA record, dns.time once
    per response it matched to a query. Each message takes its share of every list;
    a message cut short takes only what tshark could read.
    """
    out = []
    pos = defaultdict(int)

    def take(field, n):
        start = pos[field]
        vals = row[field][start:start + n]
        pos[field] = start + len(vals)
        return vals

    for i, qr_text in enumerate(row["dns.flags.response"]):
        qr = to_int(qr_text)

        def count(field):
            vals = row[field]
            return (to_int(vals[i]) or 0) if i < len(vals) else 0

        qd, an = count("dns.count.queries"), count("dns.count.answers")
        rr = an + count("dns.count.auth_rr") + count("dns.count.add_rr")
        qtypes = take("dns.qry.type", qd)
        qnames = take("dns.qry.name", qd)
        rtypes = [to_int(t) for t in take("dns.resp.type", rr)]
        a = take("dns.a", rtypes.count(TYPE_A))
        aaaa = take("dns.aaaa", rtypes.count(TYPE_AAAA))
        addresses = []
        for addr in a[:rtypes[:an].count(TYPE_A)] + aaaa[:rtypes[:an].count(TYPE_AAAA)]:
            try:
                addresses.append(ipaddress.ip_address(addr))
            except ValueError:
                pass
        rcode = None
        if qr == 1:
            rcode = to_int((take("dns.flags.rcode", 1) or [None])[0])
        out.append({
            "qr": qr,
            "qtype": to_int(qtypes[0]) if qtypes else None,
            "qname": qnames[0] if qnames else None,
            "rcode": rcode,
            "answer_addresses": addresses,
            "time_ns": None,
        })
    # dns.time is listed only for the responses tshark matched to a query, so a value's
    # position may not be its response's when a frame holds several responses. The
    # latency figures are a count and a sum per client, and every response of a frame
    # goes to the same client, so handing the values out in order gives the same sums.
    times = [time_ns(t) for t in row["dns.time"] if t]
    responses = [m for m in out if m["qr"] == 1]
    for m, t in zip(responses, times):
        m["time_ns"] = t
    return out


def is_group_mac(mac):
    return mac is not None and (int(mac[0:2], 16) & 1) == 1


def norm_mac(mac):
    return mac.lower() if mac else None


class Flow:
    __slots__ = ("proto", "last_ns", "dirs", "fin_client", "fin_remote", "ended", "name")

    def __init__(self, proto):
        self.proto = proto
        self.last_ns = 0
        self.dirs = set()
        self.fin_client = False
        self.fin_remote = False
        self.ended = False
        self.name = None  # rule 17: the domain the flow is attributed to

    def timeout_s(self):
        # Rule 11: one idle timeout per state; an ended TCP flow lingers like a closing one.
        if self.proto == TCP:
            if self.ended or self.fin_client or self.fin_remote:
                return TCP_CLOSING_TIMEOUT
            return TCP_ESTABLISHED_TIMEOUT
        if self.proto == UDP:
            return UDP_REPLIED_TIMEOUT if len(self.dirs) == 2 else UDP_ONE_WAY_TIMEOUT
        if self.proto in (ICMP, ICMPV6):
            return ICMP_TIMEOUT
        return OTHER_TIMEOUT

    def expired_at(self, now_ns):
        # "More than T seconds before the current packet": exactly T is still alive.
        return now_ns - self.last_ns > self.timeout_s() * NS


def new_counters():
    return {"rx_bytes": 0, "tx_bytes": 0, "rx_packets": 0, "tx_packets": 0}


class Client:
    def __init__(self):
        self.ipv4 = set()
        self.ipv6 = set()
        self.protocols = {}
        self.lan = new_counters()
        self.dns = defaultdict(int)  # rule 12: query type -> query messages sent
        self.responses = defaultdict(int)  # rule 13: rcode -> responses received
        self.latency_count = 0  # rule 13: responses with a tshark dns.time
        self.latency_sum_ns = 0
        self.mdns_queries = 0  # rule 14
        self.bypass_other_resolver = 0  # rule 15
        self.names_last_query = {}  # rule 16: name -> time of its last query
        self.answers = {}  # rule 17: address -> name of the last answer received for it
        self.server_names = set()  # rule 17: TLS server names sent
        self.domains = {}  # rule 17: name -> bytes and connections attributed to it

    def domain(self, name):
        if name not in self.domains:
            self.domains[name] = {"rx_bytes": 0, "tx_bytes": 0, "connections": 0}
        return self.domains[name]

    def proto(self, name):
        if name not in self.protocols:
            c = new_counters()
            c["connections"] = 0
            self.protocols[name] = c
        return self.protocols[name]


class Accounting:
    def __init__(self, lan, router_macs):
        self.lan = [ipaddress.ip_network(c, strict=False) for c in lan]
        self.routers = {norm_mac(m) for m in router_macs}
        self.neigh = {}  # ip (ipaddress object) -> mac
        self.clients = {}  # key -> Client
        self.flows = {}  # flow key -> Flow
        self.frags = {}  # (version, src, dst, proto, id) -> (protocol name, flow key)
        self.outcomes = {"accounted": 0, "lan": 0, "no_client": 0, "not_ip": 0, "malformed": 0}
        self.last_ns = None
        self.dns_names = dns_type_names()

    # ---- address predicates ----------------------------------------------------------
    def in_lan(self, ip):
        return any(ip.version == n.version and ip in n for n in self.lan)

    @staticmethod
    def is_unspecified(ip):
        return ip.is_unspecified

    @staticmethod
    def is_group_ip(ip):
        # Rule 3: multicast (224.0.0.0/4, ff00::/8) or the limited broadcast.
        return ip.is_multicast or (ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255"))

    def is_unicast(self, ip):
        return not self.is_group_ip(ip) and not ip.is_unspecified

    # ---- rule 2: router learning -------------------------------------------------------
    def make_router(self, mac):
        if mac is None or mac in self.routers:
            return
        self.routers.add(mac)
        # A client keyed by that MAC only ever had LAN counts: forget it.
        self.clients.pop(mac, None)

    def client(self, key):
        if key not in self.clients:
            self.clients[key] = Client()
        return self.clients[key]

    # ---- rule 4 / 6: is a side a client, and under which key ---------------------------
    def side_client(self, ip, mac, link_has_mac, is_src, dst_group):
        """Returns the client key of one side of an IP frame, or None."""
        if not is_src and dst_group:
            # A group destination is never a client (rule 5 "non-client to group").
            return None
        if is_src and ip.is_unspecified:
            # DHCP DISCOVER from 0.0.0.0, DAD from ::, by a non-router MAC.
            if link_has_mac and mac is not None and mac not in self.routers:
                return mac
            return None
        if not (self.in_lan(ip) and self.is_unicast(ip)):
            return None
        if link_has_mac:
            if mac is None or mac in self.routers:
                return None
            return mac
        # No MAC on the link for this side (raw IP; the receiver of a Linux cooked
        # frame): the neighbour table, else the IP itself.
        known = self.neigh.get(ip)
        if known is not None:
            if known in self.routers:
                # The neighbour table says this is the router's address: not a client.
                return None
            return known
        return str(ip)

    def learn_neighbour(self, ip, mac):
        # Router MACs are learned too: a MAC-less side whose address belongs to the
        # router must resolve to the router (and so not be a client), not fall back to
        # an IP-keyed client. DESIGN.md: the router's addresses never make a client.
        if ip is None or mac is None or is_group_mac(mac):
            return
        if self.in_lan(ip) and self.is_unicast(ip):
            self.neigh[ip] = mac

    # ---- rule 9 -----------------------------------------------------------------------
    @staticmethod
    def protocol_name(proto, client_port, remote_port):
        if proto in (TCP, UDP):
            for port in (remote_port, client_port):
                if port is not None and (proto, port) in PORT_TABLE:
                    return PORT_TABLE[(proto, port)]
        return PROTO_TABLE.get(proto, "other")

    # ---- one frame ----------------------------------------------------------------------
    def frame(self, row):
        now = time_ns(first(row, "frame.time_epoch"))
        self.last_ns = now
        layers = (first(row, "frame.protocols") or "").split(":")

        # Link MACs. Ethernet: both. Linux cooked: only the sender's. Else none.
        link = layers[0] if layers else ""
        src_mac = dst_mac = None
        src_has_mac = dst_has_mac = False
        if link == "eth":
            src_mac, dst_mac = norm_mac(first(row, "eth.src")), norm_mac(first(row, "eth.dst"))
            src_has_mac = src_mac is not None
            dst_has_mac = dst_mac is not None
        elif link in ("sll", "sll2"):
            src_mac = norm_mac(first(row, "sll.src.eth"))
            src_has_mac = src_mac is not None

        ip_layer = next((i for i, l in enumerate(layers) if l in ("ip", "ipv6")), None)
        if ip_layer is None:
            self.outcomes["not_ip"] += 1
            # Rule 6: ARP sender IP/MAC feeds the neighbour table.
            amac, aip = norm_mac(first(row, "arp.src.hw_mac")), first(row, "arp.src.proto_ipv4")
            if "arp" in layers and amac and aip:
                try:
                    self.learn_neighbour(ipaddress.ip_address(aip), amac)
                except ValueError:
                    pass
            return

        # The outer IP block: its own token plus, for IPv6, its extension headers. tshark
        # stops listing layers where an exception hit, so a malformed/short marker for
        # IPv4/IPv6 belongs to the outer header only when the layer list ends inside it
        # (an IPv6 packet tunnelled in IPv4 that is broken is the tunnel's payload).
        end = ip_layer + 1
        while layers[ip_layer] == "ipv6" and end < len(layers) and layers[end].startswith("ipv6."):
            end += 1
        outer_broken = len(layers) <= end and any(
            MALFORMED_IP_RE.search(v) for v in row["_ws.malformed"])
        pkt = self.parse_ip(row, layers[ip_layer])
        self.last_flow = None  # the bandwidth flow this frame belongs to, if any
        self.last_side = None  # (client key, direction) of that flow
        if pkt is None or outer_broken or self.beyond_wire(row, layers[:ip_layer], pkt[2]):
            self.outcomes["malformed"] += 1
            return
        (src, dst, length, proto, frag, sport, dport, tcp_flags, icmp_type) = pkt

        # Rule 2: learn routers from this frame before classifying it.
        # Only real server replies: UDP 67 -> 68 carrying a BOOTREPLY (op 2; a first
        # fragment too short to show it counts), and router advertisements from a
        # link-local address. A device sending from port 67 is not the router.
        dhcp_op = first(row, "dhcp.type")
        if (proto == UDP and sport == 67 and dport == 68 and frag != "later" and src_has_mac
                and dhcp_op in (None, "", "2")):
            self.make_router(src_mac)
        if (proto == ICMPV6 and icmp_type == 134 and src_has_mac
                and src.version == 6 and src.is_link_local):
            self.make_router(src_mac)
        # The L2 peer of a non-LAN address, in LAN <-> non-LAN traffic only: when both
        # ends are outside the LAN prefixes (a client's global IPv6 address that no
        # --lan names, a WAN capture) nothing is learned.
        if src_has_mac and self.is_unicast(src) and not self.in_lan(src) and self.in_lan(dst):
            self.make_router(src_mac)
        if (dst_has_mac and self.is_unicast(dst) and not self.in_lan(dst) and self.in_lan(src)
                and not is_group_mac(dst_mac)):
            self.make_router(dst_mac)

        # Rule 6: neighbour table from frames with a MAC.
        if src_has_mac:
            self.learn_neighbour(src, src_mac)
        if dst_has_mac:
            self.learn_neighbour(dst, dst_mac)

        # Rule 3 / 4: group destination and client sides.
        dst_group = self.is_group_ip(dst) or (dst_has_mac and is_group_mac(dst_mac))
        src_key = self.side_client(src, src_mac, src_has_mac, True, dst_group)
        dst_key = self.side_client(dst, dst_mac, dst_has_mac, False, dst_group)

        # Rule 5: classification.
        if src_key is not None and dst_key is not None:
            self.count_lan(src_key, src, "tx", length)
            self.count_lan(dst_key, dst, "rx", length)
            self.outcomes["lan"] += 1
        elif src_key is not None and dst_group:
            self.count_lan(src_key, src, "tx", length)
            self.outcomes["lan"] += 1
        elif src_key is not None:
            self.count_bandwidth(src_key, src, sport, dst, dport, "tx", proto, frag, pkt, now, tcp_flags, row)
            self.outcomes["accounted"] += 1
        elif dst_key is not None:
            self.count_bandwidth(dst_key, dst, dport, src, sport, "rx", proto, frag, pkt, now, tcp_flags, row)
            self.outcomes["accounted"] += 1
        else:
            self.outcomes["no_client"] += 1

        # Rules 12-16: DNS messages and TLS server names. A later fragment carries no
        # ports and no message start; it is never looked at.
        if proto in (TCP, UDP) and frag != "later":
            self.count_dns(src_key, dst_key, proto, sport, dport, dst, row, now)
        # Rule 17: a TLS server name names the client's bandwidth flow it was sent on;
        # then the packet's bytes count to its flow's name, if it has one.
        if (proto == TCP and frag != "later" and src_key is not None and dst_key is None
                and not dst_group):
            self.count_server_names(src_key, row)
        if self.last_flow is not None and self.last_flow.name is not None:
            key, direction = self.last_side
            self.client(key).domain(self.last_flow.name)[direction + "_bytes"] += length

    @staticmethod
    def beyond_wire(row, link_layers, length):
        """Whether an IP length claims more than the wire carried after the link layers.

        Link layers of unknown size are given the benefit of the doubt (never beyond).
        """
        if any(layer not in LINK_HEADER_BYTES for layer in link_layers):
            return False
        wire = max(to_int(first(row, "frame.len")) or 0, to_int(first(row, "frame.cap_len")) or 0)
        return length > wire - sum(LINK_HEADER_BYTES[layer] for layer in link_layers)

    def parse_ip(self, row, kind):
        """Outer IP header -> (src, dst, bytes, proto, frag, sport, dport, tcp_flags, icmp_type).

        frag is None (whole datagram), "first" or "later" (plus the fragment key in
        self.last_frag_key). Returns None when the header is malformed/incomplete.
        """
        self.last_frag_key = None
        try:
            if kind == "ip":
                src, dst = ipaddress.ip_address(first(row, "ip.src")), ipaddress.ip_address(first(row, "ip.dst"))
            else:
                src, dst = ipaddress.ip_address(first(row, "ipv6.src")), ipaddress.ip_address(first(row, "ipv6.dst"))
        except (ValueError, TypeError):
            return None
        frag = None
        if kind == "ip":
            hdr_len, total, proto = to_int(first(row, "ip.hdr_len")), to_int(first(row, "ip.len")), to_int(first(row, "ip.proto"))
            if hdr_len is None or total is None or proto is None or hdr_len < 20 or total < hdr_len:
                return None
            length = total  # Rule 8: IPv4 total length.
            offset, mf = to_int(first(row, "ip.frag_offset")) or 0, to_int(first(row, "ip.flags.mf")) or 0
            if offset > 0:
                frag = "later"
            elif mf:
                frag = "first"
            if frag:
                self.last_frag_key = (4, src, dst, proto, to_int(first(row, "ip.id")))
        else:
            plen = to_int(first(row, "ipv6.plen"))
            nxt = to_int(first(row, "ipv6.nxt"))
            if plen is None or nxt is None:
                return None
            length = 40 + plen  # Rule 8: IPv6 fixed header + payload length.
            proto = nxt
            used = defaultdict(int)
            while proto in IPV6_EXT_NXT_FIELD:
                field = IPV6_EXT_NXT_FIELD[proto]
                vals = row[field]
                idx = used[field]
                if idx >= len(vals):
                    break  # not dissected (e.g. after a later fragment): keep the ext number
                used[field] += 1
                if proto == 44:
                    fidx = used[field] - 1
                    offset = to_int(row["ipv6.fraghdr.offset"][fidx]) if fidx < len(row["ipv6.fraghdr.offset"]) else 0
                    more = to_int(row["ipv6.fraghdr.more"][fidx]) if fidx < len(row["ipv6.fraghdr.more"]) else 0
                    ident = to_int(row["ipv6.fraghdr.ident"][fidx]) if fidx < len(row["ipv6.fraghdr.ident"]) else None
                    if offset:
                        frag = "later"
                    elif more:
                        frag = "first"
                    if frag:
                        self.last_frag_key = (6, src, dst, to_int(vals[idx]), ident)
                    if frag == "later":
                        proto = to_int(vals[idx])
                        break
                proto = to_int(vals[idx])
        sport = dport = tcp_flags = icmp_type = None
        if frag != "later":
            if proto == TCP:
                sport, dport = to_int(first(row, "tcp.srcport")), to_int(first(row, "tcp.dstport"))
                tcp_flags = to_int(first(row, "tcp.flags"))
            elif proto == UDP:
                sport, dport = to_int(first(row, "udp.srcport")), to_int(first(row, "udp.dstport"))
            elif proto == ICMP:
                icmp_type = to_int(first(row, "icmp.type"))
            elif proto == ICMPV6:
                icmp_type = to_int(first(row, "icmpv6.type"))
        return (src, dst, length, proto, frag, sport, dport, tcp_flags, icmp_type)

    def count_lan(self, key, ip, direction, length):
        c = self.client(key)
        self.add_ip(c, ip)
        c.lan[direction + "_bytes"] += length
        c.lan[direction + "_packets"] += 1

    @staticmethod
    def add_ip(c, ip):
        # Rule 7: every address the client used, except the unspecified one.
        if ip.is_unspecified:
            return
        (c.ipv4 if ip.version == 4 else c.ipv6).add(ip)

    def count_bandwidth(self, key, cip, cport, rip, rport, direction, proto, frag, pkt, now, tcp_flags, row):
        c = self.client(key)
        self.add_ip(c, cip)
        ports = proto in (TCP, UDP)
        flow_key = (proto, key, cip, (cport or 0) if ports else 0, rip, (rport or 0) if ports else 0)

        if frag == "later":
            # Rule 10: a later fragment follows its first fragment; it never opens a flow.
            known = self.frags.get(self.last_frag_key)
            if known is not None:
                name, fkey = known
                flow = self.flows.get(fkey)
                if flow is not None and not flow.expired_at(now):
                    flow.last_ns = now
                    flow.dirs.add(direction)
                    self.last_flow, self.last_side = flow, (key, direction)
            else:
                name = PROTO_TABLE.get(proto, "other")
            self.add_bytes(c, name, direction, pkt[2])
            return

        name = self.protocol_name(proto, cport, rport)
        if frag == "first":
            self.frags[self.last_frag_key] = (name, flow_key)
        self.add_bytes(c, name, direction, pkt[2])

        # Rule 11: connections.
        flow = self.flows.get(flow_key)
        if flow is not None and flow.expired_at(now):
            flow = None
        flags = tcp_flags or 0
        syn, ack, fin, rst = flags & 0x02, flags & 0x10, flags & 0x01, flags & 0x04
        if flow is not None and proto == TCP and flow.ended and syn and not ack:
            flow = None  # a new SYN reuses the ports of an ended flow
        if flow is None:
            flow = Flow(proto)
            self.flows[flow_key] = flow
            c.proto(name)["connections"] += 1
            # Rule 17: a new flow is named after the most recent DNS answer this client
            # received for the remote address.
            flow.name = c.answers.get(rip)
            if flow.name is not None:
                c.domain(flow.name)["connections"] += 1
        self.last_flow, self.last_side = flow, (key, direction)
        flow.last_ns = now
        flow.dirs.add(direction)
        if proto == TCP:
            if rst:
                flow.ended = True
            if fin:
                if direction == "tx":
                    flow.fin_client = True
                else:
                    flow.fin_remote = True
                if flow.fin_client and flow.fin_remote:
                    flow.ended = True

    @staticmethod
    def add_bytes(c, name, direction, length):
        p = c.proto(name)
        p[direction + "_bytes"] += length
        p[direction + "_packets"] += 1

    def count_dns(self, src_key, dst_key, proto, sport, dport, dst, row, now):
        """Rules 12-16: the DNS messages of one TCP/UDP frame, each counted once."""
        mdns = proto == UDP and MDNS_PORT in (sport, dport)
        for msg in dns_messages(row):
            if msg["qr"] == 0 and dport == 53 and src_key in self.clients:
                # Rule 12: a query the client sends to port 53 counts under its first
                # question's type; one whose question tshark could not read does not.
                if msg["qtype"] is None:
                    continue
                c = self.clients[src_key]
                num = msg["qtype"]
                c.dns[self.dns_names.get(num, f"TYPE{num}")] += 1
                # Rule 15: a query to a unicast resolver outside the LAN prefixes goes
                # around the router's resolver.
                if self.is_unicast(dst) and not self.in_lan(dst):
                    c.bypass_other_resolver += 1
                # Rule 16: distinct names, by the first question's name.
                name = dns_name(msg["qname"])
                if name:
                    c.names_last_query[name] = now
            elif msg["qr"] == 1 and sport == 53 and not mdns and dst_key in self.clients:
                # Rule 13: a response the client receives, under its header rcode;
                # tshark's dns.time (this response's delay after the query it matched)
                # is the resolver latency.
                c = self.clients[dst_key]
                c.responses[rcode_name(msg["rcode"])] += 1
                if msg["time_ns"] is not None:
                    c.latency_count += 1
                    c.latency_sum_ns += msg["time_ns"]
                # Rule 17: the A/AAAA records of the answer section name their
                # addresses after the (first) question, whatever CNAME chain led there.
                name = dns_name(msg["qname"])
                if name:
                    for addr in msg["answer_addresses"]:
                        c.answers[addr] = name
            elif msg["qr"] == 0 and mdns and src_key in self.clients:
                # Rule 14: mDNS query messages the client sends, counted apart.
                self.clients[src_key].mdns_queries += 1

    def count_server_names(self, key, row):
        """Rule 17: SNI of a ClientHello the client sends on one of its bandwidth flows."""
        c = self.clients.get(key)
        if c is None:
            return
        for sni in row["tls.handshake.extensions_server_name"]:
            name = dns_name(sni)
            if not name:
                continue
            c.server_names.add(name)
            flow = self.last_flow
            if flow is not None and flow.name != name:
                # The name the client asked for overrides a DNS answer's, from this
                # packet on.
                flow.name = name
                c.domain(name)["connections"] += 1

    # ---- output ---------------------------------------------------------------------------
    def result(self):
        active = defaultdict(int)
        for fkey, flow in self.flows.items():
            if flow.ended or (self.last_ns is not None and flow.expired_at(self.last_ns)):
                continue
            active[fkey[1]] += 1
        clients = {}
        for key, c in self.clients.items():
            clients[key] = {
                "ipv4": [str(i) for i in sorted(c.ipv4)],
                "ipv6": [str(i) for i in sorted(c.ipv6)],
                "protocols": c.protocols,
                "lan": c.lan,
                "connections_active": active.get(key, 0),
                "dns_queries": dict(c.dns),
                "dns_responses": dict(c.responses),
                "dns_latency": {"count": c.latency_count, "sum_ns": c.latency_sum_ns},
                "mdns_queries": c.mdns_queries,
                "dns_bypass_other_resolver": c.bypass_other_resolver,
                # Rule 16: names queried in the 24 h before the last frame.
                "unique_domains": sum(1 for t in c.names_last_query.values()
                                      if self.last_ns - t <= UNIQUE_WINDOW_NS),
                "tls_server_names": sorted(c.server_names),
                "domain_bytes": c.domains,
            }
        return {
            "clients": clients,
            "router_macs": sorted(self.routers),
            "outcomes": self.outcomes,
        }


def run(captures, lan=None, router_macs=()):
    acc = Accounting(lan or DEFAULT_LAN, router_macs)
    for path in captures:
        for row in tshark_rows(path):
            acc.frame(row)
    return acc.result()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("captures", nargs="+", metavar="CAPTURE")
    ap.add_argument("--lan", action="append", metavar="CIDR", help="LAN prefix (repeatable)")
    ap.add_argument("--router-mac", action="append", default=[], metavar="MAC")
    args = ap.parse_args(argv)
    result = run(args.captures, args.lan, args.router_mac)
    json.dump(result, sys.stdout, sort_keys=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
