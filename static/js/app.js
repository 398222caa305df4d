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
