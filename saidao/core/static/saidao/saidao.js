/*
 * Behaviour that pages once wrote as inline event handlers, which the Content-Security-Policy
 * blocks (see saidao.core.middleware.SecurityHeadersMiddleware). Marked by data attributes:
 *
 *   <select data-autosubmit>            submits its form when the choice changes
 *   <form data-confirm="Sure?">         asks before submitting; no means no submission
 *   <input data-select-on-click>        selects all its text when tapped (a link to copy)
 *
 * Listeners sit on the document, so elements that htmx swaps in later work too.
 */
(function () {
  "use strict";
  if (window.SaidaoPage) return;
  window.SaidaoPage = true;

  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el instanceof Element && el.matches("[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    }
  });

  document.addEventListener("click", function (e) {
    const el = e.target;
    if (el instanceof HTMLInputElement && el.matches("[data-select-on-click]")) el.select();
  });
})();
