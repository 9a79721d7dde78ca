// vendors.js follows the vendor imports on /t/:tenant/exchange/vendors: while a run is going
// (#vendor-runs data-running="true") it fetches the page (data-poll) once a second and puts the
// fresh runs table in place, without reloading the page, until no run is going. Without
// JavaScript the page shows the runs as they were when it loaded; reloading shows the latest.
(function () {
  'use strict';
  function box() { return document.getElementById('vendor-runs'); }

  function poll() {
    var b = box();
    if (!b || b.dataset.running !== 'true') return;
    fetch(b.dataset.poll, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('vendor-runs');
        var cur = box();
        if (fresh && cur) cur.replaceWith(fresh);
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { setTimeout(poll, 1000); });
  else setTimeout(poll, 1000);
})();
