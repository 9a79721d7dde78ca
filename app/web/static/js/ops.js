// ops.js follows a tenant's provisioning on /ops/tenants/:slug/provisioning: it polls the page's
// JSON endpoint (data-progress) once a second, marks each step done, running, failed or pending,
// and stops when the tenant is active (showing the first admin's invitation link, with a copy
// button) or a step failed (showing the error and the resume button). Without JavaScript the page
// shows the state at the time it was loaded; reloading it shows the latest.
(function () {
  'use strict';
  function $(id) { return document.getElementById(id); }
  function show(id, on) { var e = $(id); if (e) e.hidden = !on; }

  function start() {
    var box = $('provisioning');
    if (!box) return;
    var labels = {};
    try { labels = JSON.parse($('prov-labels').textContent); } catch (e) { /* keep the server's text */ }
    var copy = $('copy-invite');
    if (copy) copy.addEventListener('click', function () {
      var input = $('invite-link');
      input.select();
      var ok = function () { show('copy-done', true); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(ok, function () { document.execCommand('copy'); ok(); });
      } else { document.execCommand('copy'); ok(); }
    });

    function apply(p) {
      box.dataset.state = p.state;
      (p.steps || []).forEach(function (s) {
        var li = box.querySelector('li[data-step="' + s.name + '"]');
        if (!li) return;
        li.className = s.state;
        var st = li.querySelector('.step-state');
        if (st && labels[s.state]) st.textContent = labels[s.state];
      });
      show('prov-running', p.state === 'running' || p.state === 'starting');
      if (p.state === 'failed' || p.state === 'refused') {
        $('prov-error').textContent = p.error || '';
        show('prov-failed', true);
      }
      if (p.state === 'done') {
        show('prov-done', true);
        if (p.invitation_url) {
          $('invite-link').value = p.invitation_url;
          show('prov-invite', true);
          show('prov-noinvite', false);
        }
      }
    }

    function poll() {
      fetch(box.dataset.progress, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (p) {
          apply(p);
          if (p.state === 'running' || p.state === 'starting') setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    var s = box.dataset.state;
    if (s === 'running' || s === 'starting') setTimeout(poll, 500);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
