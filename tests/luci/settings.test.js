'use strict';
// view/lanwatch/settings.js against a stub of LuCI's form API that records
// every option the page declares. Each must be an option of
// /etc/config/lanwatch: listed in the option table of docs/openwrt.md, and
// not an "unknown option" to `lanwatch check-config`.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, Class, loadClass, untranslated, lanwatchBin } = require('./harness.js');

// The access and state options, added to the page with the service's.
const ADDED = ['allow_scraper', 'web_config', 'web_user', 'web_password', 'state_file',
	'state_interval'];

// Not an option: check-config must call it unknown, or the check below
// could not see a wrong name.
const BOGUS = { cls: 'Value', name: 'no_such_lanwatch_option' };

// The form classes the page may use; each option records its class by name.
function formStub() {
	const declared = [];
	const tabs = [];
	const classes = {};
	for (const name of ['NamedSection', 'TypedSection', 'Flag', 'Value', 'DynamicList',
		'ListValue', 'MultiValue', 'TextValue', 'DummyValue'])
		classes[name] = { name };
	let map = null;
	const section = {
		tab: (name, title) => tabs.push({ name, title }),
		option: (cls, name, title, description) => declare(null, cls, name, title, description),
		taboption: (tab, cls, name, title, description) => declare(tab, cls, name, title, description),
	};
	function declare(tab, cls, name, title, description) {
		assert.ok(cls && typeof cls.name == 'string', `option ${name} has a known class`);
		if (tab !== null)
			assert.ok(tabs.some((t) => t.name == tab), `option ${name} is on a declared tab`);
		const option = {
			tab, cls: cls.name, name, title, description,
			value: function(v) { (this.values = this.values || []).push(v); },
			enabled: '1', disabled: '0',
		};
		declared.push(option);
		return option;
	}
	const form = Object.assign({}, classes, {
		Map: function(config, title, description) {
			map = { config, title, description, sections: [] };
			this.section = (cls, name, type) => {
				map.sections.push({ cls: cls.name, name, type });
				return section;
			};
			this.render = () => 'rendered';
		},
	});
	return { form, declared, tabs, map: () => map };
}

function render() {
	const stub = formStub();
	const widgets = { NetworkSelect: { name: 'NetworkSelect' }, DeviceSelect: { name: 'DeviceSelect' } };
	const { Class: View } = loadClass('view.lanwatch.settings', {
		view: Class.extend({}), form: stub.form, 'tools.widgets': widgets,
	}, untranslated);
	assert.equal(new View().render(), 'rendered');
	return stub;
}

// The option names of the table in docs/openwrt.md's configuration section.
function documentedOptions() {
	const doc = fs.readFileSync(path.join(ROOT, 'docs', 'openwrt.md'), 'utf8');
	const lines = doc.split('\n');
	const head = lines.findIndex((l) => /^\| option \| type \(default\) \| flag \| meaning \|$/.test(l));
	assert.ok(head >= 0, 'docs/openwrt.md has its option table');
	const names = [];
	for (const line of lines.slice(head + 2)) {
		if (!line.startsWith('|'))
			break;
		const first = line.split('|')[1];
		for (const m of first.matchAll(/`([a-z_]+)`/g))
			names.push(m[1]);
	}
	assert.ok(names.length > 20, `the table lists options (${names.length})`);
	return new Set(names);
}

// Options check-config calls unknown in a config that sets every one of
// `options` (values may be invalid: only unknown names matter here).
function unknownToCheckConfig(options) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanwatch-luci-'));
	try {
		const file = path.join(dir, 'lanwatch');
		const body = options.map((o) => `\t${o.cls == 'DynamicList' ? 'list' : 'option'} ${o.name} 'x'\n`);
		fs.writeFileSync(file, `config lanwatch 'main'\n${body.join('')}`);
		const run = spawnSync(lanwatchBin(), ['check-config', file], { encoding: 'utf8' });
		assert.equal(run.error, undefined);
		const out = run.stdout + run.stderr;
		assert.ok(/problem/.test(out), `check-config found the 'x' values wrong:\n${out}`);
		return new Set([...out.matchAll(/unknown option '([^']+)'/g)].map((m) => m[1]));
	}
	finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

test('the settings form is over /etc/config/lanwatch, section main of type lanwatch', () => {
	const { map } = render();
	assert.equal(map().config, 'lanwatch');
	assert.deepEqual(map().sections, [{ cls: 'NamedSection', name: 'main', type: 'lanwatch' }]);
});

test('every option the form declares is an option of /etc/config/lanwatch', () => {
	const { declared } = render();
	const names = declared.map((o) => o.name);
	assert.equal(new Set(names).size, names.length, 'no option is declared twice');

	const unknown = unknownToCheckConfig(declared.concat([BOGUS]));
	assert.ok(unknown.has(BOGUS.name), 'check-config reports an unknown option');
	for (const name of names)
		assert.ok(!unknown.has(name), `check-config knows option ${name}`);

	const documented = documentedOptions();
	for (const name of names)
		assert.ok(documented.has(name), `${name} is in the option table of docs/openwrt.md`);
});

test('the access options have the fields they need', () => {
	const { declared } = render();
	const by = (name) => declared.find((o) => o.name == name);
	assert.equal(by('allow_scraper').cls, 'DynamicList');
	for (const name of ['web_config', 'web_user', 'web_password', 'state_file', 'state_interval'])
		assert.equal(by(name).cls, 'Value', `${name} is a Value`);
	assert.equal(by('web_password').password, true, 'the password is not shown');
	for (const name of ADDED) {
		assert.equal(typeof by(name).title, 'string');
		assert.ok(typeof by(name).description == 'string' && by(name).description.length > 10,
			`${name} has a description`);
	}
});

test('the options that were there stay', () => {
	const names = new Set(render().declared.map((o) => o.name));
	for (const name of ['enabled', 'network', 'interface', 'promiscuous', 'snaplen', 'lan_prefix',
		'listen_interface', 'listen_address', 'listen_port', 'refresh', 'max_clients',
		'max_flows', 'protocols', 'router_mac', 'leases', 'exclude_mac', 'export_dns_names',
		'user', 'group', 'log_level'])
		assert.ok(names.has(name), name);
});
