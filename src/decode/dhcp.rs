//! DHCPv4 and DHCPv6 messages: the options that identify a device.
