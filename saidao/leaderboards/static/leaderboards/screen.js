// The big screen (数据大屏): follows the campaign's event stream and updates the page in place.
// Built to run for days on a wall screen: every list is a fixed pool of nodes created once and
// reused (no node is created after start), counters animate with one requestAnimationFrame loop
// each at most, no array grows, and a replaced EventSource has its listeners removed first.
(function () {
  "use strict";
  const root = document.querySelector("[data-screen]");
  if (!root) return;
  const streamUrl = root.dataset.stream;
  const peopleLabel = root.dataset.labelPeople || "";
  const liveDot = root.querySelector("[data-role=live]");
  const liveText = root.querySelector("[data-role=live-text]");
  const updated = root.querySelector("[data-role=updated]");
  const fmt = new Intl.NumberFormat("zh-CN");

  function el(tag, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    return node;
  }
  function setText(node, text) {
    const s = String(text);
    if (node.textContent !== s) node.textContent = s;
  }

  // Counters: one animation per counter, replaced (not queued) when a new target arrives.
  const counters = {};
  root.querySelectorAll("[data-counter]").forEach(function (node) {
    const value = parseInt(node.textContent, 10) || 0;
    counters[node.dataset.counter] = { node: node, shown: value, from: value, to: value, t0: 0, raf: 0 };
    node.textContent = fmt.format(value);
  });
  function tick(c, now) {
    const p = Math.min(1, (now - c.t0) / 800);
    const eased = 1 - Math.pow(1 - p, 3);
    c.shown = Math.round(c.from + (c.to - c.from) * eased);
    setText(c.node, fmt.format(c.shown));
    c.raf = p < 1 ? requestAnimationFrame(function (t) { tick(c, t); }) : 0;
  }
  function countTo(name, value) {
    const c = counters[name];
    if (!c || typeof value !== "number" || value === c.to) return;
    if (c.raf) cancelAnimationFrame(c.raf);
    c.from = c.shown;
    c.to = value;
    c.t0 = performance.now();
    if (document.hidden) { // no frames while hidden: jump
      c.shown = value;
      c.raf = 0;
      setText(c.node, fmt.format(value));
      return;
    }
    c.raf = requestAnimationFrame(function (t) { tick(c, t); });
  }

  // Fixed pools of rows, one per list, sized by data-cap.
  function pool(name, make) {
    const container = root.querySelector('[data-list="' + name + '"]');
    const cap = parseInt(container.dataset.cap, 10) || 10;
    const rows = [];
    for (let i = 0; i < cap; i++) {
      const row = make();
      row.node.hidden = true;
      container.appendChild(row.node);
      rows.push(row);
    }
    return rows;
  }
  const bars = pool("provinces", function () {
    const node = el("div", "bar");
    const name = el("span", "bar-name");
    const track = el("span", "bar-track");
    const fill = el("span", "bar-fill");
    const n = el("span", "bar-n");
    track.appendChild(fill);
    node.append(name, track, n);
    return { node: node, name: name, fill: fill, n: n, width: "" };
  });
  function rankRow() {
    const node = el("li");
    const no = el("span", "rank-no");
    const name = el("span", "rank-name");
    const value = el("span", "rank-value");
    node.append(no, name, value);
    return { node: node, no: no, name: name, value: value };
  }
  const topCount = pool("top_count", rankRow);
  const topRate = pool("top_rate", rankRow);
  const latest = pool("latest", function () {
    const node = el("li");
    const img = el("img");
    img.alt = "";
    img.loading = "lazy";
    const text = el("div");
    const title = el("div", "latest-title");
    const meta = el("div", "latest-meta");
    text.append(title, meta);
    node.append(img, text);
    return { node: node, img: img, title: title, meta: meta, src: "" };
  });

  function fill(rows, items, draw) {
    const list = Array.isArray(items) ? items : [];
    for (let i = 0; i < rows.length; i++) {
      const item = list[i];
      if (item) {
        draw(rows[i], item, list);
        if (rows[i].node.hidden) rows[i].node.hidden = false;
      } else if (!rows[i].node.hidden) {
        rows[i].node.hidden = true;
      }
    }
  }
  function drawBar(row, item, list) {
    const max = list.length ? Math.max(1, list[0].n) : 1;
    setText(row.name, item.name);
    setText(row.n, fmt.format(item.n));
    const width = (100 * item.n / max).toFixed(1) + "%";
    if (row.width !== width) {
      row.width = width;
      row.fill.style.width = width;
    }
  }
  function drawCount(row, item) {
    setText(row.no, item.rank);
    setText(row.name, item.name);
    setText(row.value, fmt.format(item.n) + peopleLabel);
  }
  function drawRate(row, item) {
    setText(row.no, item.rank);
    setText(row.name, item.name);
    setText(row.value, item.rate === null ? "—" : (item.rate * 100).toFixed(1) + "%");
  }
  function drawLatest(row, item) {
    setText(row.title, item.title || "—");
    setText(row.meta, [item.city, item.org].filter(Boolean).join(" · "));
    const src = item.poster || "";
    if (row.src !== src) {
      row.src = src;
      if (src) row.img.src = src; else row.img.removeAttribute("src");
    }
  }

  let lastVersion = -1;
  function apply(snap) {
    if (!snap || typeof snap !== "object") return;
    countTo("total", snap.total);
    countTo("entries", snap.entries);
    countTo("quiz", snap.quiz);
    fill(bars, snap.provinces, drawBar);
    fill(topCount, snap.top_count, drawCount);
    fill(topRate, snap.top_rate, drawRate);
    fill(latest, snap.latest, drawLatest);
    lastVersion = snap.v;
    if (snap.at) setText(updated, snap.at.replace("T", " ").slice(0, 19));
    root.dataset.version = String(lastVersion);
  }

  function setLive(on) {
    liveDot.classList.toggle("on", on);
    setText(liveText, on ? liveText.dataset.on : liveText.dataset.off);
  }

  // The stream. EventSource reconnects by itself (the server sends retry:); if it gives up
  // (CLOSED), a new one replaces it after a pause, the old one closed and its listeners removed.
  let source = null;
  let retryTimer = 0;
  function onSnapshot(e) {
    try { apply(JSON.parse(e.data)); } catch (err) { /* a bad message is skipped */ }
  }
  function onOpen() { setLive(true); }
  function onError() {
    setLive(false);
    if (source && source.readyState === EventSource.CLOSED && !retryTimer) {
      retryTimer = setTimeout(function () { retryTimer = 0; connect(); }, 5000);
    }
  }
  function disconnect() {
    if (!source) return;
    source.removeEventListener("snapshot", onSnapshot);
    source.removeEventListener("open", onOpen);
    source.removeEventListener("error", onError);
    source.close();
    source = null;
  }
  function connect() {
    disconnect();
    source = new EventSource(streamUrl);
    source.addEventListener("snapshot", onSnapshot);
    source.addEventListener("open", onOpen);
    source.addEventListener("error", onError);
  }

  const initial = document.getElementById("screen-snapshot");
  if (initial) apply(JSON.parse(initial.textContent));
  connect();
  window.addEventListener("pagehide", function () {
    if (retryTimer) clearTimeout(retryTimer);
    disconnect();
  }, { once: true });
})();
