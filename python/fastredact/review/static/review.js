// fastredact review page: shows a run's redacted outputs one at a time with every hidden
// box outlined; the reviewer draws missed regions, marks false positives, and every action
// is saved on the server as it happens (a reload shows the same state). No network access
// beyond this page's own server; no external code.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const COLOURS = {
    found: "#ff3b30", margin: "#ff9f0a", added: "#00c7ff", removed: "#a0a0a0", pending: "#ffffff",
  };
  const ZOOMS = ["fit", 1, 2];
  let state = null;
  let index = 0;
  let zoom = 0;
  let scale = 1;   // screen pixels per picture pixel
  let space = 1;   // picture pixels per manifest pixel (a scaled-down publishing copy)
  let drag = null;
  let pending = null;
  let selected = null;
  const originals = new Map();

  const item = () => state.items[index];
  const storageKey = () => `fastredact-review:${state.fingerprint}:${state.reviewer}`;

  function status(text, error = false) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("error", error);
  }

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const response = await fetch(path, options);
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return response;
  }

  // -- corrections of the shown picture ------------------------------------------------------
  const sameBox = (a, b) => a && b && a.every((v, i) => Math.abs(v - b[i]) < 0.051);

  function rowsHere() {
    const it = item();
    return state.corrections.filter((r) => r.input === it.path &&
      Math.abs((r.frame || 0) - it.frame) <= (r.span || 0));
  }

  function isRemoved(box) {
    return rowsHere().some((r) => r.action === "remove" && r.label === box.label && sameBox(r.box, box.box));
  }

  async function post(body) {
    status("saving…");
    try {
      const row = await (await api("api/corrections", body)).json();
      if (row.action === "withdraw") {
        state.corrections = state.corrections.filter((r) => r.id !== row.target);
      } else {
        state.corrections.push(row);
      }
      status(`saved (${row.action})`);
      return row;
    } catch (e) {
      status(`not saved: ${e.message}`, true);
      return null;
    }
  }

  // -- showing a picture ---------------------------------------------------------------------
  function show(i) {
    index = Math.max(0, Math.min(state.items.length - 1, i));
    localStorage.setItem(storageKey(), String(index));
    pending = null;
    selected = null;
    $("new-box").hidden = true;
    $("selected").hidden = true;
    document.body.dataset.loaded = "0";
    document.body.dataset.item = String(index);
    const it = item();
    $("item-title").textContent = it.kind === "video" ? `${it.path} · frame ${it.frame}` : it.path;
    $("position").textContent = `${index + 1} / ${state.items.length}`;
    describeItem();
    listCorrections();
    status("loading picture…");
    $("picture").src = `api/picture/${index}`;
  }

  function describeItem() {
    const it = item();
    const info = $("item-info");
    info.replaceChildren();
    const add = (tag, text, cls) => {
      const el = document.createElement(tag);
      el.textContent = text;
      if (cls) el.className = cls;
      info.appendChild(el);
      return el;
    };
    add("div", `${it.kind}${it.kind === "video" ? `, frame ${it.frame} of ${it.frames} (as stored)` : ""}`);
    add("div", `scenario and format: ${it.stratum}`, "muted");
    add("div", `${it.boxes.length} hidden box(es) listed`, "muted");
    if (!it.boxes_known) add("div", "the run did not list video boxes (--list-video-boxes): only pixels are shown", "muted");
    const reasons = add("div", "");
    for (const r of it.reasons) {
      const badge = document.createElement("span");
      badge.className = "reason";
      badge.textContent = r;
      reasons.appendChild(badge);
    }
    $("span-row").hidden = it.kind !== "video";
  }

  function layout() {
    const img = $("picture");
    const it = item();
    space = it.width ? img.naturalWidth / it.width : 1;
    const viewer = $("viewer");
    const fit = Math.min((viewer.clientWidth - 20) / img.naturalWidth,
      (viewer.clientHeight - 20) / img.naturalHeight, 1);
    scale = ZOOMS[zoom] === "fit" ? fit : ZOOMS[zoom];
    const w = Math.round(img.naturalWidth * scale);
    const h = Math.round(img.naturalHeight * scale);
    img.style.width = `${w}px`;
    img.style.height = `${h}px`;
    const canvas = $("overlay");
    canvas.width = w;
    canvas.height = h;
    draw();
  }

  const toScreen = (b) => b.map((v) => v * space * scale);
  const toManifest = (v) => v / (space * scale);

  function strokeBox(ctx, b, colour, { dashed = false, width = 2, text = "", cross = false } = {}) {
    const [x0, y0, x1, y1] = toScreen(b);
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    if (cross) {
      ctx.beginPath();
      ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.moveTo(x1, y0); ctx.lineTo(x0, y1);
      ctx.stroke();
    }
    if (text) {
      ctx.font = "12px system-ui, sans-serif";
      const tw = ctx.measureText(text).width + 6;
      const ty = y0 > 16 ? y0 - 16 : y1;
      ctx.fillStyle = "rgba(0,0,0,.65)";
      ctx.fillRect(x0, ty, tw, 16);
      ctx.fillStyle = colour;
      ctx.fillText(text, x0 + 3, ty + 12);
    }
    ctx.restore();
  }

  function draw() {
    const canvas = $("overlay");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const it = item();
    it.boxes.forEach((b, k) => {
      const original = originals.get(`${index}:${k}`);
      if (original) {
        const [x0, y0, x1, y1] = toScreen(b.box);
        ctx.drawImage(original, x0, y0, x1 - x0, y1 - y0);
      }
      const removed = isRemoved(b);
      const score = b.score === null ? "" : ` ${Number(b.score).toFixed(2)}`;
      const kind = removed ? "false positive" : b.state === "margin" ? "hidden by margin" : "found";
      strokeBox(ctx, b.box, removed ? COLOURS.removed : COLOURS[b.state] || COLOURS.found, {
        dashed: b.state === "margin" || removed, width: k === selected ? 4 : 2,
        text: `${b.label}${score} ${kind}`, cross: removed,
      });
    });
    for (const r of rowsHere()) {
      if (r.action === "add") strokeBox(ctx, r.box, COLOURS.added, { text: `added ${r.label} (${r.tag})` });
    }
    if (drag) strokeBox(ctx, normalised(drag).map(toManifest), COLOURS.pending, { dashed: true });
    if (pending) strokeBox(ctx, pending, COLOURS.added, { dashed: true, text: "new" });
  }

  function listCorrections() {
    const list = $("corrections");
    list.replaceChildren();
    for (const r of rowsHere()) {
      const li = document.createElement("li");
      const what = r.action === "add" ? `added ${r.label} (${r.tag})${r.span ? `, ±${r.span} frames` : ""}`
        : r.action === "remove" ? `false positive: ${r.label} ${r.score}` : r.action;
      li.textContent = `${what} — ${r.reviewer || "?"} `;
      const undo = document.createElement("button");
      undo.textContent = "withdraw";
      undo.addEventListener("click", async () => {
        if (await post({ item: index, action: "withdraw", target: r.id })) { listCorrections(); draw(); }
      });
      li.appendChild(undo);
      list.appendChild(li);
    }
    if (!list.children.length) list.textContent = "none";
  }

  // -- drawing and selecting -----------------------------------------------------------------
  function normalised(d) {
    return [Math.min(d.x0, d.x1), Math.min(d.y0, d.y1), Math.max(d.x0, d.x1), Math.max(d.y0, d.y1)];
  }

  function boxAt(x, y) {
    let best = null;
    item().boxes.forEach((b, k) => {
      const [x0, y0, x1, y1] = toScreen(b.box);
      const area = (x1 - x0) * (y1 - y0);
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && (best === null || area < best.area)) best = { k, area };
    });
    return best === null ? null : best.k;
  }

  function select(k) {
    selected = k;
    pending = null;
    $("new-box").hidden = true;
    $("selected").hidden = k === null;
    if (k !== null) {
      const b = item().boxes[k];
      $("selected-info").textContent = `${b.label}, score ${b.score}, ${b.state === "margin" ? "hidden by the margin below the threshold" : "found at the threshold"}${isRemoved(b) ? "; marked false positive" : ""}`;
      $("show-original").disabled = !item().original;
      $("show-original").title = item().original ? "show the original pixels inside this box only; the view is recorded (o)"
        : "start the review with --inputs to see originals";
    }
    draw();
  }

  function onDown(e) {
    if (e.button !== 0) return;
    drag = { x0: e.offsetX, y0: e.offsetY, x1: e.offsetX, y1: e.offsetY };
  }

  function onMove(e) {
    if (!drag) return;
    drag.x1 = e.offsetX;
    drag.y1 = e.offsetY;
    draw();
  }

  function onUp(e) {
    if (!drag) return;
    drag.x1 = e.offsetX;
    drag.y1 = e.offsetY;
    const [x0, y0, x1, y1] = normalised(drag);
    drag = null;
    if (x1 - x0 < 4 || y1 - y0 < 4) { select(boxAt(x0, y0)); return; }
    const img = $("picture");
    const maxX = img.naturalWidth / space;
    const maxY = img.naturalHeight / space;
    pending = [Math.max(0, toManifest(x0)), Math.max(0, toManifest(y0)),
      Math.min(maxX, toManifest(x1)), Math.min(maxY, toManifest(y1))];
    selected = null;
    $("selected").hidden = true;
    $("new-box").hidden = false;
    $("span-input").value = String(state.span || 0);
    $("tag-select").value = "other";  // no tag is preset but "other": a default would bias the summary
    $("label-select").focus();
    draw();
  }

  async function savePending(e) {
    if (e) e.preventDefault();
    if (!pending) return;
    const body = {
      item: index, action: "add", box: pending.map((v) => Math.round(v * 10) / 10),
      label: $("label-select").value, tag: $("tag-select").value,
    };
    if (item().kind === "video") body.span = Math.max(0, parseInt($("span-input").value, 10) || 0);
    if (await post(body)) {
      pending = null;
      $("new-box").hidden = true;
      listCorrections();
      draw();
    }
  }

  function cancel() {
    pending = null;
    drag = null;
    $("new-box").hidden = true;
    select(null);
  }

  async function markFalsePositive() {
    if (selected === null) return;
    if (await post({ item: index, action: "remove", box_index: selected })) {
      listCorrections();
      select(selected);
    }
  }

  async function showOriginal() {
    if (selected === null || !item().original) return;
    const k = selected;
    const at = index;
    status("loading the original inside the box…");
    try {
      const blob = await (await api(`api/original/${at}/${k}`)).blob();
      const bitmap = await createImageBitmap(blob);
      originals.set(`${at}:${k}`, bitmap);
      status("original shown inside the box (the view is recorded)");
      if (at === index) draw();
    } catch (e) {
      status(`original not shown: ${e.message}`, true);
    }
  }

  async function accept() {
    if (await post({ item: index, action: "accept" })) {
      listCorrections();
      if (index < state.items.length - 1) show(index + 1);
    }
  }

  // -- how the sample was drawn --------------------------------------------------------------
  function describeSample() {
    const how = state.how;
    const pct = (a, b) => (b ? `${(100 * a / b).toFixed(1)} %` : "–");
    const box = $("how-text");
    box.replaceChildren();
    const p = document.createElement("p");
    p.textContent = `${how.method}, seed ${how.seed}: ${how.drawn} of ${how.candidates} candidate pictures; ` +
      `${how.photos_drawn} of ${how.photos_in_run} photos (${pct(how.photos_drawn, how.photos_in_run)}), ` +
      `${how.videos_drawn} of ${how.videos_in_run} videos; ${how.files_drawn} of ${how.files_in_run} files ` +
      `(${pct(how.files_drawn, how.files_in_run)} of the run's ok files; ${how.rows_in_run} rows in all).`;
    box.appendChild(p);
    const table = document.createElement("table");
    table.innerHTML = "<tr><th>stratum</th><th>candidates</th><th>drawn</th></tr>";
    for (const s of how.strata) {
      const tr = document.createElement("tr");
      for (const v of [s.name, s.candidates, s.drawn]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    box.appendChild(table);
    const reasons = document.createElement("p");
    const drawn = Object.entries(how.reasons_drawn).map(([k, v]) => `${k} ${v}`).join(", ");
    const inRun = Object.entries(how.reasons_in_run).map(([k, v]) => `${k} ${v}`).join(", ");
    reasons.textContent = `Weighted toward likely misses (weight 1 + ${Object.entries(how.weights)
      .map(([k, v]) => `${v} if ${k}`).join(", ")}). Reasons drawn: ${drawn || "none"}; in the run: ${inRun || "none"}.`;
    box.appendChild(reasons);
  }

  // -- start ---------------------------------------------------------------------------------
  function fillSelect(el, values) {
    for (const v of values) {
      const option = document.createElement("option");
      option.value = v;
      option.textContent = v;
      el.appendChild(option);
    }
  }

  function onKey(e) {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);
    if (e.key === "Escape") { cancel(); return; }
    if (e.key === "Enter" && pending) { savePending(e); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const actions = {
      n: () => show(index + 1), ArrowRight: () => show(index + 1),
      p: () => show(index - 1), ArrowLeft: () => show(index - 1),
      a: accept, f: markFalsePositive, o: showOriginal,
      z: () => { zoom = (zoom + 1) % ZOOMS.length; layout(); },
    };
    if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
  }

  async function start() {
    try {
      state = await (await api("api/state")).json();
    } catch (e) {
      status(`cannot load the review: ${e.message}`, true);
      return;
    }
    if (!state.items.length) { status("the sample is empty", true); return; }
    fillSelect($("label-select"), state.labels);
    fillSelect($("tag-select"), state.tags);
    describeSample();
    const img = $("picture");
    img.addEventListener("load", () => {
      layout();
      status(`ready · reviewer ${state.reviewer}`);
      document.body.dataset.loaded = "1";
    });
    img.addEventListener("error", async () => {
      let message = "cannot show the picture";
      try { await api(`api/picture/${index}`); } catch (e) { message = e.message; }
      status(message, true);
      document.body.dataset.loaded = "error";
    });
    const canvas = $("overlay");
    canvas.addEventListener("mousedown", onDown);
    canvas.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", (e) => { if (drag) onUp(e.target === canvas ? e : { offsetX: drag.x1, offsetY: drag.y1 }); });
    $("new-box").addEventListener("submit", savePending);
    $("cancel-box").addEventListener("click", cancel);
    $("mark-fp").addEventListener("click", markFalsePositive);
    $("show-original").addEventListener("click", showOriginal);
    $("accept").addEventListener("click", accept);
    $("next").addEventListener("click", () => show(index + 1));
    $("prev").addEventListener("click", () => show(index - 1));
    $("zoom").addEventListener("click", () => { zoom = (zoom + 1) % ZOOMS.length; layout(); });
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", () => { if (ZOOMS[zoom] === "fit") layout(); });
    const saved = parseInt(localStorage.getItem(storageKey()) || "0", 10);
    show(Number.isFinite(saved) ? saved : 0);
  }

  start();
})();
