// The review queue's keyboard and prefetch (templates/catalog/review/). Loaded with `defer`.
// Shortcuts act only while focus is inside the review panel and the switch is on (WCAG 2.1.4:
// single-key shortcuts can be turned off); the switch is remembered in this browser.
(() => {
  const STORAGE_KEY = "review-shortcuts";
  const panel = () => document.getElementById("review-panel");
  const toggle = () => document.getElementById("review-shortcuts");
  const current = () => panel()?.querySelector("article[data-current]");
  const prefetched = () => panel()?.querySelector("article[data-prefetched]");
  let busy = false;
  let panelHadFocus = false;

  const enabled = () => toggle()?.checked !== false;
  function restoreToggle() {
    const box = toggle();
    if (box) box.checked = localStorage.getItem(STORAGE_KEY) !== "off";
  }
  document.addEventListener("change", (event) => {
    if (event.target.id === "review-shortcuts") {
      localStorage.setItem(STORAGE_KEY, event.target.checked ? "on" : "off");
    }
  });

  // The next proposal is already in the panel (hidden): shown the moment a decision is sent,
  // so the admin sees no wait; the answer then brings the same one plus the one after it.
  function showPrefetched() {
    const next = prefetched();
    const shown = current();
    if (!next || !shown) return;
    shown.hidden = true;
    shown.removeAttribute("data-current");
    next.hidden = false;
    next.removeAttribute("data-prefetched");
    next.setAttribute("data-current", "");
  }

  function submit(form) {
    if (!form || busy) return;
    htmx.trigger(form, "submit");
  }

  function go(url) {
    if (!url || busy) return;
    htmx.ajax("GET", url, { target: "#review-panel", swap: "innerHTML" });
  }

  function openChoice(key) {
    const item = current();
    const choice = item?.querySelector(`details[data-key="${key}"]`);
    if (!choice) return;
    item.querySelectorAll("details[open]").forEach((d) => { if (d !== choice) d.removeAttribute("open"); });
    choice.setAttribute("open", "");
    choice.querySelector("[data-first]")?.focus();
  }

  const TYPING = "input, textarea, select, [contenteditable]";
  document.addEventListener("keydown", (event) => {
    const area = panel();
    if (!area || !area.contains(event.target)) return;
    if (event.key === "Escape") {
      const open = event.target.closest("details[open]");
      if (open) {
        open.removeAttribute("open");
        area.focus();
      }
      return;
    }
    if (!enabled() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest(TYPING)) return; // letters typed in the search box are words
    const nav = area.querySelector(".review-nav");
    const item = current();
    const actions = {
      a: () => submit(item?.querySelector('form[data-key="a"]')),
      r: () => openChoice("r"),
      m: () => openChoice("m"),
      j: () => {
        const url = nav?.dataset.nextUrl;
        if (url && !busy) showPrefetched();
        go(url);
      },
      k: () => go(nav?.dataset.prevUrl),
      u: () => submit(area.querySelector('form[data-key="u"]')),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const area = panel();
    const source = event.detail.elt;
    if (!area || !(area.contains(source) || event.detail.target === area)) return;
    if (event.detail.target !== area) return; // a search box's results, not the panel
    busy = true;
    area.setAttribute("aria-busy", "true"); // keys wait for the answer; tests read it too
    panelHadFocus = area.contains(document.activeElement);
    if (source.matches?.("form[data-advances]")) showPrefetched();
    if (panelHadFocus) area.focus({ preventScroll: true }); // the pressed button may be hidden now
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.target !== panel()) return;
    busy = false;
    panel().removeAttribute("aria-busy");
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const area = panel();
    if (event.detail.target !== area) return;
    // The buttons that had focus were replaced: focus goes back to the panel, not the page.
    if (panelHadFocus && !area.contains(document.activeElement)) area.focus({ preventScroll: true });
    panelHadFocus = false;
  });

  restoreToggle();
  document.addEventListener("htmx:historyRestore", restoreToggle);
})();
