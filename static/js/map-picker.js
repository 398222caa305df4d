// The pickup-position picker on the shop profile: a Leaflet map tied to the latitude and longitude
// inputs. A click (or dragging the pin) writes the inputs; typing in the inputs moves the pin.
// Runs for the first page load and again for every form HTMX swaps in.
(() => {
  const DEFAULT_VIEW = { center: [20, 0], zoom: 2 };
  const PLACED_ZOOM = 15;

  function readPosition(latInput, lonInput) {
    const lat = Number.parseFloat(latInput.value.replace(",", "."));
    const lon = Number.parseFloat(lonInput.value.replace(",", "."));
    if (Number.isNaN(lat) || Number.isNaN(lon)) return null;
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return null;
    return L.latLng(lat, lon);
  }

  function setUp(element) {
    if (element.dataset.mapReady) return;
    element.dataset.mapReady = "1";
    const latInput = document.querySelector(element.dataset.lat);
    const lonInput = document.querySelector(element.dataset.lon);
    if (!latInput || !lonInput || !window.L) return;

    const map = L.map(element, { scrollWheelZoom: false });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19,
        attribution: element.dataset.attribution || "",
      }).addTo(map);
    }
    let marker = null;

    function write(latlng) {
      const wrapped = latlng.wrap();
      latInput.value = wrapped.lat.toFixed(6);
      lonInput.value = wrapped.lng.toFixed(6);
      latInput.dispatchEvent(new Event("change", { bubbles: true }));
      lonInput.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
        return;
      }
      marker = L.marker(latlng, { draggable: true, title: "Pickup position" }).addTo(map);
      marker.on("dragend", () => write(marker.getLatLng()));
    }

    map.on("click", (event) => {
      place(event.latlng);
      write(event.latlng);
    });
    for (const input of [latInput, lonInput]) {
      input.addEventListener("input", () => {
        const position = readPosition(latInput, lonInput);
        if (position) {
          place(position);
          map.panTo(position);
        }
      });
    }

    const start = readPosition(latInput, lonInput);
    if (start) {
      map.setView(start, PLACED_ZOOM);
      place(start);
    } else {
      map.setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom);
    }
    element.dataset.mapDrawn = "1";
  }

  function setUpAll(root) {
    const scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-map-picker]")) setUp(scope);
    for (const element of scope.querySelectorAll("[data-map-picker]")) setUp(element);
  }

  // This script may run before htmx does (both deferred): listen for htmx's load event, which it
  // fires for the page and for each swapped fragment, and set up what is already there.
  document.addEventListener("htmx:load", (event) => {
    // htmx "settles" the style attribute of elements whose id survives a swap by writing it with
    // setAttribute, which the CSP (style-src 'self') blocks and reports; Leaflet and the browser
    // style this form's elements through the CSSOM, which the CSP allows. Leave style alone.
    if (window.htmx) {
      window.htmx.config.attributesToSettle = ["class", "width", "height"];
    }
    setUpAll(event.detail.elt);
  });
  setUpAll(document);
})();
