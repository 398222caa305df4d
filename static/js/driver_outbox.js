// The driver's outbox: status changes from a phone with poor signal are never lost.
//
// A form marked `data-outbox` is not sent by htmx (htmx does not retry). On submit its fields go
// into a queue kept in localStorage, each entry with an Idempotency-Key of its own, and the queue
// is sent in order. A request that fails for the network (or a 408/429/502/503/504) stays queued
// and is sent again, with the same key, after a backoff, when the browser is back online, or on the
// next page load; the server replays its first answer to a repeat (portal/deliveries/idempotency.py).
// The answer's HTML replaces the form's `data-outbox-target` (the form itself by default).
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

  async function sendNext() {
    if (sending) return;
    const queue = load();
    showWaiting(queue.length);
    if (queue.length === 0) return;
    sending = true;
    const entry = queue[0];
    let answer;
    try {
      answer = await fetch(entry.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Idempotency-Key": entry.key,
          "X-CSRFToken": csrfToken(),
          "HX-Request": "true",
          "HX-Target": entry.target.replace(/^#/, ""),
        },
        body: entry.body,
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

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-outbox]");
    if (!form) return;
    event.preventDefault();
    const fields = new URLSearchParams(new FormData(form, event.submitter));
    const queue = load();
    queue.push({
      key: newKey(),
      url: form.action,
      body: fields.toString(),
      target: form.dataset.outboxTarget || `#${form.id}`,
      swap: form.dataset.outboxSwap || "outerHTML",
    });
    save(queue);
    form.setAttribute("aria-busy", "true");
    sendNext();
  });
  window.addEventListener("online", () => {
    delay = 1000;
    sendNext();
  });
  document.addEventListener("DOMContentLoaded", sendNext);
  if (document.readyState !== "loading") sendNext();
})();
