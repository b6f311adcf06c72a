// The TextMate grammars and language configurations the extension registers: valid JSON,
// every regular expression compiles, and the rules pick out what they claim on real lines
// (registers, comments vs cpp directives, labels, mnemonics, numbers in each assembler's
// notation). VS Code runs them with Oniguruma; JavaScript's engine accepts the same
// patterns once the (?i) flag is made a RegExp flag, which is all this test needs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './client';

interface Rule { name?: string; match?: string; begin?: string; end?: string; patterns?: Rule[]; include?: string }
interface Grammar { scopeName: string; patterns: Rule[]; repository: Record<string, Rule> }

const load = (file: string) => JSON.parse(readFileSync(join(REPO, 'extension', file), 'utf8'));

/** An Oniguruma pattern as a JS RegExp: a leading (?i) or (?i:...) groups become the i flag. */
function toRegExp(src: string): RegExp {
  const insensitive = src.includes('(?i');
  return new RegExp(src.replace(/\(\?i\)/g, '').replace(/\(\?i:/g, '(?:'), insensitive ? 'gi' : 'g');
}

function allRules(g: Grammar): Rule[] {
  const out: Rule[] = [];
  const walk = (r: Rule) => { out.push(r); r.patterns?.forEach(walk); };
  g.patterns.forEach(walk);
  Object.values(g.repository).forEach(walk);
  return out;
}

/** The texts a repository entry's rules (or one capture group) match in a line. */
function matches(g: Grammar, key: string, line: string, group = 0): string[] {
  const out: string[] = [];
  const walk = (r: Rule) => {
    if (r.match) for (const m of line.matchAll(toRegExp(r.match))) if (m[group] !== undefined) out.push(m[group]);
    r.patterns?.forEach(walk);
  };
  walk(g.repository[key]);
  return out;
}

describe('extension grammars and language configurations', () => {
  const gas = load('syntaxes/gas-x86.tmLanguage.json') as Grammar;
  const nasm = load('syntaxes/nasm-x86.tmLanguage.json') as Grammar;

  it('are valid grammars whose every pattern compiles', () => {
    assert.equal(gas.scopeName, 'source.x86.gas');
    assert.equal(nasm.scopeName, 'source.x86.nasm');
    for (const g of [gas, nasm]) {
      for (const r of allRules(g)) {
        for (const p of [r.match, r.begin, r.end]) if (p) assert.doesNotThrow(() => toRegExp(p), p);
        if (r.include?.startsWith('#')) assert.ok(g.repository[r.include.slice(1)], `${r.include} exists`);
      }
    }
  });

  it('GNU as: registers, comments that are not cpp directives, labels, mnemonics, numbers', () => {
    assert.deepEqual(matches(gas, 'registers', '        movl    %eax, 0x300(%ebx,%ecx,4)'), ['%eax', '%ebx', '%ecx']);
    assert.deepEqual(matches(gas, 'intel-registers', '        mov     dword ptr [eax + 0x300], ECX'), ['eax', 'ECX']);
    assert.deepEqual(matches(gas, 'comments', '        nop     # wait'), ['# wait']);
    assert.deepEqual(matches(gas, 'comments', '#include "gdt.h"'), []);
    assert.ok(gas.repository.comments.patterns!.some((r) => r.begin === '/\\*' && r.end === '\\*/'), 'block comments span lines (begin/end)');
    assert.deepEqual(matches(gas, 'preprocessor', '#define EFER_LME 0x100', 2), ['EFER_LME']);
    assert.deepEqual(matches(gas, 'label', 'smp_ap_pm32:', 1), ['smp_ap_pm32']);
    assert.deepEqual(matches(gas, 'label', '1:      cli', 1), ['1']);
    assert.deepEqual(matches(gas, 'mnemonic', '1:      testl   $0x1000, LAPIC_ICR_LO(%ebx)', 2), ['testl']);
    assert.deepEqual(matches(gas, 'mnemonic', '        lock xadd %eax, smp_ap_slots', 2), ['xadd']);
    assert.deepEqual(matches(gas, 'mnemonic', '        .section .rodata, "a"', 2), [], 'a directive is not a mnemonic');
    assert.deepEqual(matches(gas, 'directive', '        .section .rodata, "a"'), ['.section', '.rodata']);
    assert.deepEqual(matches(gas, 'numbers', '        jnz 1b; movl $0x1F, 017(%eax)').sort(), ['017', '0x1F', '1b']);
  });

  it('NASM: comments, %-preprocessor, local labels, suffix and prefix numbers, size keywords', () => {
    assert.deepEqual(matches(nasm, 'comments', '        mov eax, 1 ; one'), ['; one']);
    assert.deepEqual(matches(nasm, 'preprocessor', '%define APIC_SVR 0x0F0', 2), ['APIC_SVR']);
    assert.deepEqual(matches(nasm, 'label', '.wait:', 1), ['.wait']);
    assert.deepEqual(matches(nasm, 'label', 'APIC_ICR_LO equ 0x300', 1), ['APIC_ICR_LO']);
    assert.deepEqual(matches(nasm, 'numbers', '        mov eax, 0FEE00000h'), ['0FEE00000h']);
    assert.deepEqual(matches(nasm, 'numbers', '        mov al, 1010b'), ['1010b']);
    assert.deepEqual(matches(nasm, 'numbers', '        mov ax, $0FF'), ['$0FF']);
    assert.deepEqual(matches(nasm, 'registers', '        mov dword [ebx + esi*4], R8D'), ['ebx', 'esi', 'R8D']);
    assert.deepEqual(matches(nasm, 'keywords', '        mov dword [flag], 0'), ['dword']);
    assert.deepEqual(matches(nasm, 'mnemonic', 'ap_main: mov ebx, LAPIC_BASE', 2), ['mov']);
  });

  it('language configurations: comments, word pattern, folding markers', () => {
    const g = load('language-configuration/gas.json');
    const n = load('language-configuration/nasm.json');
    assert.equal(g.comments.lineComment, '#');
    assert.deepEqual(g.comments.blockComment, ['/*', '*/']);
    assert.equal(n.comments.lineComment, ';');
    assert.deepEqual('        movl $LAPIC_ICR_LO, %eax'.match(new RegExp(g.wordPattern, 'g')), ['movl', '$LAPIC_ICR_LO', '%eax']);
    assert.deepEqual('.wait: je .wait'.match(new RegExp(n.wordPattern, 'g')), ['.wait', 'je', '.wait']);
    assert.match('        .macro apic_eoi', new RegExp(g.folding.markers.start));
    assert.match('        .endm', new RegExp(g.folding.markers.end));
    assert.match('%macro save 0', new RegExp(n.folding.markers.start));
    assert.match('%endmacro', new RegExp(n.folding.markers.end));
  });
});
