// Command-line entry for iterating on the interpreter without node:test:
//   node out/test/core/cpu/native/run.js [family ...] [--form TEXT] [--seed N] [--scale X] [--examples N] [--list]
// prints the per-family mismatch report of the semantics suite and exits 1 if anything differs.
import { Case } from './cases';
import { compareAll, formatFamily, formatSummary } from './compare';
import { DEFAULT_SEED, generateCases } from './generator';
import { loadInterpreter, runInterpreter } from './interpreter';
import { buildHarness, nativeUnavailable, runNative } from './native';
import { nativeSelfCheck } from './selfcheck';

interface Args { families: string[]; form?: string; seed: number; scale: number; examples: number; list: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { families: [], seed: DEFAULT_SEED, scale: 1, examples: 3, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--seed') a.seed = Number(next());
    else if (arg === '--scale') a.scale = Number(next());
    else if (arg === '--examples') a.examples = Number(next());
    else if (arg === '--form') a.form = next();
    else if (arg === '--list') a.list = true;
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: run.js [family ...] [--form TEXT] [--seed N] [--scale X] [--examples N] [--list]');
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else a.families.push(arg);
  }
  return a;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const why = nativeUnavailable();
  if (why) {
    console.error(`cannot run natively: ${why}`);
    return 2;
  }
  const harness = buildHarness();
  let cases: Case[] = generateCases({ seed: args.seed, scale: args.scale, features: harness.features });
  if (args.list) {
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(c.family, (counts.get(c.family) ?? 0) + 1);
    for (const [f, n] of counts) console.log(`${f.padEnd(10)} ${n}`);
    return 0;
  }
  if (args.families.length) cases = cases.filter((c) => args.families.includes(c.family));
  if (args.form) cases = cases.filter((c) => c.form.includes(args.form as string) || c.text.includes(args.form as string));
  if (!cases.length) {
    console.error('no cases match (see --list)');
    return 2;
  }
  const selfCheck = nativeSelfCheck(harness);
  if (selfCheck.length) {
    console.error(`native harness self-check failed:\n  ${selfCheck.join('\n  ')}`);
    return 2;
  }
  const native = runNative(harness, cases);
  const loaded = loadInterpreter();
  if ('unavailable' in loaded) {
    const faults = native.filter((o) => o.fault !== null).length;
    console.log(`native: ${cases.length} cases ran on ${harness.features.vendor} (${faults} faulted); interpreter unavailable: ${loaded.unavailable}`);
    return 2;
  }
  const started = Date.now();
  const interp = runInterpreter(loaded.api, cases);
  const elapsed = Date.now() - started;
  const reports = compareAll(cases, native, interp);
  console.log(formatSummary(reports));
  console.log(`(interpreter: ${elapsed} ms; seed ${args.seed}, scale ${args.scale})`);
  for (const rep of reports) if (rep.mismatches.length) console.log(`\n${formatFamily(rep, args.examples)}`);
  return reports.some((r) => r.mismatches.length) ? 1 : 0;
}

process.exitCode = main();
