"""The pixel grid's browser code (HTML, CSS, JavaScript) as inline strings: no build step,
nothing fetched at run time. Registered once by :mod:`cnnviz.ui.pixel_grid`.

The code builds the grid from ``data`` only and writes every value and label with
``textContent`` / attributes, never as markup: nothing a student typed becomes HTML.

What it does:

* draws ``data.values`` as cells coloured by value (a two-colour scale, or a diverging one with
  white at zero), with the number in the cell when it fits;
* a drag paints a freehand stroke with the brush (value and size from the toolbar); releasing
  sends the stroke's cells at once as one ``edit`` trigger ``{id, kind, cells: [[r, c, v], ...]}``;
* a selected cell takes typed text (Enter sends it, Escape cancels); arrow keys, Home and End
  move; Space paints the brush value; Ctrl+Z (or the Undo button) sends the cells of the last
  stroke back to their earlier values;
* edits not yet confirmed by the server (``data.ack`` is the last edit id it applied) stay drawn,
  so a stroke never flickers back; one message is in flight at a time (strokes made meanwhile go
  together in the next, so none replaces another before the server reads it), sent again if no
  answer comes; ``data.version`` changes when the server replaced the matrix (a quick action),
  which forgets the undo history and what was not sent.
"""

HTML = '<div class="pg" data-testid="cnnvizPixelGrid"></div>'

CSS = """
.pg { font-family: var(--st-font, "Source Sans Pro", sans-serif); color: var(--st-text-color, #31333f);
      font-size: 14px; user-select: none; -webkit-user-select: none; }
.pg-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-bottom: 6px; }
.pg-tools .pg-title { font-weight: 600; }
.pg-swatches { display: flex; gap: 4px; flex-wrap: wrap; }
.pg-swatch { min-width: 34px; height: 28px; padding: 0 6px; border: 1px solid rgba(49, 51, 63, 0.35);
             border-radius: 6px; cursor: pointer; font: inherit; font-size: 12px; }
.pg-swatch[aria-pressed="true"] { outline: 3px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
.pg-tools input[type=number] { width: 76px; height: 26px; font: inherit; padding: 0 4px;
             border: 1px solid rgba(49, 51, 63, 0.35); border-radius: 6px; }
.pg-tools select { height: 28px; font: inherit; border: 1px solid rgba(49, 51, 63, 0.35); border-radius: 6px; }
.pg-tools button.pg-undo { height: 28px; font: inherit; padding: 0 10px; cursor: pointer; border-radius: 6px;
             border: 1px solid rgba(49, 51, 63, 0.35); background: var(--st-secondary-background-color, #f0f2f6); }
.pg-tools button.pg-undo:disabled { opacity: 0.45; cursor: default; }
.pg-tools label { display: inline-flex; align-items: center; gap: 4px; }
.pg-wrap { position: relative; display: inline-block; max-width: 100%; }
.pg-grid { display: grid; gap: 1px; background: rgba(49, 51, 63, 0.28); border: 1px solid rgba(49, 51, 63, 0.28);
           touch-action: none; outline: none; width: max-content; }
.pg-grid:focus-visible { box-shadow: 0 0 0 3px var(--st-primary-color, #ff4b4b); }
.pg-row { display: contents; }
.pg-cell { display: flex; align-items: center; justify-content: center; overflow: hidden; cursor: crosshair;
           font-variant-numeric: tabular-nums; line-height: 1; box-sizing: border-box; }
.pg-head { display: flex; align-items: center; justify-content: center; background: var(--st-background-color, #fff);
           color: rgba(49, 51, 63, 0.7); font-size: 10px; overflow: visible; white-space: nowrap; }
.pg-cell.pg-active { box-shadow: inset 0 0 0 2px var(--st-primary-color, #ff4b4b), inset 0 0 0 3px #fff; }
.pg-edit { position: absolute; box-sizing: border-box; font: inherit; text-align: center; padding: 0 2px;
           border: 2px solid var(--st-primary-color, #ff4b4b); border-radius: 3px; min-width: 56px; z-index: 2;
           background: #fff; color: #000; }
.pg-help { margin-top: 4px; font-size: 12px; color: rgba(49, 51, 63, 0.7); }
"""

JS = r"""
const NS = "__cnnvizPixelGrid";

function mix(a, b, t) { return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * t)); }

function colourOf(value, d) {
  const s = d.colours;
  if (s.kind === "diverging") {
    const t = Math.max(-1, Math.min(1, value / (s.limit || 1)));
    return t < 0 ? mix(s.zero, s.neg, -t) : mix(s.zero, s.pos, t);
  }
  const t = Math.max(0, Math.min(1, (value - d.low) / ((d.high - d.low) || 1)));
  return mix(s.low, s.high, t);
}

function inkFor(rgb) { return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) > 140 ? "#000" : "#fff"; }

function fmt(v) {
  if (Number.isInteger(v)) return String(v);
  const p = Number(v.toPrecision(3));
  return String(p);
}

function full(v) { return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))); }

// What the server will make of a typed value (for drawing it at once); null: not a number.
function readTyped(text, d) {
  text = String(text).trim();
  if (!text || text.length > 40) return null;
  let v;
  if (text.includes("/")) {
    const parts = text.split("/");
    if (parts.length !== 2) return null;
    const a = Number(parts[0]), b = Number(parts[1]);
    v = b === 0 ? NaN : a / b;
  } else { v = Number(text); }
  if (!Number.isFinite(v)) return null;
  v = Math.min(d.high, Math.max(d.low, v));
  return d.whole ? Math.round(v) : v;
}

class PixelGrid {
  constructor(root) {
    this.root = root;
    this.box = root.querySelector(".pg") || root;
    this.pending = [];      // edits sent, not yet applied by the server: [{id, cells}]
    this.history = [];      // strokes to undo: [[[r, c, old], ...], ...]
    this.nextId = 1;
    this.inflight = null;   // id of the edit message sent and not yet applied by the server
    this.version = null;
    this.active = [0, 0];
    this.stroke = null;     // the stroke being painted: Map index -> [r, c, old]
    this.shape = null;
    this.d = null;
  }

  update(d, send) {
    this.send = send;
    const first = this.d === null;
    this.d = d;
    this.nextId = Math.max(this.nextId, (d.ack || 0) + 1);
    this.pending = this.pending.filter(p => p.id > (d.ack || 0));
    if (this.version !== null && d.version !== this.version) {
      this.pending = []; this.history = []; this.inflight = null; clearTimeout(this.resend);
    }
    if (this.inflight !== null && this.inflight !== undefined && (d.ack || 0) >= this.inflight) {
      this.inflight = null;
      clearTimeout(this.resend);
    }
    this.version = d.version;
    const rows = d.values.length, cols = rows ? d.values[0].length : 0;
    const tools = JSON.stringify([d.tools, d.brushes, d.sizes, d.low, d.high, d.whole, d.help]);
    if (first || tools !== this.toolsShown) {  // first time, or a grid grown large enough for brush sizes
      this.toolsShown = tools;
      this.buildTools();
      this.shape = null;
    }
    this.syncTools();
    if (!this.shape || this.shape[0] !== rows || this.shape[1] !== cols) {
      this.shape = [rows, cols];
      this.active = [Math.min(this.active[0], rows - 1), Math.min(this.active[1], cols - 1)];
      this.buildGrid();
    }
    this.layout();
    this.redraw();
    if (this.inflight === null) this.flush();
  }

  // --- the values on screen: the server's, then the edits it has not confirmed, then this stroke
  current() {
    const d = this.d;
    const v = d.values.map(row => row.slice());
    for (const p of this.pending) for (const [r, c, x] of p.cells) {
      const n = typeof x === "number" ? x : readTyped(x, d);
      if (n !== null && v[r]) v[r][c] = n;
    }
    if (this.stroke) for (const [r, c] of this.stroke.values()) v[r][c] = this.brushValue();
    return v;
  }

  brushValue() {
    const n = readTyped(this.brush, this.d);
    return n === null ? this.d.brush : n;
  }

  // --- toolbar: brush value, brush size, undo
  buildTools() {
    const d = this.d;
    const tools = document.createElement("div");
    tools.className = "pg-tools";
    if (d.tools) {
      const title = document.createElement("span");
      title.className = "pg-title";
      title.textContent = "Brush";
      tools.appendChild(title);
      const sw = document.createElement("div");
      sw.className = "pg-swatches";
      sw.setAttribute("role", "group");
      sw.setAttribute("aria-label", "Brush value");
      this.swatches = [];
      for (const b of d.brushes) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "pg-swatch";
        const rgb = colourOf(b.value, d);
        btn.style.background = `rgb(${rgb.join(",")})`;
        btn.style.color = inkFor(rgb);
        btn.textContent = fmt(b.value);
        btn.title = b.label;
        btn.setAttribute("aria-label", `Brush ${b.label}`);
        btn.addEventListener("click", () => { this.brush = String(b.value); this.syncTools(); });
        sw.appendChild(btn);
        this.swatches.push([btn, b.value]);
      }
      tools.appendChild(sw);
      const lab = document.createElement("label");
      lab.textContent = "value";
      const inp = document.createElement("input");
      inp.type = "number";
      inp.min = d.low; inp.max = d.high; inp.step = d.whole ? "1" : "any";
      inp.setAttribute("aria-label", `Brush value, ${full(d.low)} to ${full(d.high)}`);
      inp.addEventListener("input", () => { this.brush = inp.value; this.syncTools(true); });
      lab.appendChild(inp);
      tools.appendChild(lab);
      this.brushInput = inp;
      if (d.sizes && d.sizes.length) {
        const sl = document.createElement("label");
        sl.textContent = "size";
        const sel = document.createElement("select");
        sel.setAttribute("aria-label", "Brush size in cells");
        for (const s of d.sizes) {
          const o = document.createElement("option");
          o.value = String(s); o.textContent = `${s} cell${s > 1 ? "s" : ""}`;
          sel.appendChild(o);
        }
        sel.value = String(d.size);
        sel.addEventListener("change", () => { this.size = Number(sel.value); });
        sl.appendChild(sel);
        tools.appendChild(sl);
      }
      this.brush = String(d.brush);
      this.size = d.size || 1;
    } else { this.brush = String(d.brush); this.size = 1; }
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "pg-undo";
    undo.textContent = "↶ Undo";
    undo.title = "Undo the last stroke or typed value (Ctrl+Z)";
    undo.addEventListener("click", () => this.undo());
    tools.appendChild(undo);
    this.undoButton = undo;
    const wrap = document.createElement("div");
    wrap.className = "pg-wrap";
    const help = document.createElement("div");
    help.className = "pg-help";
    help.textContent = d.help;
    this.box.replaceChildren(tools, wrap, help);
    this.wrap = wrap;
    if (this.listening) return;
    this.listening = true;
    this.box.addEventListener("keydown", e => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z" && e.target !== this.editor
          && e.target !== this.brushInput) {
        e.preventDefault(); this.undo();
      }
    });
    if (typeof ResizeObserver !== "undefined") {
      let last = 0;
      new ResizeObserver(() => {
        const w = this.box.getBoundingClientRect().width;
        if (Math.abs(w - last) > 2) { last = w; this.layout(); }
      }).observe(this.box);
    }
  }

  syncTools(typing) {
    if (this.swatches) for (const [btn, v] of this.swatches) {
      btn.setAttribute("aria-pressed", String(readTyped(this.brush, this.d) === v));
      const rgb = colourOf(v, this.d);   // a kernel's colour scale follows its largest value
      btn.style.background = `rgb(${rgb.join(",")})`;
      btn.style.color = inkFor(rgb);
    }
    if (this.brushInput && !typing) this.brushInput.value = this.brush;
    if (this.undoButton) this.undoButton.disabled = this.history.length === 0;
  }

  // --- the grid: rows of cells with row and column headers
  buildGrid() {
    const d = this.d, [rows, cols] = this.shape;
    const grid = document.createElement("div");
    grid.className = "pg-grid";
    grid.tabIndex = 0;
    grid.setAttribute("role", "grid");
    grid.setAttribute("aria-label", d.label);
    grid.setAttribute("aria-rowcount", String(rows + 1));
    grid.setAttribute("aria-colcount", String(cols + 1));
    const head = document.createElement("div");
    head.className = "pg-row"; head.setAttribute("role", "row");
    const corner = document.createElement("div");
    corner.className = "pg-head"; corner.setAttribute("role", "columnheader"); corner.textContent = "";
    head.appendChild(corner);
    this.colHeads = [];
    for (let c = 0; c < cols; c++) {
      const h = document.createElement("div");
      h.className = "pg-head"; h.setAttribute("role", "columnheader");
      h.setAttribute("aria-label", `Column ${c + d.first_index}`);
      h.textContent = String(c + d.first_index);
      head.appendChild(h); this.colHeads.push(h);
    }
    grid.appendChild(head);
    this.cells = []; this.rowHeads = [];
    for (let r = 0; r < rows; r++) {
      const row = document.createElement("div");
      row.className = "pg-row"; row.setAttribute("role", "row");
      const h = document.createElement("div");
      h.className = "pg-head"; h.setAttribute("role", "rowheader");
      h.textContent = String(r + d.first_index);
      row.appendChild(h); this.rowHeads.push(h);
      const line = [];
      for (let c = 0; c < cols; c++) {
        const cell = document.createElement("div");
        cell.className = "pg-cell"; cell.setAttribute("role", "gridcell");
        cell.id = `pg-${r}-${c}`;
        cell.dataset.r = String(r); cell.dataset.c = String(c);
        row.appendChild(cell); line.push(cell);
      }
      grid.appendChild(row); this.cells.push(line);
    }
    this.grid = grid;
    this.shown = null;
    this.wrap.replaceChildren(grid);
    this.editor = null;
    grid.addEventListener("pointerdown", e => this.pointerDown(e));
    grid.addEventListener("pointermove", e => this.pointerMove(e));
    grid.addEventListener("pointerup", e => this.pointerUp(e));
    grid.addEventListener("pointercancel", e => this.pointerUp(e));
    grid.addEventListener("keydown", e => this.keyDown(e));
    grid.addEventListener("focus", () => this.markActive());
  }

  layout() {
    if (!this.grid) return;
    const d = this.d, [rows, cols] = this.shape;
    const width = this.box.getBoundingClientRect().width || 600;
    const headW = cols + d.first_index > 10 ? 20 : 16;
    const fit = (gap) => Math.max(d.min_cell, Math.min(d.max_cell,
      Math.floor((width - headW - cols * gap - 4) / Math.max(cols, 1))));
    let gap = d.lines ? 1 : 0, size = fit(gap);
    if (gap && size < 10) { gap = 0; size = fit(0); }  // small cells: lines would hide the picture
    this.grid.style.gap = `${gap}px`;
    this.gap = gap;
    if (size === this.size_px && gap === this.shownGap) return;
    this.shownGap = gap;
    this.size_px = size;
    const every = size >= 16 ? 1 : size >= 9 ? 4 : 8;
    this.grid.style.gridTemplateColumns = `${headW}px repeat(${cols}, ${size}px)`;
    this.grid.style.gridTemplateRows = `16px repeat(${rows}, ${size}px)`;
    this.colHeads.forEach((h, c) => { h.style.color = c % every === 0 ? "" : "transparent"; });
    this.rowHeads.forEach((h, r) => { h.style.color = r % every === 0 ? "" : "transparent"; });
    this.fontPx = Math.min(14, Math.floor(size * 0.36));
    this.shown = null;   // redraw every cell (the numbers may now fit or not)
    this.redraw();
  }

  redraw() {
    if (!this.cells || !this.d) return;
    const d = this.d, v = this.current(), size = this.size_px || 20, font = this.fontPx || 10;
    const first = d.first_index;
    for (let r = 0; r < v.length; r++) for (let c = 0; c < v[r].length; c++) {
      const x = v[r][c];
      if (this.shown && this.shown[r][c] === x) continue;
      const cell = this.cells[r][c];
      const rgb = colourOf(x, d);
      cell.style.background = `rgb(${rgb.join(",")})`;
      const text = fmt(x);
      const fits = font >= 8 && text.length * font * 0.62 <= size - 3;
      cell.textContent = fits ? text : "";
      cell.style.fontSize = `${font}px`;
      cell.style.color = inkFor(rgb);
      cell.setAttribute("aria-label", `Row ${r + first}, column ${c + first}: ${full(x)}`);
      cell.dataset.value = full(x);
    }
    this.shown = v;
    this.markActive();
    this.syncTools();
  }

  markActive() {
    if (!this.cells) return;
    const prev = this.grid.querySelector(".pg-active");
    if (prev) prev.classList.remove("pg-active");
    const [r, c] = this.active;
    const cell = this.cells[r] && this.cells[r][c];
    if (!cell) return;
    cell.classList.add("pg-active");
    cell.setAttribute("aria-selected", "true");
    if (prev && prev !== cell) prev.removeAttribute("aria-selected");
    this.grid.setAttribute("aria-activedescendant", cell.id);
  }

  // --- painting with the pointer
  cellAt(e) {
    const first = this.cells[0][0].getBoundingClientRect();
    const step = (this.size_px || 20) + (this.gap === undefined ? 1 : this.gap);
    return [(e.clientY - first.top) / step, (e.clientX - first.left) / step];
  }

  paintAt(y, x) {
    const [rows, cols] = this.shape, s = this.size || 1;
    const reach = s / 2;
    const r0 = Math.floor(y - reach), r1 = Math.floor(y + reach), c0 = Math.floor(x - reach), c1 = Math.floor(x + reach);
    for (let r = Math.max(0, r0); r <= Math.min(rows - 1, r1); r++)
      for (let c = Math.max(0, c0); c <= Math.min(cols - 1, c1); c++) {
        const inside = s <= 1 ? (r === Math.floor(y) && c === Math.floor(x))
          : ((r + 0.5 - y) ** 2 + (c + 0.5 - x) ** 2 <= reach * reach + 0.01)
            || (r === Math.floor(y) && c === Math.floor(x));
        const key = r * cols + c;
        if (inside && !this.stroke.has(key)) this.stroke.set(key, [r, c, this.shown[r][c]]);
      }
  }

  pointerDown(e) {
    if (e.button !== 0) return;
    this.commitEdit();
    e.preventDefault();
    this.grid.focus({ preventScroll: true });
    this.grid.setPointerCapture(e.pointerId);
    const [y, x] = this.cellAt(e);
    this.stroke = new Map();
    this.last = [y, x];
    const [rows, cols] = this.shape;
    if (y >= 0 && x >= 0 && y < rows && x < cols) this.active = [Math.floor(y), Math.floor(x)];
    this.paintAt(y, x);
    this.redraw();
  }

  pointerMove(e) {
    if (!this.stroke) return;
    const [y, x] = this.cellAt(e);
    const [ly, lx] = this.last;
    const n = Math.max(1, Math.ceil(Math.hypot(y - ly, x - lx) * 3));
    for (let i = 1; i <= n; i++) this.paintAt(ly + (y - ly) * i / n, lx + (x - lx) * i / n);
    this.last = [y, x];
    this.redraw();
  }

  pointerUp(e) {
    if (!this.stroke) return;
    const stroke = this.stroke;
    this.stroke = null;
    const value = this.brushValue();
    const cells = [...stroke.values()].filter(([r, c, old]) => old !== value);
    this.sendEdit("paint", cells.map(([r, c]) => [r, c, value]), cells);
  }

  sendEdit(kind, cells, undoCells) {
    if (cells.length) {
      const id = this.nextId++;
      this.pending.push({ id, kind, cells, sent: false });
      if (undoCells) this.history.push(undoCells);
      if (this.history.length > 100) this.history.shift();
      if (this.inflight === null || this.inflight === undefined) this.flush();
    }
    this.redraw();
  }

  // One message in flight at a time: edits made meanwhile wait and go together once the server has
  // applied it (a second trigger sent before the server reads the first would replace it).
  flush() {
    const waiting = this.pending.filter(p => !p.sent);
    if (!waiting.length) { this.inflight = null; return; }
    const cols = this.shape ? this.shape[1] : 0, cells = new Map();
    for (const p of waiting) { p.sent = true; for (const cell of p.cells) cells.set(cell[0] * cols + cell[1], cell); }
    const id = waiting[waiting.length - 1].id;
    const kind = waiting.length === 1 ? waiting[0].kind : "strokes";
    this.inflight = id;
    clearTimeout(this.resend);
    // No answer within a few seconds (a lost message): send what is not confirmed again (values are absolute).
    this.resend = setTimeout(() => {
      if (this.inflight !== id) return;
      for (const p of this.pending) p.sent = false;
      this.inflight = null;
      this.flush();
    }, 4000);
    this.send("edit", { id, kind, cells: [...cells.values()] });
  }

  undo() {
    const cells = this.history.pop();
    if (!cells) return;
    this.sendEdit("undo", cells.map(([r, c, old]) => [r, c, old]), null);
  }

  // --- the keyboard
  keyDown(e) {
    if (e.target !== this.grid) return;
    const [rows, cols] = this.shape;
    let [r, c] = this.active;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      r = Math.max(0, Math.min(rows - 1, r + moves[e.key][0]));
      c = Math.max(0, Math.min(cols - 1, c + moves[e.key][1]));
    } else if (e.key === "Home") { c = 0; if (e.ctrlKey) r = 0; }
    else if (e.key === "End") { c = cols - 1; if (e.ctrlKey) r = rows - 1; }
    else if (e.key === "Enter" || e.key === "F2") { e.preventDefault(); this.startEdit(null); return; }
    else if (e.key === " ") {
      e.preventDefault();
      const value = this.brushValue(), old = this.shown[r][c];
      if (old !== value) this.sendEdit("paint", [[r, c, value]], [[r, c, old]]);
      return;
    } else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); this.startEdit(""); return; }
    else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault(); this.startEdit(e.key); return;
    } else return;
    e.preventDefault();
    this.active = [r, c];
    this.markActive();
  }

  startEdit(text) {
    const [r, c] = this.active;
    const cell = this.cells[r][c];
    const input = document.createElement("input");
    input.className = "pg-edit";
    input.type = "text";
    input.setAttribute("aria-label", `New value for row ${r + this.d.first_index}, column ${c + this.d.first_index}`
      + ` (${full(this.d.low)} to ${full(this.d.high)}); Enter to keep, Escape to cancel`);
    input.value = text === null ? full(this.shown[r][c]) : text;
    const box = this.wrap.getBoundingClientRect(), at = cell.getBoundingClientRect();
    input.style.left = `${at.left - box.left}px`;
    input.style.top = `${at.top - box.top}px`;
    input.style.width = `${Math.max(at.width, 56)}px`;
    input.style.height = `${Math.max(at.height, 26)}px`;
    this.editor = input;
    this.editing = [r, c];
    input.addEventListener("keydown", e => {
      e.stopPropagation();
      if (e.key === "Enter") { e.preventDefault(); this.commitEdit(); this.grid.focus(); }
      else if (e.key === "Escape") { e.preventDefault(); this.cancelEdit(); this.grid.focus(); }
    });
    input.addEventListener("blur", () => this.commitEdit());
    this.wrap.appendChild(input);
    input.focus();
    if (text === null) input.select();
  }

  commitEdit() {
    const input = this.editor;
    if (!input) return;
    this.editor = null;
    const [r, c] = this.editing;
    const text = input.value;
    input.remove();
    const old = this.shown[r][c];
    if (text.trim() === full(old)) return;
    this.sendEdit("type", [[r, c, text]], [[r, c, old]]);
  }

  cancelEdit() {
    const input = this.editor;
    if (!input) return;
    this.editor = null;
    input.remove();
  }
}

export default function ({ data, setTriggerValue, parentElement }) {
  let grid = parentElement[NS];
  if (!grid) { grid = new PixelGrid(parentElement); parentElement[NS] = grid; }
  grid.update(data, setTriggerValue);
}
"""
