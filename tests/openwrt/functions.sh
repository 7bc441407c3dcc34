# A stand-in for OpenWrt's /lib/functions.sh, enough to run the lanwatch init
# script off the router: config_load reads $UCI_CONFIG_DIR/<package> (UCI's
# file syntax is shell syntax with config/option/list as commands) into the
# CONFIG_<section>_<option> variables the config_* helpers read, as OpenWrt's
# uci_load does from `uci export`.
# shellcheck shell=dash

config() {
	CONFIG_NUM=$((CONFIG_NUM + 1))
	CONFIG_SECTION="${2:-cfg$CONFIG_NUM}"
	eval "CONFIG_${CONFIG_SECTION}_TYPE=\$1"
	CONFIG_SECTIONS="$CONFIG_SECTIONS $CONFIG_SECTION"
}

option() {
	eval "CONFIG_${CONFIG_SECTION}_$1=\$2"
}

list() {
	local len
	eval "len=\${CONFIG_${CONFIG_SECTION}_$1_LENGTH:-0}"
	len=$((len + 1))
	eval "CONFIG_${CONFIG_SECTION}_$1_ITEM$len=\$2"
	eval "CONFIG_${CONFIG_SECTION}_$1_LENGTH=$len"
	eval "CONFIG_${CONFIG_SECTION}_$1=\"\${CONFIG_${CONFIG_SECTION}_$1:+\${CONFIG_${CONFIG_SECTION}_$1} }\$2\""
}

package() { :; }

config_load() {
	local var
	for var in $(set | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p'); do
		unset "$var"
	done
	CONFIG_SECTIONS=
	CONFIG_NUM=0
	# shellcheck source=/dev/null
	[ -f "$UCI_CONFIG_DIR/$1" ] && . "$UCI_CONFIG_DIR/$1"
	return 0
}

config_get() {
	eval "$1=\"\${CONFIG_$2_$3:-\$4}\""
}

config_get_bool() {
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	case "$_tmp" in
	1 | on | true | yes | enabled) _tmp=1 ;;
	0 | off | false | no | disabled) _tmp=0 ;;
	*) _tmp="$4" ;;
	esac
	eval "$1=\$_tmp"
}

config_foreach() {
	local function="$1" type="$2" section section_type
	for section in $CONFIG_SECTIONS; do
		eval "section_type=\$CONFIG_${section}_TYPE"
		[ -z "$type" ] || [ "$section_type" = "$type" ] || continue
		"$function" "$section"
	done
}

config_list_foreach() {
	local section="$1" option="$2" function="$3" len val c=1
	config_get len "$section" "${option}_LENGTH"
	[ -z "$len" ] && return 0
	while [ "$c" -le "$len" ]; do
		config_get val "$section" "${option}_ITEM$c"
		"$function" "$val" "$4"
		c=$((c + 1))
	done
}
