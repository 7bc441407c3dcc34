//! Capture files: pcap (µs and ns, both byte orders) and pcapng.
