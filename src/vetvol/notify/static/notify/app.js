// The phone app on every page: service worker, the live inbox bell, push sign-up, and the offline queue.
(() => {
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  // -- service worker ----------------------------------------------------------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  }
  // logging out forgets the pages saved on this phone
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.action || !form.action.endsWith("/accounts/logout/")) return;
    localStorage.removeItem(QUEUE); // a shared phone keeps nothing of the last person
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("logout");
  });

  // -- the bell: unread count over the websocket -------------------------------------------------------
  const count = document.querySelector("[data-bell-count]");
  const showCount = (n) => {
    if (!count) return;
    count.textContent = String(n);
    count.classList.toggle("is-zero", !n);
  };
  if (count && "WebSocket" in window) {
    let delay = 1000;
    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${location.host}/ws/notify/`);
      socket.onopen = () => { delay = 1000; };
      socket.onmessage = (e) => {
        try {
          const msg = JSON.parse(e.data);
          if (msg.type === "inbox") showCount(msg.unread);
        } catch (err) { /* not for us */ }
      };
      socket.onclose = (e) => {
        if (e.code === 4401) return; // logged out
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 60000);
      };
    };
    connect();
  }

  // -- push sign-up (the settings page) ----------------------------------------------------------------
  const b64 = (text) => {
    const pad = "=".repeat((4 - (text.length % 4)) % 4);
    const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-push-enable]");
    if (!button) return;
    event.preventDefault();
    const status = document.querySelector("[data-push-status]");
    const say = (text) => { if (status) status.textContent = text; };
    try {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) return say("此浏览器不支持推送通知");
      if ((await Notification.requestPermission()) !== "granted") return say("未获得通知权限，请在浏览器设置中允许");
      const key = await (await fetch("/api/notify/push/key", { credentials: "same-origin" })).json();
      if (!key.application_server_key) return say("本系统未开启推送");
      const registration = await navigator.serviceWorker.ready;
      const sub = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: b64(key.application_server_key),
      });
      const body = sub.toJSON();
      const response = await fetch("/api/notify/push/subscriptions", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify({ endpoint: body.endpoint, keys: body.keys }),
      });
      say(response.ok ? "本机已开启推送通知" : "开启失败，请稍后再试");
    } catch (err) {
      say("开启失败：" + err.message);
    }
  });

  // -- offline queue: forms marked data-offline (check-ins, visits) ----------------------------------------
  // With signal a form goes as usual; without, it is kept on the phone and sent with fetch when the network
  // is back. The form's idempotency key (form_key) makes a resend of the same form change nothing twice.
  const QUEUE = "vetvol.offline-queue";
  const banner = document.querySelector("[data-offline-banner]");
  const load = () => {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  };
  const save = (items) => localStorage.setItem(QUEUE, JSON.stringify(items));
  const render = () => {
    if (!banner) return;
    const items = load();
    if (items.length) {
      const stuck = items.find((i) => i.failed);
      const why = !stuck ? "" : stuck.failed === "login" ? "请重新登录后再提交。" : "提交未成功，稍后自动重试。";
      banner.textContent = `已离线保存 ${items.length} 条记录（${items.map((i) => i.label).join("、")}），联网后自动提交，请勿删除本页数据。${why}`;
      banner.hidden = false;
    } else if (!navigator.onLine) {
      banner.textContent = "当前没有网络。签到等操作会先保存在手机上，联网后自动提交。";
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  };
  const post = (url, fields) => {
    const data = new FormData();
    for (const [k, v] of fields) data.append(k, v);
    return fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  };
  let flushing = false;
  const flush = async () => {
    if (flushing || !navigator.onLine) return render();
    flushing = true;
    let sent = 0;
    try {
      for (const item of load()) {
        let r;
        try {
          r = await post(item.url, item.fields);
        } catch (e) {
          break; // still no signal: keep it and the rest
        }
        const toLogin = r.redirected && new URL(r.url).pathname.startsWith("/accounts/login");
        const refused = r.status >= 400 && r.status < 500 && ![401, 403, 408, 429].includes(r.status);
        if ((r.ok && !toLogin) || refused) {
          // answered: done (a refusal, such as a closed activity, is final and shown after the reload)
          save(load().filter((i) => i.id !== item.id));
          sent += 1;
        } else {
          // logged out, a stale form or a server error: keep it, say so, and try again later
          save(load().map((i) => (i.id === item.id ? { ...i, failed: toLogin ? "login" : r.status } : i)));
          break;
        }
      }
    } finally {
      flushing = false;
    }
    render();
    if (sent && !load().length) location.reload(); // the server's answers are shown on the page
  };
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-offline")) return;
    if (navigator.onLine) return; // with signal the form goes as usual, and the answer page shows the result
    event.preventDefault();
    const fields = [...new FormData(form).entries()].filter(([, v]) => typeof v === "string");
    fields.push(["queued_at", String(Date.now())]);
    const label = form.getAttribute("data-offline") || "记录";
    const url = form.action;
    {
      const items = load(); // queued, with the time of the tap (the check-in counts from then)
      items.push({ id: `${Date.now()}-${Math.random()}`, url, fields, label, at: new Date().toISOString() });
      save(items);
      render();
      // the form stays usable: a second tap queues a resend, which the idempotency key makes harmless
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      const status = form.querySelector("[data-gps-status]");
      if (status) status.textContent = "已保存在手机上，联网后自动提交";
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  flush();
})();
