// The IPI Timeline page. Pure, so the Content Security Policy is tested: nothing may load or
// run but the extension's own script (with a nonce) and stylesheet; no inline code or style.
import { escapeHtml } from '../model/lapic';

export interface TimelinePageOptions {
  /** webview.cspSource */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** A fresh random value per page. */
  nonce: string;
}

export function timelineCsp(o: TimelinePageOptions): string {
  return `default-src 'none'; img-src ${o.cspSource}; style-src ${o.cspSource}; script-src 'nonce-${o.nonce}';`;
}

export function timelineHtml(o: TimelinePageOptions): string {
  const e = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${e(timelineCsp(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${e(o.styleUri)}">
<title>IPI Timeline</title></head>
<body>
<header>
  <strong id="title">no session</strong>
  <button id="fit" title="Show every event (0)">Fit</button>
  <button id="zoomIn" title="Zoom in (+, or the mouse wheel)">+</button>
  <button id="zoomOut" title="Zoom out (-)">−</button>
  <label title="Keep the newest events in view while the VM runs"><input type="checkbox" id="follow" checked> follow</label>
  <span class="legend">
    <span class="key fixed">fixed IPI</span><span class="key init">INIT</span><span class="key sipi">SIPI</span><span class="key nmi">NMI</span>
    <span class="key lost">collapsed / lost</span><span class="key exit">VM exit</span><span class="key eoi">EOI</span><span class="key rendezvous">rendezvous</span>
  </span>
  <span id="info"></span>
</header>
<main><canvas id="plot" tabindex="0" aria-label="IPI timeline: a lane per vCPU, virtual time to the right"></canvas></main>
<div id="tooltip" role="tooltip" hidden></div>
<script nonce="${e(o.nonce)}" src="${e(o.scriptUri)}"></script>
</body></html>`;
}
