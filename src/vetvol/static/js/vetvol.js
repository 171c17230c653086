// Page behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.

// htmx requests carry the CSRF token from the page's <meta name="csrf-token">.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
});

// Alpine (CSP build) components are registered here, by name.
document.addEventListener("alpine:init", () => {
  window.Alpine.data("menu", () => ({
    open: false,
    toggle() {
      this.open = !this.open;
    },
    get navClass() {
      return this.open ? "mainnav is-open" : "mainnav";
    },
  }));
});

// A <select class="js-autosubmit"> submits its form when changed (no inline handlers under the CSP).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.classList.contains("js-autosubmit") && target.value && target.form) {
    target.form.submit();
  }
});
