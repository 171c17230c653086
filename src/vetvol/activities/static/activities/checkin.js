// GPS check-in/out: a button inside a form with data-gps asks the phone for its position, fills the
// hidden lat/lng fields and submits. Without a position the form is still sent, and the server explains.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-gps]");
  if (!button) return;
  event.preventDefault();
  const form = button.form;
  const status = form.querySelector("[data-gps-status]");
  if (status) status.textContent = "正在获取位置…";
  button.disabled = true;
  // requestSubmit, not submit: the submit handlers run (the offline queue keeps the form without signal)
  const send = () => form.requestSubmit();
  if (!navigator.geolocation) return send();
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("input[name=lng]").value = pos.coords.longitude.toFixed(6);
      send();
    },
    send,
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
});
