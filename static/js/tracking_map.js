// The customer's tracking map: Leaflet drawn once, its markers moved to the positions the polled
// status fragment carries (#tracking-positions data attributes). Tiles are an enhancement: with
// no tile URL, or tiles that fail to load, the markers still show on a plain background.
(() => {
  const ZOOM = 15;
  let map = null;
  let viewSet = false;
  const markers = {};

  function read(element, prefix) {
    const lat = Number.parseFloat(element.dataset[`${prefix}Lat`]);
    const lon = Number.parseFloat(element.dataset[`${prefix}Lon`]);
    return Number.isNaN(lat) || Number.isNaN(lon) ? null : L.latLng(lat, lon);
  }

  function setUpMap(container) {
    if (map || !window.L) return map;
    map = L.map(container, { zoomControl: false, keyboard: false, scrollWheelZoom: false });
    if (container.dataset.tiles) {
      // The page's address holds the tracking token and the page sends no referrer; tile
      // servers still ask who is using them, so tile requests name the site's origin only.
      L.tileLayer(container.dataset.tiles, {
        maxZoom: 19,
        attribution: container.dataset.attribution || "",
        referrerPolicy: "origin",
      }).addTo(map);
    }
    return map;
  }

  function place(name, position) {
    if (!position) {
      if (markers[name]) {
        markers[name].remove();
        delete markers[name];
      }
      return;
    }
    if (markers[name]) {
      markers[name].setLatLng(position);
      return;
    }
    markers[name] = L.circleMarker(position, {
      radius: name === "driver" ? 10 : 7,
      className: `${name}-marker`,
      interactive: false,
    }).addTo(map);
  }

  function update() {
    const container = document.querySelector("[data-tracking-map]");
    const status = document.getElementById("tracking-status");
    if (container && status && status.dataset.final) {
      // The delivery ended: no driver to follow, so no map.
      container.closest(".tracking-map-card").hidden = true;
      return;
    }
    const positions = document.getElementById("tracking-positions");
    if (!container || !positions || !setUpMap(container)) return;
    const driver = read(positions, "driver");
    const shop = read(positions, "shop");
    place("driver", driver);
    place("shop", shop);
    const shown = [driver, shop].filter(Boolean);
    if (shown.length === 2) {
      map.fitBounds(L.latLngBounds(shown), { padding: [32, 32], maxZoom: ZOOM });
    } else if (shown.length === 1) {
      map.setView(shown[0], ZOOM);
    } else if (!viewSet) {
      map.setView([0, 0], 1);
    }
    viewSet = true;
    container.dataset.mapDrawn = "1";
  }

  // htmx fires its load event for the page and for each swapped fragment (every poll); this
  // script may run before htmx does (both deferred), so draw what is there as well.
  document.addEventListener("htmx:load", update);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
