'use strict';
'require view';
'require form';
'require tools.widgets as widgets';

// The options of /etc/config/lanwatch (docs/openwrt.md describes each).

return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('lanwatch', _('lanwatch settings'),
			_('Where lanwatch captures, where it serves its metrics and API, and what it keeps. Saving restarts the service.'));

		s = m.section(form.NamedSection, 'main', 'lanwatch');
		s.tab('capture', _('Capture'));
		s.tab('api', _('Metrics and API'));
		s.tab('access', _('Access'));
		s.tab('tables', _('Tables'));
		s.tab('privacy', _('Privacy'));

		o = s.taboption('capture', form.Flag, 'enabled', _('Enabled'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.taboption('capture', widgets.NetworkSelect, 'network', _('Network'),
			_('Capture on the member ports of this network\'s bridge. With software flow offloading, forwarded flows skip the bridge device itself.'));
		o.nocreate = true;
		o.default = 'lan';

		o = s.taboption('capture', widgets.DeviceSelect, 'interface', _('Capture devices'),
			_('Name the devices yourself instead (replaces the network above).'));
		o.multiple = true;
		o.noaliases = true;

		o = s.taboption('capture', form.Flag, 'promiscuous', _('Promiscuous mode'));
		o.default = o.enabled;

		o = s.taboption('capture', form.Value, 'snaplen', _('Snap length'),
			_('Bytes kept of each frame: enough for headers, DNS and DHCP.'));
		o.datatype = 'range(96,65535)';
		o.placeholder = '1024';

		o = s.taboption('capture', form.DynamicList, 'lan_prefix', _('LAN prefixes'),
			_('Default: the capture interfaces\' own prefixes.'));
		o.datatype = 'cidr';

		o = s.taboption('api', widgets.NetworkSelect, 'listen_interface', _('Serve on network'),
			_('The API is served on this network\'s address; never on WAN.'));
		o.nocreate = true;
		o.default = 'lan';

		o = s.taboption('api', form.Value, 'listen_address', _('Serve on address'),
			_('An explicit address instead of the network\'s.'));
		o.datatype = 'ipaddr';

		o = s.taboption('api', form.Value, 'listen_port', _('Port'));
		o.datatype = 'port';
		o.placeholder = '19477';

		o = s.taboption('api', form.Value, 'refresh', _('Page refresh'),
			_('Seconds between updates of the clients page.'));
		o.datatype = 'range(1,3600)';
		o.placeholder = '5';

		o = s.taboption('access', form.DynamicList, 'allow_scraper', _('Allowed scrapers'),
			_('Addresses or prefixes (CIDR) that may connect to the metrics and API port besides the router itself, which always may; others are disconnected unanswered.'));
		o.datatype = 'or(ipaddr,cidr)';

		o = s.taboption('access', form.Value, 'web_config', _('Web config file'),
			_('TLS and logins in the Prometheus exporter toolkit\'s web config format, as node_exporter reads it. Wins over the login below.'));

		o = s.taboption('access', form.Value, 'web_user', _('Login user'),
			_('Scrapers must log in with this user name and the password below (basic authentication).'));

		o = s.taboption('access', form.Value, 'web_password', _('Login password'),
			_('Kept in /etc/config/lanwatch as written; the service gives lanwatch only a hash of it.'));
		o.password = true;
		o.datatype = 'maxlength(72)';

		o = s.taboption('tables', form.Value, 'max_clients', _('Most clients'));
		o.datatype = 'range(1,1000000)';
		o.placeholder = '1024';

		o = s.taboption('tables', form.Value, 'max_flows', _('Most connections'));
		o.datatype = 'range(1,10000000)';
		o.placeholder = '65536';

		o = s.taboption('tables', form.Value, 'protocols', _('Protocol table'));
		o.placeholder = '/etc/lanwatch/protocols';

		o = s.taboption('tables', form.Value, 'state_file', _('State file'),
			_('Where the day\'s totals are kept across restarts of the service (on tmpfs they do not survive a reboot).'));
		o.placeholder = '/tmp/lanwatch/state.json';

		o = s.taboption('tables', form.Value, 'state_interval', _('State saves'),
			_('Minutes between two saves of the state file; it is saved at shutdown too.'));
		o.datatype = 'range(1,10080)';
		o.placeholder = '15';

		o = s.taboption('tables', form.DynamicList, 'router_mac', _('Router MAC addresses'));
		o.datatype = 'macaddr';

		o = s.taboption('privacy', form.Value, 'leases', _('DHCP lease file'));
		o.placeholder = '/tmp/dhcp.leases';

		o = s.taboption('privacy', form.DynamicList, 'exclude_mac', _('Excluded clients'),
			_('Clients (by MAC address) left out of every table.'));
		o.datatype = 'macaddr';

		o = s.taboption('privacy', form.Flag, 'export_dns_names', _('Export DNS names'),
			_('Off: the domains clients look up stay on the router.'));
		o.default = o.enabled;

		o = s.taboption('privacy', form.Value, 'user', _('Run as user'));
		o.placeholder = 'lanwatch';

		o = s.taboption('privacy', form.Value, 'group', _('Run as group'));
		o.placeholder = 'lanwatch';

		o = s.taboption('privacy', form.ListValue, 'log_level', _('Log level'));
		['error', 'warn', 'info', 'debug', 'trace'].forEach(function(level) {
			o.value(level);
		});
		o.default = 'info';

		return m.render();
	}
});
