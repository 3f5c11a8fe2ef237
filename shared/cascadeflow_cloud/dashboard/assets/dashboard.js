/* CascadeFlow Cloud dashboard: renders the page's embedded JSON (#cf-data) with ECharts.
 * Tables arrive already formatted (the Python side's one money formatter); charts get plain
 * numbers. window.cfCharts holds every chart by id and window.cfReady turns true when done
 * (the browser tests read both). Apache-2.0, part of cascadeflow-cloud. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cf-data").textContent);
  var page = document.querySelector("main").getAttribute("data-page");
  var root = document.getElementById("content");
  var charts = {};
  window.cfCharts = charts;
  var PALETTE = ["#1f4e79", "#f4a261", "#2a9d8f", "#e76f51", "#8e6bbf", "#e9c46a", "#457b9d",
    "#bc4749", "#6a994e", "#577590", "#adb5bd"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function section(title, parent) {
    var s = el("section");
    s.appendChild(el("h2", {}, title));
    (parent || root).appendChild(s);
    return s;
  }
  function fmt(places) {
    return function (v) {
      return v === null || v === undefined ? "—" : Number(v).toLocaleString("en-US",
        { minimumFractionDigits: places, maximumFractionDigits: places });
    };
  }
  function chart(id, parent, option, cls) {
    var box = el("div", { id: id, "class": cls || "chart" });
    parent.appendChild(box);
    var c = echarts.init(box, null, { renderer: "canvas" });
    c.setOption(option);
    charts[id] = c;
    return c;
  }
  function table(t, parent) {
    var wrap = el("div");
    var bar = el("p", { "class": "muted" });
    var a = el("a", { href: t.csv, download: t.csv.split("/").pop(), "class": "csv" },
      "Download CSV");
    bar.appendChild(a);
    if (t.command) {
      bar.appendChild(document.createTextNode(" · the same file: "));
      bar.appendChild(el("code", {}, t.command));
    }
    wrap.appendChild(bar);
    var scroll = el("div", { "class": "scroll" });
    var tab = el("table", { "data-csv": t.csv });
    var right = {};
    t.right.forEach(function (i) { right[i] = true; });
    var head = el("tr");
    t.columns.forEach(function (c, i) { head.appendChild(el("th", right[i] ? { "class": "r" } : {}, c)); });
    var thead = el("thead"); thead.appendChild(head); tab.appendChild(thead);
    function body(rows, tag) {
      var part = el(tag);
      rows.forEach(function (r) {
        var tr = el("tr");
        r.forEach(function (c, i) {
          var attrs = right[i] ? { "class": "r" } : {};
          if (c === "pending" || c === "partial") { attrs["class"] = "pending"; }
          tr.appendChild(el("td", attrs, c));
        });
        part.appendChild(tr);
      });
      tab.appendChild(part);
    }
    body(t.cells, "tbody");
    if (t.footer.length) { body(t.footer, "tfoot"); }
    scroll.appendChild(tab);
    wrap.appendChild(scroll);
    if (!t.cells.length) { wrap.appendChild(el("p", { "class": "muted" }, t.empty)); }
    parent.appendChild(wrap);
  }

  function spendOption(view, currency) {
    var c = view.chart[currency];
    var f = fmt(c.places);
    var series = c.series.map(function (s, i) {
      return { name: s.name, type: "bar", stack: "billed", data: s.data, barMaxWidth: 28,
        itemStyle: { color: PALETTE[i % PALETTE.length] } };
    });
    if (c.tracked) {
      series.push({ name: "tracked (est.)", type: "line", data: c.tracked, symbolSize: 4,
        lineStyle: { width: 2, type: "dashed", color: "#111" }, itemStyle: { color: "#111" } });
    }
    if (series.length && c.pending.length) {
      // One shaded area per run of consecutive incomplete periods, labelled once above the
      // plot (inside it the label sat behind the bars; one label per day overlapped).
      var runs = [];
      c.x.forEach(function (x, i) {
        if (c.pending.indexOf(x) < 0) { return; }
        var last = runs[runs.length - 1];
        if (last && last.end === i - 1) { last.end = i; last.to = x; } else {
          last = { end: i, from: x, to: x, partial: 0, pending: 0 };
          runs.push(last);
        }
        last[c.partial.indexOf(x) >= 0 ? "partial" : "pending"] += 1;
      });
      series[0].markArea = { silent: true, itemStyle: { color: "rgba(244,162,97,0.18)" },
        label: { show: true, position: "top", align: "right", color: "#9a5b00", fontSize: 10 },
        data: runs.map(function (r) {
          var name = !r.pending ? "bill partial" : !r.partial ? "bill pending" :
            "bill partial, then pending";
          return [{ xAxis: r.from, name: name }, { xAxis: r.to }];
        }) };
    }
    return {
      animation: false,
      title: { text: (view.basis === "billed" ? "Billed (shared out by tracked usage)" :
        "Billed") + " by " + view.dimension + " per " + view.period + ", " + currency +
        (c.tracked ? " · tracked dashed" : ""), textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", valueFormatter: f },
      legend: { type: "scroll", top: 24 },
      grid: { left: 70, right: 20, top: 64, bottom: 60 },
      dataZoom: [{ type: "slider", height: 18, bottom: 8 }],
      xAxis: { type: "category", data: c.x },
      yAxis: { type: "value", name: currency, axisLabel: { formatter: f } },
      series: series
    };
  }

  function renderSpend() {
    var views = data.spend.views;
    var controls = el("p");
    var period = el("select", { id: "period" });
    var dim = el("select", { id: "dimension" });
    ["day", "week", "month"].forEach(function (p) { period.appendChild(el("option", { value: p }, p)); });
    var seen = {};
    views.forEach(function (v) {
      if (!seen[v.dimension]) { seen[v.dimension] = 1; dim.appendChild(el("option", { value: v.dimension }, v.dimension)); }
    });
    period.value = "month";
    controls.appendChild(document.createTextNode("Period "));
    controls.appendChild(period);
    controls.appendChild(document.createTextNode("by "));
    controls.appendChild(dim);
    var covered = Object.keys(data.spend.covered).sort().map(function (p) {
      return p + " through " + data.spend.covered[p];
    }).join(", ");
    controls.appendChild(el("span", { "class": "muted" }, "Bills in the lake: " +
      (covered || "none yet") + ". Later days are pending (shaded), not 0."));
    root.appendChild(controls);
    var holder = el("div");
    root.appendChild(holder);
    function show() {
      Object.keys(charts).forEach(function (k) { charts[k].dispose(); delete charts[k]; });
      holder.innerHTML = "";
      var view = views.filter(function (v) { return v.period === period.value && v.dimension === dim.value; })[0];
      holder.setAttribute("data-view", view.id);
      var s = section(view.table.title, holder);
      Object.keys(view.chart).forEach(function (cur) {
        chart("chart-" + view.id + "-" + cur, s, spendOption(view, cur));
      });
      if (!Object.keys(view.chart).length) { s.appendChild(el("p", { "class": "muted" }, "(no spend in this range)")); }
      table(view.table, s);
    }
    period.addEventListener("change", show);
    dim.addEventListener("change", show);
    show();
  }

  function budgetOption(b) {
    var f = fmt(b.places);
    var est = {};
    b.estimated.forEach(function (d) { est[d] = true; });
    var actual = b.actual.map(function (v, i) {
      var d = b.x[i];
      return est[d] ? { value: v, symbol: "emptyCircle", symbolSize: 6 } : v;
    });
    var series = [{ name: "actual", type: "line", data: actual, symbolSize: 3,
      lineStyle: { width: 2.5, color: "#1f4e79" }, itemStyle: { color: "#1f4e79" },
      markLine: { symbol: "none", silent: true, data: [{ yAxis: b.budget, name: "budget",
        lineStyle: { color: "#c1121f", width: 2 },
        label: { position: "insideEndTop", formatter: "budget " + f(b.budget) } }]
        .concat(b.thresholds.filter(function (t) { return t.share !== 1; }).map(function (t) {
          return { yAxis: t.amount, lineStyle: { color: "#c1121f", type: "dotted", width: 1 },
            label: { position: "insideEndTop", formatter: Math.round(t.share * 100) + "%" } };
        })) } }];
    function along(values, start) {
      var out = b.x.map(function () { return null; });
      var at = b.x.indexOf(start);
      values.forEach(function (v, i) { if (at + i >= 0 && at + i < out.length) { out[at + i] = v; } });
      return out;
    }
    if (b.fan) {
      var lo95 = along(b.fan.lo95, b.fan.x[0]), hi95 = along(b.fan.hi95, b.fan.x[0]);
      var lo80 = along(b.fan.lo80, b.fan.x[0]), hi80 = along(b.fan.hi80, b.fan.x[0]);
      function diff(hi, lo) { return hi.map(function (v, i) { return v === null ? null : v - lo[i]; }); }
      series.push({ name: "95% base", type: "line", data: lo95, stack: "f95", symbol: "none",
        lineStyle: { opacity: 0 }, tooltip: { show: false } });
      series.push({ name: "95% interval", type: "line", data: diff(hi95, lo95), stack: "f95",
        symbol: "none", lineStyle: { opacity: 0 }, itemStyle: { color: "rgba(244,162,97,0.4)" },
        areaStyle: { color: "rgba(244,162,97,0.25)" } });
      series.push({ name: "80% base", type: "line", data: lo80, stack: "f80", symbol: "none",
        lineStyle: { opacity: 0 }, tooltip: { show: false } });
      series.push({ name: "80% interval", type: "line", data: diff(hi80, lo80), stack: "f80",
        symbol: "none", lineStyle: { opacity: 0 }, itemStyle: { color: "rgba(244,162,97,0.8)" },
        areaStyle: { color: "rgba(244,162,97,0.45)" } });
      series.push({ name: "forecast P50", type: "line", data: along(b.fan.p50, b.fan.x[0]),
        symbol: "none", lineStyle: { type: "dashed", color: "#e76f51", width: 2 },
        itemStyle: { color: "#e76f51" } });
    }
    if (b.previous) {
      series.push({ name: "previous period" + (b.previous.complete ? "" : " (partial)"),
        type: "line", data: b.previous.cumulative.slice(0, b.x.length), symbol: "none",
        lineStyle: { color: "#8a94a3", width: 1.5 }, itemStyle: { color: "#8a94a3" } });
    }
    return {
      animation: false,
      title: { text: b.name + ": " + b.status + (b.run_out ? " · runs out " + b.run_out : ""),
        subtext: "cumulative; spent " + f(b.spent) + " of " + f(b.budget) + " " + b.currency +
          (b.p50 !== null ? " · P50 " + f(b.p50) + " (80%: " + f(b.lo80) + "–" + f(b.hi80) + ")" : "") +
          (b.prob_over !== null ? " · P(over) " + Math.round(b.prob_over * 100) + "%" : "") +
          (b.estimated.length ? " · " + b.estimated.length + "d estimated (hollow)" : ""),
        textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis", valueFormatter: f },
      legend: { bottom: 0, type: "scroll",
        data: series.map(function (s) { return s.name; }).filter(function (n) { return n.indexOf(" base") < 0; }) },
      grid: { left: 64, right: 24, top: 72, bottom: 48 },
      xAxis: { type: "category", data: b.x },
      yAxis: { type: "value", axisLabel: { formatter: f },
        max: function (v) { return Math.max(v.max, b.budget) * 1.05; } },
      series: series
    };
  }

  function renderBudgets() {
    var grid = el("div", { "class": "grid" });
    root.appendChild(grid);
    if (!data.budgets.length) {
      section("No budgets", grid).appendChild(el("p", { "class": "muted" },
        "Add a budgets: section to the configuration and build with --config."));
    }
    data.budgets.forEach(function (b) {
      var s = el("section");
      grid.appendChild(s);
      chart("budget-" + b.name, s, budgetOption(b), "chart");
    });
    table(data.table, section("All budgets"));
  }

  function renderReconciliation() {
    var s = section("From tracked to billed");
    s.appendChild(el("p", { "class": "muted" }, data.definition + "."));
    Object.keys(data.walk).forEach(function (cur) {
      var w = data.walk[cur], f = fmt(2);
      var steps = ["tracked", "price_drift", "untracked", "not_estimable", "billed"];
      var base = [], value = [], acc = 0;
      steps.forEach(function (k, i) {
        var v = w[k];
        if (i === 0 || i === steps.length - 1) { base.push(0); value.push(v); acc = (i === 0 ? v : acc); }
        else { base.push(v >= 0 ? acc : acc + v); value.push(Math.abs(v)); acc += v; }
      });
      chart("walk-" + cur, s, {
        animation: false,
        title: { text: "Tracked → price drift → untracked → not estimable → billed (" + cur + ")",
          textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis", valueFormatter: f },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: steps },
        yAxis: { type: "value", name: cur, axisLabel: { formatter: f } },
        series: [{ name: "base", type: "bar", stack: "w", data: base, itemStyle: { color: "transparent" },
          tooltip: { show: false } },
          { name: cur, type: "bar", stack: "w", data: value, label: { show: true, position: "top",
            formatter: function (p) { return f(w[steps[p.dataIndex]]); } },
            itemStyle: { color: function (p) { return ["#1f4e79", "#8e6bbf", "#e76f51", "#adb5bd", "#2a9d8f"][p.dataIndex]; } } }]
      }, "small");
    });
    [["provider", "By provider"], ["model", "By model"], ["token_type", "By token type"]].forEach(function (p) {
      var t = data.tables[p[0]];
      table(t, section(p[1] + " — " + t.title));
    });
  }

  function renderAlerts() {
    table(data.movers, section(data.movers.title));
    table(data.findings, section(data.findings.title));
    table(data.alerts, section(data.alerts.title));
  }

  ({ index: renderSpend, budgets: renderBudgets, reconciliation: renderReconciliation,
    alerts: renderAlerts })[page]();
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  window.cfReady = true;
}());
