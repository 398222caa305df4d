// The admin's live board map: markers for the deliveries under way (pickup, dropoff, their
// driver) and the drivers online, read from the board's JSON endpoint when the page loads and
// each time the polled list is swapped in, so map and list update together.
(() => {
  const STYLES = {
    pickup: { radius: 6, className: "shop-marker" },
    dropoff: { radius: 6, className: "dropoff-marker" },
    on_delivery: { radius: 8, className: "driver-marker" },
    available: { radius: 7, className: "available-marker" },
  };
  let map = null;
  let layer = null;
  let fitted = false;
  let loading = false;

  function setUp(container) {
    if (map || !window.L) return map;
    map = L.map(container, { scrollWheelZoom: false });
    if (container.dataset.tiles) {
      L.tileLayer(container.dataset.tiles, {
        maxZoom: 19,
        attribution: container.dataset.attribution || "",
      }).addTo(map);
    }
    layer = L.layerGroup().addTo(map);
    map.setView([0, 0], 1);
    return map;
  }

  function mark(position, style, label, points) {
    if (!position) return;
    const marker = L.circleMarker(position, STYLES[style]);
    marker.bindTooltip(label);
    marker.addTo(layer);
    points.push(position);
  }

  function draw(data) {
    layer.clearLayers();
    const points = [];
    for (const delivery of data.deliveries) {
      mark(delivery.pickup, "pickup", `Pickup: ${delivery.label}`, points);
      mark(delivery.dropoff, "dropoff", `Dropoff: ${delivery.label}`, points);
    }
    for (const driver of data.drivers) {
      mark(driver.position, driver.status === "on_delivery" ? "on_delivery" : "available", driver.label, points);
    }
    if (!fitted && points.length) {
      map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 15 });
      fitted = true;
    }
  }

  async function refresh() {
    const container = document.querySelector("[data-delivery-board]");
    if (!container || loading || !setUp(container)) return;
    loading = true;
    try {
      const response = await fetch(container.dataset.positionsUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        draw(await response.json());
        container.dataset.markers = String(layer.getLayers().length);
      }
    } catch (error) {
      // A dropped request: the next poll of the list tries again.
    } finally {
      loading = false;
    }
  }

  // htmx fires its load event for the page and for each element it swaps in: the list's polls.
  document.addEventListener("htmx:load", (event) => {
    const elt = event.detail.elt;
    if (elt && (elt.id === "board-list" || (elt.querySelector && elt.querySelector("#board-list")))) {
      refresh();
    }
  });
})();
