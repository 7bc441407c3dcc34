'use strict';
// lanwatch/rows.js, the clients page's rows, fed the JSON the real binary
// prints for real captures (`lanwatch replay --format json`: the clients and
// health documents of /api/v1/clients and /api/v1/health in one). Every
// expected cell is read from that JSON or stated here from the API's
// documentation (docs/api.md), never from an earlier run of the page.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Class, requireClass, untranslated, replayJson } = require('./harness.js');

const CAPTURES = [
	'samples/home-lan.pcap',
	'tests/captures/ndpi/1kxun.pcap',
	'tests/captures/ndpi/iphone.pcap',
	'tests/captures/ndpi/telegram.pcap',
	'tests/captures/zeek/dhcp.pcap',
];

const rows = requireClass('lanwatch.rows', { baseclass: Class }, untranslated);
const COLUMNS = ['Hostname', 'IP address', 'MAC address', 'Vendor', 'Download', 'Upload',
	'Top protocols', 'DNS', 'Last seen'];
const col = (title) => COLUMNS.indexOf(title);

const docs = new Map(CAPTURES.map((c) => [c, replayJson(c)]));

// The API's documents, as the rpcd backend passes them on.
function split(doc) {
	return { clients: { clients: doc.clients }, health: doc.health };
}

const copy = (v) => JSON.parse(JSON.stringify(v));

// "281.82 KiB" back to bytes, with the rounding the display allows.
function parseBytes(text) {
	const m = /^(\d+(?:\.\d\d)?) (B|KiB|MiB|GiB|TiB)$/.exec(text);
	assert.ok(m, `${JSON.stringify(text)} is not a byte count`);
	const power = ['B', 'KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]);
	if (power == 0)
		assert.match(m[1], /^\d+$/, 'bytes below 1 KiB are shown whole');
	else
		assert.match(m[1], /\.\d\d$/, 'larger units have two decimals');
	assert.ok(+m[1] < 1024, `${text}: the largest unit below 1024 is used`);
	const unit = 1024 ** power;
	return { value: +m[1] * unit, tolerance: power ? 0.005 * unit : 0 };
}

function assertBytes(text, n, what) {
	const { value, tolerance } = parseBytes(text);
	assert.ok(Math.abs(value - n) <= tolerance + 1e-9,
		`${what}: ${text} is not ${n} bytes`);
	if (n >= 1024)
		assert.ok(value >= 1024, `${what}: ${text} for ${n} bytes should use KiB or more`);
}

// "1d 2h", "3m 5s", "42s" back to seconds, and the unit of the last part.
function parseDuration(text) {
	const m = /^(\d+)([dhms])(?: (\d+)([hms]))?$/.exec(text);
	assert.ok(m, `${JSON.stringify(text)} is not a duration`);
	const secs = { d: 86400, h: 3600, m: 60, s: 1 };
	const total = +m[1] * secs[m[2]] + (m[3] ? +m[3] * secs[m[4]] : 0);
	// Only the two largest units are shown: what is left is below the
	// unit after the first one.
	const order = ['d', 'h', 'm', 's'];
	const next = order[Math.min(order.indexOf(m[2]) + 1, 3)];
	return { total, granularity: m[2] == 's' ? 1 : secs[next] };
}

// The row a client gives, found by its MAC cell (or IP cell for clients
// without a MAC), which must be unique.
function rowOf(rowList, client) {
	const found = rowList.filter((r) => client.mac !== null
		? r[col('MAC address')].split(' ')[0] == client.mac.toUpperCase()
		: r[col('MAC address')] == '-' && r[col('IP address')] == client.ip);
	assert.equal(found.length, 1, `one row for client ${client.mac || client.ip}`);
	return found[0];
}

for (const capture of CAPTURES) {
	test(`every client of ${capture} gives one row of the API's values`, () => {
		const doc = docs.get(capture);
		const { clients, health } = split(doc);
		assert.ok(doc.clients.length > 0, `${capture} has clients`);
		const rowList = rows.clientRows(clients, health);
		assert.equal(rowList.length, doc.clients.length);
		for (const r of rowList) {
			assert.equal(r.length, COLUMNS.length);
			for (const cell of r)
				assert.equal(typeof cell, 'string');
		}

		for (const c of doc.clients) {
			const r = rowOf(rowList, c);
			assert.equal(r[col('Hostname')], c.hostname === null ? '-' : c.hostname);
			assert.equal(r[col('IP address')], c.ip === null ? '-' : c.ip);
			assert.equal(r[col('MAC address')], c.mac === null ? '-'
				: c.mac.toUpperCase() + (c.randomized_mac ? ' (random)' : ''));
			assert.equal(r[col('Vendor')], c.vendor === null ? '-' : c.vendor);
			assertBytes(r[col('Download')], c.bandwidth.rx_bytes, `${c.mac} download`);
			assertBytes(r[col('Upload')], c.bandwidth.tx_bytes, `${c.mac} upload`);

			// The busiest protocols by bytes both ways, at most three.
			const shown = r[col('Top protocols')] == '-' ? [] : r[col('Top protocols')].split(', ');
			assert.equal(shown.length, Math.min(3, c.protocols.length));
			const total = (p) => p.rx_bytes + p.tx_bytes;
			for (const name of shown) {
				const p = c.protocols.find((x) => x.protocol == name);
				assert.ok(p, `${name} is one of ${c.mac}'s protocols`);
				for (const other of c.protocols.filter((x) => !shown.includes(x.protocol)))
					assert.ok(total(p) >= total(other), `${name} is busier than ${other.protocol}`);
			}

			// Queries, distinct names in 24 h, and the first three domains of
			// the API's list (most bytes first).
			const dns = r[col('DNS')];
			const q = c.dns.queries_total, u = c.dns.unique_domains_24h;
			if (q == 0 && u == 0 && c.domains.length == 0) {
				assert.equal(dns, '-');
			}
			else {
				const parts = dns.split(' · ');
				assert.equal(parts[0], `${q} ${q == 1 ? 'query' : 'queries'}`);
				assert.equal(parts[1], `${u} ${u == 1 ? 'domain' : 'domains'} in 24 h`);
				if (c.domains.length)
					assert.equal(parts[2], c.domains.slice(0, 3).map((d) => d.domain).join(', '));
				assert.equal(parts.length, c.domains.length ? 3 : 2);
			}

			// Last seen, against the time of the last packet.
			const age = doc.health.last_packet_time - c.last_seen;
			const seen = r[col('Last seen')];
			if (age < 5) {
				assert.equal(seen, 'now');
			}
			else {
				const m = /^(.*) ago$/.exec(seen);
				assert.ok(m, `${JSON.stringify(seen)} says how long ago`);
				const { total, granularity } = parseDuration(m[1]);
				assert.ok(total <= age && age < total + granularity,
					`${seen} for ${age} s`);
			}
		}

		// Most downloaded first.
		const rxOfRow = rowList.map((r) => doc.clients.find((c) => rowOf(rowList, c) === r).bandwidth.rx_bytes);
		for (let i = 1; i < rxOfRow.length; i++)
			assert.ok(rxOfRow[i - 1] >= rxOfRow[i], 'rows are ordered by download, most first');
	});
}

test('the captures exercise every kind of cell', () => {
	const all = [...docs.values()].flatMap((d) => d.clients);
	assert.ok(all.some((c) => c.hostname !== null), 'a client with a host name');
	assert.ok(all.some((c) => c.hostname === null), 'a client without one');
	assert.ok(all.some((c) => c.vendor !== null), 'a client with a vendor');
	assert.ok(all.some((c) => c.domains.length >= 3), 'a client with three domains or more');
	assert.ok(all.some((c) => c.domains.length > 0 && c.dns.unique_domains_24h > 0),
		'a client with recent domains');
	assert.ok(all.some((c) => c.bandwidth.rx_bytes >= 1024 * 1024), 'a client with MiB of download');
	assert.ok(all.some((c) => c.protocols.length > 3), 'a client with more than three protocols');
});

test('the columns are the page\'s headings, in row order', () => {
	assert.deepEqual(copy(rows.columns()), COLUMNS);
});

// A field the API always sends, missing or renamed: the mapping names it
// instead of showing '-'.
const REQUIRED = [
	['mac'], ['ip'], ['hostname'], ['vendor'], ['randomized_mac'], ['last_seen'],
	['bandwidth'], ['bandwidth', 'rx_bytes'], ['bandwidth', 'tx_bytes'],
	['protocols'], ['dns'], ['dns', 'queries_total'], ['dns', 'unique_domains_24h'],
	['domains'],
];

for (const field of REQUIRED) {
	test(`a client without ${field.join('.')} is reported, not shown as '-'`, () => {
		const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
		const i = clients.clients.findIndex((c) => c.domains.length > 0);
		let obj = clients.clients[i];
		for (const key of field.slice(0, -1))
			obj = obj[key];
		delete obj[field[field.length - 1]];
		const where = `clients[${i}].${field.join('.')}`;
		assert.throws(() => rows.clientRows(clients, health),
			(e) => e.message.startsWith(`${where} is missing`));
		const page = rows.page(clients, health);
		assert.equal(page.rows.length, 0);
		assert.equal(page.notes.length, 1);
		assert.equal(page.notes[0].level, 'warning');
		assert.ok(page.notes[0].text.includes(where), page.notes[0].text);
	});
}

test('a renamed field is reported under its API name', () => {
	const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
	const dns = clients.clients[0].dns;
	dns.unique_domains = dns.unique_domains_24h;
	delete dns.unique_domains_24h;
	assert.throws(() => rows.clientRows(clients, health),
		/^Error: clients\[0\]\.dns\.unique_domains_24h is missing \(expected number\)$/);
});

test('a field of another type is reported with both types', () => {
	const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
	clients.clients[1].bandwidth.rx_bytes = '12';
	assert.throws(() => rows.clientRows(clients, health),
		/clients\[1\]\.bandwidth\.rx_bytes is of type string \(expected number\)/);
	clients.clients[1].bandwidth.rx_bytes = 12;
	clients.clients[1].domains = [ 'example.com' ];
	assert.throws(() => rows.clientRows(clients, health),
		/clients\[1\]\.domains\[0\] is of type string \(expected object\)/);
});

test('health without last_packet_time or kernel drops is reported', () => {
	for (const [key, sub] of [['last_packet_time'], ['kernel', 'drops']]) {
		const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
		if (sub) delete health[key][sub]; else delete health[key];
		assert.throws(() => rows.clientRows(clients, health),
			new RegExp(`health\\.${key}${sub ? '\\.' + sub : ''} is missing`));
	}
});

test('null host name, address, MAC and vendor (the API allows them) show -', () => {
	const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
	const c = clients.clients[0];
	c.hostname = null; c.vendor = null; c.mac = null;
	const r = rows.clientRows({ clients: [c] }, health)[0];
	assert.equal(r[col('Hostname')], '-');
	assert.equal(r[col('Vendor')], '-');
	assert.equal(r[col('MAC address')], '-');
	c.ip = null;
	assert.equal(rows.clientRows({ clients: [c] }, health)[0][col('IP address')], '-');
});

test('a host name is passed on as the text it is', () => {
	const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
	const name = '<img src=x onerror="alert(1)">&amp;$&';
	clients.clients[0].hostname = name;
	clients.clients[0].domains[0].domain = '$1<b>';
	const r = rowOf(rows.clientRows(clients, health), clients.clients[0]);
	assert.equal(r[col('Hostname')], name);
	assert.ok(r[col('DNS')].includes('$1<b>'));
});

test('the backend\'s error documents give no rows and a note', () => {
	const down = { error: 'lanwatch is not running' };
	assert.deepEqual(copy(rows.clientRows(down, down)), []);
	assert.deepEqual(copy(rows.page(down, down)),
		{ rows: [], notes: [{ level: 'warning', text: 'lanwatch: lanwatch is not running' }] });
	// Clients without health: rows, but no "last seen".
	const { clients } = split(docs.get('samples/home-lan.pcap'));
	const page = rows.page(clients, down);
	assert.equal(page.rows.length, clients.clients.length);
	assert.ok(page.rows.every((r) => r[col('Last seen')] == '-'));
	assert.equal(page.notes.length, 1);
});

test('incomplete counts and kernel drops are noted', () => {
	const { clients, health } = split(copy(docs.get('samples/home-lan.pcap')));
	assert.deepEqual(copy(rows.page(clients, health).notes), [], 'a replay has nothing to note');
	health.flow_offload = { software: true, hardware: false, incomplete: true };
	health.kernel.drops = 1;
	let notes = rows.page(clients, health).notes;
	assert.equal(notes.length, 2);
	assert.match(notes[0].text, /software flow offloading is on/);
	assert.equal(notes[1].level, 'notice');
	assert.equal(notes[1].text, 'The kernel dropped 1 frame before lanwatch could read it.');
	health.flow_offload.hardware = true;
	health.kernel.drops = 1234;
	notes = rows.page(clients, health).notes;
	assert.match(notes[0].text, /hardware flow offloading is on/);
	assert.equal(notes[1].text, 'The kernel dropped 1234 frames before lanwatch could read them.');
	health.flow_offload = { software: true };
	assert.match(rows.page(clients, health).notes[0].text, /health\.flow_offload\.hardware is missing/);
});

test('bytes are shown in binary units like LuCI\'s %1024.2mB', () => {
	const cases = [[0, '0 B'], [650, '650 B'], [1023, '1023 B'], [1024, '1.00 KiB'],
		[1536, '1.50 KiB'], [288585, '281.82 KiB'], [5.5 * 1024 * 1024, '5.50 MiB'],
		[3 * 1024 ** 3 + 1, '3.00 GiB'], [2 * 1024 ** 4, '2.00 TiB']];
	for (const [n, text] of cases)
		assert.equal(rows.formatBytes(n), text);
});

test('durations show their two largest units', () => {
	const cases = [[0, '0s'], [42, '42s'], [60, '1m'], [185, '3m 5s'], [3600, '1h'],
		[3661, '1h 1m'], [86400 + 7200 + 59, '1d 2h'], [86400 * 3, '3d'], [59.9, '59s']];
	for (const [s, text] of cases)
		assert.equal(rows.formatDuration(s), text);
});

test('every user-visible string goes through _() or N_()', () => {
	const marked = requireClass('lanwatch.rows', { baseclass: Class }, {
		_: (s) => `«${s}»`,
		N_: (n, singular, plural) => `«${n == 1 ? singular : plural}»`,
	});
	assert.ok(marked.columns().every((t) => /^«.*»$/.test(t)));
	const doc = docs.get('samples/home-lan.pcap');
	const { clients, health } = split(doc);
	const c = doc.clients.find((x) => x.domains.length > 0 && x.randomized_mac === false);
	const r = marked.clientRows(clients, health).find((x) => x[col('IP address')] == c.ip);
	assert.ok(r[col('DNS')].startsWith(`«${c.dns.queries_total} queries» · «`), r[col('DNS')]);
	const seen = r[col('Last seen')];
	assert.ok(seen == '«now»' || /^«.* ago»$/.test(seen), seen);
	const down = marked.page({ error: 'x' }, { error: 'x' });
	assert.equal(down.notes[0].text, '«lanwatch: x»');
});

// What the page really receives: `lanwatch rpcd call clients|health` (the
// rpcd exec plugin behind ubus luci.lanwatch) asking a daemon that serves
// the replayed sample on 127.0.0.1:19700.
test('the rpcd backend\'s documents give the rows of the replay\'s JSON', async () => {
	const { spawn, spawnSync } = require('node:child_process');
	const fs = require('node:fs');
	const os = require('node:os');
	const path = require('node:path');
	const { ROOT, lanwatchBin } = require('./harness.js');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanwatch-rpcd-'));
	const config = path.join(dir, 'lanwatch');
	fs.writeFileSync(config,
		"config lanwatch 'main'\n\toption listen_address '127.0.0.1'\n\toption listen_port '19700'\n");
	const daemon = spawn(lanwatchBin(), ['replay', '--listen', '127.0.0.1:19700',
		path.join(ROOT, 'samples/home-lan.pcap')], { stdio: ['ignore', 'ignore', 'pipe'] });
	let stderr = '';
	daemon.stderr.on('data', (d) => { stderr += d; });
	const call = (method) => {
		const run = spawnSync(lanwatchBin(), ['rpcd', '--config', config, 'call', method],
			{ input: '{}', encoding: 'utf8' });
		assert.equal(run.status, 0, run.stderr);
		return JSON.parse(run.stdout);
	};
	try {
		// The daemon serves while it replays: wait for the whole capture.
		const replay = split(docs.get('samples/home-lan.pcap'));
		const done = (h) => h.error === undefined &&
			h.packets.accounted == replay.health.packets.accounted &&
			h.last_packet_time == replay.health.last_packet_time;
		let health = call('health');
		for (let i = 0; i < 100 && !done(health); i++) {
			assert.equal(daemon.exitCode, null, `the daemon exited:\n${stderr}`);
			await new Promise((r) => setTimeout(r, 100));
			health = call('health');
		}
		assert.ok(done(health), `the backend answers: ${JSON.stringify(health)}`);
		const clients = call('clients');
		const live = rows.page(clients, health);
		assert.deepEqual(copy(live.notes), []);
		assert.equal(live.rows.length, replay.clients.clients.length);
		assert.deepEqual(copy(live.rows), copy(rows.clientRows(replay.clients, replay.health)));
	}
	finally {
		if (daemon.exitCode === null && daemon.signalCode === null) {
			const exited = new Promise((r) => daemon.once('exit', r));
			daemon.kill('SIGTERM');
			await exited;
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
});
