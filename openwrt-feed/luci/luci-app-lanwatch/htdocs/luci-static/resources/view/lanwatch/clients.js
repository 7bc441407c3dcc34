'use strict';
'require view';
'require poll';
'require rpc';
'require uci';
'require lanwatch.rows as rows';

// The clients lanwatch sees, refreshed by polling the router-side backend
// (ubus luci.lanwatch, which asks the daemon's JSON API); the browser never
// talks to the daemon itself. lanwatch/rows.js turns the documents into
// the table's rows.

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

// A row's cells and the notes are plain strings: they go into the page as
// text, never as markup (host names come from the clients themselves).
function textRows(rowList) {
	return rowList.map(function(row) {
		return row.map(function(cell) { return E('span', [ cell ]); });
	});
}

function noteNodes(notes) {
	return notes.map(function(note) {
		return E('p', { 'class': 'alert-message ' + note.level }, [ note.text ]);
	});
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
			E('tr', { 'class': 'tr table-titles' }, rows.columns().map(function(title) {
				return E('th', { 'class': 'th' }, [ title ]);
			}))
		]);
		var banner = E('div', { 'id': 'lanwatch-status' });
		var placeholder = E('em', [ _('No clients seen yet.') ]);

		function show(clients, health) {
			var page = rows.page(clients, health);
			cbi_update_table(table, textRows(page.rows), placeholder);
			banner.replaceChildren.apply(banner, noteNodes(page.notes));
		}

		show(data[0], data[1]);

		var interval = parseInt(uci.get('lanwatch', 'main', 'refresh'), 10);
		poll.add(function() {
			return Promise.all([callClients(), callHealth()]).then(function(next) {
				show(next[0], next[1]);
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
