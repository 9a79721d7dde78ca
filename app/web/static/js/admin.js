// admin.js: small helpers of the county admin's pages.
//   <button data-confirm="question">  asks before the button sends its form (confirm.js asks for
//                                     whole forms; here one button of a form needs asking, such as
//                                     "import now" next to "check").
//   <button data-copy="inputID" hidden> copies the input's text (the invitation link); shown only
//                                     when the clipboard can be used.
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button[data-confirm]');
    if (b && b.form && !b.form.hasAttribute('data-confirm') && !window.confirm(b.getAttribute('data-confirm'))) e.preventDefault();
  }, true);
  function copyButtons() {
    document.querySelectorAll('button[data-copy]').forEach(function (b) {
      var input = document.getElementById(b.getAttribute('data-copy'));
      if (!input || !navigator.clipboard) return;
      b.hidden = false;
      b.addEventListener('click', function (e) {
        e.preventDefault();
        navigator.clipboard.writeText(input.value).then(function () {
          b.textContent = b.getAttribute('data-done') || b.textContent;
        }, function () { input.select(); });
      });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', copyButtons); else copyButtons();
})();
