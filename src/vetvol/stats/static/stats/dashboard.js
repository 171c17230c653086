// Statistics dashboard: the map of the node's children coloured by the chosen figure (shipped boundaries,
// no tiles), the monthly trend; clicking a region drills down. Data comes from the page (json_script).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("stats-data").textContent);
  const urls = document.getElementById("stats-urls").dataset;
  const echarts = window.echarts;
  if (!echarts) return;

  function drill(code) {
    window.location.href = urls.dashboardUrl.replace("/00/", "/" + code + "/") + urls.query;
  }

  const trendEl = document.getElementById("stats-trend");
  if (trendEl) {
    const chart = echarts.init(trendEl, null, { renderer: "canvas" });
    const names = Object.keys(data.trend);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.months.map((m) => m.slice(5) + "月") },
      yAxis: { type: "value" },
      series: names.map((n) => ({ name: data.trend_labels[n], type: n === "service_hours" ? "bar" : "line", data: data.trend[n] })),
    });
    window.addEventListener("resize", () => chart.resize());
  }

  const mapEl = document.getElementById("stats-map");
  if (!mapEl || !data.children.length) return;
  fetch(urls.geoUrl, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((geo) => {
      const byCode = {};
      data.children.forEach((c) => { byCode[c.code] = c; });
      // Boundaries are matched by code: a county map of a city, the city itself for lower levels.
      const features = geo.features.filter((f) => byCode[f.properties.code]);
      if (!features.length) { mapEl.hidden = true; return; }
      features.forEach((f) => { f.properties.name = byCode[f.properties.code].name; });
      echarts.registerMap("stats-" + data.region, { type: "FeatureCollection", features: features });
      const values = data.children.map((c) => c.value);
      const chart = echarts.init(mapEl, null, { renderer: "canvas" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "item", renderMode: "richText" },
        visualMap: { min: 0, max: Math.max(1, ...values), left: 8, bottom: 8, calculable: true, text: [data.figure_label, ""] },
        series: [{
          type: "map",
          map: "stats-" + data.region,
          roam: false,
          label: { show: true, fontSize: 10 },
          data: data.children.filter((c) => features.some((f) => f.properties.code === c.code))
            .map((c) => ({ name: c.name, value: c.value, code: c.code })),
        }],
      });
      chart.on("click", (p) => { if (p.data && p.data.code) drill(p.data.code); });
      mapEl.dataset.ready = "1";
      window.addEventListener("resize", () => chart.resize());
    });
})();
