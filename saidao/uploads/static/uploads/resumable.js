/*
 * Saidao resumable uploads: tus 1.0.0 (embedded mode) or S3 multipart (scaled mode).
 *
 * A phone's connection drops, the page reloads: the upload goes on from where the server says
 * it stopped. The upload's address is remembered in localStorage under the file's name, size
 * and modification time and the upload's purpose, so choosing the same file again resumes it.
 *
 *   const up = new SaidaoUploads.ResumableUpload(file, {purpose: "entry", csrfToken: "..."});
 *   up.addEventListener("progress", (e) => console.log(e.detail.loaded, e.detail.total));
 *   const id = await up.start();   // the upload's id, once complete
 *
 * Events (CustomEvent, details in e.detail): "progress" {loaded, total}, "resume", "retry"
 * {attempt, delay, error}, "offline", "part" {partNumber} (S3: a part is stored), "complete"
 * {id}, "error" {status, code, message}.
 * Every [data-saidao-uploader] element (see uploads/_uploader.html) is wired up on load.
 *
 * Written for Saidao; no third-party code.
 */
(function () {
  "use strict";
  if (window.SaidaoUploads) return;

  const MB = 1024 * 1024;
  const TUS_VERSION = "1.0.0";
  const STORAGE_PREFIX = "saidao-upload:";
  const DEFAULTS = {
    mode: "tus",
    tusUrl: "/uploads/tus/",
    apiUrl: "/api/v1/uploads/",
    purpose: "",
    csrfToken: "",
    headers: {},
    chunkSize: 5 * MB,
    retryDelays: [1000, 2000, 4000, 8000, 15000, 30000],
    maxRetries: 12,
    metadata: {},
  };

  class UploadError extends Error {
    constructor(status, body, message) {
      super(message || (body && body.message) || "HTTP " + status);
      this.name = "UploadError";
      this.status = status;
      this.code = (body && body.code) || "";
      this.detail = (body && body.detail) || {};
    }
    get retryable() {
      return this.status === 0 || this.status === 423 || this.status === 429 || this.status >= 500;
    }
  }

  class AbortedError extends Error {
    constructor() {
      super("aborted");
      this.name = "AbortedError";
    }
  }

  function parseJson(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  /* One HTTP request by XMLHttpRequest (fetch cannot report upload progress). Resolves for
   * every HTTP status; rejects with UploadError(0) when the network fails. */
  function send(method, url, options) {
    const opts = options || {};
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url, true);
      xhr.withCredentials = false;
      Object.entries(opts.headers || {}).forEach(function ([k, v]) {
        xhr.setRequestHeader(k, v);
      });
      if (opts.onProgress && xhr.upload) {
        xhr.upload.onprogress = function (e) {
          opts.onProgress(e.loaded);
        };
      }
      xhr.onload = function () {
        resolve({
          status: xhr.status,
          header: function (name) {
            return xhr.getResponseHeader(name);
          },
          text: xhr.responseText,
          json: function () {
            return parseJson(xhr.responseText);
          },
        });
      };
      xhr.onerror = xhr.ontimeout = function () {
        reject(new UploadError(0, null, "network"));
      };
      xhr.onabort = function () {
        reject(new AbortedError());
      };
      if (opts.register) opts.register(xhr);
      xhr.send(opts.body === undefined ? null : opts.body);
    });
  }

  function fail(response) {
    throw new UploadError(response.status, response.json());
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function whenOnline() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) {
      window.addEventListener("online", function () { resolve(); }, { once: true });
    });
  }

  function base64(text) {
    const bytes = new TextEncoder().encode(String(text));
    let binary = "";
    bytes.forEach(function (b) {
      binary += String.fromCharCode(b);
    });
    return btoa(binary);
  }

  function fingerprint(file, purpose) {
    return STORAGE_PREFIX + [purpose, file.name, file.size, file.lastModified].join("|");
  }

  const store = {
    get: function (key) {
      try {
        return window.localStorage.getItem(key);
      } catch (e) {
        return null; // private browsing, storage disabled
      }
    },
    set: function (key, value) {
      try {
        window.localStorage.setItem(key, value);
      } catch (e) {
        /* the upload still works, it just cannot survive a reload */
      }
    },
    remove: function (key) {
      try {
        window.localStorage.removeItem(key);
      } catch (e) {
        /* nothing to forget */
      }
    },
  };

  class ResumableUpload extends EventTarget {
    constructor(file, options) {
      super();
      this.file = file;
      this.options = Object.assign({}, DEFAULTS, options || {});
      this.key = fingerprint(file, this.options.purpose);
      this.id = null;
      this.url = null;
      this.offset = 0;
      this._xhr = null;
      this._aborted = false;
    }

    emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail: detail }));
    }

    progress(loaded) {
      this.emit("progress", { loaded: Math.min(loaded, this.file.size), total: this.file.size });
    }

    /* Upload (or resume) the file; resolves with the upload's id once it is complete. */
    async start() {
      this._aborted = false;
      try {
        const id = this.options.mode === "s3" ? await this._s3() : await this._tus();
        this.id = id;
        store.remove(this.key);
        this.progress(this.file.size);
        this.emit("complete", { id: id });
        return id;
      } catch (err) {
        if (!(err instanceof AbortedError)) {
          this.emit("error", { status: err.status || 0, code: err.code || "", message: err.message });
        }
        throw err;
      }
    }

    /* Stop sending; the upload can be resumed later (same file, same purpose). */
    abort() {
      this._aborted = true;
      if (this._xhr) this._xhr.abort();
    }

    /* Stop and tell the server to drop what it received. */
    async cancel() {
      this.abort();
      store.remove(this.key);
      try {
        if (this.options.mode === "s3" && this.id) {
          await this._api("POST", "s3/" + this.id + "/abort");
        } else if (this.url) {
          await send("DELETE", this.url, { headers: this._headers({ "Tus-Resumable": TUS_VERSION }) });
        }
      } catch (e) {
        /* it will expire anyway */
      }
    }

    _headers(extra) {
      const h = Object.assign({}, this.options.headers, extra || {});
      if (this.options.csrfToken) h["X-CSRFToken"] = this.options.csrfToken;
      return h;
    }

    _send(method, url, options) {
      if (this._aborted) return Promise.reject(new AbortedError());
      const self = this;
      const opts = Object.assign({}, options || {}, {
        register: function (xhr) {
          self._xhr = xhr;
        },
      });
      return send(method, url, opts);
    }

    /* Run fn, retrying with growing delays while the failure is a network one (or a 5xx). */
    async _retry(fn) {
      let attempt = 0;
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if (err instanceof AbortedError || !(err instanceof UploadError) || !err.retryable) throw err;
          if (attempt >= this.options.maxRetries) throw err;
          if (navigator.onLine === false) {
            this.emit("offline", {});
            await whenOnline();
          }
          const delays = this.options.retryDelays;
          const delay = delays[Math.min(attempt, delays.length - 1)];
          attempt += 1;
          this.emit("retry", { attempt: attempt, delay: delay, error: err.message });
          await sleep(delay);
          if (this._aborted) throw new AbortedError();
        }
      }
    }

    // --- tus -----------------------------------------------------------------------------

    async _tus() {
      const saved = store.get(this.key);
      if (saved) {
        const offset = await this._retry(() => this._tusHead(saved));
        if (offset !== null) {
          this.url = saved;
          this.offset = offset;
          this.emit("resume", { offset: offset });
        } else {
          store.remove(this.key);
        }
      }
      if (!this.url) {
        this.url = await this._retry(() => this._tusCreate());
        this.offset = 0;
        store.set(this.key, this.url);
      }
      this.progress(this.offset);
      while (this.offset < this.file.size) {
        const from = this.offset;
        try {
          this.offset = await this._retry(() => this._tusPatch(from));
        } catch (err) {
          if (err instanceof UploadError && err.status === 409) {
            // Our offset is not the server's (a request we thought failed got through): ask.
            const offset = await this._retry(() => this._tusHead(this.url));
            if (offset === null) throw err;
            this.offset = offset;
            continue;
          }
          throw err;
        }
        this.progress(this.offset);
      }
      return this.url.replace(/\/+$/, "").split("/").pop();
    }

    /* The server's offset for url, or null when the upload is gone or not this file's. */
    async _tusHead(url) {
      const r = await this._send("HEAD", url, { headers: this._headers({ "Tus-Resumable": TUS_VERSION }) });
      if (r.status === 404 || r.status === 410 || r.status === 403) return null;
      if (r.status !== 200) fail(r);
      if (Number(r.header("Upload-Length")) !== this.file.size) return null;
      return Number(r.header("Upload-Offset"));
    }

    async _tusCreate() {
      const meta = Object.assign(
        {
          filename: this.file.name,
          filetype: this.file.type || "application/octet-stream",
          purpose: this.options.purpose,
        },
        this.options.metadata
      );
      const encoded = Object.entries(meta)
        .map(([k, v]) => k + " " + base64(v))
        .join(",");
      const r = await this._send("POST", this.options.tusUrl, {
        headers: this._headers({
          "Tus-Resumable": TUS_VERSION,
          "Upload-Length": String(this.file.size),
          "Upload-Metadata": encoded,
        }),
      });
      if (r.status !== 201) fail(r);
      return new URL(r.header("Location"), window.location.href).href;
    }

    async _tusPatch(from) {
      const self = this;
      // A piece that failed half-way may still have been stored in part: ask where to go on.
      const offset = from === this.offset ? from : await this._tusHead(this.url);
      if (offset === null) throw new UploadError(410, null);
      const chunk = this.file.slice(offset, offset + this.options.chunkSize);
      let r;
      try {
        r = await this._send("PATCH", this.url, {
          headers: this._headers({
            "Tus-Resumable": TUS_VERSION,
            "Upload-Offset": String(offset),
            "Content-Type": "application/offset+octet-stream",
          }),
          body: chunk,
          onProgress: function (loaded) {
            self.progress(offset + loaded);
          },
        });
      } catch (err) {
        if (err instanceof UploadError) this.offset = -1; // unknown now: HEAD before the next try
        throw err;
      }
      if (r.status !== 204) {
        if (r.status >= 500) this.offset = -1;
        fail(r);
      }
      return Number(r.header("Upload-Offset"));
    }

    // --- S3 multipart ---------------------------------------------------------------------

    async _api(method, path, body) {
      const headers = this._headers({ Accept: "application/json" });
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await this._send(method, this.options.apiUrl + path, {
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (r.status < 200 || r.status >= 300) fail(r);
      return r.json();
    }

    async _s3() {
      let info = null;
      const saved = store.get(this.key);
      if (saved) {
        try {
          info = await this._retry(() => this._api("GET", "s3/" + saved));
        } catch (err) {
          if (!(err instanceof UploadError) || err.retryable) throw err;
        }
        if (info && info.status === "complete") return info.id;
        if (!info || info.status !== "uploading" || info.declared_size !== this.file.size) {
          info = null;
          store.remove(this.key);
        } else {
          this.emit("resume", {});
        }
      }
      if (!info) {
        info = await this._retry(() =>
          this._api("POST", "s3/start", {
            purpose: this.options.purpose,
            size: this.file.size,
            filename: this.file.name,
            content_type: this.file.type || "",
            metadata: this.options.metadata,
          })
        );
        if (info.status === "complete") return info.id; // an empty file
        store.set(this.key, info.id);
      }
      this.id = info.id;
      const partSize = info.part_size;
      const count = info.part_count;
      const partLength = (n) => Math.min(partSize, this.file.size - (n - 1) * partSize);
      const have = await this._retry(() => this._api("GET", "s3/" + info.id + "/parts"));
      const done = new Set(have.filter((p) => p.size === partLength(p.part_number)).map((p) => p.part_number));
      let loaded = 0;
      done.forEach((n) => {
        loaded += partLength(n);
      });
      this.progress(loaded);
      const todo = [];
      for (let n = 1; n <= count; n++) if (!done.has(n)) todo.push(n);
      for (let i = 0; i < todo.length; i += 20) {
        const batch = todo.slice(i, i + 20);
        let urls = await this._s3Urls(info.id, batch);
        for (const n of batch) {
          const start = (n - 1) * partSize;
          const blob = this.file.slice(start, start + partLength(n));
          await this._retry(async () => {
            const r = await this._send("PUT", urls[n], {
              body: blob,
              onProgress: (l) => this.progress(loaded + l),
            });
            if (r.status === 403) urls = await this._s3Urls(info.id, batch); // signature expired
            if (r.status < 200 || r.status >= 300) {
              throw new UploadError(r.status === 403 ? 503 : r.status, null);
            }
          });
          loaded += blob.size;
          this.emit("part", { partNumber: n });
          this.progress(loaded);
        }
      }
      // The bucket's own list gives the ETags: no need for it to expose the ETag header.
      const parts = await this._retry(() => this._api("GET", "s3/" + info.id + "/parts"));
      const done2 = await this._retry(() =>
        this._api("POST", "s3/" + info.id + "/complete", {
          parts: parts.map((p) => ({ part_number: p.part_number, etag: p.etag })),
        })
      );
      return done2.id;
    }

    async _s3Urls(id, numbers) {
      const list = await this._retry(() => this._api("POST", "s3/" + id + "/part-urls", { part_numbers: numbers }));
      const urls = {};
      list.forEach((p) => {
        urls[p.part_number] = p.url;
      });
      return urls;
    }
  }

  // --- the form widget (uploads/_uploader.html) -------------------------------------------

  function attach(root) {
    if (root.dataset.bound) return;
    root.dataset.bound = "1";
    const d = root.dataset;
    const input = root.querySelector("[data-role=file]");
    const bar = root.querySelector("[data-role=progress]");
    const status = root.querySelector("[data-role=status]");
    const cancel = root.querySelector("[data-role=cancel]");
    const hidden = root.querySelector("[data-role=upload-id]");
    const form = root.closest("form");
    let current = null;

    function say(text) {
      if (status) status.textContent = text;
    }

    if (input) {
      input.addEventListener("change", function () {
        const file = input.files && input.files[0];
        if (current) current.abort();
        if (hidden) hidden.value = "";
        if (!file) return;
        const up = new ResumableUpload(file, {
          mode: d.mode,
          tusUrl: d.tusUrl,
          apiUrl: d.apiUrl,
          purpose: d.purpose,
          csrfToken: d.csrf,
          metadata: d.metadata ? JSON.parse(d.metadata) : {},
        });
        current = up;
        root.dataset.state = "uploading";
        if (bar) {
          bar.hidden = false;
          bar.value = 0;
        }
        if (cancel) cancel.hidden = false;
        // What the progress line says: "uploading", or once the server has part of the file
        // from an earlier try, "resuming" (a progress event follows the resume at once, so a
        // message of its own would never be painted).
        let doing = d.msgUploading || "";
        say(doing);
        up.addEventListener("progress", function (e) {
          const pct = e.detail.total ? Math.floor((100 * e.detail.loaded) / e.detail.total) : 100;
          if (bar) bar.value = pct;
          say(doing + " " + pct + "%");
          root.dispatchEvent(new CustomEvent("upload:progress", { detail: e.detail, bubbles: true }));
        });
        up.addEventListener("resume", function () {
          doing = d.msgResuming || doing;
          say(doing);
        });
        up.addEventListener("retry", function () {
          say(d.msgRetrying || "");
        });
        up.addEventListener("offline", function () {
          say(d.msgOffline || "");
        });
        up.addEventListener("complete", function (e) {
          if (hidden) hidden.value = e.detail.id;
          root.dataset.state = "complete";
          root.dataset.uploadId = e.detail.id;
          if (cancel) cancel.hidden = true;
          say(d.msgDone || "");
          root.dispatchEvent(new CustomEvent("upload:complete", { detail: e.detail, bubbles: true }));
        });
        up.addEventListener("error", function (e) {
          root.dataset.state = "error";
          if (cancel) cancel.hidden = true;
          say((d.msgFailed || "") + (e.detail.message && e.detail.status ? "：" + e.detail.message : ""));
          root.dispatchEvent(new CustomEvent("upload:error", { detail: e.detail, bubbles: true }));
        });
        up.start().catch(function () {
          /* reported by the "error" event */
        });
      });
    }

    if (cancel) {
      cancel.addEventListener("click", function () {
        if (!current) return;
        current.cancel();
        current = null;
        root.dataset.state = "";
        if (hidden) hidden.value = "";
        if (input) input.value = "";
        if (bar) bar.hidden = true;
        cancel.hidden = true;
        say(d.msgCancelled || "");
      });
    }

    if (form) {
      form.addEventListener("submit", function (e) {
        if (root.dataset.state === "uploading") {
          e.preventDefault();
          say(d.msgWait || "");
        } else if (d.required !== "false" && hidden && !hidden.value) {
          e.preventDefault();
          say(d.msgMissing || "");
        }
      });
    }
    // A file chosen before this script ran (a slow phone, a restored form) starts now.
    if (input && input.files && input.files.length && hidden && !hidden.value) {
      input.dispatchEvent(new Event("change"));
    }
  }

  function attachAll() {
    document.querySelectorAll("[data-saidao-uploader]").forEach(attach);
  }

  window.SaidaoUploads = { ResumableUpload: ResumableUpload, UploadError: UploadError, attach: attach, fingerprint: fingerprint };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attachAll);
  } else {
    attachAll();
  }
})();
