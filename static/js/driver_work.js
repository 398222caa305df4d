// The driver's work panel (templates/deliveries/_work.html): the offer's countdown, the signature
// box, and the phone's position sent with a proof of delivery. The panel is swapped in by the
// outbox and by polling, so each part is set up whenever it appears (a MutationObserver).
(() => {
  function refreshWork() {
    const panel = document.getElementById("driver-work");
    if (panel && window.htmx) {
      htmx.ajax("GET", panel.dataset.refreshUrl, { target: "#driver-work", swap: "outerHTML" });
    }
  }

  function startCountdown(element) {
    let left = Number.parseInt(element.dataset.secondsLeft, 10) || 0;
    const text = element.querySelector("[data-countdown-text]");
    const ends = Date.now() + left * 1000;
    const tick = () => {
      if (!element.isConnected) return;
      left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      text.textContent = `${left} s`;
      element.classList.toggle("is-urgent", left <= 10);
      if (left === 0) {
        element.textContent = "This offer has expired.";
        document.querySelectorAll("#offer form button").forEach((button) => {
          button.disabled = true;
        });
        setTimeout(refreshWork, 1500);
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }

  function startSignaturePad(canvas) {
    const form = canvas.closest("form");
    const input = form.querySelector("[data-signature-input]");
    const context = canvas.getContext("2d");
    context.lineWidth = 4;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";
    let drawing = false;
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * canvas.width) / box.width,
        ((event.clientY - box.top) * canvas.height) / box.height,
      ];
    };
    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      const [x, y] = at(event);
      context.beginPath();
      context.moveTo(x, y);
      context.lineTo(x + 0.1, y + 0.1);
      context.stroke();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const [x, y] = at(event);
      context.lineTo(x, y);
      context.stroke();
    });
    const finish = () => {
      if (!drawing) return;
      drawing = false;
      input.value = canvas.toDataURL("image/png");
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    form.querySelector("[data-signature-clear]").addEventListener("click", () => {
      context.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });
  }

  function fillPosition(form) {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
      },
      () => {}, // no position: the server keeps the driver's last known one
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 10000 },
    );
  }

  function setUp(root) {
    root.querySelectorAll("[data-countdown]:not([data-ready])").forEach((element) => {
      element.dataset.ready = "true";
      startCountdown(element);
    });
    root.querySelectorAll("[data-signature-pad]:not([data-ready])").forEach((canvas) => {
      canvas.dataset.ready = "true";
      startSignaturePad(canvas);
    });
    root.querySelectorAll("form[data-position]:not([data-ready])").forEach((form) => {
      form.dataset.ready = "true";
      fillPosition(form);
    });
  }

  const start = () => {
    setUp(document);
    new MutationObserver(() => setUp(document)).observe(document.body, {
      childList: true,
      subtree: true,
    });
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
