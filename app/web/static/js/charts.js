// charts.js draws every <div class="chart" data-option="id"> with ECharts, from the option the
// server put in <script type="application/json" id="id">. Charts follow the container's size.
(function () {
  'use strict';
  function start() {
    if (typeof echarts === 'undefined') return;
    var charts = [];
    document.querySelectorAll('div.chart[data-option]').forEach(function (el) {
      var src = document.getElementById(el.dataset.option);
      if (!src) return;
      var option;
      try { option = JSON.parse(src.textContent); } catch (e) { return; }
      var chart = echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
