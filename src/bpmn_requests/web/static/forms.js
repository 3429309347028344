/* Camunda Forms in the browser: live `conditional.hide` and client-side rows of dynamic lists.
 * The server renders and validates everything; this script only makes the form react as the user types.
 * The FEEL subset mirrors src/bpmn_requests/forms/feel_syntax.py and feel.py (same tokens, precedence
 * and three-valued logic); an expression it cannot read leaves the server's decision in place. */
(function () {
  "use strict";

  // ---- FEEL: tokenizer -----------------------------------------------------------------------
  var TOKEN = /(\s+)|(\d+(?:\.\d+)?|\.\d+)|("(?:[^"\\\n]|\\.)*")|([\p{L}_][\p{L}\p{N}_?]*)|(!=|<=|>=|\.\.|\*\*|->|[=<>()[\],.+\-*/{}:'])/uy;
  var COMPARISONS = ["=", "!=", "<", "<=", ">", ">="];
  var ESCAPES = { '"': '"', "\\": "\\", n: "\n", r: "\r", t: "\t", "'": "'" };

  function tokenize(text) {
    var tokens = [], pos = 0, m;
    while (pos < text.length) {
      TOKEN.lastIndex = pos;
      m = TOKEN.exec(text);
      if (!m) { throw new Error("unexpected character at " + pos); }
      if (m[2] !== undefined) { tokens.push({ kind: "number", text: m[2] }); }
      else if (m[3] !== undefined) { tokens.push({ kind: "string", text: m[3] }); }
      else if (m[4] !== undefined) { tokens.push({ kind: "name", text: m[4] }); }
      else if (m[5] !== undefined) { tokens.push({ kind: "op", text: m[5] }); }
      pos = TOKEN.lastIndex;
    }
    tokens.push({ kind: "end", text: "" });
    return tokens;
  }

  function unescape(literal) {
    return literal.slice(1, -1).replace(/\\u([0-9a-fA-F]{4})|\\(.)/g, function (all, hex, ch) {
      return hex ? String.fromCharCode(parseInt(hex, 16)) : (ch in ESCAPES ? ESCAPES[ch] : ch);
    });
  }

  // ---- FEEL: parser (or < and < comparison/in < primary) ------------------------------------
  function parse(source) {
    var text = source.charAt(0) === "=" ? source.slice(1) : source;
    var tokens = tokenize(text), i = 0;
    function peek(ahead) { return tokens[Math.min(i + (ahead || 0), tokens.length - 1)]; }
    function take() { return tokens[i++]; }
    function at(kind, t) { var p = peek(); return p.kind === kind && p.text === t; }
    function expect(t) { if (!at("op", t)) { throw new Error("expected " + t); } return take(); }

    function disjunction() {
      var node = conjunction();
      while (at("name", "or")) { take(); node = { op: "or", left: node, right: conjunction() }; }
      return node;
    }
    function conjunction() {
      var node = comparison();
      while (at("name", "and")) { take(); node = { op: "and", left: node, right: comparison() }; }
      return node;
    }
    function comparison() {
      var left = primary(), token = peek(), node;
      if (token.kind === "op" && COMPARISONS.indexOf(token.text) >= 0) {
        take(); node = { op: token.text, left: left, right: primary() };
      } else if (at("name", "in")) {
        take(); node = { op: "in", left: left, right: inTarget() };
      } else {
        return left;
      }
      var follow = peek();
      if ((follow.kind === "op" && COMPARISONS.indexOf(follow.text) >= 0) || at("name", "in")) {
        throw new Error("chained comparison");
      }
      return node;
    }
    function inTarget() {
      if (!at("op", "(")) { return primary(); }
      take();
      var items = sequence(")");
      return items.length === 1 ? items[0] : { list: items };
    }
    function sequence(closer) {
      var items = [];
      while (!at("op", closer)) {
        items.push(disjunction());
        if (!at("op", closer)) { expect(","); }
      }
      take();
      return items;
    }
    function primary() {
      var token = take();
      if (token.kind === "number") { return { literal: Number(token.text) }; }
      if (token.kind === "string") { return { literal: unescape(token.text) }; }
      if (token.kind === "name") { return named(token); }
      if (token.text === "-" && peek().kind === "number") { return { literal: -Number(take().text) }; }
      if (token.text === "(") { var inner = disjunction(); expect(")"); return inner; }
      if (token.text === "[") { return { list: sequence("]") }; }
      throw new Error("unexpected " + (token.text || "end"));
    }
    function named(token) {
      var word = token.text;
      if (word === "true" || word === "false") { return { literal: word === "true" }; }
      if (word === "null") { return { literal: null }; }
      if (word === "not") {
        expect("("); var operand = disjunction(); expect(")");
        return { call: "not", args: [operand] };
      }
      if (word === "list" && at("name", "contains") && peek(1).text === "(") {
        take(); take();
        var items = disjunction(); expect(","); var needle = disjunction(); expect(")");
        return { call: "contains", args: [items, needle] };
      }
      if (["and", "or", "in", "for", "some", "every", "if", "then", "else", "function"].indexOf(word) >= 0 ||
          at("op", "(")) {
        throw new Error("unsupported " + word);
      }
      var names = [word];
      while (at("op", ".")) {
        take();
        var part = take();
        if (part.kind !== "name") { throw new Error("expected a property name"); }
        names.push(part.text);
      }
      return { path: names };
    }

    var tree = disjunction();
    if (peek().kind !== "end") { throw new Error("unexpected " + peek().text); }
    return tree;
  }

  // ---- FEEL: evaluation (null for "unknown", as FEEL does) ---------------------------------
  function kind(v) {
    if (v === null || v === undefined) { return "null"; }
    if (Array.isArray(v)) { return "list"; }
    return typeof v;
  }
  function allTrue(results) {
    if (results.every(function (r) { return r === true; })) { return true; }
    return results.some(function (r) { return r === false; }) ? false : null;
  }
  function equal(a, b) {
    var ka = kind(a), kb = kind(b);
    if (ka === "null" || kb === "null") { return ka === "null" && kb === "null"; }
    if (ka === "boolean" || kb === "boolean") { return ka === kb ? a === b : null; }
    if (ka === "list" && kb === "list") {
      return a.length === b.length ? allTrue(a.map(function (x, n) { return equal(x, b[n]); })) : false;
    }
    if (ka === "object" && kb === "object") {
      var keys = Object.keys(a);
      if (keys.length !== Object.keys(b).length || keys.some(function (k) { return !(k in b); })) { return false; }
      return allTrue(keys.map(function (k) { return equal(a[k], b[k]); }));
    }
    return ka === kb ? a === b : null;
  }
  function order(op, a, b) {
    var ka = kind(a);
    if (ka !== kind(b) || (ka !== "number" && ka !== "string")) { return null; }
    return { "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b }[op];
  }
  function member(needle, items) {
    var results = items.map(function (item) { return equal(needle, item); });
    if (results.some(function (r) { return r === true; })) { return true; }
    return results.every(function (r) { return r === false; }) ? false : null;
  }
  function logic(op, left, right) {
    var values = [left, right].map(function (v) { return typeof v === "boolean" ? v : null; });
    var decisive = op === "or";
    if (values.indexOf(decisive) >= 0) { return decisive; }
    return values.indexOf(null) >= 0 ? null : !decisive;
  }
  function lookup(env, names) {
    var value = env;
    for (var n = 0; n < names.length; n++) {
      if (kind(value) !== "object") { return null; }
      value = Object.prototype.hasOwnProperty.call(value, names[n]) ? value[names[n]] : null;
    }
    return value === undefined ? null : value;
  }
  function evaluate(node, env) {
    if ("literal" in node) { return node.literal; }
    if ("path" in node) { return lookup(env, node.path); }
    if ("list" in node) { return node.list.map(function (item) { return evaluate(item, env); }); }
    if ("call" in node) {
      if (node.call === "not") {
        var v = evaluate(node.args[0], env);
        return typeof v === "boolean" ? !v : null;
      }
      var target = evaluate(node.args[0], env);
      return Array.isArray(target) ? member(evaluate(node.args[1], env), target) : null;
    }
    var a = evaluate(node.left, env), b = evaluate(node.right, env);
    if (node.op === "and" || node.op === "or") { return logic(node.op, a, b); }
    if (node.op === "in") { return Array.isArray(b) ? member(a, b) : equal(a, b); }
    if (node.op === "=" || node.op === "!=") {
      var same = equal(a, b);
      return same === null || node.op === "=" ? same : !same;
    }
    return order(node.op, a, b);
  }

  // ---- the form's values, typed as the server types them -----------------------------------
  var PART = /([^.[\]]+)|\[(\d+)\]/g;
  function parts(name) {
    var out = [], m;
    PART.lastIndex = 0;
    while ((m = PART.exec(name)) !== null) { out.push(m[1] !== undefined ? m[1] : Number(m[2])); }
    return out;
  }
  function put(target, name, value) {
    var path = parts(name);
    for (var n = 0; n < path.length - 1; n++) {
      if (kind(target[path[n]]) !== "object") { target[path[n]] = {}; }
      target = target[path[n]];
    }
    target[path[path.length - 1]] = value;
  }
  function get(source, name) {
    var path = parts(name);
    for (var n = 0; n < path.length && kind(source) === "object"; n++) { source = source[path[n]]; }
    return source === undefined ? null : source;
  }
  function typed(input) {
    if (input.dataset.value !== undefined) {
      try { return JSON.parse(input.dataset.value); } catch (e) { return input.value; }
    }
    return input.value;
  }
  function valueOf(field, input, form) {
    var type = field.dataset.kind;
    if (type === "number") {
      var text = input.value.trim();
      return text === "" ? null : (isNaN(Number(text)) ? text : Number(text));
    }
    if (type === "checkbox") { return input.checked; }
    if (type === "radio") {
      var chosen = form.querySelector('input[name="' + CSS.escape(input.name) + '"]:checked:not(:disabled)');
      return chosen ? typed(chosen) : null;
    }
    if (type === "checklist") {
      return Array.prototype.map.call(
        form.querySelectorAll('input[name="' + CSS.escape(input.name) + '"]:checked:not(:disabled)'), typed);
    }
    if (type === "select" || type === "taglist") {
      var picked = Array.prototype.filter.call(input.options, function (o) { return o.selected && o.value !== ""; })
        .map(typed);
      return type === "taglist" ? picked : (picked.length ? picked[0] : null);
    }
    return input.value;
  }
  function values(form) {
    var out = {};  // disabled inputs (hidden fields) are not submitted, so they are not values either
    form.querySelectorAll("[data-kind] input[name], [data-kind] select[name], [data-kind] textarea[name]")
      .forEach(function (input) {
        if (!input.disabled) { put(out, input.name, valueOf(input.closest("[data-kind]"), input, form)); }
      });
    return out;
  }
  function merge(base, over) {
    var out = Object.assign({}, base);
    Object.keys(over).forEach(function (key) {
      out[key] = kind(out[key]) === "object" && kind(over[key]) === "object" ? merge(out[key], over[key]) : over[key];
    });
    return out;
  }
  function envFor(element, root, current) {
    var env = root, rows = [], row = element.parentElement && element.parentElement.closest("[data-row]");
    while (row) { rows.unshift(row.dataset.row); row = row.parentElement.closest("[data-row]"); }
    rows.forEach(function (path) {
      var entry = get(current, path);
      entry = kind(entry) === "object" ? entry : {};
      env = Object.assign({}, env, entry, { "this": entry });
    });
    return env;
  }

  // ---- applying the conditions -------------------------------------------------------------
  var compiled = new Map();
  function expression(source) {
    if (!compiled.has(source)) {
      try { compiled.set(source, parse(source)); }
      catch (error) { compiled.set(source, null); if (window.console) { console.warn("form condition", source, error); } }
    }
    return compiled.get(source);
  }
  function refresh(form, context) {
    for (var round = 0; round < 5; round++) {  // hiding a field removes its value, which may change others
      var current = values(form), root = merge(context, current), changed = false;
      form.querySelectorAll("[data-hide]").forEach(function (element) {
        var tree = expression(element.dataset.hide);
        if (tree === null) { return; }
        var hide = evaluate(tree, envFor(element, root, current)) === true;
        if (element.hidden !== hide) { element.hidden = hide; changed = true; }
      });
      form.querySelectorAll("[data-kind] input, [data-kind] select, [data-kind] textarea").forEach(function (input) {
        // Choices the form locks stay disabled; readonly text is shown and ignored by the server.
        var locked = input.dataset.locked === "true" && !input.hasAttribute("readonly");
        var disabled = locked || input.closest("[hidden]") !== null;
        if (input.disabled !== disabled) { input.disabled = disabled; changed = true; }
      });
      if (!changed) { return; }
    }
  }

  // ---- dynamic lists: rows added and removed in place ----------------------------------------
  function addRow(button, form, context) {
    var fieldset = button.closest("[data-kind=dynamiclist]");
    var list = fieldset.querySelector(":scope > .list-rows");
    var template = fieldset.querySelector(":scope > template");
    var index = Number(list.dataset.next || "0");
    var placeholder = list.dataset.placeholder;
    var row = template.content.firstElementChild.cloneNode(true);
    var attributes = ["name", "id", "for", "aria-describedby", "data-row", "value"];
    [row].concat(Array.prototype.slice.call(row.querySelectorAll("*"))).forEach(function (element) {
      attributes.forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value && value.indexOf(placeholder) >= 0) { element.setAttribute(attribute, value.split(placeholder).join(String(index))); }
      });
    });
    list.dataset.next = String(index + 1);
    list.appendChild(row);
    refresh(form, context);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  function enhance(form) {
    var holder = document.getElementById("form-context");
    var context = holder ? JSON.parse(holder.textContent || "{}") : {};
    form.querySelectorAll(".refresh").forEach(function (element) { element.hidden = true; });
    form.addEventListener("input", function () { refresh(form, context); });
    form.addEventListener("change", function () { refresh(form, context); });
    form.addEventListener("reset", function () { window.setTimeout(function () { refresh(form, context); }, 0); });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !form.contains(button)) { return; }
      if (button.name === "form-add-row") { event.preventDefault(); addRow(button, form, context); }
      if (button.name === "form-remove-row") {
        event.preventDefault();
        button.closest(".list-row").remove();
        refresh(form, context);
      }
    });
    refresh(form, context);
  }

  document.querySelectorAll("form[data-camunda-form]").forEach(enhance);
  window.bpmnFeel = { parse: parse, evaluate: evaluate };  // for tests and the console
})();
