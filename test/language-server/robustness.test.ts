// Bad and huge input through the real protocol: binary garbage, a single enormous line,
// pathological expressions and definitions, CRLF files, requests for unknown documents
// and positions, a 100,000-line file. The server must answer every request (within the
// test's bounded time) and stay up without logging an internal error. Also the CLI entry
// `hyperstep lsp --stdio`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { find, LspClient, readText, REPO, uriOf, WS } from './client';

/** Every request answers within this (generous: the machine is shared); a hang fails the test. */
const ANSWER_MS = 60000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWER_MS} ms`)), ANSWER_MS))]);
}

/** Every kind of request at a position; all must answer. */
async function probe(lsp: LspClient, uri: string, line: number, character: number): Promise<void> {
  await within(lsp.hover(uri, line, character), 'hover');
  await within(lsp.definition(uri, line, character), 'definition');
  await within(lsp.references(uri, line, character), 'references');
  await within(lsp.completion(uri, line, character), 'completion');
  await within(lsp.documentSymbols(uri), 'documentSymbol');
  await within(lsp.prepareRename(uri, line, character).catch(() => null), 'prepareRename');
  await within(lsp.inlineValues(uri, { start: { line: 0, character: 0 }, end: { line: line + 1, character: 0 } }, { start: { line, character }, end: { line, character } }), 'inlineValue');
}

describe('language server: bad and huge documents', () => {
  let lsp: LspClient;
  before(async () => { lsp = await LspClient.start({ root: WS }); });
  after(async () => {
    assert.deepEqual(lsp.errors, [], 'the server logged no internal error');
    assert.ok(lsp.alive());
    assert.equal(await lsp.stop(), 0, 'and exits cleanly on shutdown/exit');
  });

  it('survives binary garbage', async () => {
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const bytes = Array.from({ length: 200000 }, () => String.fromCharCode(rnd() % 256)).join('');
    for (const [name, lang] of [['garbage.S', 'hyperstep-gas'], ['garbage.asm', 'hyperstep-nasm'], ['garbage.h', 'c']] as const) {
      const uri = await lsp.open(join(WS, name), bytes, lang);
      const lines = bytes.split(/\r?\n|\r/).length;
      for (const [l, c] of [[0, 0], [Math.floor(lines / 2), 3], [lines - 1, 1], [lines + 10, 0], [3, 100000]]) await probe(lsp, uri, l, c);
      await within(lsp.waitDiagnostics(uri, () => true), 'diagnostics');
      await lsp.close(uri);
    }
  });

  it('survives a 2 MB line, unterminated comments and strings, deep nesting and definition cycles', async () => {
    const text = [
      `        movl    $${'('.repeat(5000)}1${')'.repeat(5000)}, %eax`,
      '        .set a, b + 1',
      '        .set b, a + 1',
      '        mov     $a, %ecx',
      '        wrmsr',
      `        .long ${'x + '.repeat(300000)}1`,
      '#define SELF SELF',
      '        mov     $SELF, %eax',
      '        movl    $"unterminated, 0xFEE00300',
      `label${'x'.repeat(100000)}:`,
      '        jmp     1f',
      '        jmp     2b',
      '/* never closed',
      '        movl    $0x00084500, 0xFEE00300',
    ].join('\n');
    const uri = await lsp.open(join(WS, 'nasty.S'), text);
    for (let l = 0; l < 14; l++) await probe(lsp, uri, l, 12);
    await within(lsp.waitDiagnostics(uri, () => true), 'diagnostics');
    assert.deepEqual((lsp.diagnostics.get(uri) ?? []).filter((d) => d.source === 'hyperstep'), [], 'nothing inside the unclosed comment is analysed');
  });

  it('keeps positions right in CRLF files', async () => {
    const text = readText(join(WS, 'boot.S')).replace(/\n/g, '\r\n');
    const uri = await lsp.open(join(WS, 'crlf.S'), text);
    const p = find(text.replace(/\r/g, ''), '$0x00084500, 0xFEE00300', 1);
    const d = await lsp.waitDiagnostics(uri, (x) => x.some((y) => y.code === 'icr-illegal'));
    const hit = d.find((x) => x.code === 'icr-illegal')!;
    assert.deepEqual(hit.range.start, p);
    assert.match(await lsp.hoverText(uri, p.line, p.character + 2), /all including self/);
  });

  it('answers for documents it was never told about, and for positions outside a document', async () => {
    const ghost = uriOf(join(WS, 'never-opened.S'));
    await probe(lsp, ghost, 3, 3);
    assert.equal(await lsp.hover(ghost, 3, 3), null);
    const uri = await lsp.open(join(WS, 'tiny.S'), 'nop');
    await probe(lsp, uri, 99, 99);
    await probe(lsp, uri, 0, 99);
  });

  it('handles a 100,000-line file: symbols, hover, diagnostics and edits all answer', async () => {
    const body = readText(join(WS, 'boot.S'));
    const copies: string[] = [];
    for (let n = 0; copies.join('\n').split('\n').length < 100000; n++) copies.push(body.replace(/\b(start_aps|wait_idle|bad_ipis|x2apic_ipi|long_mode_bits|ports)\b/g, `$1_${n}`));
    const text = copies.join('\n');
    const lines = text.split('\n').length;
    assert.ok(lines >= 100000);
    const uri = await lsp.open(join(WS, 'huge.S'), text);
    const symbols = await within(lsp.documentSymbols(uri), 'documentSymbol');
    assert.ok(symbols.length > 100);
    const diags = await within(lsp.waitDiagnostics(uri, (d) => d.length > 0, ANSWER_MS), 'diagnostics');
    assert.ok(diags.length <= 1000, 'diagnostics are capped');
    const last = find(text, '$0x00084500, 0xFEE00300', 3, copies.length - 1);
    assert.match(await within(lsp.hoverText(uri, last.line, last.character), 'hover'), /all including self/);
    await lsp.change(uri, text.replace('start_aps_0:', 'start_aps_renamed:'));
    await probe(lsp, uri, lines - 3, 10);
    const refs = await within(lsp.references(uri, find(text, 'wait_idle_7:').line, 2), 'references');
    assert.equal(refs.length, 3, 'the label and its two calls, among 100,000 lines');
  });
});

describe('hyperstep lsp --stdio (the CLI entry)', () => {
  it('serves the protocol', async () => {
    const lsp = await LspClient.start({ root: WS, viaCli: true });
    try {
      const path = join(WS, 'boot.S');
      const text = readText(path);
      const uri = await lsp.open(path, text);
      const p = find(text, '0xFEE00300', 2);
      assert.match(await lsp.hoverText(uri, p.line, p.character), /Local APIC ICR low/);
    } finally {
      assert.equal(await lsp.stop(), 0);
    }
  });

  it('refuses a command line without a transport', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'out/cli/main.js'), 'lsp'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 14);
    assert.match(r.stderr, /--stdio/);
    const bad = spawnSync(process.execPath, [join(REPO, 'out/cli/main.js'), 'lsp', '--stdio', '--bogus'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(bad.status, 14);
    assert.match(bad.stderr, /unknown argument '--bogus'/);
  });
});
