// GraphView: an SVG graph with ctrl+wheel zoom, drag pan, fit, hover tooltips, click-to-select and double-click to
// expand a fused node (anywidget ES module). The SVG comes without XML prolog (graphwright.viz.to_svg strips it).

const XLINK = "http://www.w3.org/1999/xlink";
const PT_TO_PX = 96 / 72;
const NODE_SELECTOR = "g.gw-node";
const HINT = "ctrl+wheel: zoom \u00b7 drag: pan \u00b7 click: select";
const EXPAND_HINT = " \u00b7 double-click a fused node: expand/collapse";

function button(label, cls, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "gw-gv-btn " + cls;
  b.textContent = label;
  b.title = title;
  return b;
}

function lengthPx(value) {
  if (!value) return 0;
  const n = parseFloat(value);
  if (Number.isNaN(n)) return 0;
  return value.trim().endsWith("pt") ? n * PT_TO_PX : n;
}

function prepareTooltips(root) {
  // graphviz puts the DOT `tooltip` in xlink:title and the node name in <title>; keep the text in data-gw-tip and
  // remove both so the browser's own tooltip does not cover ours
  for (const g of root.querySelectorAll("g.node, g.edge, g.gw-node")) {
    let tip = "";
    const a = g.querySelector("a");
    if (a) tip = a.getAttributeNS(XLINK, "title") || a.getAttribute("xlink:title") || a.getAttribute("title") || "";
    if (!tip) {
      const t = g.querySelector("title");
      if (t) tip = t.textContent || "";
    }
    if (tip) g.dataset.gwTip = tip;
  }
  for (const a of root.querySelectorAll("a")) {
    a.removeAttributeNS(XLINK, "title");
    a.removeAttribute("title");
  }
  for (const t of root.querySelectorAll("title")) t.remove();
}

function render({ model, el }) {
  el.classList.add("gw-graph-view");
  const toolbar = document.createElement("div");
  toolbar.className = "gw-gv-toolbar";
  const fitBtn = button("Fit", "gw-gv-fit", "Fit the whole graph in the view");
  const inBtn = button("+", "gw-gv-zoom-in", "Zoom in");
  const outBtn = button("\u2212", "gw-gv-zoom-out", "Zoom out");
  const status = document.createElement("span");
  status.className = "gw-gv-status";
  const selection = document.createElement("span");
  selection.className = "gw-gv-selection";
  const hint = document.createElement("span");
  hint.className = "gw-gv-hint";
  toolbar.append(fitBtn, inBtn, outBtn, status, selection, hint);

  const viewport = document.createElement("div");
  viewport.className = "gw-gv-viewport";
  const canvas = document.createElement("div");
  canvas.className = "gw-gv-canvas";
  const tip = document.createElement("div");
  tip.className = "gw-gv-tooltip";
  tip.style.display = "none";
  viewport.append(canvas, tip);
  const fallback = document.createElement("pre");
  fallback.className = "gw-gv-fallback";
  fallback.style.display = "none";
  el.append(toolbar, viewport, fallback);

  const view = { x: 0, y: 0, k: 1, w: 0, h: 0, userMoved: false };
  let drag = null;

  function apply() {
    canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.k})`;
  }

  function fit() {
    const vw = viewport.clientWidth;
    const vh = viewport.clientHeight;
    if (!view.w || !view.h || !vw || !vh) return false;
    view.k = Math.min((vw - 16) / view.w, (vh - 16) / view.h, 1.2);
    view.x = (vw - view.w * view.k) / 2;
    view.y = Math.max(8, (vh - view.h * view.k) / 2);
    view.userMoved = false;
    apply();
    return true;
  }

  function zoomAt(factor, mx, my) {
    const k = Math.min(Math.max(view.k * factor, 0.02), 40);
    view.x = mx - (mx - view.x) * (k / view.k);
    view.y = my - (my - view.y) * (k / view.k);
    view.k = k;
    view.userMoved = true;
    apply();
  }

  function highlight() {
    const id = model.get("selected") || "";
    for (const g of canvas.querySelectorAll(".gw-picked")) g.classList.remove("gw-picked");
    selection.textContent = id ? `selected: ${id}` : "";
    if (!id) return;
    for (const g of canvas.querySelectorAll(NODE_SELECTOR)) {
      if (g.id === id) g.classList.add("gw-picked");
    }
  }

  function draw() {
    const raw = model.get("svg") || "";
    const text = model.get("fallback") || "";
    canvas.innerHTML = raw;
    fallback.textContent = text;
    fallback.style.display = !raw && text ? "block" : "none";
    viewport.style.display = !raw && text ? "none" : "block";
    const svg = canvas.querySelector("svg");
    view.w = 0;
    view.h = 0;
    if (svg) {
      view.w = lengthPx(svg.getAttribute("width")) || 400;
      view.h = lengthPx(svg.getAttribute("height")) || 300;
      svg.setAttribute("width", `${view.w}px`);
      svg.setAttribute("height", `${view.h}px`);
      prepareTooltips(canvas);
    }
    highlight();
    if (!view.userMoved) fit();
  }

  function showStatus() {
    status.textContent = model.get("status") || "";
  }

  function setHeight() {
    viewport.style.height = model.get("height") || "480px";
  }

  function showHint() {
    hint.textContent = HINT + (model.get("expandable") ? EXPAND_HINT : "");
  }

  function select(target) {
    const node = target && target.closest ? target.closest(NODE_SELECTOR) : null;
    const id = node && canvas.contains(node) ? node.id : "";
    if (id === (model.get("selected") || "")) return;
    model.set("selected", id);
    model.save_changes();
  }

  function onWheel(e) {
    // the wheel alone scrolls the page; it zooms only with ctrl (or cmd) held, which is also a trackpad pinch
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }

  function onDown(e) {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, ox: view.x, oy: view.y, moved: false, target: e.target };
  }

  function onMove(e) {
    if (drag) {
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 3) {
        drag.moved = true;
        viewport.classList.add("gw-gv-dragging");
        if (viewport.setPointerCapture && e.pointerId !== undefined) viewport.setPointerCapture(e.pointerId);
      }
      if (drag.moved) {
        view.x = drag.ox + dx;
        view.y = drag.oy + dy;
        view.userMoved = true;
        apply();
        tip.style.display = "none";
        return;
      }
    }
    const g = e.target && e.target.closest ? e.target.closest("[data-gw-tip]") : null;
    if (!g || !canvas.contains(g)) {
      tip.style.display = "none";
      return;
    }
    const r = viewport.getBoundingClientRect();
    tip.textContent = g.dataset.gwTip;
    tip.style.display = "block";
    const x = e.clientX - r.left + 14;
    const y = e.clientY - r.top + 14;
    tip.style.left = `${Math.min(x, Math.max(0, r.width - tip.offsetWidth - 4))}px`;
    tip.style.top = `${Math.min(y, Math.max(0, r.height - tip.offsetHeight - 4))}px`;
  }

  function onUp(e) {
    if (!drag) return;
    const wasClick = !drag.moved;
    const target = drag.target;
    drag = null;
    viewport.classList.remove("gw-gv-dragging");
    if (viewport.hasPointerCapture && e.pointerId !== undefined && viewport.hasPointerCapture(e.pointerId)) {
      viewport.releasePointerCapture(e.pointerId);
    }
    if (wasClick) select(target);
  }

  function onCancel(e) {
    // the browser took the pointer (a touch scroll, a lost capture): end the drag without selecting
    if (!drag) return;
    drag = null;
    viewport.classList.remove("gw-gv-dragging");
    if (viewport.hasPointerCapture && e.pointerId !== undefined && viewport.hasPointerCapture(e.pointerId)) {
      viewport.releasePointerCapture(e.pointerId);
    }
  }

  function onDoubleClick(e) {
    if (!model.get("expandable")) return;
    const node = e.target && e.target.closest ? e.target.closest("g.gw-composite") : null;
    if (!node || !canvas.contains(node) || !node.id) return;
    const ids = [...(model.get("expanded") || [])];
    const at = ids.indexOf(node.id);
    if (at >= 0) ids.splice(at, 1);
    else ids.push(node.id);
    model.set("expanded", ids);
    model.save_changes();
  }

  function onLeave() {
    tip.style.display = "none";
  }

  viewport.addEventListener("wheel", onWheel, { passive: false });
  viewport.addEventListener("pointerdown", onDown);
  viewport.addEventListener("pointermove", onMove);
  viewport.addEventListener("pointerup", onUp);
  viewport.addEventListener("pointercancel", onCancel);
  viewport.addEventListener("pointerleave", onLeave);
  viewport.addEventListener("dblclick", onDoubleClick);
  fitBtn.addEventListener("click", () => fit());
  inBtn.addEventListener("click", () => zoomAt(1.25, viewport.clientWidth / 2, viewport.clientHeight / 2));
  outBtn.addEventListener("click", () => zoomAt(0.8, viewport.clientWidth / 2, viewport.clientHeight / 2));

  // a view drawn inside a hidden tab has no size yet: fit once it gets one (unless the user moved it)
  const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => {
    if (!view.userMoved) fit();
  });
  if (observer) observer.observe(viewport);

  const handlers = [["change:svg", draw], ["change:fallback", draw], ["change:selected", highlight],
                    ["change:status", showStatus], ["change:height", setHeight], ["change:expandable", showHint]];
  for (const [name, fn] of handlers) model.on(name, fn);
  setHeight();
  showStatus();
  showHint();
  draw();

  return () => {
    if (observer) observer.disconnect();
    for (const [name, fn] of handlers) model.off(name, fn);
  };
}

export default { render };
