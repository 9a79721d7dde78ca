// monitoring.js runs the monitoring module's live view (platform/monitoring, templates map.html and
// screen.html): it puts every device of the snapshot in #live-data on the page's Leaflet map
// (made by map.js) as a marker coloured by its level, keeps the legend's and the screen's counts,
// the open alarms and the latest alarms, and follows the live stream (server-sent events from
// data-stream: snapshot, device, alarm and heartbeat events) to recolour markers and add or remove
// alarm rows without reloading. EventSource reconnects by itself with the last event's id.
// Each marker's path carries data-device="<unit>/<code>" and data-level (critical, warning, info,
// online, offline): what the browser tests look at.
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root) return;
  var zh = root.dataset.lang !== 'en';
  var screen = root.dataset.view === 'screen';
  var COLORS = { critical: '#d92d20', warning: '#f79009', info: '#2e90fa', online: '#12b76a', offline: '#98a2b3' };
  var RANK = { info: 1, warning: 2, critical: 3 };

  function parse(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  var words = parse('live-words') || {};
  ['types', 'metrics', 'levels', 'kinds', 'severity', 'states', 'units', 'text'].forEach(function (k) { words[k] = words[k] || {}; });

  var devices = {}; // key: device
  var alarms = {}; // key: open alarm
  var markers = {}; // key: marker
  var map = null, group = null, filter = '', fitted = false;
  // extra counts the open alarms by severity that a snapshot counted but did not list (more than
  // it lists of a county); an unlisted one cleared later leaves it.
  var extra = {};

  function key(d) { return d.unit + '/' + d.code; }
  function when(s) {
    if (!s) return '—';
    return new Date(s).toLocaleString(zh ? 'zh-CN' : 'en', { timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function link(href, text) { var a = el('a', text); a.href = href; return a; }

  // The popup: the device's name, type, status and last seen, then its latest readings (read
  // from the API when the popup opens) and a link to its page.
  function popup(d) {
    var box = el('div', null, 'live-popup');
    box.appendChild(el('strong', d.name || d.code));
    var dl = el('dl');
    function row(k, v) { dl.appendChild(el('dt', k)); dl.appendChild(el('dd', v)); }
    row(words.text.status || 'Status', (words.levels[d.status] || d.status));
    if (d.alarm) row(words.text.alarm || 'Alarm', (words.levels[d.alarm] || d.alarm));
    row(words.text.last_seen || 'Last seen', when(d.last_seen));
    box.insertBefore(el('div', (words.types[d.type] || d.type) + (words.units[d.unit] && Object.keys(words.units).length > 1 ? ' · ' + words.units[d.unit] : '')), null);
    box.appendChild(dl);
    var latest = el('div', words.text.loading || '…', 'live-latest');
    box.appendChild(latest);
    box.appendChild(link(d.link, words.text.open_device || d.code));
    fetch('/api/v1/t/' + encodeURIComponent(d.unit) + '/monitoring/devices/' + encodeURIComponent(d.code), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (full) {
        latest.textContent = '';
        latest.appendChild(el('em', words.text.latest || ''));
        if (!full.latest || !full.latest.length) { latest.appendChild(el('div', words.text.no_latest || '—')); return; }
        var names = {};
        (words.metrics[d.type] || []).forEach(function (m) { names[m.code] = m.name; });
        full.latest.forEach(function (l) {
          latest.appendChild(el('div', (names[l.metric] || l.metric) + ': ' + l.value + (l.unit ? ' ' + l.unit : '') + ' · ' + when(l.at)));
        });
      })
      .catch(function () { latest.textContent = '—'; });
    return box;
  }

  function shown(d) { return !filter || d.type === filter; }

  function place(d) {
    if (!map) return;
    var k = key(d), m = markers[k];
    var style = { radius: d.alarm ? 9 : 7, color: '#fff', weight: 1.5, fillColor: COLORS[d.level] || '#98a2b3', fillOpacity: 0.95 };
    if (!m) {
      m = L.circleMarker([d.lat, d.lon], style);
      m.bindPopup(function () { return popup(devices[k] || d); });
      markers[k] = m;
    } else {
      m.setLatLng([d.lat, d.lon]);
      m.setStyle(style);
    }
    if (shown(d)) { if (!group.hasLayer(m)) group.addLayer(m); } else if (group.hasLayer(m)) { group.removeLayer(m); }
    var path = m.getElement && m.getElement();
    if (path) {
      path.setAttribute('data-device', k);
      path.setAttribute('data-level', d.level);
      path.setAttribute('data-type', d.type);
    }
    if (d.alarm && m.bringToFront && group.hasLayer(m)) m.bringToFront();
  }

  function setText(sel, v) { root.querySelectorAll(sel).forEach(function (e) { e.textContent = v; }); }

  // counts recomputes the legend, the screen's figures and the alarm list from the state.
  function counts() {
    var level = { critical: 0, warning: 0, info: 0, online: 0, offline: 0 }, types = {}, status = { online: 0, offline: 0, alarm: 0 }, sev = { critical: 0, warning: 0, info: 0 };
    var n = 0;
    Object.keys(devices).forEach(function (k) {
      var d = devices[k];
      n++;
      level[d.level] = (level[d.level] || 0) + 1;
      types[d.type] = (types[d.type] || 0) + 1;
      status[d.alarm ? 'alarm' : d.status]++;
    });
    Object.keys(alarms).forEach(function (k) { sev[alarms[k].severity] = (sev[alarms[k].severity] || 0) + 1; });
    Object.keys(extra).forEach(function (s) { sev[s] = (sev[s] || 0) + extra[s]; });
    Object.keys(level).forEach(function (l) { setText('.live-legend [data-count="' + l + '"]', level[l]); });
    ['online', 'offline', 'alarm'].forEach(function (s) { setText('.screen-kpis [data-count="' + s + '"]', status[s]); });
    Object.keys(sev).forEach(function (s) { setText('[data-sev="' + s + '"]', sev[s]); });
    setText('[data-k="devices"]', n);
    root.querySelectorAll('#live-types li[data-type]').forEach(function (li) {
      var s = li.querySelector('strong');
      if (s) s.textContent = types[li.dataset.type] || 0;
    });
  }

  function sorted() {
    return Object.keys(alarms).map(function (k) { return alarms[k]; }).sort(function (a, b) {
      return a.raised_at < b.raised_at ? 1 : a.raised_at > b.raised_at ? -1 : (a.key < b.key ? -1 : 1);
    });
  }

  // list redraws the alarm table (the map page) or the latest alarms (the screen).
  function list(fresh) {
    var rows = sorted();
    setText('[data-k="alarms"]', rows.length);
    var none = document.getElementById('live-no-alarms');
    if (none) none.hidden = rows.length > 0;
    var body = document.getElementById('live-alarms');
    if (body) {
      var units = body.dataset.units === 'true';
      body.textContent = '';
      rows.forEach(function (a) {
        var tr = el('tr');
        tr.dataset.alarm = a.key;
        tr.dataset.severity = a.severity;
        if (fresh && fresh[a.key]) tr.className = 'fresh';
        if (units) tr.appendChild(el('td', words.units[a.unit] || a.unit));
        var td = el('td');
        td.appendChild(link(a.device_link, a.device_name || a.device));
        tr.appendChild(td);
        tr.appendChild(el('td', words.kinds[a.kind] || a.kind));
        tr.appendChild(el('td', words.severity[a.severity] || a.severity, 'sev-' + a.severity));
        tr.appendChild(el('td', a.value == null ? '—' : String(a.value), 'num'));
        tr.appendChild(el('td', when(a.raised_at)));
        td = el('td');
        if (a.case_link) td.appendChild(link(a.case_link, words.text.open_case || a.case_id)); else td.textContent = '—';
        tr.appendChild(td);
        body.appendChild(tr);
      });
    }
    var latest = document.getElementById('live-latest');
    if (latest) {
      latest.textContent = '';
      rows.slice(0, 12).forEach(function (a) {
        var li = el('li', (a.device_name || a.device) + ' · ' + (words.kinds[a.kind] || a.kind) + ' · ' + when(a.raised_at), 'sev-' + a.severity);
        li.dataset.alarm = a.key;
        latest.appendChild(li);
      });
    }
  }

  var pending = null, freshKeys = {};
  function redraw() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; counts(); list(freshKeys); freshKeys = {}; }, 50);
  }

  function device(d) {
    devices[key(d)] = d;
    place(d);
  }
  function alarm(a) {
    if (a.open) { if (!alarms[a.key]) freshKeys[a.key] = true; alarms[a.key] = a; return; }
    if (alarms[a.key]) delete alarms[a.key];
    else if (extra[a.severity] > 0) extra[a.severity]--;
  }

  function snapshot(s) {
    devices = {}; alarms = {};
    if (group) group.clearLayers();
    markers = {};
    (s.devices || []).forEach(device);
    (s.alarms || []).forEach(alarm);
    extra = {};
    var listed = {};
    (s.alarms || []).forEach(function (a) { listed[a.severity] = (listed[a.severity] || 0) + 1; });
    Object.keys((s.counts && s.counts.severity) || {}).forEach(function (k) {
      var n = s.counts.severity[k] - (listed[k] || 0);
      if (n > 0) extra[k] = n;
    });
    freshKeys = {};
    if (map && !fitted && group.getLayers().length) {
      fitted = true;
      map.fitBounds(group.getBounds(), { maxZoom: 16, padding: [20, 20], animate: false });
    }
    redraw();
  }

  function start() {
    var mapEl = root.querySelector('div.map');
    map = mapEl && mapEl.cityopsMap;
    if (map && typeof L !== 'undefined') group = L.featureGroup().addTo(map);
    else map = null;
    var sel = document.getElementById('live-type');
    if (sel) sel.addEventListener('change', function () {
      filter = sel.value;
      Object.keys(devices).forEach(function (k) { place(devices[k]); });
    });
    var first = parse('live-data');
    if (first) snapshot(first);
    root.dataset.ready = 'true';
    var clock = root.querySelector('[data-k="clock"]');
    if (clock) {
      var tick = function () { clock.textContent = new Date().toLocaleString(zh ? 'zh-CN' : 'en', { hour12: false }); };
      tick();
      setInterval(tick, 1000);
    }
    if (!root.dataset.stream || typeof EventSource === 'undefined') return;
    var status = root.querySelector('[data-k="status"]');
    function live(on) {
      if (!status) return;
      status.textContent = on ? (words.text.live || '') : (words.text.reconnecting || '…');
      status.classList.toggle('off', !on);
    }
    function counted() { root.dataset.events = String((+root.dataset.events || 0) + 1); }
    var es = new EventSource(root.dataset.stream);
    es.addEventListener('snapshot', function (ev) { try { snapshot(JSON.parse(ev.data)); } catch (e) { return; } live(true); counted(); });
    es.addEventListener('device', function (ev) { try { device(JSON.parse(ev.data)); } catch (e) { return; } redraw(); live(true); counted(); });
    es.addEventListener('alarm', function (ev) { try { alarm(JSON.parse(ev.data)); } catch (e) { return; } redraw(); live(true); counted(); });
    es.addEventListener('heartbeat', function () { live(true); });
    es.onerror = function () { live(false); };
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
  if (screen) window.addEventListener('resize', function () { if (map) map.invalidateSize(); });
})();
