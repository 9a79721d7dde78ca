// places.js offers the county's place names (its grids) as a citizen types the place of a report:
// an <input list="…" data-places="/r/{tenant}/places"> gets its <datalist> filled from the
// server as the text changes. A picked name, given as the address, places the report in that
// grid; without JavaScript the field is plain text and works the same.
(function () {
  'use strict';
  function attach(input) {
    var list = document.getElementById(input.getAttribute('list'));
    if (!list) return;
    var timer, last = null;
    function update() {
      var q = input.value.trim();
      if (q === last || q.length > 100) return;
      last = q;
      fetch(input.dataset.places + '?q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (names) {
          list.textContent = '';
          (names || []).forEach(function (p) {
            var o = document.createElement('option');
            o.value = p.name;
            list.appendChild(o);
          });
        })
        .catch(function () { /* offline: the field stays plain text */ });
    }
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    input.addEventListener('focus', update);
  }
  function start() { document.querySelectorAll('input[data-places]').forEach(attach); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
