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
