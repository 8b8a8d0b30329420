// The timeline of a run (stepline): a Gantt chart of steps, branches and attempts.
// Shared by `stepline runs timeline --html` (inlined in the file) and `stepline ui` (served).
// Every text a task produced is set with textContent: never parsed as HTML.
(function () {
  "use strict";
  var GROUP = 100;       // branches per group row when a composite has more than OPEN_LIMIT
  var OPEN_LIMIT = 20;   // composites with more branches start closed and grouped

  function fmt(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 120) return seconds.toFixed(2) + " s";
    return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function summary(counts) {
    var total = 0, k;
    for (k in counts) total += counts[k];
    var text = (counts.SUCCESS || 0) + "/" + total + " succeeded";
    if (counts.FAIL) text += ", " + counts.FAIL + " failed";
    return text;
  }
  function bounds(spans) {
    var start = null, end = null;
    spans.forEach(function (s) {
      if (s.start !== null && (start === null || s.start < start)) start = s.start;
      if (s.end !== null && (end === null || s.end > end)) end = s.end;
    });
    return [start, end];
  }
  // Long composites get their branches in groups of GROUP, each a row of its own.
  function prepare(span, depth) {
    span.depth = depth;
    var branches = span.children.filter(function (c) { return c.kind === "branch"; });
    if (branches.length > OPEN_LIMIT && span.kind !== "group") {
      var others = span.children.filter(function (c) { return c.kind !== "branch"; });
      var groups = [];
      for (var i = 0; i < branches.length; i += GROUP) {
        var part = branches.slice(i, i + GROUP), counts = {};
        part.forEach(function (b) { counts[b.status] = (counts[b.status] || 0) + 1; });
        var b = bounds(part);
        groups.push({kind: "group", name: "branches " + (i + 1) + "-" + (i + part.length), path: span.path,
                     status: counts.FAIL ? "FAIL" : (counts.PROCESSING ? "PROCESSING" : (part.length === (counts.SUCCESS || 0) ? "SUCCESS" : "CREATED")),
                     start: b[0], end: b[1], branch_counts: counts, children: part, inputs: {}, outputs: {}, metrics: {},
                     message: "", open: false});
      }
      span.children = others.concat(groups);
    }
    if (span.open === undefined) span.open = span.kind !== "branch" || depth < 3;
    span.children.forEach(function (c) { prepare(c, depth + 1); });
  }
  function visible(span, out) {
    out.push(span);
    if (span.open) span.children.forEach(function (c) { visible(c, out); });
    return out;
  }
  function tipContent(tip, span) {
    tip.textContent = "";
    tip.appendChild(el("h4", "", (span.kind === "run" ? "run " : "") + (span.path || span.name) + " — " + span.status));
    var dl = el("dl");
    function add(title, value) {
      dl.appendChild(el("dt", "", title));
      var dd = el("dd");
      dd.appendChild(el("pre", "", value));
      dl.appendChild(dd);
    }
    add("time", fmt(span.start) + " → " + fmt(span.end) + "  (" + fmt(span.end !== null && span.start !== null ? span.end - span.start : null) + ")");
    if (span.kind === "step" || span.kind === "attempt") add("type", span.step_type);
    if (span.skipped_from) add("skipped", "succeeded in run " + span.skipped_from);
    if (span.branch_counts && Object.keys(span.branch_counts).length) add("branches", summary(span.branch_counts));
    if (span.message) add("message", span.message);
    [["inputs", span.inputs], ["outputs", span.outputs], ["metrics", span.metrics]].forEach(function (pair) {
      if (pair[1] && Object.keys(pair[1]).length) {
        add(pair[0], Object.keys(pair[1]).map(function (k) { return k + " = " + JSON.stringify(pair[1][k]); }).join("\n"));
      }
    });
    tip.appendChild(dl);
  }
  function render(root, data, options) {
    options = options || {};
    var total = data.total || 1;
    prepare(data.root, 0);
    root.textContent = "";
    root.classList.add("sl-timeline");
    var head = el("div", "sl-head");
    ["step", "status", "duration", ""].forEach(function (t) { head.appendChild(el("div", "", t)); });
    var axis = el("div", "sl-axis");
    axis.appendChild(el("span", "", "0"));
    axis.appendChild(el("span", "", fmt(total / 2)));
    axis.appendChild(el("span", "", fmt(total)));
    head.replaceChild(axis, head.lastChild);
    var body = el("div", "sl-body"), tip = el("div", "sl-tip");
    root.appendChild(head); root.appendChild(body); root.appendChild(tip);

    function draw() {
      body.textContent = "";
      visible(data.root, []).forEach(function (span) {
        var row = el("div", "sl-row sl-" + span.kind);
        row.setAttribute("data-path", span.path);
        row.setAttribute("data-status", span.status);
        if (options.selected && span.kind === "step" && span.path === options.selected) row.classList.add("sl-selected");
        var name = el("div", "sl-name");
        name.style.paddingLeft = (span.depth * 14) + "px";
        var toggle = el("span", "sl-toggle", span.children.length ? (span.open ? "▾" : "▸") : "");
        toggle.addEventListener("click", function (event) { event.stopPropagation(); span.open = !span.open; draw(); });
        name.appendChild(toggle);
        var label = span.kind === "branch" ? "[" + span.name + "]" : (span.kind === "run" ? "run " + span.name : span.name);
        name.appendChild(el("span", "sl-label", label));
        if (span.kind === "step" && span.step_type && span.step_type !== "task") name.appendChild(el("span", "sl-kind", span.step_type));
        if (span.branch_counts && Object.keys(span.branch_counts).length) name.appendChild(el("span", "sl-note", summary(span.branch_counts)));
        if (span.skipped_from) name.appendChild(el("span", "sl-note", "skipped"));
        row.appendChild(name);
        var status = el("div");
        status.appendChild(el("span", "sl-status sl-" + (span.skipped_from ? "SKIPPED" : span.status), span.skipped_from ? "SKIPPED" : span.status));
        row.appendChild(status);
        row.appendChild(el("div", "sl-dur", fmt(span.start !== null && span.end !== null ? span.end - span.start : null)));
        var track = el("div", "sl-track");
        if (span.start !== null) {
          var bar = el("div", "sl-bar sl-" + span.status);
          var end = span.end === null ? total : Math.min(span.end, total);
          bar.style.left = (100 * Math.max(0, span.start) / total) + "%";
          bar.style.width = (100 * Math.max(0, end - span.start) / total) + "%";
          track.appendChild(bar);
        }
        row.appendChild(track);
        row.addEventListener("mouseenter", function () { tipContent(tip, span); tip.style.display = "block"; });
        row.addEventListener("mousemove", function (event) {
          var x = Math.min(event.clientX + 16, window.innerWidth - tip.offsetWidth - 8);
          var y = event.clientY + 16;
          if (y + tip.offsetHeight > window.innerHeight) y = Math.max(8, event.clientY - tip.offsetHeight - 8);
          tip.style.left = x + "px"; tip.style.top = y + "px";
        });
        row.addEventListener("mouseleave", function () { tip.style.display = "none"; });
        row.addEventListener("click", function () {
          if (options.stepLink && (span.kind === "step" || span.kind === "attempt")) {
            window.location.href = options.stepLink(span.path);
          } else if (span.children.length) { span.open = !span.open; draw(); }
        });
        body.appendChild(row);
      });
    }
    draw();
  }
  window.SteplineTimeline = {render: render};
  document.addEventListener("DOMContentLoaded", function () {
    var nodes = document.querySelectorAll("[data-sl-timeline]");
    Array.prototype.forEach.call(nodes, function (node) {
      var data = JSON.parse(document.getElementById(node.getAttribute("data-sl-timeline")).textContent);
      var link = node.getAttribute("data-step-link");
      render(node, data, {selected: node.getAttribute("data-selected") || "",
                          stepLink: link ? function (path) { return link + encodeURIComponent(path); } : null});
    });
  });
})();
