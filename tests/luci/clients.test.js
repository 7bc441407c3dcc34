'use strict';
// view/lanwatch/clients.js against stubs of the LuCI pieces it requires
// (rpc, poll, uci, view) and the real lanwatch.rows: the page puts the rows
// of the backend's documents into the table as text, and refreshes them.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Class, loadClass, requireClass, untranslated, replayJson } = require('./harness.js');

// LuCI's E(), recording instead of building DOM nodes: children given as a
// string are markup to LuCI (innerHTML), as an array of strings text.
function E(tag, attrs, children) {
	if (Array.isArray(attrs) || typeof attrs != 'object' || attrs === null)
		children = attrs, attrs = {};
	const node = { tag, attrs: attrs || {}, children: [], markup: null };
	if (Array.isArray(children))
		node.children = children.slice();
	else if (typeof children == 'string')
		node.markup = children;
	else if (children != null)
		node.children = [children];
	node.replaceChildren = function(...kids) { this.children = kids; };
	return node;
}

// Arrays made in the page's context are of its realm: compare as JSON.
const plain = (v) => JSON.parse(JSON.stringify(v));

// Text of a recorded node; markup from data is an error.
function text(node) {
	if (typeof node == 'string')
		return node;
	assert.equal(node.markup, null, `<${node.tag}> got markup, not text`);
	return node.children.map(text).join('');
}

// A table cell: cbi_update_table puts a string in as markup, so a cell
// must be a node holding text.
function cellText(cell) {
	assert.equal(typeof cell, 'object', `cell ${JSON.stringify(cell)} would be markup`);
	return text(cell);
}

function setup(answers) {
	const updates = [];
	const polls = [];
	const calls = { clients: 0, health: 0 };
	const rpc = {
		declare: (spec) => {
			assert.equal(spec.object, 'luci.lanwatch');
			return () => {
				calls[spec.method]++;
				return Promise.resolve(answers[spec.method]());
			};
		},
	};
	const uci = {
		load: (config) => { assert.equal(config, 'lanwatch'); return Promise.resolve(); },
		get: (config, section, option) => (option == 'refresh' ? '7' : null),
	};
	const poll = { add: (fn, interval) => polls.push({ fn, interval }) };
	const globals = Object.assign({}, untranslated, {
		E,
		cbi_update_table: (table, rowList, placeholder) => updates.push({ table, rowList, placeholder }),
	});
	const rows = requireClass('lanwatch.rows', { baseclass: Class }, untranslated);
	const { Class: View, requires } = loadClass('view.lanwatch.clients', {
		view: Class.extend({}), poll, rpc, uci, 'lanwatch.rows': rows,
	}, globals);
	return { View, requires, rows, updates, polls, calls };
}

test('the clients page shows the rows of lanwatch.rows as text, and polls', async () => {
	let doc = replayJson('samples/home-lan.pcap');
	const answers = {
		clients: () => ({ clients: doc.clients }),
		health: () => doc.health,
	};
	const { View, requires, rows, updates, polls } = setup(answers);
	assert.ok(requires.includes('lanwatch.rows'));

	const page = new View();
	const data = await page.load();
	const root = page.render(data);
	assert.equal(root.attrs['class'], 'cbi-map');

	assert.equal(updates.length, 1);
	const { table, rowList } = updates[0];
	assert.equal(table.attrs.id, 'lanwatch-clients');
	const titles = table.children[0].children.map(text);
	assert.deepEqual(plain(titles), plain(rows.columns()));
	const expected = rows.clientRows({ clients: doc.clients }, doc.health);
	assert.equal(rowList.length, doc.clients.length);
	assert.deepEqual(plain(rowList.map((r) => r.map(cellText))), plain(expected));

	// Refreshed at the configured interval, with the new documents.
	assert.equal(polls.length, 1);
	assert.equal(polls[0].interval, 7);
	doc = JSON.parse(JSON.stringify(doc));
	doc.clients[0].hostname = '<b onmouseover="alert(1)">x</b>';
	doc.clients.pop();
	await polls[0].fn();
	assert.equal(updates.length, 2);
	const next = updates[1].rowList.map((r) => r.map(cellText));
	assert.equal(next.length, doc.clients.length);
	assert.ok(next.some((r) => r[0] == doc.clients[0].hostname), 'the host name is shown as text');
});

test('the clients page shows why it has no rows', async () => {
	const doc = replayJson('samples/home-lan.pcap');
	const broken = JSON.parse(JSON.stringify(doc));
	delete broken.clients[2].dns.unique_domains_24h;
	const answers = {
		clients: () => ({ clients: broken.clients }),
		health: () => ({ error: 'lanwatch is not running' }),
	};
	const { View, updates } = setup(answers);
	const page = new View();
	const root = page.render(await page.load());
	assert.deepEqual(plain(updates[0].rowList), []);
	const banner = root.children.find((n) => n.attrs && n.attrs.id == 'lanwatch-status');
	assert.ok(banner, 'the page has a status banner');
	const notes = banner.children.map(text);
	assert.equal(notes.length, 1);
	assert.match(notes[0], /clients\[2\]\.dns\.unique_domains_24h is missing/);
	assert.equal(banner.children[0].attrs['class'], 'alert-message warning');
});
