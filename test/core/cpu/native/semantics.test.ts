// Instruction-semantics differential suite: ~34k single-instruction cases over the integer
// instruction families, run natively on this machine's CPU (harness.c, built with gcc) and in
// Hyperstep's interpreter (core/cpu/testing.ts runSnippet); registers, all six arithmetic flags
// (SDM-undefined ones included: we match the host) and faults must agree. One subtest per family.
//
// HYPERSTEP_SEMANTICS_SEED and HYPERSTEP_SEMANTICS_SCALE change the case set; run.js in this
// folder prints the same report outside node:test.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Case } from './cases';
import { compareAll, formatFamily, formatSummary } from './compare';
import { checkEncodings } from './encoding-check';
import { DEFAULT_SEED, generateCases } from './generator';
import { loadInterpreter, runInterpreter } from './interpreter';
import { buildHarness, nativeUnavailable, runNative } from './native';
import { nativeSelfCheck } from './selfcheck';

const SEED = Number(process.env.HYPERSTEP_SEMANTICS_SEED ?? DEFAULT_SEED);
const SCALE = Number(process.env.HYPERSTEP_SEMANTICS_SCALE ?? 1);

test('instruction semantics: interpreter vs this CPU', async (t) => {
  const why = nativeUnavailable();
  if (why) {
    t.skip(`skipped: ${why}; the native half of the differential suite cannot run`);
    return;
  }
  const harness = buildHarness();
  const cases = generateCases({ seed: SEED, scale: SCALE, features: harness.features });
  if (!harness.features.compat32) t.diagnostic('32-bit-mode cases skipped: this kernel does not run 32-bit code');

  await t.test('generator covers every family with enough cases', () => {
    const families = new Set(cases.map((c) => c.family));
    for (const f of ['add', 'adc', 'sbb', 'shld', 'rcr', 'idiv', 'bsf', 'cmpxchg', 'lea', 'cmovcc', 'setcc', 'movsxd', 'sahf', 'bcd']) {
      assert.ok(families.has(f), `family ${f} missing`);
    }
    if (SCALE >= 1) assert.ok(cases.length >= 30000, `only ${cases.length} cases`);
  });

  await t.test('encoder agrees with iced-x86 on every case', () => {
    const problems = checkEncodings(cases);
    const shown = problems.slice(0, 10).map((p) => `${p.c.text} [${Buffer.from(p.c.code).toString('hex')}]: ${p.reason} (iced: ${p.decoded})`);
    assert.equal(problems.length, 0, shown.join('\n'));
  });

  await t.test('native harness passes its hand-computed self-check', () => {
    assert.deepEqual(nativeSelfCheck(harness), []);
  });

  const native = runNative(harness, cases);

  await t.test('natively, only DIV/IDIV/AAM fault, and only with #DE', () => {
    const divides = (c: Case) => c.family === 'div' || c.family === 'idiv' || c.text.startsWith('aam');
    const odd = cases.filter((c, i) => native[i].fault !== null && (native[i].fault !== 0 || !divides(c)));
    assert.deepEqual(odd.map((c) => c.text), []);
    const de = native.filter((o) => o.fault === 0).length;
    assert.ok(de > 100, `only ${de} #DE cases`);
  });

  const loaded = loadInterpreter();
  if ('unavailable' in loaded) {
    await t.test('interpreter matches the host CPU', { skip: loaded.unavailable }, () => undefined);
    return;
  }
  const started = Date.now();
  const interp = runInterpreter(loaded.api, cases);
  const reports = compareAll(cases, native, interp);
  t.diagnostic(`interpreter ran ${cases.length} cases in ${Date.now() - started} ms (seed ${SEED}, scale ${SCALE})`);
  for (const line of formatSummary(reports).split('\n')) t.diagnostic(line);
  for (const rep of reports) {
    await t.test(`${rep.family} matches the host CPU`, () => {
      if (rep.mismatches.length) assert.fail(`\n${formatFamily(rep)}`);
    });
  }
});
