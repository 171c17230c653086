// The live dispatch board: initial state from the API, then events over the websocket. A board that
// reconnects asks for the journal after the last sequence number it applied, so it misses nothing.
// Boundaries come from shipped GeoJSON, drawn in SVG (Web Mercator); a tile URL, if configured, lays a base
// map underneath. No inline script or style: the Content-Security-Policy forbids them.
(() => {
  "use strict";
  const root = document.getElementById("board");
  if (!root) return;
  const L = JSON.parse(document.getElementById("board-labels").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  // Map units: the Web Mercator square is WORLD units wide, large enough that a district is a few hundred
  // units across (browsers draw very small SVG text and strokes badly).
  const WORLD = 1e6;
  const regionCode = root.dataset.region;
  const svg = document.getElementById("map");
  const state = {
    seq: 0,
    incidents: new Map(),
    positions: new Map(), // volunteer id -> position
    sites: [],
    counters: [],
    seen: new Set(),
    selected: root.dataset.selected ? Number(root.dataset.selected) : null,
    timeline: [],
  };
  let box = null; // mercator bounds of the map: {x0, y0, x1, y1}
  let socket = null;
  let backoff = 500;

  // -- helpers ---------------------------------------------------------------------------------------
  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "");
  const statusLabel = (s) => L.status[s] || s;
  const merc = (lng, lat) => {
    const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
    return [((lng + 180) / 360) * WORLD, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * WORLD];
  };
  const unit = () => (box ? Math.max(box.x1 - box.x0, box.y1 - box.y0) : 1);

  // -- the map ---------------------------------------------------------------------------------------
  const layers = {};
  for (const name of ["tiles", "regions", "labels", "sites", "incidents", "positions"]) {
    layers[name] = svgEl("g", { class: `layer-${name}` });
    svg.appendChild(layers[name]);
  }

  function ringsOf(geometry) {
    if (geometry.type === "Polygon") return geometry.coordinates;
    if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
    return [];
  }

  async function drawRegions() {
    const response = await fetch(root.dataset.geoUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const geo = await response.json();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const shapes = geo.features.map((f) => {
      const rings = ringsOf(f.geometry).map((ring) => ring.map(([lng, lat]) => merc(lng, lat)));
      let sx = 0, sy = 0, n = 0;
      for (const ring of rings) for (const [x, y] of ring) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
        sx += x; sy += y; n += 1;
      }
      return { f, rings, cx: sx / (n || 1), cy: sy / (n || 1) };
    });
    if (!shapes.length) return;
    const pad = Math.max(x1 - x0, y1 - y0) * 0.04;
    box = { x0: x0 - pad, y0: y0 - pad, x1: x1 + pad, y1: y1 + pad };
    svg.setAttribute("viewBox", `${box.x0} ${box.y0} ${box.x1 - box.x0} ${box.y1 - box.y0}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    drawTiles();
    for (const { f, rings, cx, cy } of shapes) {
      const d = rings.map((ring) => "M" + ring.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join("L") + "Z").join("");
      const path = svgEl("path", { d, class: "region", "vector-effect": "non-scaling-stroke", "data-code": f.properties.code });
      const title = svgEl("title");
      title.textContent = f.properties.name;
      path.appendChild(title);
      path.addEventListener("click", () => {
        if (f.properties.code !== regionCode) window.location.search = `?region=${f.properties.code}`;
      });
      layers.regions.appendChild(path);
      const label = svgEl("text", { x: cx, y: cy, class: "region-label", "font-size": unit() * 0.022 });
      label.textContent = f.properties.name;
      layers.labels.appendChild(label);
    }
  }

  function drawTiles() {
    const template = root.dataset.tileUrl;
    if (!template || !box) return;
    const z = Math.max(0, Math.min(18, Math.floor(Math.log2((6 * WORLD) / (box.x1 - box.x0)))));
    const n = 2 ** z, size = WORLD / n;
    for (let tx = Math.floor(box.x0 / size); tx <= Math.floor(box.x1 / size); tx++) {
      for (let ty = Math.floor(box.y0 / size); ty <= Math.floor(box.y1 / size); ty++) {
        const href = template.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        layers.tiles.appendChild(svgEl("image", { href, x: tx * size, y: ty * size, width: size, height: size }));
      }
    }
  }

  function drawSites() {
    layers.sites.replaceChildren();
    const r = unit() * 0.007;
    for (const s of state.sites) {
      const [x, y] = merc(s.lng, s.lat);
      const rect = svgEl("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: "site" });
      const title = svgEl("title");
      title.textContent = `${s.title} · ${s.place_name} · ${L.on_site} ${s.on_site}`;
      rect.appendChild(title);
      layers.sites.appendChild(rect);
    }
  }

  function drawIncidents() {
    layers.incidents.replaceChildren();
    const r = unit() * 0.016;
    for (const inc of state.incidents.values()) {
      const [x, y] = merc(inc.lng, inc.lat);
      const share = inc.count ? inc.filled / inc.count : 1;
      const g = svgEl("g", {
        class: `incident${inc.status === "closed" ? " is-closed" : ""}${inc.id === state.selected ? " is-selected" : ""}`,
        "data-id": inc.id,
        tabindex: 0,
      });
      g.appendChild(svgEl("circle", { cx: x, cy: y, r, class: "ring", "stroke-width": r * 0.15 }));
      g.appendChild(svgEl("circle", { cx: x, cy: y, r: r * Math.sqrt(share) * 0.85, class: "fill" }));
      const title = svgEl("title");
      title.textContent = `${inc.title} · ${statusLabel(inc.status)} · ${inc.filled}/${inc.count}`;
      g.appendChild(title);
      g.addEventListener("click", () => select(inc.id));
      layers.incidents.appendChild(g);
    }
  }

  function drawPositions() {
    layers.positions.replaceChildren();
    const r = unit() * 0.005;
    for (const p of state.positions.values()) {
      const [x, y] = merc(p.lng, p.lat);
      const dot = svgEl("circle", { cx: x, cy: y, r, class: "responder", "data-volunteer": p.volunteer_id });
      const title = svgEl("title");
      title.textContent = `${L.volunteer} ${p.number || p.volunteer_id} · ${statusLabel(p.status || "")}`;
      dot.appendChild(title);
      layers.positions.appendChild(dot);
    }
  }

  // -- panels ----------------------------------------------------------------------------------------
  function renderIncidents() {
    const list = document.getElementById("incidents");
    const items = [...state.incidents.values()].sort(
      (a, b) => (a.status === "closed") - (b.status === "closed") || (b.opened_at > a.opened_at ? 1 : -1),
    );
    if (!items.length) {
      list.replaceChildren(el("li", { class: "muted" }, L.no_incidents));
      return;
    }
    list.replaceChildren(
      ...items.map((inc) => {
        const li = el("li", { class: inc.status === "closed" ? "is-closed" : "", "data-incident": inc.id });
        const button = el("button", { type: "button" });
        button.append(
          el("strong", {}, inc.title),
          el("br"),
          el("span", { class: "muted" }, `${inc.type_label || ""} · ${statusLabel(inc.status)} · ${L.filled} ${inc.filled}/${inc.count}`),
          el("progress", { max: inc.count || 1, value: inc.filled }),
        );
        button.addEventListener("click", () => select(inc.id));
        li.appendChild(button);
        return li;
      }),
    );
  }

  function renderCounters() {
    const body = document.querySelector("#counters tbody");
    const totals = { incidents: 0, responders: 0, activities: 0, attendees: 0 };
    body.replaceChildren(
      ...state.counters.map((row) => {
        for (const k of Object.keys(totals)) totals[k] += row[k];
        const tr = el("tr", { "data-code": row.code });
        const name = el("td");
        name.appendChild(el("a", { href: `?region=${row.code}` }, row.name));
        tr.append(name, ...["incidents", "responders", "activities", "attendees"].map((k) => el("td", {}, String(row[k]))));
        return tr;
      }),
    );
    // incidents and responders move with every event; activity figures come with the pushed counters
    const open = [...state.incidents.values()].filter((i) => i.status !== "closed");
    totals.incidents = open.length;
    totals.responders = open.reduce((n, i) => n + i.filled, 0);
    for (const [k, v] of Object.entries(totals)) {
      const node = document.querySelector(`[data-total="${k}"]`);
      if (node) node.textContent = String(v);
    }
  }

  function describe(ev) {
    const d = ev.data || {};
    const what = L.events[ev.name] || ev.name;
    if (ev.name === "dispatch.invitation.sent") {
      const who = d.volunteer_id ? `${L.volunteer} ${d.volunteer || d.volunteer_id}` : `${L.team} ${d.team || d.team_id}`;
      return `${what}：${d.role || ""} → ${who}${d.distance_km != null ? ` (${Number(d.distance_km).toFixed(1)} ${L.km})` : ""}`;
    }
    if (ev.name === "dispatch.invitation.answered" || ev.name === "dispatch.invitation.expired" || ev.name === "dispatch.assignment.status") {
      return `${what}：${L.volunteer} ${d.volunteer || d.volunteer_id} ${statusLabel(d.status)}`;
    }
    if (ev.name === "dispatch.incident.closed") {
      return `${what}`;
    }
    return `${what}：${statusLabel(d.status || "")}`;
  }

  function renderTimeline() {
    const list = document.getElementById("panel-timeline");
    list.replaceChildren(
      ...state.timeline.map((ev) => {
        const li = el("li");
        li.append(el("time", { datetime: ev.at }, hhmm(ev.at)), document.createTextNode(describe(ev)));
        return li;
      }),
    );
    list.scrollTop = list.scrollHeight;
  }

  async function renderPanel() {
    const panel = document.getElementById("incident-panel");
    if (!state.selected) {
      panel.hidden = true;
      return;
    }
    const base = root.dataset.incidentUrl + state.selected;
    const [detail, timeline] = await Promise.all([
      fetch(base, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)),
      fetch(`${base}/timeline`, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : [])),
    ]);
    if (!detail) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    document.getElementById("panel-title").textContent = detail.title;
    const outcome = detail.status === "closed"
      ? ` · ${L.outcome}: ${detail.people_rescued} / ${detail.bodies_recovered} / ${detail.people_served}`
      : "";
    const meta = document.getElementById("panel-meta");
    meta.textContent = `${statusLabel(detail.status)} · ${hhmm(detail.opened_at)}${outcome} · `;
    meta.appendChild(el("a", { href: `/dispatch/incidents/${detail.id}/` }, L.details));
    document.getElementById("panel-needs").replaceChildren(
      ...detail.needs.map((n) => {
        const li = el("li", { "data-need": n.id });
        li.append(el("span", {}, `${n.name} ${n.filled}/${n.count}`), el("progress", { max: n.count, value: n.filled }));
        if (n.shortfall) li.appendChild(el("div", { class: "shortfall" }, `${L.missing} ${n.shortfall.missing}：${n.shortfall.detail}`));
        return li;
      }),
    );
    state.timeline = timeline;
    renderTimeline();
  }

  function select(id) {
    state.selected = id;
    drawIncidents();
    renderPanel();
  }
  document.getElementById("panel-close").addEventListener("click", () => select(null));

  // -- state and events ------------------------------------------------------------------------------
  function upsertIncident(inc) {
    if (inc && inc.region_code && inc.region_code.startsWith(regionCode)) state.incidents.set(inc.id, inc);
  }

  function applyEvent(msg) {
    if (msg.seq) {
      if (state.seen.has(msg.seq)) return;
      state.seen.add(msg.seq);
      state.seq = Math.max(state.seq, msg.seq);
    }
    if (msg.incident) upsertIncident(msg.incident);
    const d = msg.data || {};
    if (msg.name === "dispatch.incident.closed") {
      for (const [k, p] of state.positions) if (p.incident_id === d.id) state.positions.delete(k);
    }
    if (msg.name === "dispatch.assignment.status" && d.status === "done") state.positions.delete(d.volunteer_id);
    if (state.selected && msg.incident_id === state.selected && msg.seq) {
      state.timeline.push(msg);
      renderTimeline();
      if (msg.name !== "dispatch.invitation.sent") renderPanel();
    }
  }

  let redraw = 0;
  function scheduleRedraw() {
    if (redraw) return;
    redraw = requestAnimationFrame(() => {
      redraw = 0;
      drawIncidents();
      drawPositions();
      renderIncidents();
      renderCounters();
    });
  }

  function handle(msg) {
    switch (msg.type) {
      case "event":
        applyEvent(msg);
        break;
      case "position":
        state.positions.set(msg.volunteer_id, { ...state.positions.get(msg.volunteer_id), ...msg });
        break;
      case "counters":
        if (msg.region === regionCode) {
          state.counters = msg.rows;
          renderCounters();
        }
        return;
      case "caught_up":
        for (const inc of msg.incidents) upsertIncident(inc);
        state.positions = new Map(msg.positions.map((p) => [p.volunteer_id, p]));
        break;
      case "resync":
        loadState().then(connect);
        return;
      default:
        return;
    }
    scheduleRedraw();
    root.dataset.seq = String(state.seq);
  }

  async function loadState() {
    const response = await fetch(root.dataset.stateUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`state ${response.status}`);
    const s = await response.json();
    state.seq = s.seq;
    state.seen.clear();
    state.incidents = new Map(s.incidents.map((i) => [i.id, i]));
    state.positions = new Map(s.positions.map((p) => [p.volunteer_id, p]));
    state.sites = s.sites;
    state.counters = s.counters;
    drawSites();
    drawIncidents();
    drawPositions();
    renderIncidents();
    renderCounters();
    root.dataset.seq = String(state.seq);
  }

  function setConn(live) {
    const node = document.getElementById("conn");
    node.textContent = live ? L.connected : L.reconnecting;
    node.className = `conn ${live ? "is-live" : "is-down"}`;
    root.dataset.live = live ? "1" : "0";
  }

  let pinger = 0;
  function connect() {
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    const url = `${proto}://${window.location.host}${root.dataset.wsPath}?region=${regionCode}&since=${state.seq}`;
    socket = new WebSocket(url);
    socket.onopen = () => {
      backoff = 500;
      setConn(true);
      clearInterval(pinger);
      pinger = setInterval(() => socket.readyState === 1 && socket.send('{"type":"ping"}'), 25000);
    };
    socket.onmessage = (e) => handle(JSON.parse(e.data));
    socket.onclose = (event) => {
      if (event.code === 4401) {
        window.location.reload(); // logged out: the page sends the login form
        return;
      }
      setConn(false);
      clearInterval(pinger);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  setInterval(() => {
    document.getElementById("clock").textContent = new Date().toLocaleString();
  }, 1000);
  // Activity sites change slowly (a shift starts or ends): refresh them with the whole state now and then.
  setInterval(() => loadState().catch(() => {}), 120000);

  drawRegions()
    .catch(() => {})
    .then(loadState)
    .then(() => {
      connect();
      if (state.selected) renderPanel();
    })
    .catch(() => setConn(false));
})();
