// The IPI Timeline webview: one lane per vCPU, virtual time to the right; IPIs as arrows from
// sender to receiver, INIT/SIPI highlighted, VM exits as ticks, rendezvous as spans across
// lanes, collapsed and rejected interrupts marked as lost. It draws on a canvas only the rows
// whose time is on screen (binary search in TimelineStore), and falls back to one mark per
// lane and pixel column when that is still too many, so hundreds of thousands of events stay
// smooth. Colours come from the VS Code theme (CSS variables). Bundled for the browser by
// scripts/bundle.mjs; it talks to views/timelinePanel.ts only through messages.
import { KIND, MODE, STATES, TARGET } from '../timeline/encoding';
import { TimelineStore } from '../timeline/store';
import type { FromWebview, ToWebview } from '../timeline/messages';
import {
  Viewport, fit, fitLaneHeight, laneAt, laneTop, panBy, scrollLanesBy, tickLabel, tickStep, ticks, timeRange, timeToX,
  visibleLanes, xToTime, zoomAt,
} from '../timeline/viewport';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/** Above this many rows on screen, draw one mark per lane and pixel column instead of each row. */
const DENSE_ROWS = 30_000;
/** In that dense mode, look at about this many rows per frame (sampling evenly) plus every notable row. */
const DENSE_BUDGET = 150_000;

const canvas = document.getElementById('plot') as HTMLCanvasElement;
const ctx = canvas.getContext('2d')!;
const tooltip = document.getElementById('tooltip') as HTMLDivElement;
const info = document.getElementById('info') as HTMLSpanElement;
const followBox = document.getElementById('follow') as HTMLInputElement;

let store = new TimelineStore();
let title = '';
let running = false;
let dropped = 0;
/** Activity state of each lane now (used for lanes whose state never changed). */
let currentStates: number[] = [];
let selectedLane = -1;
let userMoved = false;
let view: Viewport = { t0: 0, nsPerPx: 100, width: 300, height: 200, gutter: 132, axis: 26, laneHeight: 30, scrollLane: 0 };
let dirty = true;
let lastReport = 0;
let lastDrawMs = 0;
let report: FromWebview | undefined;
let reportTimer: ReturnType<typeof setTimeout> | undefined;

interface Palette {
  background: string; foreground: string; muted: string; grid: string; laneAlt: string; selection: string;
  fixed: string; nmi: string; init: string; sipi: string; lost: string; eoi: string; exit: string;
  rendezvous: string; invariant: string; tlb: string; stateActive: string; stateHlt: string; stateWait: string; stateShutdown: string;
  font: string; monoFont: string;
}
let colors = readPalette();

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

function readPalette(): Palette {
  return {
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    foreground: cssVar('--vscode-editor-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    grid: cssVar('--vscode-editorLineNumber-foreground', '#555555'),
    laneAlt: cssVar('--vscode-editor-lineHighlightBackground', 'rgba(128,128,128,0.08)'),
    selection: cssVar('--vscode-editor-selectionBackground', 'rgba(38,79,120,0.6)'),
    fixed: cssVar('--vscode-charts-blue', '#3794ff'),
    nmi: cssVar('--vscode-charts-red', '#f14c4c'),
    init: cssVar('--vscode-charts-orange', '#d18616'),
    sipi: cssVar('--vscode-charts-purple', '#b180d7'),
    lost: cssVar('--vscode-errorForeground', '#f14c4c'),
    eoi: cssVar('--vscode-charts-green', '#89d185'),
    exit: cssVar('--vscode-charts-foreground', '#cccccc'),
    rendezvous: cssVar('--vscode-charts-purple', '#b180d7'),
    invariant: cssVar('--vscode-charts-red', '#f14c4c'),
    tlb: cssVar('--vscode-charts-yellow', '#cca700'),
    stateActive: cssVar('--vscode-charts-green', '#89d185'),
    stateHlt: cssVar('--vscode-charts-blue', '#3794ff'),
    stateWait: cssVar('--vscode-charts-yellow', '#cca700'),
    stateShutdown: cssVar('--vscode-charts-red', '#f14c4c'),
    font: `12px ${cssVar('--vscode-font-family', 'sans-serif')}`,
    monoFont: `11px ${cssVar('--vscode-editor-font-family', 'monospace')}`,
  };
}

function stateColor(code: number): string {
  switch (STATES[code]) {
    case 'active': return colors.stateActive;
    case 'hlt': return colors.stateHlt;
    case 'wait-for-sipi': return colors.stateWait;
    case 'shutdown': return colors.stateShutdown;
    default: return colors.muted;
  }
}

function modeColor(mode: number): string {
  switch (mode) {
    case MODE.INIT: case MODE.INIT_DEASSERT: return colors.init;
    case MODE.STARTUP: return colors.sipi;
    case MODE.NMI: case MODE.SMI: return colors.nmi;
    default: return colors.fixed;
  }
}

function modeShort(row: number): string {
  const v = store.vector[row];
  switch (store.mode[row]) {
    case MODE.INIT: return 'INIT';
    case MODE.INIT_DEASSERT: return 'INIT deassert';
    case MODE.STARTUP: return `SIPI 0x${v.toString(16)}`;
    case MODE.NMI: return 'NMI';
    case MODE.SMI: return 'SMI';
    case MODE.LOWEST: return `lowest 0x${v.toString(16)}`;
    default: return `0x${v.toString(16)}`;
  }
}

function lanes(): number {
  return Math.max(store.vcpus, currentStates.length, 1);
}

function laneMid(lane: number): number {
  return laneTop(view, lane) + view.laneHeight / 2;
}

function resize(): void {
  const rect = canvas.parentElement!.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(200, Math.floor(rect.width));
  const height = Math.max(120, Math.floor(rect.height));
  canvas.width = Math.floor(width * dpr);
  canvas.height = Math.floor(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  view = { ...view, width, height };
  if (!userMoved) fitAll();
  dirty = true;
}

function fitAll(): void {
  view = { ...view, laneHeight: fitLaneHeight(view, lanes()), scrollLane: 0 };
  if (store.count === 0) return;
  view = fit(view, store.firstTime, store.lastTime);
}

function follow(): void {
  if (!followBox.checked || !running || store.count === 0) return;
  const [t0, t1] = timeRange(view);
  const last = store.lastTime;
  if (last > t1 || last < t0) view = { ...view, t0: last - (t1 - t0) * 0.9 };
}

// ---- drawing ------------------------------------------------------------------------------

function draw(): void {
  dirty = false;
  const started = performance.now();
  const { width, height } = view;
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, 0, width, height);
  const nLanes = lanes();
  const [first, last] = visibleLanes(view, nLanes);
  const [t0, t1] = timeRange(view);

  ctx.save();
  ctx.beginPath();
  ctx.rect(view.gutter, view.axis, width - view.gutter, height - view.axis);
  ctx.clip();
  drawLaneBackgrounds(first, last, t0, t1);
  drawSpans(t0, t1);
  drawGrid();
  // Arrivals can be a little later than their send: look half a screen beyond each edge.
  const margin = (t1 - t0) / 2;
  const i0 = store.lowerBound(t0 - margin);
  const i1 = store.upperBound(t1 + margin);
  let drawn = 0;
  let arrows = 0;
  if (i1 - i0 > DENSE_ROWS) drawn = drawDense(store.lowerBound(t0), store.upperBound(t1), first, last);
  else [drawn, arrows] = drawRows(i0, i1, first, last);
  if (running && store.count > 0) {
    const x = timeToX(view, store.lastTime);
    ctx.strokeStyle = colors.muted;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(x + 0.5, view.axis);
    ctx.lineTo(x + 0.5, height);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.restore();
  drawAxis();
  drawGutter(first, last);
  if (store.count === 0) {
    ctx.fillStyle = colors.muted;
    ctx.font = colors.font;
    ctx.fillText(title ? 'No events yet: continue the VM to see IPIs and VM exits.' : 'Start a Hyperstep debug session to see its IPIs and VM exits.', view.gutter + 12, view.axis + 24);
  }
  info.textContent = `${store.count.toLocaleString('en-US')} events${store.overflow ? ` (+${store.overflow.toLocaleString('en-US')} not kept)` : ''}` +
    `${dropped ? ` · ${dropped.toLocaleString('en-US')} dropped by the adapter` : ''} · ${drawn.toLocaleString('en-US')} drawn`;
  lastDrawMs = performance.now() - started;
  report = { type: 'rendered', rows: store.count, drawn, lanes: last - first + 1, t0, t1, arrows, ms: lastDrawMs };
  // At most a few reports a second, the last frame's always (a trailing one after a burst).
  if (!reportTimer) {
    const wait = Math.max(0, lastReport + 300 - Date.now());
    reportTimer = setTimeout(() => {
      reportTimer = undefined;
      lastReport = Date.now();
      if (report) vscode.postMessage(report);
    }, wait);
  }
}

function drawLaneBackgrounds(first: number, last: number, t0: number, t1: number): void {
  const x0 = view.gutter;
  const x1 = view.width;
  for (let lane = first; lane <= last; lane++) {
    const y = laneTop(view, lane);
    if (lane === selectedLane) {
      ctx.fillStyle = colors.selection;
      ctx.fillRect(x0, y, x1 - x0, view.laneHeight);
    } else if (lane % 2 === 1) {
      ctx.fillStyle = colors.laneAlt;
      ctx.fillRect(x0, y, x1 - x0, view.laneHeight);
    }
    // The lifecycle state as a thin band at the bottom of the lane. Where several changes fall
    // into one pixel (a vCPU halting and waking thousands of times), the pixel gets the state at
    // its end and the changes inside it are skipped by binary search: the cost is per pixel.
    const rows = store.stateRows[lane] ?? [];
    const end = Math.min(t1, running || store.count === 0 ? Infinity : store.lastTime);
    const bandY = y + view.laneHeight - 4;
    let state = store.stateAt(lane, t0, currentStates[lane] ?? 0);
    let t = t0;
    let k = lowerBoundRows(rows, t0);
    ctx.globalAlpha = 0.55;
    while (t < end) {
      const next = k < rows.length ? store.time[rows[k]] : Infinity;
      let to: number;
      let after = state;
      if (next - t >= view.nsPerPx) {
        to = Math.min(next, end);
        if (k < rows.length) after = store.vector[rows[k++]];
      } else {
        to = Math.min(t + view.nsPerPx, end);
        k = lowerBoundRows(rows, to);
        state = k > 0 ? store.vector[rows[k - 1]] : state;
        after = state;
      }
      ctx.fillStyle = stateColor(state);
      const xa = Math.max(x0, timeToX(view, t));
      ctx.fillRect(xa, bandY, Math.max(1, timeToX(view, to) - xa), 3);
      state = after;
      t = to;
    }
    ctx.globalAlpha = 1;
  }
}

function lowerBoundRows(rows: number[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (store.time[rows[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function drawSpans(t0: number, t1: number): void {
  for (const s of store.spans) {
    const begin = store.time[s.begin];
    const end = s.end >= 0 ? store.time[s.end] : store.lastTime;
    if (end < t0 || begin > t1) continue;
    const xa = timeToX(view, begin);
    const xb = Math.max(xa + 2, timeToX(view, end));
    const ya = laneTop(view, s.lo) + 2;
    const yb = laneTop(view, s.hi + 1) - 2;
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = colors.rendezvous;
    ctx.fillRect(xa, ya, xb - xa, yb - ya);
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = colors.rendezvous;
    ctx.strokeRect(xa + 0.5, ya + 0.5, xb - xa - 1, yb - ya - 1);
    ctx.globalAlpha = 1;
  }
}

function drawGrid(): void {
  ctx.strokeStyle = colors.grid;
  ctx.globalAlpha = 0.25;
  ctx.beginPath();
  for (const t of ticks(view)) {
    const x = Math.round(timeToX(view, t)) + 0.5;
    ctx.moveTo(x, view.axis);
    ctx.lineTo(x, view.height);
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

/** Too many rows for one mark each: one mark per lane and pixel column and class. */
function drawDense(i0: number, i1: number, first: number, last: number): number {
  const w = Math.ceil(view.width - view.gutter);
  const n = last - first + 1;
  if (n <= 0) return 0;
  // Bits per cell: 1 exit, 2 IPI, 4 lost, 8 other.
  const cells = new Uint8Array(n * w);
  const inv = 1 / view.nsPerPx;
  const mark = (row: number): void => {
    const lane = store.vcpu[row] - first;
    if (lane < 0 || lane >= n) return;
    const col = ((store.time[row] - view.t0) * inv) | 0;
    if (col < 0 || col >= w) return;
    const kind = store.kind[row];
    const bit = kind === KIND.EXIT ? 1 : kind === KIND.IPI_COLLAPSE || kind === KIND.IPI_REJECT || kind === KIND.INVARIANT ? 4
      : kind === KIND.IPI_SEND || kind === KIND.IPI_ACCEPT || kind === KIND.INIT || kind === KIND.SIPI ? 2 : 8;
    cells[lane * w + col] |= bit;
  };
  // Every row while that is affordable; beyond, an even sample, so a frame's cost stays bounded
  // however many events there are. Rare rows (lost IPIs, INIT/SIPI, invariants) always count.
  const stride = Math.max(1, Math.ceil((i1 - i0) / DENSE_BUDGET));
  for (let row = i0; row < i1; row += stride) mark(row);
  if (stride > 1) {
    const notable = store.notable;
    for (let k = lowerBoundRows(notable, store.time[i0] ?? 0); k < notable.length && notable[k] < i1; k++) mark(notable[k]);
  }
  const layers: [number, string, number, number][] = [
    [1, colors.exit, 0.25, 0.45], [8, colors.eoi, 0.45, 0.6], [2, colors.fixed, 0.15, 0.4], [4, colors.lost, 0.1, 0.8],
  ];
  let drawn = 0;
  for (const [bit, color, top, size] of layers) {
    ctx.fillStyle = color;
    for (let lane = 0; lane < n; lane++) {
      const y = laneTop(view, lane + first) + view.laneHeight * top;
      const h = view.laneHeight * size;
      const base = lane * w;
      for (let col = 0; col < w; col++) {
        if (cells[base + col] & bit) {
          ctx.fillRect(view.gutter + col, y, 1, h);
          drawn++;
        }
      }
    }
  }
  return drawn;
}

function drawRows(i0: number, i1: number, first: number, last: number): [number, number] {
  const lh = view.laneHeight;
  let drawn = 0;
  let arrows = 0;
  const labelRight = new Float64Array(lanes()).fill(-Infinity);
  ctx.font = colors.monoFont;
  ctx.textBaseline = 'alphabetic';
  for (let row = i0; row < i1; row++) {
    const kind = store.kind[row];
    const lane = store.vcpu[row];
    const x = timeToX(view, store.time[row]);
    if (kind === KIND.STOP) {
      ctx.strokeStyle = colors.lost;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, view.axis);
      ctx.lineTo(Math.round(x) + 0.5, view.height);
      ctx.stroke();
      ctx.setLineDash([]);
      drawn++;
      continue;
    }
    const from = store.linkFrom[row];
    if (from >= 0) {
      const sender = store.vcpu[from];
      if ((sender >= first - 1 || lane >= first - 1) && (sender <= last + 1 || lane <= last + 1)) {
        drawArrow(timeToX(view, store.time[from]), laneMid(sender), x, laneMid(lane), modeColor(store.mode[from]));
        arrows++;
      }
    }
    if (lane < first || lane > last) {
      if (kind === KIND.IPI_SEND && store.arrivals[row] === 0) drawUnpairedSend(row, x, first, last);
      continue;
    }
    const y = laneTop(view, lane);
    drawn++;
    switch (kind) {
      case KIND.EXIT:
        ctx.fillStyle = colors.exit;
        ctx.globalAlpha = 0.6;
        ctx.fillRect(Math.round(x), y + lh * 0.3, 1, lh * 0.4);
        ctx.globalAlpha = 1;
        break;
      case KIND.IPI_SEND: {
        const color = modeColor(store.mode[row]);
        triangle(x, laneMid(lane), 5, color);
        if (store.arrivals[row] === 0) drawUnpairedSend(row, x, first, last);
        const text = modeShort(row);
        if (x > labelRight[lane] + 4) {
          ctx.fillStyle = color;
          ctx.fillText(text, x + 6, y + 11);
          labelRight[lane] = x + 6 + ctx.measureText(text).width;
        }
        break;
      }
      case KIND.IPI_ACCEPT:
        dot(x, laneMid(lane), 3, from >= 0 ? modeColor(store.mode[from]) : colors.fixed);
        break;
      case KIND.INIT:
        dot(x, laneMid(lane), 5, colors.init);
        if (x > labelRight[lane] + 4) {
          ctx.fillStyle = colors.init;
          ctx.fillText('INIT', x + 7, y + lh - 7);
          labelRight[lane] = x + 7 + ctx.measureText('INIT').width;
        }
        break;
      case KIND.SIPI: {
        dot(x, laneMid(lane), 5, colors.sipi);
        const text = `SIPI→0x${(store.vector[row] << 12).toString(16)}`;
        if (x > labelRight[lane] + 4) {
          ctx.fillStyle = colors.sipi;
          ctx.fillText(text, x + 7, y + lh - 7);
          labelRight[lane] = x + 7 + ctx.measureText(text).width;
        }
        break;
      }
      case KIND.IPI_COLLAPSE:
      case KIND.IPI_REJECT:
        cross(x, laneMid(lane), 5, colors.lost);
        break;
      case KIND.EOI:
        ctx.fillStyle = colors.eoi;
        ctx.fillRect(Math.round(x) - 1, y + lh - 9, 3, 3);
        break;
      case KIND.STATE:
        diamond(x, y + lh - 3, 3, stateColor(store.vector[row]));
        break;
      case KIND.INVARIANT:
        ctx.fillStyle = colors.invariant;
        ctx.fillRect(Math.round(x) - 1, y + 1, 3, lh - 2);
        break;
      case KIND.TLB_FLUSH:
        ctx.fillStyle = colors.tlb;
        ctx.fillRect(Math.round(x) - 2, y + 3, 4, 4);
        break;
      case KIND.RENDEZVOUS_ARRIVE:
        diamond(x, laneMid(lane), 4, colors.rendezvous);
        break;
      default:
        ctx.fillStyle = colors.muted;
        ctx.fillRect(Math.round(x), y + lh * 0.4, 1, lh * 0.2);
    }
  }
  return [drawn, arrows];
}

/** A send with no arrival seen (yet): a dashed arrow to where it was addressed. */
function drawUnpairedSend(row: number, x: number, first: number, last: number): void {
  const src = store.vcpu[row];
  const target = store.target[row];
  const color = modeColor(store.mode[row]);
  const targets: number[] = [];
  if (target >= 0) targets.push(target);
  else if (target === TARGET.ALL || target === TARGET.ALL_BUT_SELF) {
    for (let lane = first; lane <= last; lane++) if (lane !== src || target === TARGET.ALL) targets.push(lane);
  }
  ctx.setLineDash([3, 3]);
  for (const t of targets) if (t !== src) drawArrow(x, laneMid(src), x, laneMid(t), color);
  ctx.setLineDash([]);
}

function drawArrow(xa: number, ya: number, xb: number, yb: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(xa, ya);
  ctx.lineTo(xb, yb);
  ctx.stroke();
  ctx.lineWidth = 1;
  const angle = Math.atan2(yb - ya, xb - xa);
  const size = 6;
  ctx.beginPath();
  ctx.moveTo(xb, yb);
  ctx.lineTo(xb - size * Math.cos(angle - 0.45), yb - size * Math.sin(angle - 0.45));
  ctx.lineTo(xb - size * Math.cos(angle + 0.45), yb - size * Math.sin(angle + 0.45));
  ctx.closePath();
  ctx.fill();
}

function triangle(x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x - r, y + r);
  ctx.closePath();
  ctx.fill();
}

function dot(x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fill();
}

function diamond(x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
  ctx.fill();
}

function cross(x: number, y: number, r: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y + r);
  ctx.moveTo(x + r, y - r);
  ctx.lineTo(x - r, y + r);
  ctx.stroke();
  ctx.lineWidth = 1;
}

function drawAxis(): void {
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, 0, view.width, view.axis);
  ctx.strokeStyle = colors.grid;
  ctx.beginPath();
  ctx.moveTo(view.gutter, view.axis - 0.5);
  ctx.lineTo(view.width, view.axis - 0.5);
  ctx.stroke();
  const step = tickStep(view.nsPerPx);
  ctx.fillStyle = colors.muted;
  ctx.font = colors.monoFont;
  ctx.textBaseline = 'middle';
  for (const t of ticks(view)) {
    const x = timeToX(view, t);
    if (x < view.gutter) continue;
    ctx.fillText(tickLabel(t, step), x + 3, view.axis / 2);
    ctx.fillRect(Math.round(x), view.axis - 6, 1, 6);
  }
  ctx.textBaseline = 'alphabetic';
}

function drawGutter(first: number, last: number): void {
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, view.axis, view.gutter, view.height - view.axis);
  ctx.fillRect(0, 0, view.gutter, view.axis);
  ctx.fillStyle = colors.muted;
  ctx.font = colors.font;
  ctx.textBaseline = 'middle';
  ctx.fillText('virtual time →', 8, view.axis / 2);
  const [t0] = timeRange(view);
  for (let lane = first; lane <= last; lane++) {
    const y = laneTop(view, lane);
    if (lane === selectedLane) {
      ctx.fillStyle = colors.selection;
      ctx.fillRect(0, y, view.gutter, view.laneHeight);
    }
    ctx.fillStyle = colors.foreground;
    ctx.font = colors.font;
    ctx.fillText(`vCPU ${lane}${lane === 0 ? ' BSP' : ''}`, 8, laneMid(lane) - 5);
    const state = store.stateAt(lane, t0, currentStates[lane] ?? 0);
    ctx.fillStyle = stateColor(state);
    ctx.font = colors.monoFont;
    ctx.fillText(STATES[state] ?? '', 8, laneMid(lane) + 8);
  }
  ctx.strokeStyle = colors.grid;
  ctx.beginPath();
  ctx.moveTo(view.gutter - 0.5, view.axis);
  ctx.lineTo(view.gutter - 0.5, view.height);
  ctx.stroke();
  ctx.textBaseline = 'alphabetic';
}

// ---- interaction --------------------------------------------------------------------------

function rowAt(x: number, y: number): number {
  const lane = laneAt(view, y, lanes());
  if (lane < 0 || x < view.gutter) return -1;
  const t = xToTime(view, x);
  const slack = 6 * view.nsPerPx;
  return store.nearest(lane, t, t - slack, t + slack);
}

function formatNs(ns: number): string {
  return `${Math.round(ns).toLocaleString('en-US')} ns`;
}

function showTooltip(ev: MouseEvent, row: number): void {
  if (row < 0) {
    tooltip.hidden = true;
    return;
  }
  let text = `${store.labels[store.label[row]] ?? ''}\nat ${formatNs(store.time[row])}`;
  const from = store.linkFrom[row];
  if (from >= 0) text += `\nsent ${formatNs(store.time[row] - store.time[from])} earlier: ${store.labels[store.label[from]] ?? ''}`;
  if (store.kind[row] === KIND.IPI_SEND) text += `\n${store.arrivals[row]} arrival${store.arrivals[row] === 1 ? '' : 's'} seen`;
  text += `\nclick to reveal vCPU ${store.vcpu[row]}`;
  tooltip.textContent = text;
  tooltip.hidden = false;
  const pad = 14;
  const left = Math.min(ev.clientX + pad, window.innerWidth - tooltip.offsetWidth - 4);
  const top = ev.clientY + pad + tooltip.offsetHeight > window.innerHeight ? ev.clientY - tooltip.offsetHeight - 6 : ev.clientY + pad;
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${Math.max(0, top)}px`;
}

let drag: { x: number; y: number; moved: boolean } | undefined;

canvas.addEventListener('mousedown', (ev) => {
  drag = { x: ev.offsetX, y: ev.offsetY, moved: false };
});
window.addEventListener('mouseup', (ev) => {
  if (drag && !drag.moved && ev.target === canvas) {
    const row = rowAt(ev.offsetX, ev.offsetY);
    const lane = row >= 0 ? store.vcpu[row] : laneAt(view, ev.offsetY, lanes());
    if (lane >= 0) {
      selectedLane = lane;
      dirty = true;
      vscode.postMessage({ type: 'reveal', vcpu: lane, row });
    }
  }
  drag = undefined;
});
canvas.addEventListener('mousemove', (ev) => {
  if (drag) {
    const dx = ev.offsetX - drag.x;
    const dy = ev.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      view = scrollLanesBy(panBy(view, dx), -dy / view.laneHeight, lanes());
      drag.x = ev.offsetX;
      drag.y = ev.offsetY;
      userMoved = true;
      followBox.checked = false;
      dirty = true;
      tooltip.hidden = true;
      return;
    }
  }
  showTooltip(ev, rowAt(ev.offsetX, ev.offsetY));
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
});
canvas.addEventListener('wheel', (ev) => {
  ev.preventDefault();
  userMoved = true;
  if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
    view = panBy(view, -(ev.deltaX || ev.deltaY));
    followBox.checked = false;
  } else if (ev.altKey) {
    view = scrollLanesBy(view, ev.deltaY / view.laneHeight, lanes());
  } else {
    view = zoomAt(view, Math.max(view.gutter, ev.offsetX), Math.exp(ev.deltaY * 0.002));
  }
  dirty = true;
}, { passive: false });

window.addEventListener('keydown', (ev) => {
  const step = (view.width - view.gutter) / 4;
  switch (ev.key) {
    case '+': case '=': view = zoomAt(view, (view.width + view.gutter) / 2, 0.5); break;
    case '-': case '_': view = zoomAt(view, (view.width + view.gutter) / 2, 2); break;
    case 'ArrowLeft': view = panBy(view, step); break;
    case 'ArrowRight': view = panBy(view, -step); break;
    case 'ArrowUp': view = scrollLanesBy(view, -1, lanes()); break;
    case 'ArrowDown': view = scrollLanesBy(view, 1, lanes()); break;
    case '0': case 'Home': fitAll(); break;
    default: return;
  }
  userMoved = true;
  dirty = true;
});

document.getElementById('fit')!.addEventListener('click', () => {
  fitAll();
  userMoved = false;
  dirty = true;
});
document.getElementById('zoomIn')!.addEventListener('click', () => {
  view = zoomAt(view, (view.width + view.gutter) / 2, 0.5);
  userMoved = true;
  dirty = true;
});
document.getElementById('zoomOut')!.addEventListener('click', () => {
  view = zoomAt(view, (view.width + view.gutter) / 2, 2);
  userMoved = true;
  dirty = true;
});
followBox.addEventListener('change', () => {
  follow();
  dirty = true;
});

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'reset':
      store = new TimelineStore();
      title = m.title;
      currentStates = m.states;
      running = false;
      dropped = 0;
      userMoved = false;
      selectedLane = -1;
      document.getElementById('title')!.textContent = m.title || 'no session';
      fitAll();
      break;
    case 'append':
      store.append(m.batch);
      if (!userMoved) fitAll();
      else follow();
      break;
    case 'status':
      running = m.running;
      dropped = m.dropped;
      currentStates = m.states;
      follow();
      break;
  }
  dirty = true;
});

new ResizeObserver(resize).observe(canvas.parentElement!);
// VS Code changes the body's class when the theme changes: re-read the colours.
new MutationObserver(() => {
  colors = readPalette();
  dirty = true;
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

function frame(): void {
  if (dirty) draw();
  requestAnimationFrame(frame);
}
resize();
requestAnimationFrame(frame);
vscode.postMessage({ type: 'ready' });
