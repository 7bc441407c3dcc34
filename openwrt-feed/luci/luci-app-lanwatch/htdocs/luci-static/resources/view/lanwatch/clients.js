'use strict';
'require view';
'require poll';
'require rpc';
'require uci';

// The clients lanwatch sees, refreshed by polling the router-side backend
// (ubus luci.lanwatch, which asks the daemon's JSON API); the browser never
// talks to the daemon itself.

var callClients = rpc.declare({
	object: 'luci.lanwatch',
	method: 'clients',
	expect: { '': {} }
});

var callHealth = rpc.declare({
	object: 'luci.lanwatch',
	method: 'health',
	expect: { '': {} }
});

function bytes(n) {
	return (typeof n == 'number') ? '%1024.2mB'.format(n) : '-';
}

function topProtocols(client, count) {
	var protocols = Array.isArray(client.protocols) ? client.protocols.slice() : [];
	protocols.sort(function(a, b) {
		return ((b.rx_bytes || 0) + (b.tx_bytes || 0)) - ((a.rx_bytes || 0) + (a.tx_bytes || 0));
	});
	return protocols.slice(0, count).map(function(p) { return p.protocol; }).join(', ') || '-';
}

// DNS figures, when the daemon provides them (fields are only ever added
// to the API; older daemons have none).
function dnsSummary(client) {
	var dns = client.dns;
	if (dns == null || typeof dns != 'object')
		return '-';
	var parts = [];
	var queries = (typeof dns.queries == 'number') ? dns.queries : dns.queries_total;
	if (typeof queries == 'number')
		parts.push(_('%d queries').format(queries));
	if (typeof dns.unique_domains == 'number')
		parts.push(_('%d domains').format(dns.unique_domains));
	if (Array.isArray(dns.top_domains) && dns.top_domains.length)
		parts.push(dns.top_domains.slice(0, 3).map(function(d) {
			return (typeof d == 'string') ? d : d.domain;
		}).join(', '));
	return parts.length ? parts.join(' · ') : '-';
}

function lastSeen(client, now) {
	if (typeof client.last_seen != 'number' || !now)
		return '-';
	var age = Math.max(0, Math.floor(now - client.last_seen));
	return age < 5 ? _('now') : _('%t ago').format(age);
}

function clientRows(doc, health) {
	var clients = (doc && Array.isArray(doc.clients)) ? doc.clients.slice() : [];
	var now = health ? health.last_packet_time : null;
	clients.sort(function(a, b) {
		return ((b.bandwidth || {}).rx_bytes || 0) - ((a.bandwidth || {}).rx_bytes || 0);
	});
	return clients.map(function(c) {
		var bw = c.bandwidth || {};
		return [
			c.hostname || '-',
			c.ip || '-',
			c.mac ? c.mac.toUpperCase() + (c.randomized_mac ? ' ' + _('(random)') : '') : '-',
			c.vendor || '-',
			bytes(bw.rx_bytes),
			bytes(bw.tx_bytes),
			topProtocols(c, 3),
			dnsSummary(c),
			lastSeen(c, now)
		];
	});
}

function statusBanner(doc, health) {
	var notes = [];
	var error = (doc && doc.error) || (health && health.error);
	if (error)
		notes.push(E('p', { 'class': 'alert-message warning' }, _('lanwatch: %s').format(error)));
	var offload = health ? health.flow_offload : null;
	if (offload && offload.incomplete)
		notes.push(E('p', { 'class': 'alert-message warning' },
			offload.hardware
				? _('Counts are incomplete: hardware flow offloading is on, so offloaded forwarded flows never reach the CPU.')
				: _('Counts are incomplete: software flow offloading is on and lanwatch captures on the bridge; capture on its member ports instead.')));
	if (health && health.kernel && health.kernel.drops > 0)
		notes.push(E('p', { 'class': 'alert-message notice' },
			_('The kernel dropped %d frames before lanwatch could read them.').format(health.kernel.drops)));
	return notes;
}

return view.extend({
	load: function() {
		return Promise.all([
			callClients(),
			callHealth(),
			uci.load('lanwatch')
		]);
	},

	render: function(data) {
		var table = E('table', { 'class': 'table', 'id': 'lanwatch-clients' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, _('Hostname')),
				E('th', { 'class': 'th' }, _('IP address')),
				E('th', { 'class': 'th' }, _('MAC address')),
				E('th', { 'class': 'th' }, _('Vendor')),
				E('th', { 'class': 'th' }, _('Download')),
				E('th', { 'class': 'th' }, _('Upload')),
				E('th', { 'class': 'th' }, _('Top protocols')),
				E('th', { 'class': 'th' }, _('DNS')),
				E('th', { 'class': 'th' }, _('Last seen'))
			])
		]);
		var banner = E('div', { 'id': 'lanwatch-status' }, statusBanner(data[0], data[1]));
		var placeholder = E('em', _('No clients seen yet.'));

		cbi_update_table(table, clientRows(data[0], data[1]), placeholder);

		var interval = parseInt(uci.get('lanwatch', 'main', 'refresh'), 10);
		poll.add(function() {
			return Promise.all([callClients(), callHealth()]).then(function(next) {
				cbi_update_table(table, clientRows(next[0], next[1]), placeholder);
				banner.replaceChildren.apply(banner, statusBanner(next[0], next[1]));
			});
		}, (interval > 0) ? interval : 5);

		return E('div', { 'class': 'cbi-map' }, [
			E('h2', _('LAN clients')),
			E('div', { 'class': 'cbi-map-descr' },
				_('Traffic per client as lanwatch counts it on the router: download and upload with the router or beyond, the busiest protocols, DNS, and when each client was last seen.')),
			banner,
			E('div', { 'class': 'cbi-section' }, table)
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
