/* Behaviour the pages declare with data- attributes, so that no script is inline and the
   Content-Security-Policy can forbid inline scripts altogether:
   data-confirm="question"   on a button or a form: ask first; "Cancel" sends nothing.
   data-autosubmit           on a select: submit its form when the choice changes.
   data-disable-on-submit    on a form: disable its buttons once sent (no double submit). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var el = event.target.closest("button[data-confirm], a[data-confirm], input[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-disable-on-submit")) {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });
  document.addEventListener("change", function (event) {
    var el = event.target.closest("[data-autosubmit]");
    if (el && el.form) el.form.submit();
  });
})();
