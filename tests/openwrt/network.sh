# A stand-in for OpenWrt's /lib/functions/network.sh answering like netifd
# for the networks in interfaces.json (the same router, as JSON for
# `lanwatch check-config --interfaces-dump`).
# shellcheck shell=dash

network_get_device() {
	case "$2" in
	lan) eval "$1=br-lan" ;;
	iot) eval "$1=br-lan.5" ;;
	wan) eval "$1=eth1" ;;
	loopback) eval "$1=lo" ;;
	*) eval "$1=" && return 1 ;;
	esac
}

network_get_physdev() {
	network_get_device "$@"
}

network_get_ipaddr() {
	case "$2" in
	lan) eval "$1=192.168.1.1" ;;
	iot) eval "$1=192.168.5.1" ;;
	wan) eval "$1=203.0.113.7" ;;
	loopback) eval "$1=127.0.0.1" ;;
	*) eval "$1=" && return 1 ;;
	esac
}
