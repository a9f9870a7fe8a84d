/* The attempt page: one question per screen, answers saved as the worker goes, the server's clock.
 *
 * The page holds the whole paper (never the answers). Each change is queued and sent one at a
 * time with a growing sequence number, so a slow reply can never overtake a newer answer; a
 * dropped connection retries. The countdown starts from the time left the server measured when
 * it rendered the page, so a wrong phone clock changes nothing, and a reload gets the server's
 * figure again. At zero the page hands in; the server refuses anything after its deadline plus
 * grace and its sweeper hands in papers nobody submitted.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-attempt]");
  if (!root) return;
  var form = root.querySelector("form[data-quiz-form]");
  var questions = Array.prototype.slice.call(root.querySelectorAll("[data-position]"));
  var total = questions.length;
  var progress = root.querySelector("[data-role=progress]");
  var bar = root.querySelector("[data-role=bar]");
  var timer = root.querySelector("[data-role=timer]");
  var saveState = root.querySelector("[data-role=save-state]");
  var prev = root.querySelector("[data-role=prev]");
  var next = root.querySelector("[data-role=next]");
  var submitBtn = root.querySelector("[data-role=submit]");
  var dialog = root.querySelector("[data-role=confirm]");
  var answeredOut = root.querySelector("[data-role=done-count]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var seq = parseInt(root.dataset.seq, 10) || 0;
  var endAt = performance.now() + (parseInt(root.dataset.timeLeftMs, 10) || 0);
  var texts = {
    saving: root.dataset.textSaving,
    saved: root.dataset.textSaved,
    offline: root.dataset.textOffline,
    timeUp: root.dataset.textTimeUp
  };
  var current = 0;
  var queue = [];       // positions waiting to be saved, each once
  var sending = false;
  var finishing = false;

  root.classList.add("js");

  function show(i) {
    current = Math.max(0, Math.min(total - 1, i));
    questions.forEach(function (q, k) { q.hidden = k !== current; });
    progress.textContent = (current + 1) + "/" + total;
    if (bar) bar.value = current + 1;
    prev.disabled = current === 0;
    next.hidden = current === total - 1;
    submitBtn.classList.toggle("btn-ghost", current !== total - 1);
    // The question shown survives a reload; the answers are the server's.
    history.replaceState(null, "", "#q" + (current + 1));
  }

  function choiceOf(q) {
    var picked = q.querySelectorAll("input:checked");
    return Array.prototype.map.call(picked, function (i) { return i.value; }).join("");
  }

  function answeredCount() {
    return questions.filter(function (q) { return choiceOf(q) !== ""; }).length;
  }

  function setState(text, cls) {
    saveState.textContent = text;
    saveState.className = "save-state " + (cls || "");
  }

  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    });
  }

  function toResult() {
    window.location.assign(root.dataset.resultUrl);
  }

  function pump() {
    if (sending || !queue.length) return;
    sending = true;
    var position = queue[0];
    var q = questions.filter(function (el) { return el.dataset.position === String(position); })[0];
    seq += 1;
    setState(texts.saving, "busy");
    post(root.dataset.saveUrl, { position: position, choice: choiceOf(q), seq: seq })
      .then(function (resp) {
        return resp.json().then(function (data) { return { status: resp.status, data: data }; });
      })
      .then(function (r) {
        sending = false;
        if (r.status === 200) {
          seq = Math.max(seq, r.data.seq || seq);
          if (queue[0] === position) queue.shift();
          setState(texts.saved, "ok");
        } else if (r.data.code === "stale_sequence") {
          // Another tab saved since: continue after the server's number and send again.
          seq = Math.max(seq, (r.data.detail && r.data.detail.seq) || seq);
        } else if (r.data.code === "attempt_closed" || r.data.code === "time_up") {
          queue = [];
          toResult();
          return;
        } else {
          queue.shift();
          setState(r.data.message || texts.offline, "error");
        }
        pump();
      })
      .catch(function () {
        sending = false;
        seq -= 1;  // never reached the server, or its reply was lost: the number is reused
        setState(texts.offline, "error");
        setTimeout(pump, 2000);
      });
  }

  function enqueue(position) {
    // Queued once; again behind itself when it is the one in flight (its answer changed since).
    var at = queue.lastIndexOf(position);
    if (at === -1 || (at === 0 && sending)) queue.push(position);
    pump();
  }

  function finish() {
    if (finishing) return;
    finishing = true;
    submitBtn.disabled = true;
    var waited = 0;
    (function waitForSaves() {
      // Hand in after the queued answers reached the server (at most ~4 s, then anyway).
      if ((queue.length || sending) && waited < 4000) {
        waited += 100;
        setTimeout(waitForSaves, 100);
        return;
      }
      post(root.dataset.submitUrl, { seq: seq })
        .then(function () { toResult(); })
        .catch(function () {
          finishing = false;
          submitBtn.disabled = false;
          setState(texts.offline, "error");
        });
    })();
  }

  function tick() {
    var left = Math.max(0, endAt - performance.now());
    var s = Math.ceil(left / 1000);
    timer.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    timer.classList.toggle("low", s <= 60);
    if (left <= 0) {
      setState(texts.timeUp, "error");
      finish();
      return;
    }
    setTimeout(tick, Math.min(250, left));
  }

  questions.forEach(function (q) {
    q.addEventListener("change", function () { enqueue(parseInt(q.dataset.position, 10)); });
  });
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (answeredOut) answeredOut.textContent = answeredCount() + "/" + total;
    if (dialog && typeof dialog.showModal === "function") {
      dialog.showModal();
    } else if (window.confirm(root.dataset.textConfirm)) {
      finish();
    }
  });
  if (dialog) {
    dialog.querySelector("[data-role=confirm-yes]").addEventListener("click", function () {
      dialog.close();
      finish();
    });
    dialog.querySelector("[data-role=confirm-no]").addEventListener("click", function () {
      dialog.close();
    });
  }
  window.addEventListener("beforeunload", function (ev) {
    if (queue.length && !finishing) { ev.preventDefault(); ev.returnValue = ""; }
  });

  var m = /^#q(\d+)$/.exec(window.location.hash);
  show(m ? parseInt(m[1], 10) - 1 : 0);
  tick();
})();
