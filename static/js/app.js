// Small behaviours shared by every page. Loaded with `defer`, after htmx.
document.addEventListener("htmx:responseError", (event) => {
  // A failed request whose response could not be swapped still tells the user why.
  const xhr = event.detail.xhr;
  if (xhr && !xhr.responseText) {
    const alerts = document.getElementById("alerts");
    if (alerts) {
      alerts.innerHTML = "";
      const p = document.createElement("p");
      p.className = "alert alert-error";
      p.setAttribute("role", "alert");
      p.textContent = `The request failed (${xhr.status}). Please try again.`;
      alerts.appendChild(p);
    }
  }
});
document.addEventListener("htmx:sendError", () => {
  const alerts = document.getElementById("alerts");
  if (alerts) {
    alerts.innerHTML = '<p class="alert alert-warning" role="alert">No connection. Your changes were not sent; try again when you are back online.</p>';
  }
});

// The phone's menu button (vendor, admin) opens the sidebar: a disclosure, so aria-expanded tells
// screen readers, and Escape or following a link closes it. Listened for on the document: a page
// htmx restores from the server (Back to a filtered list) brings new buttons.
function setMenu(open) {
  const menuButton = document.querySelector("[data-menu-toggle]");
  if (!menuButton) return;
  menuButton.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("menu-open", open);
}
const currentMenuButton = () => document.querySelector("[data-menu-toggle]");
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (toggle) {
    setMenu(toggle.getAttribute("aria-expanded") !== "true");
  } else if (event.target.closest("#sidebar a")) {
    setMenu(false);
  }
});
// While the phone's menu is open it covers the page: Tab and Shift+Tab go round the menu button
// and the menu's links, never to the page hidden under it.
document.addEventListener("keydown", (event) => {
  const sidebar = document.getElementById("sidebar");
  if (event.key !== "Tab" || !document.body.classList.contains("menu-open") || !sidebar) return;
  const stops = [currentMenuButton(), ...sidebar.querySelectorAll("a[href], button, [tabindex]:not([tabindex='-1'])")];
  const at = stops.indexOf(document.activeElement);
  const next = at === -1 ? 0 : (at + (event.shiftKey ? stops.length - 1 : 1)) % stops.length;
  event.preventDefault();
  stops[next].focus();
});

// Menus built on <details> (the account menu, row actions) close on Escape and on a click elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.user-menu[open], details.row-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (document.body.classList.contains("menu-open")) {
    setMenu(false);
    currentMenuButton()?.focus();  // back to the button that opened it
  }
  document.querySelectorAll("details.user-menu[open], details.row-menu[open], details.confirm[open]").forEach((menu) => {
    menu.removeAttribute("open");
    menu.querySelector("summary")?.focus();
  });
});

// Toasts: a response says `HX-Trigger: {"toast": {"message": "…", "tone": "success"}}` (see
// portal/shell.py: toast()); the message shows where the user looks, then fades.
function showToast(message, tone) {
  const region = document.getElementById("toasts");
  if (!region || !message) return;
  const toast = document.createElement("p");
  toast.className = `toast toast-${tone || "success"}`;
  toast.textContent = message;
  region.appendChild(toast);
  setTimeout(() => toast.classList.add("leaving"), 4000);
  setTimeout(() => toast.remove(), 4400);
}
document.body.addEventListener("toast", (event) => {
  const detail = event.detail || {};
  showToast(typeof detail.value === "string" ? detail.value : detail.message, detail.tone);
});

// A control shows it is busy while its HTMX request runs: the button that sent it gets aria-busy
// (Pico draws its spinner; app.css stops a second click) until the request ends. Background
// polls (counts, progress) send no button and change nothing.
function busyControl(detail) {
  const elt = detail.elt;
  if (elt instanceof HTMLFormElement) {
    return detail.requestConfig?.triggeringEvent?.submitter || elt.querySelector("[type=submit]:not([disabled])");
  }
  return elt.matches("button, [role=button]") ? elt : null;
}
document.addEventListener("htmx:beforeRequest", (event) => {
  const control = busyControl(event.detail);
  if (control) {
    control.setAttribute("aria-busy", "true");
    event.detail.busyControl = control;
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  const control = event.detail.busyControl || busyControl(event.detail);
  control?.removeAttribute("aria-busy");
});

// "Load more" replaces its own button with the next rows: keyboard and screen-reader users go on
// from the first new row, not from the top of the page.
document.addEventListener("htmx:load", (event) => {
  const target = event.target.matches?.("[data-focus-on-load]")
    ? event.target
    : event.target.querySelector?.("[data-focus-on-load]");
  if (target && event.target !== document.body) {
    target.removeAttribute("data-focus-on-load");
    target.focus({ preventScroll: true });
  }
});
