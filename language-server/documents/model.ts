// What the parser extracts from one file: statements in order, symbol definitions and
// references, includes and sections. Every position is (line, column) in the file.
import type { Dialect, Language } from './dialect';
import type { Expr } from './expressions';
import type { Token } from './lexer';

/** A range on one line. */
export interface Span {
  line: number;
  start: number;
  end: number;
}

export type DefinitionKind = 'label' | 'constant' | 'macro' | 'section';

export interface Definition {
  /** Full name: NASM local labels are qualified ("main.loop"), GNU as numeric labels are their digits. */
  name: string;
  kind: DefinitionKind;
  /** The name as written at the definition. */
  span: Span;
  /** Constants: the value, parsed in `dialect`. */
  value?: Expr;
  /** Constants: the defining text (for hover), e.g. "#define ICR_INIT (5u << 8)". */
  source?: string;
  dialect: Dialect;
  /** GNU as numeric local label (`1:`), referenced as 1b / 1f. */
  numeric?: boolean;
  /** Declared .globl / global. */
  global?: boolean;
  /** A label followed by data directives rather than instructions. */
  data?: boolean;
  /** .type NAME, @function. */
  fn?: boolean;
  /** Macros: last line of the body. */
  endLine?: number;
  /** cpp function-like macro or NASM/GNU as macro parameters, for hover. */
  params?: string;
}

export type ReferenceUse = 'jump' | 'call' | 'data' | 'macro' | 'declaration';

export interface Reference {
  name: string;
  span: Span;
  use: ReferenceUse;
  /** GNU as numeric label reference direction (1b, 1f). */
  direction?: 'b' | 'f';
}

/** An operand as written: its tokens, in source order. */
export interface Operand {
  tokens: Token[];
  start: number;
  end: number;
}

export interface Instruction {
  kind: 'instruction';
  line: number;
  mnemonic: Token;
  prefixes: Token[];
  /** Operands in source order (AT&T: source first). */
  operands: Operand[];
  dialect: Dialect;
  /** Code size set by .code16/32/64 or NASM `bits`; undefined = the file's default. */
  bits?: 16 | 32 | 64;
  /** Inside a macro body: operands may be parameters. */
  inMacro: boolean;
  /** An invocation of a macro (user-defined op), not a machine instruction. */
  macroCall: boolean;
  end: number;
}

export interface Directive {
  kind: 'directive';
  line: number;
  name: Token;
  operands: Operand[];
  dialect: Dialect;
  inMacro: boolean;
}

export interface LabelStatement {
  kind: 'label';
  line: number;
  def: Definition;
}

export type Statement = Instruction | Directive | LabelStatement;

export interface Include {
  /** The path as written. */
  path: string;
  /** The string's span (quotes included). */
  span: Span;
  how: '.include' | '%include' | '#include';
  /** `#include <...>`. */
  system: boolean;
}

export interface SectionMark {
  name: string;
  span: Span;
}

export interface ParsedDocument {
  language: Language;
  lineCount: number;
  statements: Statement[];
  definitions: Definition[];
  references: Reference[];
  includes: Include[];
  sections: SectionMark[];
  /** The default code size when no directive says: inferred from the registers used. */
  defaultBits: 16 | 32 | 64;
  /** Per line: the dialect in force and whether the line starts inside a block comment (to re-lex one line). */
  lineDialect: Uint8Array;
  lineInComment: Uint8Array;
  /** NASM: the non-local label in force at each line, to qualify `.local` names at a position. */
  scopeAt(line: number): string | undefined;
}

export const DIALECT_CODE: Record<Dialect, number> = { att: 0, intel: 1, nasm: 2 };
export const DIALECT_OF_CODE: Dialect[] = ['att', 'intel', 'nasm'];
