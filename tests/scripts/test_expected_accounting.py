"""Self-tests of scripts/expected_accounting.py, the generated captures and the sample.

    /usr/bin/python3 -m unittest discover tests/scripts

The accounting script is checked against numbers written by other tools (nDPI and Zeek
regression outputs in tests/captures, converted to IP-layer bytes), the generated
captures are rebuilt and must be byte-identical to the committed ones, their expected
JSON must still be what the script prints, and every case's hand-known facts must hold.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
CAPTURES = os.path.join(ROOT, "tests", "captures")
GENERATED = os.path.join(ROOT, "tests", "data", "generated")
SAMPLES = os.path.join(ROOT, "samples")
sys.path.insert(0, SCRIPTS)

import expected_accounting  # noqa: E402
import gen_captures  # noqa: E402


def real(path):
    """A real third-party capture or expected-result file under tests/captures."""
    return os.path.join(CAPTURES, path)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def frame_count(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    return len(out.split())


class AgainstOtherTools(unittest.TestCase):
    def test_443_git_matches_ndpi_flow_bytes_minus_ethernet_headers(self):
        # nDPI: "35 pkts/3167 bytes <-> 35 pkts/34022 bytes", frame bytes including the
        # 14-byte Ethernet header (no VLAN tags, no padding: the smallest frame is 54).
        out = read_text(real("ndpi/expected/443-git.pcap.out"))
        m = re.search(r"192\.168\.1\.13:\d+ <-> [\d.]+:443 .*?\[(\d+) pkts/(\d+) bytes <-> (\d+) pkts/(\d+) bytes\]", out)
        tx_pkts, tx_frame, rx_pkts, rx_frame = map(int, m.groups())
        res = expected_accounting.run([real("ndpi/443-git.pcap")])
        (client,) = res["clients"].values()
        self.assertEqual(client["ipv4"], ["192.168.1.13"])
        https = client["protocols"]["HTTPS"]
        self.assertEqual((https["tx_packets"], https["rx_packets"]), (tx_pkts, rx_pkts))
        self.assertEqual(https["tx_bytes"], tx_frame - 14 * tx_pkts)
        self.assertEqual(https["rx_bytes"], rx_frame - 14 * rx_pkts)
        self.assertEqual(https["connections"], 1)
        self.assertEqual(client["connections_active"], 0, "FIN + RST end the flow")

    def test_multi_interface_pcapng_matches_zeek_ip_bytes(self):
        # Zeek conn.log: orig_ip_bytes / resp_ip_bytes are IP-layer bytes per connection;
        # the originator is the LAN client here.
        log = read_text(real("zeek/expected/pcapng-multi-interface.pcapng.zeek.conn.log")).splitlines()
        header = [l for l in log if l.startswith("#fields")][0].split("\t")[1:]
        lines = [l.split("\t") for l in log if not l.startswith("#")]
        want = {}
        for row in lines:
            r = dict(zip(header, row))
            tx, rx, conns = want.get(r["id.orig_h"], (0, 0, 0))
            want[r["id.orig_h"]] = (tx + int(r["orig_ip_bytes"]), rx + int(r["resp_ip_bytes"]), conns + 1)
        res = expected_accounting.run([real("zeek/pcapng-multi-interface.pcapng")])
        got = {}
        for c in res["clients"].values():
            dns = c["protocols"]["DNS"]
            got[c["ipv4"][0]] = (dns["tx_bytes"], dns["rx_bytes"], dns["connections"])
        self.assertEqual(got, want)

    def test_dns_tcp_pipelined_queries_each_count(self):
        # suricata-verify: 20 pipelined A queries in one TCP connection.
        res = expected_accounting.run([real("suricata-verify/dns-tcp-multirequest-buffer.pcap")])
        counts = [c["dns_queries"] for c in res["clients"].values() if c["dns_queries"]]
        self.assertEqual(counts, [{"A": 20}])


class EveryRealCapture(unittest.TestCase):
    def test_no_crash_and_every_frame_has_one_outcome(self):
        for dirpath, _, files in sorted(os.walk(CAPTURES)):
            if os.path.basename(dirpath) == "expected":
                continue
            for name in sorted(files):
                if not re.search(r"\.pcap(ng)?$", name):
                    continue
                path = os.path.join(dirpath, name)
                with self.subTest(capture=name):
                    res = expected_accounting.run([path])
                    self.assertEqual(sum(res["outcomes"].values()), frame_count(path))


class GeneratedCaptures(unittest.TestCase):
    def test_cases_rebuild_identically_and_hold_their_facts(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name, case in gen_captures.CASES.items():
                with self.subTest(case=name):
                    cap, checks = case()
                    gen_captures.sort_frames(cap)
                    path = os.path.join(tmp, name + ".pcap")
                    cap.write(path)
                    committed = os.path.join(GENERATED, name + ".pcap")
                    self.assertEqual(read_bytes(path), read_bytes(committed), "rebuild differs")
                    res = expected_accounting.run([committed])
                    with open(os.path.join(GENERATED, name + ".expected.json")) as f:
                        self.assertEqual(res, json.load(f), "expected JSON is stale")
                    checks(res)

    def test_sample_rebuilds_identically_and_expected_is_current(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["/usr/bin/python3", os.path.join(SCRIPTS, "gen_sample.py"), "--out", tmp],
                           check=True, stdout=subprocess.DEVNULL)
            for f in ("home-lan.pcap", "home-lan.expected.json"):
                a = hashlib.sha256(read_bytes(os.path.join(tmp, f))).hexdigest()
                b = hashlib.sha256(read_bytes(os.path.join(SAMPLES, f))).hexdigest()
                self.assertEqual(a, b, f)


if __name__ == "__main__":
    unittest.main()
