// The LAPIC panel's HTML, from the adapter's `hyperstep/lapic` answer. Pure (no `vscode`
// import). The page has no script at all; views/lapicPanel.ts wraps it in a strict CSP.
import type { LapicResponseBody, LapicRegisterView } from '../../debug-adapter/protocol';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Registers grouped as SDM table 10-1 lists them, so related ones sit together. */
const GROUPS: { title: string; match: (name: string) => boolean }[] = [
  { title: 'Identification and priority', match: (n) => /^(ID|VER|TPR|APR|PPR|LDR|DFR|SVR|ESR|EOI|RRD)$/.test(n) },
  { title: 'Interrupt state', match: (n) => /^(ISR|TMR|IRR)/.test(n) },
  { title: 'Interrupt command', match: (n) => /^ICR|^SELF/.test(n) },
  { title: 'Local vector table', match: (n) => /^LVT/.test(n) },
  { title: 'Timer', match: (n) => /^(TIMER|INITIAL|CURRENT|DIVIDE|TMICT|TMCCT|TDCR|TSC)/.test(n) },
];

export function groupRegisters(registers: readonly LapicRegisterView[]): { title: string; registers: LapicRegisterView[] }[] {
  const groups = GROUPS.map((g) => ({ title: g.title, registers: [] as LapicRegisterView[] }));
  const other = { title: 'Other', registers: [] as LapicRegisterView[] };
  for (const r of registers) {
    const k = GROUPS.findIndex((g) => g.match(r.name));
    (k >= 0 ? groups[k] : other).registers.push(r);
  }
  return [...groups, other].filter((g) => g.registers.length > 0);
}

export interface LapicPageOptions {
  /** The webview's Content-Security-Policy value. */
  csp: string;
  /** URI of the stylesheet (webview.asWebviewUri of media/lapic.css). */
  styleUri: string;
  /** Heading context, e.g. the thread name. */
  title: string;
}

export function lapicHtml(body: LapicResponseBody, options: LapicPageOptions): string {
  const sections = groupRegisters(body.registers).map((g) => {
    const rows = g.registers.map((r) =>
      `<tr><th scope="row">${escapeHtml(r.name)}</th><td class="offset">${offsetText(r.offset)}</td>` +
      `<td class="value">${escapeHtml(r.value)}</td><td class="decoded">${escapeHtml(r.decoded)}</td></tr>`).join('\n');
    return `<section><h2>${escapeHtml(g.title)}</h2>\n<table>\n` +
      '<thead><tr><th>register</th><th>offset</th><th>value</th><th>decoded</th></tr></thead>\n' +
      `<tbody>\n${rows}\n</tbody></table></section>`;
  }).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(options.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">
<title>LAPIC of vCPU ${body.vcpu}</title></head>
<body>
<h1>Local APIC of ${escapeHtml(options.title)} <span class="mode">${escapeHtml(body.mode)}</span></h1>
${sections}
</body></html>`;
}

function offsetText(offset: number): string {
  return `0x${offset.toString(16).padStart(3, '0')}`;
}
