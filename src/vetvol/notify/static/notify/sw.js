// vetvol's service worker: the installable phone app.
// - Web push: shows the notification (one per notification: the tag), tells the server it reached the
//   phone (a signed receipt), opens what it is about when tapped.
// - Offline: the volunteer's pages are served from the network, or from the last copy when there is no
//   signal; static files from the cache. Check-ins made offline are queued by the page (app.js).
const CACHE = "vetvol-app-v1";
const STATIC = ["/static/css/vetvol.css", "/static/js/vetvol.js", "/static/notify/app.js",
  "/static/vendor/htmx.min.js", "/static/vendor/alpine.min.js", "/static/favicon.svg"];
const PAGES = [/^\/activities\/me\/$/, /^\/activities\/\d+\/$/, /^\/dispatch\/me\/$/, /^\/care\/me\/$/];

self.addEventListener("install", (event) => {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(STATIC)).catch(() => undefined));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) caches.open(CACHE).then((cache) => cache.put(request, response.clone()));
          return response;
        })
        .catch(() => caches.match(request)),
    );
    return;
  }
  if (request.mode === "navigate" && PAGES.some((re) => re.test(url.pathname))) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() =>
          caches.match(url.pathname).then(
            (hit) => hit || new Response("<meta charset=utf-8><p>当前没有网络，这个页面还没有保存在手机上。</p>",
              { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }),
          ),
        ),
    );
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: "通知", body: event.data ? event.data.text() : "" };
  }
  const shown = self.registration.showNotification(data.title || "通知", {
    body: data.body || "",
    tag: "vv-" + (data.id || ""),
    data: { url: data.url || "/notify/" },
    requireInteraction: Boolean(data.emergency),
    icon: "/static/notify/icon-192.png",
  });
  const receipt = data.receipt
    ? fetch(data.receipt, { method: "POST", credentials: "omit" }).catch(() => undefined)
    : Promise.resolve();
  event.waitUntil(Promise.all([shown, receipt]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/notify/";
  event.waitUntil(self.clients.openWindow(url));
});

self.addEventListener("message", (event) => {
  if (event.data === "logout") event.waitUntil(caches.delete(CACHE));
});
