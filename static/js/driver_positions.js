// The driver's position, sent while they are online (portal/deliveries/positions.py).
//
// #position-sharing carries the ping endpoint, a signed per-driver token and the throttle. While
// the switch (#availability) says online, navigator.geolocation.watchPosition runs; a position is
// sent when at least `data-min-seconds` passed since the last one sent AND the phone moved at
// least `data-min-meters` (or a minute passed, so the map knows the driver is still there). Each
// ping carries the time the phone captured it. A ping that fails is dropped: the next one is
// newer anyway (status changes go through the outbox instead, driver_outbox.js).
(() => {
  const KEEPALIVE_MS = 60000;
  let watchId = null;
  let last = null; // {lat, lng, at} of the last ping sent
  let sentAt = 0;

  const panel = () => document.getElementById("position-sharing");
  const isOnline = () => {
    const form = document.getElementById("availability");
    return Boolean(form && form.classList.contains("is-online"));
  };
  const say = (text) => {
    const status = document.getElementById("position-status");
    if (status) status.textContent = text;
  };

  // Great-circle distance in metres (haversine).
  function metres(a, b) {
    const rad = (d) => (d * Math.PI) / 180;
    const dLat = rad(b.lat - a.lat);
    const dLng = rad(b.lng - a.lng);
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
    return 2 * 6371000 * Math.asin(Math.sqrt(h));
  }

  function send(el, position) {
    const here = { lat: position.coords.latitude, lng: position.coords.longitude };
    const now = Date.now();
    const minMs = Number(el.dataset.minSeconds || 5) * 1000;
    const minMetres = Number(el.dataset.minMeters || 20);
    if (now - sentAt < minMs) return;
    if (last && metres(last, here) < minMetres && now - sentAt < KEEPALIVE_MS) return;
    sentAt = now;
    last = here;
    fetch(el.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      keepalive: true,
      body: JSON.stringify({
        token: el.dataset.token,
        lat: here.lat,
        lng: here.lng,
        accuracy: position.coords.accuracy,
        captured_at: Math.round(position.timestamp || now),
      }),
    })
      .then((answer) => {
        if (answer.status === 401) say("Your position is not shared: reload the page.");
        else if (answer.ok) say("Sharing your position while you are online.");
      })
      .catch(() => say("No connection: your position is sent again once you are back."));
  }

  function start() {
    const el = panel();
    if (!el || watchId !== null) return;
    if (!("geolocation" in navigator) || !window.isSecureContext) {
      el.hidden = false;
      say("This browser cannot share your position here (it needs HTTPS).");
      return;
    }
    el.hidden = false;
    say("Asking for your position…");
    watchId = navigator.geolocation.watchPosition(
      (position) => send(el, position),
      (error) => say(error.code === 1 ? "Allow location for this site to share your position." : "Your position is not available right now."),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
    );
  }

  function stop() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    last = null;
    const el = panel();
    if (el) el.hidden = true;
  }

  const sync = () => (isOnline() ? start() : stop());
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSwap", sync);
  // The outbox replaces the switch without htmx: watch the page for it.
  new MutationObserver(sync).observe(document.documentElement, { childList: true, subtree: true });
})();
