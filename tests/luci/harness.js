'use strict';
// Loads luci-app-lanwatch's class files the way LuCI's luci.js does, without
// a browser: the file's leading string literals name its dependencies
// ('require a.b' or 'require a.b as name', read until the first literal that
// is neither that nor 'use strict'), the source becomes the body of
// `function(window, document, L, <dependencies>)`, the function must return a
// subclass of baseclass, and what a `require` yields is an instance of it.
//
// The source is evaluated in a fresh V8 context whose globals are only what
// the caller passes (LuCI's `_`, `N_`, `E`, ...): anything else a file
// touches (the DOM, LuCI's String.prototype.format) is a ReferenceError or
// TypeError in the test.

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const RESOURCES = path.join(ROOT, 'openwrt-feed', 'luci', 'luci-app-lanwatch',
	'htdocs', 'luci-static', 'resources');

// LuCI's class system, as far as the files use it: extend() with a
// prototype chain, __init__ as the constructor, isSubclass().
function Class() {}
Class.extend = function(properties) {
	const Parent = this;
	const Child = function(...args) {
		if (!(this instanceof Child))
			throw new TypeError('Constructor must not be called without "new"');
		if (typeof this.__init__ == 'function')
			this.__init__(...args);
	};
	Child.prototype = Object.create(Parent.prototype);
	for (const key of Object.keys(properties))
		Child.prototype[key] = properties[key];
	Child.prototype.constructor = Child;
	Object.assign(Child, Parent);
	Child.extend = Class.extend;
	return Child;
};
Class.isSubclass = function(c) {
	return typeof c == 'function' && c.prototype instanceof Class;
};

// The 'require ...' statements at the top of `source`, as LuCI finds them.
function requires(source) {
	const requireMatch = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/;
	const strictMatch = /^use[ \t]+strict$/;
	const found = [];
	let quote = -1, start = -1, escaped = false;
	for (let i = 0; i < source.length; i++) {
		const chr = source.charCodeAt(i);
		if (escaped) {
			escaped = false;
		}
		else if (chr == 92) {
			escaped = true;
		}
		else if (chr == quote) {
			const literal = source.substring(start, i);
			const m = requireMatch.exec(literal);
			if (m)
				found.push({ name: m[1], as: m[2] || m[1].replace(/[^a-zA-Z0-9_]/g, '_') });
			else if (!strictMatch.exec(literal))
				break;
			quote = -1;
		}
		else if (quote == -1 && (chr == 34 || chr == 39)) {
			start = i + 1;
			quote = chr;
		}
	}
	return found;
}

// The class `name` ('view.lanwatch.clients') declares, evaluated with
// `deps` (name → what that require yields) and `globals` as the only
// globals. Returns { Class, requires }.
function loadClass(name, deps, globals) {
	const file = path.join(RESOURCES, name.replace(/\./g, '/') + '.js');
	const source = fs.readFileSync(file, 'utf8');
	const wanted = requires(source);
	const args = wanted.map((r) => {
		if (!(r.name in deps))
			throw new Error(`${name} requires '${r.name}', which the test does not provide`);
		return deps[r.name];
	});
	const context = vm.createContext(Object.assign({}, globals));
	const factory = vm.runInContext(
		`(function(window, document, L${wanted.map((r) => ', ' + r.as).join('')}) { ${source}\n})`,
		context, { filename: file });
	const L = { env: {} };
	const result = factory.apply(factory, [undefined, undefined, L, ...args]);
	if (!Class.isSubclass(result))
		throw new TypeError(`"${name}" factory yields invalid constructor`);
	return { Class: result, requires: wanted.map((r) => r.name) };
}

// What `'require name'` yields: an instance of the class.
function requireClass(name, deps, globals) {
	const C = loadClass(name, deps, globals).Class;
	return new C();
}

// LuCI's translation functions without a catalogue.
const untranslated = {
	_: (s) => s,
	N_: (n, singular, plural) => (n == 1 ? singular : plural),
};

// The lanwatch binary the tests run: LANWATCH_BIN (set by tests/luci_views.rs
// to cargo's build), else the debug build.
function lanwatchBin() {
	const bin = process.env.LANWATCH_BIN || path.join(ROOT, 'target', 'debug', 'lanwatch');
	if (!fs.existsSync(bin))
		throw new Error(`no lanwatch binary at ${bin}: run cargo build, or set LANWATCH_BIN`);
	return bin;
}

// `lanwatch replay --format json CAPTURE` (a path below the repository),
// parsed: { clients, health }.
function replayJson(capture) {
	const file = path.join(ROOT, capture);
	if (!fs.existsSync(file))
		throw new Error(`capture ${capture} is missing`);
	const out = execFileSync(lanwatchBin(), ['replay', '--format', 'json', file],
		{ encoding: 'utf8', maxBuffer: 64 << 20 });
	return JSON.parse(out);
}

module.exports = {
	ROOT, RESOURCES, Class, requires, loadClass, requireClass, untranslated,
	lanwatchBin, replayJson,
};
