'use strict';
'require baseclass';

// The clients table of luci-app-lanwatch as plain data: the `clients` and
// `health` documents the rpcd backend returns (the daemon's /api/v1/clients
// and /api/v1/health, docs/api.md) in, rows of plain strings and status
// notes out. No DOM, no String.prototype.format: the view puts the strings
// into the page as text, and tests run this file as it is under node.
//
// Strictness: the LuCI app ships with the daemon it talks to, so every field
// the current API always sends is required here. A field that is missing or
// of another type (a renamed field, say) is an error naming the field, which
// the page shows above an empty table, instead of a column of '-'. Only
// values the API itself may leave out show '-': a null mac, ip, hostname or
// vendor, and health.flow_offload (live capture only). An `{ "error": ... }`
// document from the backend (daemon not running) is shown as a note.
//
// Translations: user-visible strings go through LuCI's `_()` and `N_()`,
// looked up from the scope the class is evaluated in, so a test can supply
// its own.

// A field the current API always sends is missing or of another type.
function fail(path, expected, value) {
	var found = (value === undefined) ? 'missing' : 'of type ' + kind(value);
	throw new Error(path + ' is ' + found + ' (expected ' + expected + ')');
}

function kind(value) {
	if (value === null)
		return 'null';
	return Array.isArray(value) ? 'array' : typeof value;
}

function need(obj, path, key, type) {
	var value = obj[key];
	var nullable = (type.charAt(0) == '?');
	var want = nullable ? type.substr(1) : type;
	if (nullable && value === null)
		return value;
	if (kind(value) != want ||
	    (want == 'number' && !isFinite(value)))
		fail(path + '.' + key, nullable ? want + ' or null' : want, value);
	return value;
}

function checkTraffic(t, path) {
	need(t, path, 'rx_bytes', 'number');
	need(t, path, 'tx_bytes', 'number');
}

function checkClient(c, path) {
	if (kind(c) != 'object')
		fail(path, 'object', c);
	need(c, path, 'mac', '?string');
	need(c, path, 'ip', '?string');
	need(c, path, 'hostname', '?string');
	need(c, path, 'vendor', '?string');
	need(c, path, 'randomized_mac', 'boolean');
	need(c, path, 'last_seen', 'number');
	checkTraffic(need(c, path, 'bandwidth', 'object'), path + '.bandwidth');
	need(c, path, 'protocols', 'array').forEach(function(p, i) {
		var at = path + '.protocols[' + i + ']';
		if (kind(p) != 'object')
			fail(at, 'object', p);
		need(p, at, 'protocol', 'string');
		checkTraffic(p, at);
	});
	var dns = need(c, path, 'dns', 'object');
	need(dns, path + '.dns', 'queries_total', 'number');
	need(dns, path + '.dns', 'unique_domains_24h', 'number');
	need(c, path, 'domains', 'array').forEach(function(d, i) {
		var at = path + '.domains[' + i + ']';
		if (kind(d) != 'object')
			fail(at, 'object', d);
		need(d, at, 'domain', 'string');
	});
}

function checkHealth(h) {
	need(h, 'health', 'last_packet_time', 'number');
	need(need(h, 'health', 'kernel', 'object'), 'health.kernel', 'drops', 'number');
	if (h.flow_offload !== undefined) {
		var fo = need(h, 'health', 'flow_offload', 'object');
		need(fo, 'health.flow_offload', 'hardware', 'boolean');
		need(fo, 'health.flow_offload', 'incomplete', 'boolean');
	}
}

// The backend's `{ "error": "..." }` answer (daemon down, no answer).
function errorOf(doc) {
	return (kind(doc) == 'object' && typeof doc.error == 'string') ? doc.error : null;
}

// `template` with its first %d or %s replaced by `value`.
function fill(template, value) {
	return String(template).replace(/%[ds]/, function() { return String(value); });
}

// Bytes in binary units, two decimals, as LuCI's '%1024.2mB' shows them:
// "650 B", "281.82 KiB", "1.23 GiB".
function formatBytes(n) {
	var units = [ 'B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB' ];
	var i = 0;
	var value = n;
	while (value >= 1024 && i < units.length - 1) {
		value /= 1024;
		i++;
	}
	return (i ? value.toFixed(2) : String(value)) + ' ' + units[i];
}

// Whole seconds as the two largest units: "42s", "3m 5s", "2h 7m", "1d 4h".
function formatDuration(seconds) {
	var s = Math.max(0, Math.floor(seconds));
	var parts = [ [ 'd', 86400 ], [ 'h', 3600 ], [ 'm', 60 ], [ 's', 1 ] ]
		.map(function(u) {
			var n = Math.floor(s / u[1]);
			s -= n * u[1];
			return [ n, u[0] ];
		});
	while (parts.length > 1 && parts[0][0] == 0)
		parts.shift();
	return parts.slice(0, 2)
		.filter(function(p, i) { return i == 0 || p[0] > 0; })
		.map(function(p) { return p[0] + p[1]; })
		.join(' ');
}

function macCell(c) {
	if (c.mac === null)
		return '-';
	return c.mac.toUpperCase() + (c.randomized_mac ? ' ' + _('(random)') : '');
}

// The busiest protocols by bytes both ways.
function protocolsCell(c, count) {
	var protocols = c.protocols.slice();
	protocols.sort(function(a, b) {
		return (b.rx_bytes + b.tx_bytes) - (a.rx_bytes + a.tx_bytes);
	});
	return protocols.slice(0, count).map(function(p) {
		return p.protocol;
	}).join(', ') || '-';
}

// Queries, distinct names looked up in the last 24 h, and the domains with
// the most traffic (the API lists them most bytes first; with DNS names
// kept on the router the list is empty).
function dnsCell(c) {
	var dns = c.dns;
	var top = c.domains.slice(0, 3).map(function(d) { return d.domain; });
	if (dns.queries_total == 0 && dns.unique_domains_24h == 0 && !top.length)
		return '-';
	var parts = [
		fill(N_(dns.queries_total, '%d query', '%d queries'), dns.queries_total),
		fill(N_(dns.unique_domains_24h, '%d domain in 24 h', '%d domains in 24 h'),
			dns.unique_domains_24h)
	];
	if (top.length)
		parts.push(top.join(', '));
	return parts.join(' · ');
}

function lastSeenCell(c, now) {
	if (now === null)
		return '-';
	var age = Math.max(0, now - c.last_seen);
	return (age < 5) ? _('now') : fill(_('%s ago'), formatDuration(age));
}

return baseclass.extend({
	__name__: 'lanwatch.rows',

	formatBytes: formatBytes,
	formatDuration: formatDuration,

	// The headings of the table, in the order of the cells of a row.
	columns: function() {
		return [
			_('Hostname'), _('IP address'), _('MAC address'), _('Vendor'),
			_('Download'), _('Upload'), _('Top protocols'), _('DNS'),
			_('Last seen')
		];
	},

	// One row per client, most downloaded first; each row an array of
	// strings, one per column. Throws an Error naming the field when a
	// document lacks one the API always sends. `health` may be the
	// backend's error document: then "last seen" is '-'.
	clientRows: function(doc, health) {
		if (errorOf(doc) !== null)
			return [];
		if (kind(doc) != 'object')
			fail('clients document', 'object', doc);
		var clients = need(doc, 'clients document', 'clients', 'array');
		clients.forEach(function(c, i) { checkClient(c, 'clients[' + i + ']'); });
		var now = null;
		if (errorOf(health) === null) {
			if (kind(health) != 'object')
				fail('health', 'object', health);
			checkHealth(health);
			now = health.last_packet_time;
		}
		var ordered = clients.slice();
		ordered.sort(function(a, b) {
			return b.bandwidth.rx_bytes - a.bandwidth.rx_bytes;
		});
		return ordered.map(function(c) {
			return [
				(c.hostname !== null) ? c.hostname : '-',
				(c.ip !== null) ? c.ip : '-',
				macCell(c),
				(c.vendor !== null) ? c.vendor : '-',
				formatBytes(c.bandwidth.rx_bytes),
				formatBytes(c.bandwidth.tx_bytes),
				protocolsCell(c, 3),
				dnsCell(c),
				lastSeenCell(c, now)
			];
		});
	},

	// Notes for above the table, each `{ level: 'warning' | 'notice', text }`:
	// the backend's errors, incomplete counts, kernel drops. Assumes the
	// documents passed clientRows; see page() for both at once.
	statusNotes: function(doc, health) {
		var notes = [];
		var error = errorOf(doc) || errorOf(health);
		if (error !== null)
			notes.push({ level: 'warning', text: fill(_('lanwatch: %s'), error) });
		if (errorOf(health) !== null || kind(health) != 'object')
			return notes;
		var offload = health.flow_offload;
		if (offload && offload.incomplete)
			notes.push({ level: 'warning', text: offload.hardware
				? _('Counts are incomplete: hardware flow offloading is on, so offloaded forwarded flows never reach the CPU.')
				: _('Counts are incomplete: software flow offloading is on and lanwatch captures on the bridge; capture on its member ports instead.') });
		if (health.kernel && health.kernel.drops > 0)
			notes.push({ level: 'notice', text: fill(
				N_(health.kernel.drops,
					'The kernel dropped %d frame before lanwatch could read it.',
					'The kernel dropped %d frames before lanwatch could read them.'),
				health.kernel.drops) });
		return notes;
	},

	// Both at once, never throwing: `{ rows, notes }`. A document this page
	// cannot read gives no rows and a warning that names the field.
	page: function(doc, health) {
		try {
			return { rows: this.clientRows(doc, health), notes: this.statusNotes(doc, health) };
		}
		catch (e) {
			return { rows: [], notes: [ { level: 'warning',
				text: fill(_('lanwatch sent data this page cannot read: %s'), e.message) } ] };
		}
	}
});
