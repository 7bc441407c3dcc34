'use strict';
// Runs in headless Chromium (tests/luci/chromium.test.js writes the page):
// a minimal LuCI in a real browser — the class loader's contract, E() with
// LuCI's dom.create rules (a string child is markup, an array's strings are
// text), cbi_update_table — and stubs of rpc, poll and uci answering with
// the documents embedded in the page. It renders the clients page into the
// body and marks the body data-done (or data-error) when finished.

(function() {
	var input = JSON.parse(document.getElementById('input').textContent);

	function Class() {}
	Class.extend = function(properties) {
		var Parent = this;
		var Child = function() {
			if (typeof this.__init__ == 'function')
				this.__init__.apply(this, arguments);
		};
		Child.prototype = Object.create(Parent.prototype);
		Object.keys(properties).forEach(function(k) { Child.prototype[k] = properties[k]; });
		Child.prototype.constructor = Child;
		Child.extend = Class.extend;
		return Child;
	};

	function isNode(x) {
		return x != null && typeof x == 'object' && 'nodeType' in x;
	}

	function append(node, children) {
		if (Array.isArray(children))
			children.forEach(function(c) {
				node.appendChild(isNode(c) ? c : document.createTextNode(String(c)));
			});
		else if (isNode(children))
			node.appendChild(children);
		else if (children != null)
			node.innerHTML = String(children);
	}

	window.E = function(tag, attrs, children) {
		if (attrs == null || typeof attrs != 'object' || Array.isArray(attrs) || isNode(attrs)) {
			children = attrs;
			attrs = {};
		}
		var node = document.createElement(tag);
		Object.keys(attrs).forEach(function(k) {
			if (attrs[k] != null)
				node.setAttribute(k, attrs[k]);
		});
		append(node, children);
		return node;
	};

	window.cbi_update_table = function(table, rows, placeholder) {
		while (table.children.length > 1)
			table.removeChild(table.lastChild);
		rows.forEach(function(row) {
			table.appendChild(E('tr', { 'class': 'tr' }, row.map(function(cell) {
				return E('td', { 'class': 'td' }, cell);
			})));
		});
		if (!rows.length)
			table.appendChild(E('tr', { 'class': 'tr placeholder' }, [ E('td', { 'class': 'td' }, [ placeholder ]) ]));
	};

	window._ = function(s) { return s; };
	window.N_ = function(n, s, p) { return (n == 1) ? s : p; };

	var classes = {
		baseclass: Class,
		view: Class.extend({}),
		poll: { add: function() {} },
		uci: { load: function() { return Promise.resolve(); }, get: function() { return null; } },
		rpc: {
			declare: function(spec) {
				return function() { return Promise.resolve(input[spec.method]); };
			}
		}
	};

	// luci.js's contract: leading 'require X [as Y]' literals, the source as
	// the body of function(window, document, L, deps...), a class returned.
	function load(name) {
		if (classes[name])
			return classes[name];
		var source = input.sources[name];
		var re = /^\s*(?:\/\/[^\n]*\n\s*)*(['"])(use strict|require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?)\1;?/;
		var names = [], deps = [], rest = source, m;
		while ((m = re.exec(rest)) !== null) {
			if (m[3]) {
				names.push(m[4] || m[3].replace(/[^a-zA-Z0-9_]/g, '_'));
				deps.push(load(m[3]));
			}
			rest = rest.substr(m[0].length);
		}
		var factory = (0, eval)('(function(window, document, L' +
			names.map(function(n) { return ', ' + n; }).join('') + ') { ' + source + '\n})');
		var C = factory.apply(factory, [ window, document, { env: {} } ].concat(deps));
		if (typeof C != 'function' || !(C.prototype instanceof Class))
			throw new TypeError(name + ' factory yields invalid constructor');
		classes[name] = (name.indexOf('view.') == 0) ? C : new C();
		return classes[name];
	}

	try {
		var View = load('view.lanwatch.clients');
		var page = new View();
		Promise.resolve(page.load()).then(function(data) {
			document.body.appendChild(page.render(data));
			document.body.setAttribute('data-done', '1');
		}).catch(function(e) {
			document.body.setAttribute('data-error', String(e && e.stack || e));
		});
	}
	catch (e) {
		document.body.setAttribute('data-error', String(e && e.stack || e));
	}
})();
