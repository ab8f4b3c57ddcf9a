/* tornstack flame graph: builds the call tree from the embedded profile and
 * draws it as positioned elements, root at the bottom (or the top), with
 * zoom by click, search, and counts and percentages per frame.  Plain JS,
 * no network: everything it needs is in this file and the page's data. */
(function () {
  'use strict';
  var KIND_PY = 0, KIND_TASK = 1, KIND_THREAD = 2;
  var ROW = 18;          /* px per stack level */
  var MAX_NODES = 20000; /* drawn in full up to this many; above it, tiny ones are left out */

  var data = JSON.parse(document.getElementById('profile-data').textContent);
  var frames = data.frames; /* [display name, file, line, kind] */
  var $ = function (id) { return document.getElementById(id); };
  var fmt = function (n) { return n.toLocaleString('en-US'); };
  // A share in hundredths of a percent, rounded half up in integer arithmetic
  // (toFixed rounds a float, so an exact tie such as 897/2080 = 43.125% would
  // depend on how the division rounded): readers and tests get one answer.
  var pct = function (v, t) {
    if (!(t > 0)) return '0%';
    var h = Math.floor((v * 20000 + t) / (2 * t));
    var c = h % 100;
    return Math.floor(h / 100) + '.' + (c < 10 ? '0' : '') + c + '%';
  };

  /* --- the call tree: one node per distinct path from the root --- */
  function Node(frame, parent) {
    this.frame = frame; this.parent = parent; this.value = 0; this.self = 0;
    this.kids = new Map(); this.depth = parent ? parent.depth + 1 : 0;
  }
  var root = new Node(-1, null);
  var count = 1, maxDepth = 0, taskNames = new Set(), threads = new Set();
  data.stacks.forEach(function (s) {
    var n = root, c = s[0];
    n.value += c;
    for (var i = 1; i < s.length; i++) {
      var ch = n.kids.get(s[i]);
      if (!ch) { ch = new Node(s[i], n); n.kids.set(s[i], ch); count++; }
      ch.value += c;
      n = ch;
      var k = frames[s[i]][3];
      if (k === KIND_TASK) taskNames.add(s[i]);
      if (k === KIND_THREAD) threads.add(s[i]);
    }
    if (n.depth > maxDepth) maxDepth = n.depth;
    n.self += c;
  });

  function label(n) { return n.frame < 0 ? 'all' : frames[n.frame][0]; }
  function where(n) {
    if (n.frame < 0) return '';
    var f = frames[n.frame];
    return f[3] === KIND_PY ? f[1] + ':' + (f[2] >= 0 ? f[2] : '?') : '';
  }
  function kindClass(n) {
    if (n.frame < 0) return 'root';
    return ['py', 'task', 'thread'][frames[n.frame][3]] || 'py';
  }
  function hue(name) { /* a stable warm colour per name */
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return 'hsl(' + (8 + h % 42) + ',' + (72 + (h >> 8) % 20) + '%,' + (58 + (h >> 16) % 12) + '%)';
  }

  /* --- header --- */
  document.title = data.title;
  $('title').textContent = data.title;
  var parts = [fmt(data.total) + ' stacks'];
  if (data.samples > 0) parts.unshift(fmt(data.samples) + ' samples');
  parts.push(threads.size + (threads.size === 1 ? ' thread' : ' threads'));
  parts.push(taskNames.size + ' Task frames');
  if (data.rate > 0) parts.push(data.rate + ' Hz for ' + data.duration.toFixed(1) + ' s');
  $('summary').textContent = parts.join(' \u00b7 ');

  /* --- drawing --- */
  var flame = $('flame'), zoomed = root, inverted = false, query = null, nodeOf = [];

  function describe(n) {
    var text = label(n) + (where(n) ? '  (' + where(n) + ')' : '');
    text += '\n' + fmt(n.value) + ' stacks, ' + pct(n.value, root.value) + ' of all';
    if (zoomed !== root) text += ', ' + pct(n.value, zoomed.value) + ' of ' + label(zoomed);
    text += ' \u00b7 self ' + fmt(n.self) + ' (' + pct(n.self, root.value) + ')';
    return text;
  }

  function matches(n) {
    if (!query || n.frame < 0) return false;
    var f = frames[n.frame];
    return query.test(f[0]) || (f[3] === KIND_PY && query.test(f[1]));
  }

  function box(n, left, width, cls) {
    var el = document.createElement('div');
    el.className = 'f ' + kindClass(n) + (cls ? ' ' + cls : '');
    if (n.frame >= 0 && frames[n.frame][3] === KIND_PY) el.style.background = hue(label(n));
    if (matches(n)) el.className += ' match';
    el.style.left = left + '%';
    el.style.width = width + '%';
    var row = n.depth;
    el.style.top = (inverted ? row * ROW : (maxDepth - row) * ROW) + 'px';
    el.textContent = label(n);
    el.title = describe(n);
    el.dataset.node = String(nodeOf.length);
    nodeOf.push(n);
    return el;
  }

  function render() {
    var frag = document.createDocumentFragment(), drawn = 0, left_out = 0;
    var big = countBelow(zoomed) > MAX_NODES, minShare = big ? 0.0005 : 0;
    nodeOf = [];
    flame.style.height = ((maxDepth + 1) * ROW) + 'px';
    /* the zoomed node's ancestors, full width */
    for (var a = zoomed.parent; a; a = a.parent) frag.appendChild(box(a, 0, 100, 'ancestor'));
    /* the zoomed node and everything under it, in proportion */
    var todo = [[zoomed, 0]];
    while (todo.length) {
      var item = todo.pop(), n = item[0], x = item[1];
      var share = n.value / zoomed.value;
      if (n !== zoomed && share < minShare) { left_out++; continue; }
      frag.appendChild(box(n, 100 * x, 100 * share));
      drawn++;
      var kx = x;
      /* children in a stable order: by name, then by frame id */
      sortedKids(n).forEach(function (k) {
        todo.push([k, kx]);
        kx += k.value / zoomed.value;
      });
    }
    flame.replaceChildren(frag);
    $('notice').textContent = left_out ? left_out + ' frames narrower than 0.05% are not drawn; ' +
      'click a frame to zoom in.' : '';
    $('reset').disabled = zoomed === root;
    updateMatch();
    return drawn;
  }

  function sortedKids(n) {
    return Array.from(n.kids.values()).sort(function (a, b) {
      var la = label(a), lb = label(b);
      return la < lb ? -1 : la > lb ? 1 : a.frame - b.frame;
    });
  }

  function countBelow(n) {
    var c = 0, todo = [n];
    while (todo.length) { var m = todo.pop(); c++; m.kids.forEach(function (k) { todo.push(k); }); }
    return c;
  }

  /* samples under matching frames, each counted once (not again under a
   * matching ancestor) */
  function updateMatch() {
    if (!query) { $('match').textContent = ''; return; }
    var total = 0, todo = [zoomed];
    while (todo.length) {
      var n = todo.pop();
      if (matches(n)) { total += n.value; continue; }
      n.kids.forEach(function (k) { todo.push(k); });
    }
    $('match').textContent = 'matched ' + fmt(total) + ' stacks (' + pct(total, zoomed.value) +
      (zoomed === root ? '' : ' of the zoomed frame') + ')';
  }

  flame.addEventListener('click', function (e) {
    var el = e.target.closest('.f');
    if (!el) return;
    var n = nodeOf[+el.dataset.node];
    zoomed = n === zoomed && n.parent ? n.parent : n;
    render();
  });
  flame.addEventListener('mousemove', function (e) {
    var el = e.target.closest('.f');
    if (el) $('details').textContent = describe(nodeOf[+el.dataset.node]);
  });
  $('reset').addEventListener('click', function () { zoomed = root; render(); });
  $('invert').addEventListener('change', function (e) { inverted = e.target.checked; render(); });
  $('search').addEventListener('input', function (e) {
    var q = e.target.value;
    if (!q) query = null;
    else {
      try { query = new RegExp(q, 'i'); }
      catch (err) { query = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'); }
    }
    render();
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { zoomed = root; $('search').value = ''; query = null; render(); }
  });

  /* --- the frames table: total (a frame counted once per stack) and self --- */
  function table() {
    var total = new Map(), self = new Map();
    data.stacks.forEach(function (s) {
      var seen = new Set();
      for (var i = 1; i < s.length; i++) {
        if (!seen.has(s[i])) { seen.add(s[i]); total.set(s[i], (total.get(s[i]) || 0) + s[0]); }
      }
      if (s.length > 1) self.set(s[s.length - 1], (self.get(s[s.length - 1]) || 0) + s[0]);
    });
    var ids = Array.from(total.keys()).sort(function (a, b) { return total.get(b) - total.get(a) || a - b; });
    var LIMIT = 500, body = $('frames').tBodies[0], frag = document.createDocumentFragment();
    ids.slice(0, LIMIT).forEach(function (id) {
      var f = frames[id], tr = document.createElement('tr');
      if (f[3] === KIND_TASK) tr.className = 'task';
      var cells = [f[0], f[3] === KIND_PY ? f[1] + ':' + (f[2] >= 0 ? f[2] : '?') : '',
                   fmt(total.get(id)), pct(total.get(id), data.total),
                   fmt(self.get(id) || 0), pct(self.get(id) || 0, data.total)];
      cells.forEach(function (c, i) {
        var td = document.createElement('td');
        td.textContent = c;
        if (i >= 2) td.className = 'n';
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () {
        var q = f[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        $('search').value = q;
        query = new RegExp('^' + q + '$', 'i');
        render();
        window.scrollTo(0, 0);
      });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    if (ids.length > LIMIT) $('frames-note').textContent = (ids.length - LIMIT) + ' more frames not listed.';
  }

  function skips() {
    var out = [];
    [['stacks', 'stacks skipped'], ['tasks', 'Tasks skipped'], ['threads', 'threads skipped']].forEach(function (k) {
      var m = data.skips[k[0]], keys = Object.keys(m);
      if (keys.length) out.push(k[1] + ': ' + keys.map(function (r) { return r + ' ' + fmt(m[r]); }).join(', '));
    });
    $('skips').textContent = out.length ? out.join(' \u00b7 ') : 'Nothing was skipped.';
  }

  /* a link may carry a search: page.html#search=REGEX */
  var hash = decodeURIComponent(location.hash || '');
  if (hash.indexOf('#search=') === 0) {
    $('search').value = hash.slice(8);
    $('search').dispatchEvent(new Event('input'));
  } else {
    render();
  }
  table();
  skips();
  document.body.dataset.rendered = String(count);
})();
