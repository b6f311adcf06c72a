// The shape of one differential case and the flag vocabulary shared by generator, runners and report.

// EFLAGS bits (SDM vol. 1, 3.4.3).
export const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Bits compared between native and interpreter: the six arithmetic flags and DF. */
export const COMPARED_FLAGS = ARITH | DF;
export const FLAG_LIST: ReadonlyArray<[string, number]> = [['CF', CF], ['PF', PF], ['AF', AF], ['ZF', ZF], ['SF', SF], ['OF', OF], ['DF', DF]];

export function flagNames(bits: number): string {
  const names = FLAG_LIST.filter(([, b]) => bits & b).map(([n]) => n);
  return names.length ? names.join(' ') : '-';
}

export interface MachineState {
  /** rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
  gpr: bigint[];
  rflags: bigint;
}

export interface Outcome {
  state: MachineState;
  /** Exception vector raised by the instruction, or null. */
  fault: number | null;
}

export interface Case {
  /** Mnemonic family the report groups by ("shl", "imul", "cmovcc"...). */
  family: string;
  /** Encoding form within the family ("shl r/m8, CL"), the finer grouping of the report. */
  form: string;
  /** Intel-syntax text of the instruction, built by the generator. */
  text: string;
  code: Uint8Array;
  /** Mode the case runs in: 64-bit mode, or 32-bit protected mode (compared on EAX..EDI only). */
  bits: 32 | 64;
  input: MachineState;
  /** Arithmetic flags the SDM leaves undefined for this instruction with these inputs. */
  undefinedFlags: number;
  /** Set when the SDM leaves the destination itself undefined for these inputs (why, in words). */
  undefinedResult?: string;
  /** GPRs the instruction reads or writes, shown in reports. */
  regs: number[];
}
