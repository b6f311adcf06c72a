// Navigation through the real protocol: document and workspace symbols, go to definition
// and find references across files (#include, .include, %include, and labels another
// object file exports), GNU as numeric labels, NASM local labels, and rename.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DocumentSymbol, SymbolKind, TextEdit } from 'vscode-languageserver-protocol/node';
import { find, LspClient, readText, REPO, uriOf, WS } from './client';

const GUESTS = join(REPO, 'guests');

const KIND_NAMES = new Map<number, string>(Object.entries(SymbolKind).map(([k, v]) => [v as number, k]));

function flatten(symbols: DocumentSymbol[], prefix = ''): string[] {
  return symbols.flatMap((s) => [`${prefix}${s.name}:${KIND_NAMES.get(s.kind)}`, ...flatten(s.children ?? [], `${prefix}${s.name}/`)]);
}

describe('language server: symbols, definition, references, rename', () => {
  let lsp: LspClient;
  const open = new Map<string, { uri: string; text: string }>();
  const doc = async (file: string) => {
    let d = open.get(file);
    if (!d) {
      const text = readText(join(WS, file));
      d = { uri: await lsp.open(join(WS, file), text, file.endsWith('.asm') ? 'hyperstep-nasm' : 'hyperstep-gas'), text };
      open.set(file, d);
    }
    return d;
  };
  /** Definition of the symbol at `needle` in `file`: [file name, line text]. */
  const definitionOf = async (file: string, needle: string, offset = 0, occurrence = 0) => {
    const d = await doc(file);
    const p = find(d.text, needle, offset, occurrence);
    const locs = await lsp.definition(d.uri, p.line, p.character);
    return locs.map((l) => {
      const path = decodeURIComponent(new URL(l.uri).pathname);
      return [path.split('/').pop(), readText(path).split('\n')[l.range.start.line].trim()];
    });
  };

  before(async () => { lsp = await LspClient.start({ root: WS }); });
  after(async () => {
    assert.deepEqual(lsp.errors, [], 'the server logged no errors');
    await lsp.stop();
  });

  it('lists a GNU as file\'s sections, labels, constants and macros', async () => {
    const { uri } = await doc('boot.S');
    const names = flatten(await lsp.documentSymbols(uri));
    for (const s of ['COM1:Constant', 'FAR_TRAMPOLINE:Constant', '.text:Namespace', '.text/start_aps:Function', '.text/wait_idle:Function', '.text/x2apic_ipi:Function']) {
      assert.ok(names.includes(s), `${s} in ${names.join(' ')}`);
    }
    assert.ok(!names.some((n) => /\/1:/.test(n)), 'numeric local labels are not listed');
    // Opened as the editor guesses from `.inc` (NASM): the text says GNU as.
    const inc = await lsp.open(join(WS, 'apic.inc'), undefined, 'hyperstep-nasm');
    assert.deepEqual(flatten(await lsp.documentSymbols(inc)), ['IA32_APIC_BASE_MSR:Constant', 'IA32_EFER:Constant', 'EFER_LME:Constant', 'X2APIC_ICR:Constant', 'apic_eoi:Method']);
  });

  it('nests NASM local labels under their label', async () => {
    const { uri } = await doc('ap.asm');
    const names = flatten(await lsp.documentSymbols(uri));
    assert.deepEqual(names, ['.text:Namespace', '.text/ap_main:Function', '.text/ap_main/.wait:Function', '.data:Namespace', '.data/flag:Variable']);
  });

  it('lists the real trampoline\'s symbols', async () => {
    const guests = await LspClient.start({ root: GUESTS });
    try {
      const uri = await guests.open(join(GUESTS, 'common/trampoline.S'));
      const names = flatten(await guests.documentSymbols(uri));
      for (const s of ['EFER:Constant', '.rodata/smp_trampoline_start:Function', '.rodata/tramp_gdtr:Variable', '.text/smp_ap_pm32:Function', '.text/ap_lm64:Function', '.data/smp_ap_cr3:Variable']) {
        assert.ok(names.includes(s), `${s} in ${names.join(' ')}`);
      }
      // Definitions in the headers the build finds with -Icommon, and a numeric label.
      const text = readText(join(GUESTS, 'common/trampoline.S'));
      const at = (needle: string, offset: number) => { const p = find(text, needle, offset); return guests.definition(uri, p.line, p.character); };
      const sel = await at('$SEL_CODE32', 2);
      assert.equal(sel.length, 1);
      assert.equal(sel[0].uri, uriOf(join(GUESTS, 'common/gdt.h')));
      assert.match(readText(join(GUESTS, 'common/gdt.h')).split('\n')[sel[0].range.start.line], /#define SEL_CODE32/);
      const back = await at('jmp     1b', 8);
      assert.equal(back[0].range.start.line, find(text, '1:      cli').line);
      assert.deepEqual(await at('call    smp_ap_entry', 10), [], 'defined in C (smp.c): no assembly definition');
      assert.deepEqual(guests.errors, []);
    } finally {
      await guests.stop();
    }
  });

  it('goes to definitions in the same file, through #include, .include and %include, and across files', async () => {
    assert.deepEqual(await definitionOf('boot.S', 'call    wait_idle', 10), [['boot.S', 'wait_idle:']]);
    assert.deepEqual(await definitionOf('boot.S', 'jnz     1b', 10), [['boot.S', '1:      testl   $0x1000, LAPIC_ICR_LO(%ebx)              /* delivery status */']]);
    assert.deepEqual(await definitionOf('boot.S', '$LAPIC_BASE', 3), [['smp-defs.h', '#define LAPIC_BASE      0xFEE00000']]);
    assert.deepEqual(await definitionOf('boot.S', '$X2APIC_ICR', 3), [['apic.inc', '.equ X2APIC_ICR, 0x830']]);
    assert.deepEqual(await definitionOf('boot.S', 'apic_eoi', 3), [['apic.inc', '.macro apic_eoi']]);
    assert.deepEqual(await definitionOf('ap.asm', 'ebx, LAPIC_BASE', 6), [['apic.mac', 'LAPIC_BASE  equ 0xFEE00000']]);
    assert.deepEqual(await definitionOf('ap.asm', 'APIC_SVR]', 1), [['apic.mac', '%define APIC_SVR 0x0F0']]);
    assert.deepEqual(await definitionOf('ap.asm', 'je      .wait', 10), [['ap.asm', '.wait:']]);
    assert.deepEqual(await definitionOf('main.S', 'call    start_aps', 10), [['boot.S', 'start_aps:']]);
    const inc = await definitionOf('boot.S', '"smp-defs.h"', 3);
    assert.equal(inc[0][0], 'smp-defs.h');
  });

  it('finds references across files, with or without the declaration', async () => {
    const { uri, text } = await doc('boot.S');
    const p = find(text, 'start_aps:', 2);
    const refs = await lsp.references(uri, p.line, p.character, true);
    const where = refs.map((r) => `${r.uri.split('/').pop()}:${r.range.start.line}`).sort();
    const main = readText(join(WS, 'main.S'));
    assert.deepEqual(where, [
      `boot.S:${find(text, '.globl start_aps').line}`, `boot.S:${find(text, '.type start_aps').line}`, `boot.S:${p.line}`,
      `main.S:${find(main, 'call    start_aps').line}`, `main.S:${find(main, 'call    start_aps', 0, 1).line}`,
    ].sort());
    assert.equal((await lsp.references(uri, p.line, p.character, false)).length, 4);
    // A numeric label: its definition and the 1b that means it.
    const one = find(text, '1:      testl');
    assert.deepEqual((await lsp.references(uri, one.line, one.character, true)).map((r) => r.range.start.line).sort(), [one.line, one.line + 1]);
    // A constant of a header, used in the file that includes it.
    const c = find(text, 'LAPIC_ICR_LO(%ebx)', 2);
    const uses = await lsp.references(uri, c.line, c.character, true);
    assert.ok(uses.some((u) => u.uri.endsWith('smp-defs.h')), 'the #define');
    assert.equal(uses.filter((u) => u.uri.endsWith('boot.S')).length, 2);
  });

  it('renames a label in every file that means it', async () => {
    const m = await doc('main.S');
    const p = find(m.text, 'start_aps', 3);
    const range = await lsp.prepareRename(m.uri, p.line, p.character);
    assert.ok(range && 'start' in range);
    const edit = await lsp.rename(m.uri, p.line, p.character, 'start_secondaries');
    const changes = edit!.changes!;
    const boot = readText(join(WS, 'boot.S'));
    const lines = (uri: string) => changes[uri].map((e: TextEdit) => e.range.start.line).sort((a, b) => a - b);
    assert.deepEqual(lines(uriOf(join(WS, 'boot.S'))), [find(boot, '.globl start_aps').line, find(boot, '.type start_aps').line, find(boot, 'start_aps:').line]);
    assert.equal(changes[m.uri].length, 2);
    assert.ok(Object.values(changes).flat().every((e) => e.newText === 'start_secondaries'));
    // NASM .local label: only within its parent.
    const a = await doc('ap.asm');
    const w = find(a.text, '.wait:');
    const local = await lsp.rename(a.uri, w.line, w.character + 1, '.spin');
    assert.deepEqual(local!.changes![a.uri].map((e) => [e.range.start.line, e.newText]).sort((x, y) => Number(x[0]) - Number(y[0])), [[w.line, '.spin'], [find(a.text, 'je      .wait').line, '.spin']]);
  });

  it('refuses to rename what is not a label', async () => {
    const { uri, text } = await doc('boot.S');
    const reg = find(text, '%ebx', 1);
    await assert.rejects(lsp.prepareRename(uri, reg.line, reg.character), /Only labels/);
    const one = find(text, 'jnz     1b', 9);
    await assert.rejects(lsp.prepareRename(uri, one.line, one.character), /Numeric local labels/);
    const ext = find(readText(join(WS, 'main.S')), 'kernel_main:', 1);
    await assert.rejects(lsp.rename(uriOf(join(WS, 'main.S')), ext.line, ext.character, '9lives'), /not a valid symbol name/);
  });

  it('finds workspace symbols across files, headers and includes', async () => {
    const names = async (q: string) => (await lsp.workspaceSymbols(q)).map((s) => `${s.name}@${s.location.uri.split('/').pop()}`).sort();
    assert.deepEqual(await names('ap_main'), ['ap_main.wait@ap.asm', 'ap_main@ap.asm'], 'NASM local labels by their full name');
    assert.deepEqual(await names('kernel_main'), ['kernel_main@main.S']);
    assert.deepEqual(await names('X2APIC_ICR'), ['X2APIC_ICR@apic.inc']);
    assert.deepEqual(await names('LAPIC_ICR'), ['LAPIC_ICR_HI@smp-defs.h', 'LAPIC_ICR_LO@smp-defs.h']);
    assert.ok((await names('')).length > 30);
  });
});
