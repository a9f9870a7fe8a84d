/*
 * Behaviour that pages once wrote as inline event handlers, which the Content-Security-Policy
 * blocks (see saidao.core.middleware.SecurityHeadersMiddleware). Marked by data attributes:
 *
 *   <select data-autosubmit>            submits its form when the choice changes
 *   <form data-confirm="Sure?">         asks before submitting; no means no submission
 *   <input data-select-on-click>        selects all its text when tapped (a link to copy)
 *
 * Listeners sit on the document, so elements that htmx swaps in later work too.
 *
 * Nothing typed is lost to another form of the page: when one form is sent (a row's 作废, an
 * invitation's 接受, the language switch), what was typed into the page's other forms and not
 * sent is kept in sessionStorage and put back when the page comes back, once. A field is put
 * back only if the page still renders the value it had when the user typed over it; passwords
 * and files are never kept. <form data-keep-typed="off"> opts a form out.
 */
(function () {
  "use strict";
  if (window.SaidaoPage) return;
  window.SaidaoPage = true;

  const KEPT = "saidao:kept-typed";
  const KEPT_FOR_MS = 10 * 60 * 1000;

  function keptFields(form) {
    const fields = [];
    for (const el of Array.from(form.elements)) {
      if (!el.name || el.disabled) continue;
      if ((el.getAttribute("autocomplete") || "").includes("one-time-code")) continue;
      if (el instanceof HTMLTextAreaElement) {
        fields.push({ name: el.name, kind: "text", was: el.defaultValue, now: el.value });
      } else if (el instanceof HTMLSelectElement) {
        const was = Array.from(el.options).filter((o) => o.defaultSelected).map((o) => o.value);
        const now = Array.from(el.selectedOptions).map((o) => o.value);
        fields.push({ name: el.name, kind: "select", was: was, now: now });
      } else if (el instanceof HTMLInputElement) {
        const type = el.type;
        if (type === "checkbox" || type === "radio") {
          fields.push({ name: el.name, kind: "check", value: el.value, was: el.defaultChecked, now: el.checked });
        } else if (!["password", "file", "hidden", "submit", "button", "reset", "image"].includes(type)) {
          fields.push({ name: el.name, kind: "text", was: el.defaultValue, now: el.value });
        }
      }
    }
    return fields.filter((f) => JSON.stringify(f.was) !== JSON.stringify(f.now));
  }

  // Forms are told apart by id, else by where they post (rows differ by the id in the URL),
  // with a count for look-alikes.
  function formKeys() {
    const seen = {};
    return Array.from(document.forms).map(function (form) {
      const base = form.id || (form.getAttribute("method") || "get") + " " + (form.getAttribute("action") || "");
      seen[base] = (seen[base] || 0) + 1;
      return { form: form, key: base + "#" + seen[base] };
    });
  }

  function keepTyped(sent) {
    const kept = [];
    for (const { form, key } of formKeys()) {
      if (form === sent || form.dataset.keepTyped === "off") continue;
      const fields = keptFields(form);
      if (fields.length) kept.push({ key: key, fields: fields });
    }
    try {
      if (kept.length) {
        sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, at: Date.now(), forms: kept }));
      } else {
        sessionStorage.removeItem(KEPT);
      }
    } catch (err) {
      /* storage full or refused (private mode): nothing more we can do */
    }
  }

  function putBack(form, f) {
    const els = Array.from(form.elements).filter((el) => el.name === f.name);
    for (const el of els) {
      if (f.kind === "check" && el instanceof HTMLInputElement && el.value === f.value) {
        if (el.defaultChecked === f.was) el.checked = f.now;
      } else if (f.kind === "select" && el instanceof HTMLSelectElement) {
        const was = Array.from(el.options).filter((o) => o.defaultSelected).map((o) => o.value);
        if (JSON.stringify(was) !== JSON.stringify(f.was)) continue;
        // a choice no longer offered (a list filled in by htmx) is left as rendered
        const offered = Array.from(el.options).map((o) => o.value);
        if (!f.now.every((v) => offered.includes(v))) continue;
        for (const o of Array.from(el.options)) o.selected = f.now.includes(o.value);
      } else if (f.kind === "text" && "defaultValue" in el && el.type !== "password" && el.type !== "file") {
        if (el.defaultValue === f.was) el.value = f.now;
      }
    }
  }

  function restoreTyped() {
    let stash = null;
    try {
      stash = JSON.parse(sessionStorage.getItem(KEPT) || "null");
      sessionStorage.removeItem(KEPT);
    } catch (err) {
      return;
    }
    if (!stash || stash.path !== location.pathname || Date.now() - stash.at > KEPT_FOR_MS) return;
    const forms = {};
    for (const { form, key } of formKeys()) forms[key] = form;
    for (const kept of stash.forms) {
      const form = forms[kept.key];
      if (form && form.dataset.keepTyped !== "off") kept.fields.forEach((f) => putBack(form, f));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreTyped);
  } else {
    restoreTyped();
  }

  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el instanceof Element && el.matches("[data-autosubmit]") && el.form) {
      keepTyped(el.form); // form.submit() fires no submit event
      el.form.submit();
    }
  });

  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    }
  });

  // After the confirmation above, and after htmx (which cancels the submissions it sends
  // itself, leaving the page in place).
  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (form instanceof HTMLFormElement && !e.defaultPrevented) keepTyped(form);
  });

  document.addEventListener("click", function (e) {
    const el = e.target;
    if (el instanceof HTMLInputElement && el.matches("[data-select-on-click]")) el.select();
  });
})();
