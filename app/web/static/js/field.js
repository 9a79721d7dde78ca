// 城管通 (templates/field.html): the inspector's phone workspace. What the inspector files — a
// report with its photos and the position taken when it was filed, a 核实 or 核查, a batch of
// patrol track points — goes first into an outbox in IndexedDB, each with a key made here (a
// UUID, sent as Idempotency-Key), and is sent from there: at once when there is signal, else
// when the browser says it is back online (the online event), when the page is opened again and
// every 30 s. The server makes one case (one action, one batch) per key, so sending again after
// a lost answer never doubles anything. An item the server refuses (4xx) is kept, marked, for
// the inspector to see; one that could not be sent (no signal, 5xx) waits for the next try.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('f-config').textContent);
  var DB = 'cityops-field', OUT = 'outbox';
  var sending = false;

  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // IndexedDB, promised.
  var dbp = new Promise(function (ok, fail) {
    var r = indexedDB.open(DB, 1);
    r.onupgradeneeded = function () { r.result.createObjectStore(OUT, { keyPath: 'key' }); };
    r.onsuccess = function () { ok(r.result); };
    r.onerror = function () { fail(r.error); };
  });
  function tx(mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (ok, fail) {
        var t = db.transaction(OUT, mode), st = t.objectStore(OUT), res;
        res = fn(st);
        t.oncomplete = function () { ok(res && res.result !== undefined ? res.result : res); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function all() { return tx('readonly', function (st) { return st.getAll(); }); }
  function put(item) { return tx('readwrite', function (st) { st.put(item); }); }
  function del(key) { return tx('readwrite', function (st) { st['delete'](key); }); }

  // The outbox's state on the page: the banner, the list under "My reports", the queue count
  // (window.cityopsField is read by the browser tests too).
  var field = window.cityopsField = { pending: 0, failed: 0, sent: 0, lastError: '' };
  function fmt(s, vals) { return s.replace(/\{(\w+)\}/g, function (_, k) { return vals[k]; }); }
  function show() {
    return all().then(function (items) {
      var pending = items.filter(function (i) { return !i.error; });
      var failed = items.filter(function (i) { return i.error; });
      field.pending = pending.length; field.failed = failed.length;
      var q = document.getElementById('f-queue');
      var parts = [];
      if (pending.length) parts.push(fmt(q.dataset.text, { n: pending.length }));
      if (failed.length) parts.push(fmt(q.dataset.failed, { n: failed.length }));
      q.textContent = parts.join(' · ');
      q.hidden = parts.length === 0;
      var ul = document.getElementById('f-outbox');
      ul.textContent = '';
      items.filter(function (i) { return i.kind === 'report'; }).forEach(function (i) {
        var li = document.createElement('li');
        li.textContent = ul.dataset.pending + ' · ' + (i.label || '') + (i.error ? ' · ' + i.error : '');
        if (i.error) li.className = 'failed';
        ul.appendChild(li);
      });
    });
  }

  function online(on) {
    var n = document.getElementById('f-net');
    n.textContent = on ? n.dataset.up : n.dataset.down;
    n.classList.toggle('off', !on);
  }

  // send sends one item; it resolves true when the item is done with (sent, or refused for good).
  function send(item) {
    var headers = { 'Idempotency-Key': item.key, 'X-CSRF-Token': cfg.csrf, Accept: 'application/json' };
    var body;
    if (item.kind === 'report') {
      body = new FormData();
      body.append('report', JSON.stringify(item.report));
      (item.photos || []).forEach(function (p, i) { body.append('photo', p, p.name || ('photo-' + i + '.jpg')); });
    } else {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(item.body);
    }
    return fetch(cfg.api + item.path, { method: 'POST', credentials: 'same-origin', headers: headers, body: body })
      .then(function (r) {
        if (r.ok) { field.sent++; return del(item.key).then(function () { return true; }); }
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          return r.json().catch(function () { return {}; }).then(function (p) {
            item.error = p.detail || p.title || String(r.status);
            field.lastError = item.error;
            return put(item).then(function () { return true; });
          });
        }
        return false; // the server is unwell: later
      });
  }

  // flush sends what waits, oldest first; it stops at the first item that could not be sent.
  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return all().then(function (items) {
      items = items.filter(function (i) { return !i.error; }).sort(function (a, b) { return a.at - b.at; });
      var chain = Promise.resolve(true);
      items.forEach(function (i) {
        chain = chain.then(function (go) { return go ? send(i) : false; });
      });
      return chain;
    }).then(function () { online(true); }, function () { online(false); })
      .then(function () { sending = false; return show(); }, function () { sending = false; });
  }
  field.flush = flush;

  function enqueue(item) {
    item.key = item.key || uuid();
    item.at = Date.now();
    return put(item).then(show).then(function () { if (navigator.onLine) flush(); });
  }

  // Tabs.
  document.querySelectorAll('[data-tab]').forEach(function (b) {
    b.addEventListener('click', function () {
      document.querySelectorAll('[data-panel]').forEach(function (p) { p.hidden = p.id !== b.dataset.tab; });
      document.querySelectorAll('[data-tab]').forEach(function (x) {
        if (x === b) x.setAttribute('aria-current', 'page'); else x.removeAttribute('aria-current');
      });
      if (b.dataset.tab === 'report') locate();
      window.scrollTo(0, 0);
    });
  });

  // The position for a report: taken when the form opens, again on demand.
  // While the form is open the position is watched, so the fix follows the inspector's steps.
  var fix = null, formWatch = null;
  function setFix(p) {
    fix = { lat: p.coords.latitude, lon: p.coords.longitude, acc: Math.round(p.coords.accuracy || 0), at: Date.now() };
    document.getElementById('f-lat').value = fix.lat.toFixed(6);
    document.getElementById('f-lon').value = fix.lon.toFixed(6);
    var s = document.getElementById('f-pos');
    s.textContent = fmt(s.dataset.fix, { lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: fix.acc });
  }
  function geoError(e) { field.geoError = e.message || String(e.code); }
  function locate() {
    if (!navigator.geolocation) return;
    if (formWatch === null) formWatch = navigator.geolocation.watchPosition(setFix, geoError, { enableHighAccuracy: true, maximumAge: 0 });
    navigator.geolocation.getCurrentPosition(setFix, geoError, { enableHighAccuracy: true, timeout: 15000, maximumAge: 5000 });
  }
  document.getElementById('f-locate').addEventListener('click', locate);

  document.getElementById('f-report').addEventListener('submit', function (e) {
    e.preventDefault();
    var err = document.getElementById('f-error');
    var cls = document.getElementById('f-class').value;
    err.hidden = true;
    if (!cls) { err.textContent = err.dataset['class']; err.hidden = false; return; }
    if (!fix) { err.textContent = err.dataset.gps; err.hidden = false; locate(); return; }
    var kc = cls.split('/');
    var desc = document.getElementById('f-desc').value.trim();
    var addr = document.getElementById('f-addr').value.trim();
    var files = Array.prototype.slice.call(document.getElementById('f-photo').files || []);
    // Blobs keep in IndexedDB; a File's name is kept beside it.
    var photos = files.map(function (f) { return new File([f], f.name, { type: f.type }); });
    var opt = document.getElementById('f-class').selectedOptions[0];
    enqueue({
      kind: 'report', path: '/field/reports', photos: photos, label: (opt ? opt.textContent : cls) + (addr ? ' · ' + addr : ''),
      report: { source: 'inspector', kind: kc[0], class_code: kc[1], description: desc, address: addr, lon: fix.lon, lat: fix.lat }
    }).then(function () {
      e.target.reset();
      var st = document.getElementById('f-status');
      st.textContent = st.dataset.queued; st.hidden = false;
      setTimeout(function () { st.hidden = true; }, 4000);
      locate();
    });
  });

  // 核实 and 核查 of the tasks.
  document.querySelectorAll('.f-task [data-do]').forEach(function (b) {
    b.addEventListener('click', function () {
      var art = b.closest('.f-task');
      var note = art.querySelector('.f-note').value.trim();
      var body = { version: parseInt(art.dataset.version, 10), reason: note };
      if (b.dataset.do === 'check') body.passed = b.dataset.passed === 'true';
      enqueue({ kind: 'action', path: '/field/cases/' + art.dataset['case'] + '/actions/' + b.dataset.do, body: body }).then(function () {
        art.querySelectorAll('button').forEach(function (x) { x.disabled = true; });
        art.querySelector('.f-done').hidden = false;
      });
    });
  });

  // Patrol track: while on duty, a position every 30 s or 20 m, sent in batches of up to 20
  // points or every 2 minutes; going off duty sends what is left.
  // The points not yet batched are kept in localStorage too, so closing or reloading the page
  // loses none of them.
  var TRACK = 'cityops-field-track';
  var duty = document.getElementById('f-duty'), watch = null, buf = [], last = null, lastSent = Date.now();
  try { buf = JSON.parse(localStorage.getItem(TRACK) || '[]') || []; } catch (e) { buf = []; }
  function keep() { localStorage.setItem(TRACK, JSON.stringify(buf)); }
  function meters(a, b) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function batch() {
    if (!buf.length) return Promise.resolve();
    var pts = buf; buf = []; keep(); lastSent = Date.now();
    return enqueue({ kind: 'track', path: '/field/tracks', body: { points: pts } });
  }
  function record(p) {
    var pt = { at: new Date(p.timestamp || Date.now()).toISOString(), lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy || 0 };
    if (last && (Date.parse(pt.at) - Date.parse(last.at)) < 30000 && meters(last, pt) < 20) return;
    last = pt; buf.push(pt); keep();
    document.getElementById('f-track').textContent = pt.lat.toFixed(5) + ', ' + pt.lon.toFixed(5);
    if (buf.length >= 20 || Date.now() - lastSent > 120000) batch();
  }
  function setDuty(on) {
    duty.checked = on;
    localStorage.setItem('cityops-field-duty', on ? '1' : '');
    var t = document.getElementById('f-duty-text');
    t.textContent = on ? t.dataset.yes : t.dataset.no;
    duty.parentNode.parentNode.classList.toggle('on', on);
    if (on && watch === null && navigator.geolocation) {
      watch = navigator.geolocation.watchPosition(record, function () {}, { enableHighAccuracy: true, maximumAge: 5000 });
    }
    if (!on) {
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      watch = null; last = null;
      batch();
    }
  }
  duty.addEventListener('change', function () { setDuty(duty.checked); });
  field.sendTrack = batch;
  setInterval(function () { if (buf.length && Date.now() - lastSent > 120000) batch(); }, 15000);

  window.addEventListener('online', function () { online(true); flush(); });
  window.addEventListener('offline', function () { online(false); });
  setInterval(function () { if (navigator.onLine) flush(); }, 30000);
  online(navigator.onLine);
  if (localStorage.getItem('cityops-field-duty')) setDuty(true);
  show().then(function () { if (navigator.onLine) flush(); });

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(cfg.sw, { scope: cfg.scope }).then(function (r) { field.sw = r.scope; }, function (e) { field.swError = String(e); });
  }
})();
