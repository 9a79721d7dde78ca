// confirm.js asks before a form with data-confirm="question" is sent (suspend, offboard, delete).
// Without JavaScript the form is sent as it is; the server-side action still needs its own
// confirmation field where an action cannot be undone.
(function () {
  'use strict';
  document.addEventListener('submit', function (e) {
    var q = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (q && !window.confirm(q)) e.preventDefault();
  }, true);
})();
