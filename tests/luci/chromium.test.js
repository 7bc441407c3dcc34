'use strict';
// The clients page rendered once in headless Chromium (Debian package
// chromium) from the real JSON of `lanwatch replay`: tests/luci/page.js
// evaluates view/lanwatch/clients.js and lanwatch/rows.js in the browser,
// and the DOM Chromium dumps holds one table row per client whose cells are
// the texts lanwatch.rows gives under node — a host name that looks like
// markup included, which must stay text.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { RESOURCES, Class, requireClass, untranslated, replayJson } = require('./harness.js');

const CHROMIUM = process.env.CHROMIUM || 'chromium';

function source(name) {
	return fs.readFileSync(path.join(RESOURCES, name.replace(/\./g, '/') + '.js'), 'utf8');
}

// The DOM of `html` after its scripts ran, as Chromium serialises it.
function dumpDom(html) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanwatch-chromium-'));
	try {
		const file = path.join(dir, 'page.html');
		fs.writeFileSync(file, html);
		const run = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--no-first-run', '--user-data-dir=' + path.join(dir, 'profile'),
			'--dump-dom', 'file://' + file], { encoding: 'utf8', timeout: 60000 });
		if (run.error && run.error.code == 'ENOENT')
			assert.fail(`cannot run ${CHROMIUM}: this test renders the page in headless Chromium (Debian package chromium)`);
		assert.equal(run.error, undefined, `chromium: ${run.error}`);
		assert.equal(run.status, 0, `chromium exited with ${run.status}:\n${run.stderr}`);
		return run.stdout;
	}
	finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

function decode(html) {
	assert.ok(!/<(?!\/?span\b)/.test(html), `a cell holds an element: ${html}`);
	return html.replace(/<\/?span>/g, '')
		.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
		.replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');
}

test('headless Chromium renders one row of text per client', () => {
	const doc = replayJson('samples/home-lan.pcap');
	const hostile = '<img src=x id=injected onerror="document.title=1">';
	doc.clients[0].hostname = hostile;
	const input = {
		clients: { clients: doc.clients },
		health: doc.health,
		sources: {
			'view.lanwatch.clients': source('view.lanwatch.clients'),
			'lanwatch.rows': source('lanwatch.rows'),
		},
	};
	const json = JSON.stringify(input).replace(/</g, '\\u003c');
	const html = '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>' +
		`<script type="application/json" id="input">${json}</script>` +
		`<script>${fs.readFileSync(path.join(__dirname, 'page.js'), 'utf8')}</script>` +
		'</body></html>';
	const dom = dumpDom(html);

	const error = /data-error="([^"]*)"/.exec(dom);
	assert.equal(error, null, error && decode(error[1]));
	assert.match(dom, /<body[^>]* data-done="1"/, 'the page finished rendering');
	assert.ok(!/id="injected"/.test(dom), 'the host name did not become an element');

	const table = /<table class="table" id="lanwatch-clients">([\s\S]*?)<\/table>/.exec(dom);
	assert.ok(table, 'the page has the clients table');
	const trs = [...table[1].matchAll(/<tr class="tr">([\s\S]*?)<\/tr>/g)].map((m) =>
		[...m[1].matchAll(/<td class="td">([\s\S]*?)<\/td>/g)].map((c) => decode(c[1])));

	const rows = requireClass('lanwatch.rows', { baseclass: Class }, untranslated);
	const expected = JSON.parse(JSON.stringify(rows.clientRows(input.clients, input.health)));
	assert.equal(trs.length, doc.clients.length);
	assert.deepEqual(trs, expected);
	assert.ok(trs.some((r) => r[0] == hostile), 'the markup-like host name is shown as text');
	const titles = [...table[1].matchAll(/<th class="th">([^<]*)<\/th>/g)].map((m) => m[1]);
	assert.deepEqual(titles, JSON.parse(JSON.stringify(rows.columns())));
});
