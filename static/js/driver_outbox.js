// The driver's outbox: status changes from a phone with poor signal are never lost.
//
// A form marked `data-outbox` is not sent by htmx (htmx does not retry). On submit its fields go
// into a queue kept in localStorage, each entry with an Idempotency-Key of its own, and the queue
// is sent in order. A request that fails for the network (or a 408/429/502/503/504) stays queued
// and is sent again, with the same key, after a backoff, when the browser is back online, or on the
// next page load; the server replays its first answer to a repeat (portal/deliveries/idempotency.py).
// The answer's HTML replaces the form's `data-outbox-target` (the form itself by default).
//
// A form with a file (the proof photo) is queued too: the picture is scaled down on the phone to
// the form's `data-photo-max-pixels` (the server's own limit) and kept as a JPEG data URL beside
// the fields, then sent as multipart form data, so a retry sends the same picture again.
(() => {
  const STORE = "portal-driver-outbox";
  const RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);
  const MAX_DELAY_MS = 30000;
  let sending = false;
  let delay = 1000;
  let timer = null;

  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "[]");
    } catch {
      return [];
    }
  };
  const save = (queue) => localStorage.setItem(STORE, JSON.stringify(queue));
  const PHOTO_QUALITY = 0.85;
  const newKey = () =>
    (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`).replace(/[^A-Za-z0-9_-]/g, "");

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  function showWaiting(count) {
    const banner = document.getElementById("outbox-status");
    if (!banner) return;
    banner.hidden = count === 0;
    banner.textContent = count === 0 ? "" : `No connection: ${count === 1 ? "1 change waits" : `${count} changes wait`} and will be sent when you are back online.`;
  }

  function swapAnswer(entry, html) {
    const target = document.querySelector(entry.target);
    if (!target) return;
    if (window.htmx) {
      htmx.swap(target, html, { swapStyle: entry.swap || "outerHTML" });
    } else {
      target.outerHTML = html;
    }
  }

  // A picked picture as a JPEG data URL, at most `maxPixels` on its long side.
  async function scaledPhoto(file, maxPixels) {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, maxPixels / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return canvas.toDataURL("image/jpeg", PHOTO_QUALITY);
    } catch {
      // Not an image the browser can draw: send it as it is, the server says what is wrong.
      return await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(file);
      });
    }
  }

  function dataUrlBlob(dataUrl) {
    const [head, data] = dataUrl.split(",", 2);
    const type = (head.match(/^data:([^;,]+)/) || [])[1] || "application/octet-stream";
    const bytes = Uint8Array.from(atob(data || ""), (c) => c.charCodeAt(0));
    return new Blob([bytes], { type });
  }

  // The request's body: the fields as a form, or with the queued files as multipart form data.
  function requestBody(entry) {
    if (!entry.files) {
      return { body: entry.body, headers: { "Content-Type": "application/x-www-form-urlencoded" } };
    }
    const data = new FormData();
    new URLSearchParams(entry.body).forEach((value, name) => data.append(name, value));
    for (const [name, file] of Object.entries(entry.files)) {
      data.append(name, dataUrlBlob(file.data), file.filename);
    }
    return { body: data, headers: {} };
  }

  async function sendNext() {
    if (sending) return;
    const queue = load();
    showWaiting(queue.length);
    if (queue.length === 0) return;
    sending = true;
    const entry = queue[0];
    let answer;
    try {
      const { body, headers } = requestBody(entry);
      answer = await fetch(entry.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          ...headers,
          "Idempotency-Key": entry.key,
          "X-CSRFToken": csrfToken(),
          "HX-Request": "true",
          "HX-Target": entry.target.replace(/^#/, ""),
        },
        body,
      });
    } catch {
      answer = null; // the network: keep it and try again
    }
    sending = false;
    if (answer === null || RETRY_STATUSES.has(answer.status)) {
      scheduleRetry();
      return;
    }
    save(load().filter((queued) => queued.key !== entry.key));
    delay = 1000;
    if (answer.headers.get("X-Outbox-Reload")) {
      window.location.reload();
      return;
    }
    swapAnswer(entry, await answer.text());
    sendNext();
  }

  function scheduleRetry() {
    showWaiting(load().length);
    clearTimeout(timer);
    timer = setTimeout(sendNext, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  // The form's text fields and, for a file input with a file, the file scaled as a data URL.
  async function entryOf(form, submitter) {
    const fields = new URLSearchParams();
    const files = {};
    for (const [name, value] of new FormData(form, submitter)) {
      if (typeof value === "string") {
        fields.append(name, value);
      } else if (value.size > 0) {
        const maxPixels = Number.parseInt(form.dataset.photoMaxPixels, 10) || 1600;
        files[name] = { data: await scaledPhoto(value, maxPixels), filename: `${name}.jpg` };
      }
    }
    const entry = {
      key: newKey(),
      url: form.action,
      body: fields.toString(),
      target: form.dataset.outboxTarget || `#${form.id}`,
      swap: form.dataset.outboxSwap || "outerHTML",
    };
    if (Object.keys(files).length) entry.files = files;
    return entry;
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-outbox]");
    if (!form) return;
    event.preventDefault();
    form.setAttribute("aria-busy", "true");
    const entry = await entryOf(form, event.submitter);
    const queue = load();
    queue.push(entry);
    try {
      save(queue);
    } catch {
      // The phone's storage is full (a very large picture): nothing is queued, say so.
      form.removeAttribute("aria-busy");
      const banner = document.getElementById("outbox-status");
      if (banner) {
        banner.hidden = false;
        banner.textContent = "This could not be kept for sending: the phone's storage is full. Try again.";
      }
      return;
    }
    sendNext();
  });
  window.addEventListener("online", () => {
    delay = 1000;
    sendNext();
  });
  document.addEventListener("DOMContentLoaded", sendNext);
  if (document.readyState !== "loading") sendNext();
})();
