// The timeline's geometry: which time range and which lanes are on screen, zoom and pan,
// axis ticks. Pure, so the arithmetic is unit-tested; the webview only draws with it.

export interface Viewport {
  /** Time at the left edge of the plot, ns. */
  t0: number;
  /** Zoom: nanoseconds per CSS pixel. */
  nsPerPx: number;
  /** Canvas size in CSS pixels. */
  width: number;
  height: number;
  /** Left gutter with lane names, and the time axis on top. */
  gutter: number;
  axis: number;
  laneHeight: number;
  /** First lane at the top of the plot (vertical scroll), may be fractional. */
  scrollLane: number;
}

export const MIN_NS_PER_PX = 0.01;
export const MAX_NS_PER_PX = 1e12;

export function plotWidth(v: Viewport): number {
  return Math.max(1, v.width - v.gutter);
}

export function timeToX(v: Viewport, t: number): number {
  return v.gutter + (t - v.t0) / v.nsPerPx;
}

export function xToTime(v: Viewport, x: number): number {
  return v.t0 + (x - v.gutter) * v.nsPerPx;
}

/** The visible time range [t0, t1]. */
export function timeRange(v: Viewport): [number, number] {
  return [v.t0, v.t0 + plotWidth(v) * v.nsPerPx];
}

export function laneTop(v: Viewport, lane: number): number {
  return v.axis + (lane - v.scrollLane) * v.laneHeight;
}

/** Lane under a y coordinate, or -1 outside the lanes. */
export function laneAt(v: Viewport, y: number, lanes: number): number {
  if (y < v.axis) return -1;
  const lane = Math.floor((y - v.axis) / v.laneHeight + v.scrollLane);
  return lane >= 0 && lane < lanes ? lane : -1;
}

/** Lanes at least partly visible: [first, last] inclusive (last < first when none). */
export function visibleLanes(v: Viewport, lanes: number): [number, number] {
  const first = Math.max(0, Math.floor(v.scrollLane));
  const last = Math.min(lanes - 1, Math.ceil(v.scrollLane + (v.height - v.axis) / v.laneHeight) - 1);
  return [first, last];
}

/** Zooms by `factor` (< 1 zooms in) keeping the time under x where it is. */
export function zoomAt(v: Viewport, x: number, factor: number): Viewport {
  const anchor = xToTime(v, x);
  const nsPerPx = Math.min(MAX_NS_PER_PX, Math.max(MIN_NS_PER_PX, v.nsPerPx * factor));
  return { ...v, nsPerPx, t0: anchor - (x - v.gutter) * nsPerPx };
}

export function panBy(v: Viewport, dx: number): Viewport {
  return { ...v, t0: v.t0 - dx * v.nsPerPx };
}

export function scrollLanesBy(v: Viewport, dLanes: number, lanes: number): Viewport {
  const maxScroll = Math.max(0, lanes - (v.height - v.axis) / v.laneHeight);
  return { ...v, scrollLane: Math.min(maxScroll, Math.max(0, v.scrollLane + dLanes)) };
}

/** Shows [start, end] across the plot, with room on the left and for labels on the right. */
export function fit(v: Viewport, start: number, end: number): Viewport {
  const span = Math.max(end - start, 100);
  const nsPerPx = Math.min(MAX_NS_PER_PX, Math.max(MIN_NS_PER_PX, (span * 1.1) / plotWidth(v)));
  return { ...v, nsPerPx, t0: start - span * 0.02 };
}

/** Lane height that fills the plot's height with `lanes` lanes, within readable bounds. */
export function fitLaneHeight(v: Viewport, lanes: number, min = 26, max = 96): number {
  return Math.max(min, Math.min(max, Math.floor((v.height - v.axis) / Math.max(1, lanes))));
}

/** Axis tick spacing: 1, 2 or 5 times a power of ten ns, about `minPx` pixels or more apart. */
export function tickStep(nsPerPx: number, minPx = 90): number {
  const raw = nsPerPx * minPx;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Tick times in [t0, t1]. */
export function ticks(v: Viewport, minPx = 90): number[] {
  const step = tickStep(v.nsPerPx, minPx);
  const [t0, t1] = timeRange(v);
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && out.length < 1000; t += step) out.push(t);
  return out;
}

/** A tick label in the unit of the step: "1.25 ms", "400 ns". */
export function tickLabel(t: number, step: number): string {
  const units: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
  const [scale, unit] = units.find(([s]) => step >= s / 2) ?? [1, 'ns'];
  const digits = Math.max(0, Math.ceil(-Math.log10(step / scale) - 1e-9));
  return `${(t / scale).toFixed(digits)} ${unit}`;
}
