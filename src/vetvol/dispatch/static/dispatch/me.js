// The volunteer's dispatch page: new invitations arrive over /ws/me/ and the list refreshes itself; while on
// duty (and only with the volunteer's consent) the phone's position is shared every 15 s at most.
(() => {
  "use strict";
  const mine = document.getElementById("mine");
  if (!mine) return;
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  let backoff = 1000;
  let watch = null;
  let lastSent = 0;

  function refresh() {
    if (window.htmx) window.htmx.trigger(mine, "refresh");
    else window.location.reload();
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${proto}://${window.location.host}/ws/me/`);
    socket.onopen = () => {
      backoff = 1000;
      mine.dataset.live = "1";
    };
    socket.onmessage = () => refresh();
    socket.onclose = (event) => {
      if (event.code === 4401) {
        window.location.reload(); // logged out: the page sends the login form
        return;
      }
      mine.dataset.live = "0";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 20000);
    };
  }

  function share() {
    const duty = document.getElementById("duty");
    const wanted = duty && duty.dataset.share === "1" && "geolocation" in navigator;
    if (!wanted) {
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      watch = null;
      return;
    }
    if (watch !== null) return;
    watch = navigator.geolocation.watchPosition(
      (pos) => {
        const now = Date.now();
        const current = document.getElementById("duty");
        if (!current || now - lastSent < 15000) return;
        lastSent = now;
        fetch(current.dataset.positionUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify({ lat: pos.coords.latitude, lng: pos.coords.longitude }),
        }).catch(() => {});
      },
      () => {},
      { enableHighAccuracy: true, maximumAge: 10000 },
    );
  }

  document.body.addEventListener("htmx:afterSwap", share);
  share();
  connect();
})();
