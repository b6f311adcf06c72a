// The interpreter side: Hyperstep's CPU running the same cases through core/cpu/testing.ts.
//
// The module is loaded at run time rather than imported, so this suite compiles and its native half
// runs while the CPU is still being written; the interface below mirrors the one testing.ts exports.
import * as path from 'node:path';
import { Case, MachineState, Outcome } from './cases';

export interface SnippetApi {
  runSnippet(code: Uint8Array, bits: 32 | 64, state: MachineState): { state: MachineState; fault: number | null };
}

/** An interpreter outcome; `error` is set when runSnippet threw instead of returning. */
export interface InterpOutcome extends Outcome { error?: string }

const MODULE = path.join(__dirname, '..', '..', '..', '..', 'core', 'cpu', 'testing');

/** HYPERSTEP_SNIPPET_MODULE points the suite at another runSnippet implementation (a path to require). */
export function loadInterpreter(): { api: SnippetApi } | { unavailable: string } {
  const where = process.env.HYPERSTEP_SNIPPET_MODULE || MODULE;
  let mod: Partial<SnippetApi>;
  try {
    mod = require(where) as Partial<SnippetApi>;
  } catch (e) {
    return { unavailable: `${where} could not be loaded (${(e as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.runSnippet !== 'function') return { unavailable: `${where} does not export runSnippet` };
  return { api: mod as SnippetApi };
}

export function runInterpreter(api: SnippetApi, cases: readonly Case[]): InterpOutcome[] {
  return cases.map((c) => {
    const state: MachineState = { gpr: [...c.input.gpr], rflags: c.input.rflags };
    try {
      const r = api.runSnippet(c.code, c.bits, state);
      return { state: { gpr: [...r.state.gpr], rflags: r.state.rflags }, fault: r.fault };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return { state, fault: null, error: msg.split('\n')[0] };
    }
  });
}
