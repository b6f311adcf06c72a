// Cross-checks the generator's encoder against iced-x86's decoder: every case must decode as one
// instruction of the expected length, with the mnemonic and operands the generator meant. A wrong
// encoding would otherwise show up as a puzzling "semantics" mismatch.
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Mnemonic } from '../../../../core/cpu/iced';
import { Case } from './cases';

export interface EncodingProblem { c: Case; decoded: string; reason: string }

/** Numbers are written differently (iced sign-extends immediates); compare everything else. */
function normalize(text: string): string {
  let t = text.toLowerCase().replace(/-?(0x[0-9a-f]+|\b\d+\b)/g, '#').replace(/\s+/g, ' ').trim();
  // iced writes SAL as SHL, and a three-operand IMUL with equal registers in its two-operand form.
  t = t.replace(/^sal /, 'shl ').replace(/^imul (\w+), #$/, 'imul $1, $1, #');
  return t;
}

export function checkEncodings(cases: readonly Case[]): EncodingProblem[] {
  const problems: EncodingProblem[] = [];
  const formatter = new Formatter(FormatterSyntax.Intel);
  formatter.spaceAfterOperandSeparator = true;
  formatter.hexPrefix = '0x';
  formatter.hexSuffix = '';
  formatter.uppercaseHex = false;
  formatter.showZeroDisplacements = false;
  try {
    for (const c of cases) {
      const decoder = new Decoder(c.bits, c.code, DecoderOptions.None);
      const instr = decoder.decode();
      const decoded = formatter.format(instr);
      const mnemonic = (Mnemonic[instr.mnemonic] ?? '').toLowerCase();
      const want = c.text.split(' ')[0];
      let reason = '';
      if (instr.length !== c.code.length) reason = `decoded length ${instr.length}, encoded ${c.code.length}`;
      else if (normalize(decoded) === normalize(c.text)) reason = '';
      else if (mnemonic !== want) reason = `mnemonic ${mnemonic}, expected ${want}`;
      else reason = 'operands differ';
      if (reason) problems.push({ c, decoded, reason });
      instr.free();
      decoder.free();
    }
  } finally {
    formatter.free();
  }
  return problems;
}
