//! Live capture on AF_PACKET with a TPACKET_V3 mmap ring.
