// screen.js runs the command centre's big screen (platform/evaluation, templates/screen.html):
// it draws the figures the server put in #screen-data, then follows the live stream
// (server-sent events from data-stream) and redraws on every update. EventSource reconnects by
// itself when the stream ends or the network drops; the status says so meanwhile.
(function () {
  'use strict';
  var root = document.getElementById('screen');
  if (!root || typeof echarts === 'undefined') return;
  var zh = root.dataset.lang !== 'en';
  var states = {};
  try { states = JSON.parse(document.getElementById('screen-states').textContent) || {}; } catch (e) {}
  var charts = {};
  function chart(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (!charts[id]) charts[id] = echarts.init(el, 'dark', { renderer: 'svg' });
    return charts[id];
  }
  function set(k, v) {
    root.querySelectorAll('[data-k="' + k + '"]').forEach(function (el) { el.textContent = v; });
  }
  function bars(id, rows) {
    var c = chart(id);
    if (!c) return;
    rows = (rows || []).slice().reverse();
    c.setOption({
      backgroundColor: 'transparent', grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', max: 100 }, yAxis: { type: 'category', data: rows.map(function (r) { return r.name; }) },
      series: [{ type: 'bar', data: rows.map(function (r) { return r.value; }), label: { show: true, position: 'right' } }]
    }, true);
  }
  function draw(d) {
    set('reported_today', d.reported_today);
    set('closed_today', d.closed_today);
    set('open_now', d.open_now);
    set('overdue_now', d.overdue_now);
    set('month_reported', d.month.reported);
    set('month_on_time', d.month.filed ? (100 * d.month.closed_on_time / d.month.filed).toFixed(1) + '%' : '—');
    var days = Object.keys(d.series || {}).sort();
    var trend = chart('screen-trend');
    if (trend) trend.setOption({
      backgroundColor: 'transparent', grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: days.map(function (k) { return k.slice(5); }) }, yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'line', smooth: true, areaStyle: {}, data: days.map(function (k) { return d.series[k]; }) }]
    }, true);
    var map = chart('screen-map');
    if (map) map.setOption({
      backgroundColor: 'transparent', grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', scale: true, axisLabel: { show: false }, splitLine: { lineStyle: { opacity: .15 } } },
      yAxis: { type: 'value', scale: true, axisLabel: { show: false }, splitLine: { lineStyle: { opacity: .15 } } },
      tooltip: { formatter: function (p) { return p.data[2]; } },
      series: [{ type: 'scatter', symbolSize: 14, data: (d.recent || []).map(function (c) { return [c.lon, c.lat, c.number + ' ' + (states[c.state] || c.state)]; }) }]
    }, true);
    bars('screen-ranking', d.ranking);
    bars('screen-grids', d.grids);
    var list = document.getElementById('screen-recent');
    if (list) {
      list.textContent = '';
      (d.recent || []).forEach(function (c) {
        var li = document.createElement('li');
        var at = new Date(c.at);
        li.textContent = c.number + ' · ' + (states[c.state] || c.state) + ' · ' + at.toLocaleTimeString(zh ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' });
        list.appendChild(li);
      });
    }
    root.dataset.updated = d.newest || '';
  }
  function tick() { set('clock', new Date().toLocaleString(zh ? 'zh-CN' : 'en', { hour12: false })); }
  var first;
  try { first = JSON.parse(document.getElementById('screen-data').textContent); } catch (e) {}
  if (first) draw(first);
  tick();
  setInterval(tick, 1000);
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  if (root.dataset.stream && typeof EventSource !== 'undefined') {
    var status = root.querySelector('[data-k="status"]');
    var live = status ? status.textContent : '';
    var es = new EventSource(root.dataset.stream);
    es.onmessage = function (ev) {
      try { draw(JSON.parse(ev.data)); } catch (e) { return; }
      if (status) { status.textContent = live; status.classList.remove('off'); }
      root.dataset.events = String((+root.dataset.events || 0) + 1);
    };
    es.onerror = function () { if (status) { status.textContent = status.dataset.off || '…'; status.classList.add('off'); } };
  }
})();
