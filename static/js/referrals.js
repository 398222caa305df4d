// The referrals page's copy buttons: <button data-copy="#id-of-an-input">. Listened for on the
// document, so the buttons the link builder's HTMX swap brings work too.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  const status = button.parentElement.querySelector("[data-copy-status]");
  const say = (text) => { if (status) status.textContent = text; };
  try {
    await navigator.clipboard.writeText(field.value);
    say("Copied.");
  } catch (error) {
    // No clipboard permission (an http page, an old browser): select it for Ctrl+C instead.
    field.select();
    say("Selected: press Ctrl+C (⌘C) to copy.");
  }
});
