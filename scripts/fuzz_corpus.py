#!/usr/bin/env python3
"""Seed the fuzz corpora from capture files.

    fuzz_corpus.py CAPTURES_DIR CORPUS_DIR

Reads every pcap/pcapng file under CAPTURES_DIR (a small reader of its own: no
dependencies) and writes, one file per seed, named by its SHA-1:

  CORPUS_DIR/decode_frame/      a link-type selector byte + the frame
  CORPUS_DIR/capture_file/      whole capture files up to 256 KiB
  CORPUS_DIR/dns/               UDP/TCP payloads of port 53 and 5353
  CORPUS_DIR/dhcp/              UDP payloads of ports 67/68 and 546/547
  CORPUS_DIR/tls_client_hello/  TCP payloads to port 443 that start a TLS record
  CORPUS_DIR/lease_file/        neighbour solicitations and advertisements, as
                                the lease_file target's NDP half reads them
                                (0x80, 0 or 1 for type 135 or 136, the body)

The corpora are generated at run time and never committed (fuzz/corpus is
git-ignored): the captures belong to other projects. The seeds of the file
parsers are committed under fuzz/seeds/ instead (see scripts/fuzz).
"""
import hashlib
import os
import struct
import sys

MAX_SEEDS = 3000
MAX_CAPTURE_FILE = 256 * 1024

# pcap link type -> the decode_frame target's selector (its LINK_TYPES order).
SELECTOR = {1: 0, 113: 1, 276: 2, 101: 3, 12: 3, 14: 3, 228: 3, 229: 3, 0: 4}


def frames(data):
    """Yields (linktype, frame bytes) of a pcap or pcapng file; stops at damage."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
        off = 24
        while off + 16 <= len(data):
            incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            off += 16
            if incl > 262144 or off + incl > len(data):
                return
            yield linktype, data[off:off + incl]
            off += incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        off = 0
        e = "<"
        links = []
        while off + 12 <= len(data):
            if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                return
            body = data[off + 8:off + blen - 4]
            if btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
                if iface < len(links):
                    yield links[iface], body[20:20 + caplen]
            elif btype == 3 and len(body) >= 4 and links:
                yield links[0], body[4:]
            off += blen


def transport_payload(linktype, frame):
    """(protocol, src port, dst port, payload) of an Ethernet/raw-IP frame, or None."""
    if linktype == 1:
        if len(frame) < 14:
            return None
        ethertype = struct.unpack(">H", frame[12:14])[0]
        off = 14
        while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            ethertype = struct.unpack(">H", frame[off + 2:off + 4])[0]
            off += 4
        ip = frame[off:]
    elif linktype in (101, 12, 14, 228, 229):
        ip = frame
        ethertype = 0x0800 if ip[:1] and ip[0] >> 4 == 4 else 0x86DD
    else:
        return None
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        if struct.unpack(">H", ip[6:8])[0] & 0x1FFF:
            return None
        proto, rest = ip[9], ip[ihl:]
    elif ethertype == 0x86DD and len(ip) >= 40:
        proto, rest = ip[6], ip[40:]
    else:
        return None
    if proto == 17 and len(rest) >= 8:
        sport, dport = struct.unpack(">HH", rest[:4])
        return "udp", sport, dport, rest[8:]
    if proto == 6 and len(rest) >= 20:
        sport, dport = struct.unpack(">HH", rest[:4])
        return "tcp", sport, dport, rest[(rest[12] >> 4) * 4:]
    if proto == 58 and len(rest) >= 4:
        # ICMPv6: the type and code stand in for the ports; the body
        # follows the checksum.
        return "icmpv6", rest[0], rest[1], rest[4:]
    return None


class Corpus:
    def __init__(self, root):
        self.root = root
        self.counts = {}

    def add(self, target, data):
        if not data or self.counts.get(target, 0) >= MAX_SEEDS:
            return
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    captures, root = sys.argv[1], sys.argv[2]
    corpus = Corpus(root)
    for dirpath, _, names in sorted(os.walk(captures)):
        for name in sorted(names):
            if not name.endswith((".pcap", ".pcapng", ".cap")):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            if len(data) <= MAX_CAPTURE_FILE:
                corpus.add("capture_file", data)
            for linktype, frame in frames(data):
                if linktype in SELECTOR:
                    corpus.add("decode_frame", bytes([SELECTOR[linktype]]) + frame)
                t = transport_payload(linktype, frame)
                if t is None:
                    continue
                proto, sport, dport, payload = t
                ports = {sport, dport} if proto != "icmpv6" else set()
                if ports & {53, 5353}:
                    corpus.add("dns", payload[2:] if proto == "tcp" else payload)
                if proto == "udp" and ports & {67, 68, 546, 547}:
                    corpus.add("dhcp", payload)
                if proto == "tcp" and dport == 443 and payload[:1] == b"\x16":
                    corpus.add("tls_client_hello", payload)
                if proto == "icmpv6" and sport in (135, 136):
                    corpus.add("lease_file", bytes([0x80, sport - 135]) + payload)
    for target, n in sorted(corpus.counts.items()):
        print(f"fuzz corpus: {n} new seeds for {target}")


if __name__ == "__main__":
    main()
