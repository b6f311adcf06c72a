// Renders the IPI Timeline webview outside VS Code, from a trace file (`hyperstep run --trace`),
// in chromium: a quick look at the drawing, and a measure of how long frames take with many
// events. Uses the built files (npm run build).
//   node scripts/e2e/preview-timeline.mjs TRACE.jsonl [out.png] [--vcpus N] [--zoom F]
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './toolchain.mjs';

const require = createRequire(import.meta.url);
const { TimelineEncoder } = require(join(ROOT, 'out/extension/timeline/encoding.js'));
const { timelineHtml } = require(join(ROOT, 'out/extension/timeline/html.js'));

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const k = args.indexOf(name);
  return k >= 0 ? args.splice(k, 2)[1] : dflt;
};
const vcpus = Number(flag('--vcpus', '4'));
const zoom = Number(flag('--zoom', '1'));
const [trace, out = join(ROOT, '.cache/timeline-preview.png')] = args;
if (!trace) {
  console.error('usage: preview-timeline.mjs TRACE.jsonl [out.png] [--vcpus N] [--zoom F]');
  process.exit(2);
}

// The event types the adapter forwards to the timeline (protocol.ts EventsEventBody).
const KEEP = /^(ipi\.|exit$|eoi$|rendezvous\.|vcpu\.state$|invariant$|tlb\.flush$|apic\.reject$|stop$)/;
const events = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => KEEP.test(e.type));
const encoder = new TimelineEncoder(vcpus);
const batch = encoder.encode(events);

// Dark+ theme values for the variables the page reads.
const THEME = `body{--vscode-editor-background:#1e1e1e;--vscode-editor-foreground:#d4d4d4;--vscode-foreground:#cccccc;
--vscode-descriptionForeground:#9d9d9d;--vscode-editorLineNumber-foreground:#858585;--vscode-charts-blue:#3794ff;
--vscode-charts-red:#f14c4c;--vscode-charts-orange:#d18616;--vscode-charts-purple:#b180d7;--vscode-charts-green:#89d185;
--vscode-charts-yellow:#cca700;--vscode-charts-foreground:#cccccc;--vscode-errorForeground:#f48771;
--vscode-editor-selectionBackground:#264f78;--vscode-font-family:sans-serif;--vscode-editor-font-family:monospace;
--vscode-font-size:13px;--vscode-button-secondaryBackground:#3a3d41;--vscode-button-secondaryForeground:#fff;
--vscode-editorHoverWidget-background:#252526;--vscode-editorHoverWidget-border:#454545;--vscode-editorHoverWidget-foreground:#ccc}`;

const dir = mkdtempSync(join(tmpdir(), 'timeline-preview-'));
const page = timelineHtml({ cspSource: 'file:', scriptUri: `file://${ROOT}/dist/timeline-webview.js`, styleUri: `file://${ROOT}/media/timeline.css`, nonce: 'preview' })
  .replace('</head>', `<style>${THEME}</style><script nonce="preview">
window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });
</script></head>`)
  .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
writeFileSync(join(dir, 'index.html'), page);

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });
const p = await browser.newPage({ viewport: { width: 1400, height: 520 } });
p.on('pageerror', (e) => console.error('page error:', e.message));
await p.goto(`file://${join(dir, 'index.html')}`);
await p.evaluate(({ batch, vcpus }) => {
  const post = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  post({ type: 'reset', title: 'preview', vcpus, states: [0, ...Array(vcpus - 1).fill(2)] });
  post({ type: 'append', batch });
  post({ type: 'status', running: false, dropped: 0, states: Array(vcpus).fill(0) });
}, { batch, vcpus });
await p.waitForTimeout(500);
if (zoom !== 1) {
  for (let k = 0; k < Math.round(Math.log2(zoom)); k++) await p.keyboard.press('+');
}
// Frame time: redraw 20 times after a pan, as a user dragging would.
const ms = await p.evaluate(async () => {
  const canvas = document.getElementById('plot');
  const t0 = performance.now();
  const draws = [];
  for (let k = 0; k < 20; k++) {
    canvas.dispatchEvent(new WheelEvent('wheel', { deltaX: 3, deltaY: 0, clientX: 600, clientY: 100, bubbles: true, cancelable: true }));
    await new Promise((r) => requestAnimationFrame(() => r()));
    await new Promise((r) => setTimeout(r, 310));
    draws.push(window.__posted.filter((m) => m.type === 'rendered').pop()?.ms ?? NaN);
  }
  draws.sort((a, b) => a - b);
  return draws[10];
});
await p.keyboard.press('0');
await p.waitForTimeout(300);
await p.screenshot({ path: out });
const report = await p.evaluate(() => window.__posted.filter((m) => m.type === 'rendered').pop());
console.log(`${events.length} events -> ${batch.time.length} rows, ${batch.links.length / 2} IPI pairs; ${ms.toFixed(1)} ms to draw a frame (median); last frame: ${JSON.stringify(report)}; ${out}`);
await browser.close();
