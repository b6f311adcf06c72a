// The DWARF reader on the bundled guests (gcc 12 -g -O2, DWARF 5), checked against the
// real tools where they are installed (llvm-dwarfdump, llvm-addr2line, llvm-symbolizer,
// binutils readelf and addr2line) and against known answers for guests/cprog/cprog.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugInfo, matchRecordedPaths, normalizePath, resolveSource } from '../../../core/loader/dwarf';

const REPO = join(__dirname, '../../../..');
const guestPath = (g: string) => join(REPO, 'guests', g, `${g}.elf`);
const loaded = new Map<string, DebugInfo>();
function load(g: string): DebugInfo {
  let d = loaded.get(g);
  if (!d) {
    const r = DebugInfo.fromElf(readFileSync(guestPath(g)));
    assert.ok(r, `${g} has DWARF`);
    d = r;
    loaded.set(g, d);
  }
  return d;
}
const CPROG_C = 'guests/cprog/cprog.c';

/** Runs the first of `names` that exists; null when none is installed. */
function tool(names: string[], args: string[], input?: string): string | null {
  for (const name of names) {
    const r = spawnSync(name, args, { input, maxBuffer: 1 << 28, encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }
  return null;
}
const LLVM_DWARFDUMP = ['llvm-dwarfdump-14', 'llvm-dwarfdump'];
const LLVM_ADDR2LINE = ['llvm-addr2line-14', 'llvm-addr2line'];
const LLVM_SYMBOLIZER = ['llvm-symbolizer-14', 'llvm-symbolizer'];
const hex = (n: number) => '0x' + n.toString(16);

function rowAddresses(d: DebugInfo, stmtOnly: boolean): number[] {
  const s = new Set<number>();
  for (const t of d.lineTables) for (const q of t.sequences) for (const r of q.rows) if (!r.endSequence && (!stmtOnly || r.isStmt)) s.add(r.address);
  return [...s].sort((a, b) => a - b);
}

test('a file without debug sections gives null, and one that is no ELF a DwarfError', () => {
  assert.equal(DebugInfo.fromElf(readFileSync(join(REPO, 'guests/probe-multiboot/probe.elf'))), null);
  assert.throws(() => DebugInfo.fromElf(new TextEncoder().encode('not an ELF file at all')), { name: 'DwarfError' });
});

test('every bundled guest reads without warnings', () => {
  for (const g of ['hello', 'cprog', 'cprog64', 'smp-boot', 'torture', 'exceptions', 'mode-switch']) {
    const d = load(g);
    assert.deepEqual(d.warnings, [], g);
    assert.ok(d.lineTables.length > 0 && d.allFunctions().length > 0, g);
  }
});

test('cprog: source files are the recorded paths joined with their directories', () => {
  assert.deepEqual(load('cprog').sourceFiles(), [
    '/usr/lib/gcc/x86_64-linux-gnu/12/include/stdarg.h',
    '/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h',
    '/usr/lib/gcc/x86_64-linux-gnu/12/include/stdint-gcc.h',
    'guests/common/libgcc32.c',
    'guests/common/multiboot.S',
    'guests/common/rt.c',
    'guests/common/rt.h',
    'guests/common/serial.S',
    CPROG_C,
  ]);
  // Assembly has line info too (gas -g): the multiboot entry point.
  assert.deepEqual(load('cprog').lineAt(0x10000c), { file: 'guests/common/multiboot.S', line: 32, column: 0, address: 0x10000c });
});

test('cprog: addressesForLine gives the is_stmt addresses of a line, or of the next line with code', () => {
  const d = load('cprog');
  // readelf --debug-dump=decodedline: is_stmt rows of cprog.c.
  assert.deepEqual(d.addressesForLine(CPROG_C, 49), { line: 49, addresses: [0x101520], files: [CPROG_C] });
  assert.deepEqual(d.addressesForLine(CPROG_C, 50)?.addresses, [0x101520, 0x1015e5]);
  assert.deepEqual(d.addressesForLine(CPROG_C, 80)?.addresses, [0x101ffe]); // quicksort(values, N_SORT) in test_sort, inlined into guest_main
  assert.deepEqual(d.addressesForLine(CPROG_C, 202)?.addresses, [0x1027cc]); // test_recursion's opening line, inlined too
  // Line 200 (a closing brace) and 201 (blank) move to 202.
  assert.deepEqual(d.addressesForLine(CPROG_C, 200), { line: 202, addresses: [0x1027cc], files: [CPROG_C] });
  // Lines 46-48 (closing braces, a blank line and a comment) have no code: the breakpoint moves to 49.
  assert.deepEqual(d.addressesForLine(CPROG_C, 46), { line: 49, addresses: [0x101520], files: [CPROG_C] });
  // Past the last line with code there is nothing.
  assert.equal(d.addressesForLine(CPROG_C, 331), null);
  // The file may be named by an absolute path ending in the recorded one, or by its unique base name.
  assert.deepEqual(d.addressesForLine(join(REPO, CPROG_C), 80)?.addresses, [0x101ffe]);
  assert.deepEqual(d.addressesForLine('C:\\work\\hyperstep\\guests\\cprog\\cprog.c', 80)?.addresses, [0x101ffe]);
  assert.deepEqual(d.addressesForLine('cprog.c', 80)?.addresses, [0x101ffe]);
  assert.equal(d.addressesForLine('nothere.c', 80), null);
  assert.equal(d.addressesForLine('/elsewhere/other/cprog.h', 80), null);
});

test('cprog: lineAt and functionAt at known places', () => {
  const d = load('cprog');
  assert.deepEqual(d.lineAt(0x101520), { file: CPROG_C, line: 49, column: 42, address: 0x101520 });
  assert.deepEqual(d.lineAt(0x10152f), { file: CPROG_C, line: 50, column: 14, address: 0x10152b }); // inside the row at 0x10152b
  assert.equal(d.lineAt(0x100000), null); // the multiboot header: data, no line
  assert.deepEqual(d.functionAt(0x101520), { name: 'quicksort', low: 0x101520, high: 0x10166c, source: 'dwarf' });
  // A hot/cold split function: DW_AT_ranges gives both parts the DWARF name.
  assert.equal(d.functionAt(0x101670)?.name, 'run_vm');
  assert.equal(d.functionAt(0x102c2e)?.name, 'run_vm');
  // An out-of-line specialised copy (hanoi.isra.0) is named by its abstract origin.
  assert.equal(d.functionAt(0x101b10)?.name, 'hanoi');
  // Assembly functions come from the symbol table: sized ones, and unsized ones up to the next symbol.
  assert.deepEqual(d.functionAt(0x100040), { name: '_start', low: 0x10000c, high: 0x10005c, source: 'symbols' });
  assert.equal(d.functionAt(0x1000a1)?.name, 'ser_putc');
  assert.equal(d.functionAt(0x10fba0), null); // data (failures)
});

test('line rows equal llvm-dwarfdump --debug-line, row for row, flags included', (t) => {
  for (const g of ['hello', 'cprog', 'smp-boot', 'torture']) {
    const out = tool(LLVM_DWARFDUMP, ['--debug-line', guestPath(g)]);
    if (out === null) return t.skip('llvm-dwarfdump is not installed');
    const theirs = new Map<number, string[]>();
    let cur: string[] | null = null;
    for (const l of out.split('\n')) {
      const head = /^debug_line\[0x([0-9a-f]+)\]/.exec(l);
      if (head) theirs.set(parseInt(head[1], 16), (cur = []));
      const m = /^0x([0-9a-f]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*(.*)$/.exec(l);
      if (m && cur) cur.push([parseInt(m[1], 16), m[2], m[3], m[4], m[5], m[6], m[7].trim().split(/\s+/).filter(Boolean).sort().join(' ')].join(','));
    }
    const d = load(g);
    assert.deepEqual([...theirs.keys()], d.lineTables.map((x) => x.offset), `${g}: line table offsets`);
    let rows = 0;
    for (const table of d.lineTables) {
      const mine: string[] = [];
      for (const s of table.sequences) {
        for (const r of s.rows) {
          const flags = [r.isStmt && 'is_stmt', r.basicBlock && 'basic_block', r.endSequence && 'end_sequence', r.prologueEnd && 'prologue_end', r.epilogueBegin && 'epilogue_begin']
            .filter((f): f is string => typeof f === 'string').sort().join(' ');
          mine.push([r.address, r.line, r.column, r.file, r.isa, r.discriminator, flags].join(','));
        }
      }
      assert.deepEqual(mine, theirs.get(table.offset), `${g}: line table at ${hex(table.offset)}`);
      rows += mine.length;
    }
    assert.ok(rows > 200, `${g}: ${rows} rows compared`);
  }
});

test('lineAt agrees with llvm-addr2line at every address a row starts (and with binutils addr2line on the 32-bit guests)', (t) => {
  for (const g of ['cprog', 'smp-boot', 'torture', 'cprog64']) {
    const d = load(g);
    const addrs = rowAddresses(d, false);
    const mine = addrs.map((a) => {
      const l = d.lineAt(a);
      return l ? `${l.file}:${l.line}` : '??:0';
    });
    const llvm = tool(LLVM_ADDR2LINE, ['-e', guestPath(g)], addrs.map(hex).join('\n'));
    if (llvm === null) return t.skip('llvm-addr2line is not installed');
    assert.deepEqual(mine, llvm.trim().split('\n').map((s) => s.replace(/ \(discriminator \d+\)$/, '')), g);
  }
  // binutils joins DWARF 5 directories of gcc-written line tables in mixed images twice
  // (guests/guests/...), so it is the reference only where every table is the assembler's kind.
  for (const g of ['cprog', 'smp-boot']) {
    const d = load(g);
    const addrs = rowAddresses(d, true);
    const gnu = tool(['addr2line'], ['-e', guestPath(g), ...addrs.map(hex)]);
    if (gnu === null) return t.skip('addr2line is not installed');
    const mine = addrs.map((a) => `${d.lineAt(a)?.file}:${d.lineAt(a)?.line}`);
    assert.deepEqual(mine, gnu.trim().split('\n').map((s) => s.replace(/ \(discriminator \d+\)$/, '')), g);
  }
});

test('addressesForLine agrees with readelf for every line of cprog.c', (t) => {
  const out = tool(['readelf'], ['--debug-dump=decodedline', guestPath('cprog')]);
  if (out === null) return t.skip('readelf is not installed');
  // is_stmt rows of cprog.c: "cprog.c  LINE  ADDRESS  [VIEW]  x".
  const byLine = new Map<number, Set<number>>();
  let inFile = false;
  for (const l of out.split('\n')) {
    if (/:$/.test(l)) inFile = l === 'cprog.c:' || l.endsWith('/cprog.c:');
    const f = l.trim().split(/\s+/);
    if (!inFile || f[0] !== 'cprog.c' || f[f.length - 1] !== 'x') continue;
    const line = Number(f[1]);
    if (!byLine.has(line)) byLine.set(line, new Set());
    byLine.get(line)?.add(parseInt(f[2], 16));
  }
  assert.ok(byLine.size > 100);
  const d = load('cprog');
  const lines = [...byLine.keys()].sort((a, b) => a - b);
  for (let line = 1; line <= 340; line++) {
    const next = lines.find((l) => l >= line);
    const got = d.addressesForLine(CPROG_C, line);
    if (next === undefined) {
      assert.equal(got, null, `line ${line}`);
    } else {
      assert.deepEqual(got && { line: got.line, addresses: got.addresses }, { line: next, addresses: [...(byLine.get(next) ?? [])].sort((a, b) => a - b) }, `line ${line}`);
    }
  }
});

test('functionAt agrees with llvm-symbolizer (the outermost function, clone suffixes aside)', (t) => {
  for (const g of ['cprog', 'cprog64', 'smp-boot', 'torture', 'hello']) {
    const d = load(g);
    const addrs = rowAddresses(d, false);
    const out = tool(LLVM_SYMBOLIZER, ['--obj', guestPath(g)], addrs.map(hex).join('\n'));
    if (out === null) return t.skip('llvm-symbolizer is not installed');
    const groups = out.trim().split('\n\n');
    assert.equal(groups.length, addrs.length);
    // llvm-symbolizer names a clone after its symbol (format.constprop.0); the debugger
    // shows the source name, as gdb does.
    const theirs = groups.map((grp) => {
      const lines = grp.split('\n');
      return lines[lines.length - 2].replace(/(\.(isra|constprop|part|cold)(\.\d+)?)+$/, '');
    });
    const mine = addrs.map((a) => d.functionAt(a)?.name ?? '??');
    assert.deepEqual(mine, theirs, g);
  }
});

test('recorded paths match absolute, suffix and unambiguous base names only', () => {
  const recorded = ['guests/common/rt.c', 'guests/cprog/cprog.c', 'guests/a/main.c', 'guests/b/main.c', '/abs/x/y.c'];
  assert.deepEqual(matchRecordedPaths('/home/me/repo/guests/cprog/cprog.c', recorded), ['guests/cprog/cprog.c']);
  assert.deepEqual(matchRecordedPaths('cprog/cprog.c', recorded), ['guests/cprog/cprog.c']);
  assert.deepEqual(matchRecordedPaths('/abs/x/./z/../y.c', recorded), ['/abs/x/y.c']);
  assert.deepEqual(matchRecordedPaths('rt.c', recorded), ['guests/common/rt.c']);
  assert.deepEqual(matchRecordedPaths('main.c', recorded), []); // two main.c: ambiguous
  assert.deepEqual(matchRecordedPaths('/elsewhere/guests/b/main.c', recorded), ['guests/b/main.c']);
  assert.deepEqual(matchRecordedPaths('ycprog.c', recorded), []); // a suffix must start at a segment
  assert.equal(normalizePath('a\\b\\..\\c/./d'), 'a/c/d');
});

test('resolveSource finds a recorded relative path under a search directory or one of its parents', () => {
  const root = mkdtempSync(join(tmpdir(), 'hs-dwarf-'));
  try {
    mkdirSync(join(root, 'repo/guests/cprog'), { recursive: true });
    writeFileSync(join(root, 'repo/guests/cprog/cprog.c'), 'int x;\n');
    const imageDir = join(root, 'repo/guests/cprog');
    assert.equal(resolveSource(CPROG_C, [imageDir]), join(root, 'repo', CPROG_C));
    assert.equal(resolveSource(CPROG_C, [join(root, 'nowhere'), join(root, 'repo')]), join(root, 'repo', CPROG_C));
    assert.equal(resolveSource('guests/cprog/missing.c', [imageDir]), null);
    assert.equal(resolveSource(join(root, 'repo', CPROG_C), []), join(root, 'repo', CPROG_C));
    // The existence check can be supplied (e.g. a remote file system).
    const asked: string[] = [];
    assert.equal(resolveSource('x/y.c', ['/a/b'], (p) => (asked.push(p), false)), null);
    assert.deepEqual(asked, ['/a/b/x/y.c', '/a/x/y.c', '/x/y.c']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // The real guest: found from its image directory, as the adapter will call it.
  assert.equal(resolveSource(CPROG_C, [join(REPO, 'guests/cprog')]), join(REPO, CPROG_C));
});

test('inlinedAt: the chain of inlined calls at an address', () => {
  const d = load('cprog');
  // In emit_padded: emit() inlined, con_putc() inlined into it, outb() into that.
  const chain = d.inlinedAt(0x100183).map((c) => `${c.name} called at ${c.callFile}:${c.callLine}:${c.callColumn}`);
  assert.deepEqual(chain, [
    'outb called at guests/common/rt.c:17:5',
    'con_putc called at guests/common/rt.c:33:18',
    'emit called at guests/common/rt.c:53:40',
  ]);
  assert.equal(d.functionAt(0x100183)?.name, 'emit_padded');
  assert.deepEqual(d.lineAt(0x100183), { file: 'guests/common/rt.h', line: 30, column: 53, address: 0x100183 });
  assert.deepEqual(d.inlinedAt(0x101520), []); // quicksort's first instruction is its own
});

test('inlinedAt agrees with llvm-symbolizer\'s inlining chains at every address a row starts', (t) => {
  for (const g of ['cprog', 'cprog64', 'smp-boot', 'torture']) {
    const d = load(g);
    const addrs = rowAddresses(d, false);
    const out = tool(LLVM_SYMBOLIZER, ['--obj', guestPath(g)], addrs.map(hex).join('\n'));
    if (out === null) return t.skip('llvm-symbolizer is not installed');
    let inlined = 0;
    const theirs: string[] = [];
    const mine: string[] = [];
    out.trim().split('\n\n').forEach((grp, i) => {
      const lines = grp.split('\n');
      const frames: string[] = [];
      for (let k = 0; k < lines.length; k += 2) frames.push(`${lines[k].replace(/(\.(isra|constprop|part|cold)(\.\d+)?)+$/, '')} at ${lines[k + 1]}`);
      theirs.push(frames.join(' < '));
      // Innermost first: each inlined function at the location inside it, then its caller.
      const a = addrs[i];
      const l = d.lineAt(a);
      let where = l ? `${l.file}:${l.line}:${l.column}` : '??:0:0';
      const ours: string[] = [];
      for (const c of d.inlinedAt(a)) {
        ours.push(`${c.name} at ${where}`);
        where = `${c.callFile}:${c.callLine}:${c.callColumn}`;
        inlined++;
      }
      ours.push(`${d.functionAt(a)?.name ?? '??'} at ${where}`);
      mine.push(ours.join(' < '));
    });
    assert.deepEqual(mine, theirs, g);
    assert.ok(inlined > 500, `${g}: ${inlined} inlined frames compared`);
  }
});
