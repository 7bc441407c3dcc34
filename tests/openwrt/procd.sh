# Stand-ins for OpenWrt's procd.sh helpers: the command line goes to
# $LANWATCH_ARGV (one argument per line), every other call to $LANWATCH_LOG.
# shellcheck shell=dash

procd_log() {
	echo "$*" >>"$LANWATCH_LOG"
}

procd_set_param() {
	local key="$1" arg
	shift
	if [ "$key" = command ]; then
		: >"$LANWATCH_ARGV"
		for arg in "$@"; do printf '%s\n' "$arg" >>"$LANWATCH_ARGV"; done
	else
		procd_log "procd_set_param $key $*"
	fi
}

procd_append_param() {
	local key="$1" arg
	shift
	if [ "$key" = command ]; then
		for arg in "$@"; do printf '%s\n' "$arg" >>"$LANWATCH_ARGV"; done
	else
		procd_log "procd_append_param $key $*"
	fi
}

procd_open_instance() { procd_log "procd_open_instance $*"; }
procd_close_instance() { procd_log "procd_close_instance"; }
procd_add_jail() { procd_log "procd_add_jail $*"; }
procd_add_jail_mount() { procd_log "procd_add_jail_mount $*"; }
procd_add_jail_mount_rw() { procd_log "procd_add_jail_mount_rw $*"; }
procd_add_reload_trigger() { procd_log "procd_add_reload_trigger $*"; }
procd_add_reload_interface_trigger() { procd_log "procd_add_reload_interface_trigger $*"; }
logger() { :; }
