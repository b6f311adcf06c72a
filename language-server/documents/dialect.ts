// Which assembler a file is written for, and which syntax a line is in.
// GNU as files (.s, .S) start in AT&T syntax and may switch with `.intel_syntax` /
// `.att_syntax` at any line; NASM files (.asm) are always Intel syntax with NASM's own
// directives and preprocessor. C headers included from .S files contribute only their
// `#define`s (the rest is C, skipped under `#ifndef __ASSEMBLER__` by the real build).

/** The assembler family of a whole file. */
export type Language = 'gas' | 'nasm' | 'c-header';

/** The syntax of one line: GNU as AT&T, GNU as Intel (`.intel_syntax`), or NASM. */
export type Dialect = 'att' | 'intel' | 'nasm';

/** Language ids the extension registers (package.json contributes.languages). */
export const LANGUAGE_IDS = { gas: 'hyperstep-gas', nasm: 'hyperstep-nasm' } as const;

/** File extensions by language; `.S` is GNU as run through the C preprocessor. */
export const GAS_EXTENSIONS = ['.s', '.S', '.sx'];
export const NASM_EXTENSIONS = ['.asm', '.nasm', '.inc', '.mac'];
export const HEADER_EXTENSIONS = ['.h', '.hpp'];

/** The language of a file, from its LSP language id if known, else from its name. */
export function languageOf(pathOrUri: string, languageId?: string): Language {
  // Explicit ids win; a generic "asm" id (other extensions use it for every kind) says nothing.
  if (languageId === LANGUAGE_IDS.nasm || languageId === 'nasm') return 'nasm';
  if (languageId === LANGUAGE_IDS.gas || languageId === 'gas') return 'gas';
  if (languageId === 'c' || languageId === 'cpp') return 'c-header';
  const dot = pathOrUri.lastIndexOf('.');
  const ext = dot < 0 ? '' : pathOrUri.slice(dot);
  if (NASM_EXTENSIONS.includes(ext.toLowerCase())) return 'nasm';
  if (HEADER_EXTENSIONS.includes(ext.toLowerCase())) return 'c-header';
  return 'gas';
}

/**
 * The language of an include file whose extension does not say (`.inc` is used by both
 * assemblers): NASM's `%define`/`equ`/`;` comments against GNU as' dot directives.
 */
export function sniffLanguage(text: string): Language {
  const sample = text.length > 65536 ? text.slice(0, 65536) : text;
  const gas = (sample.match(/^\s*\.(equ|set|macro|globl|global|section|text|data|long|word|byte|include|code\d\d)\b/gm) ?? []).length
    + (sample.match(/%[re]?[abcd]x\b/g) ?? []).length;
  const nasm = (sample.match(/^\s*(%(define|macro|include|assign|ifdef|ifndef)|section|global|extern|bits)\b/gm) ?? []).length
    + (sample.match(/\bequ\b/g) ?? []).length + (sample.match(/^\s*;/gm) ?? []).length;
  return gas > nasm ? 'gas' : 'nasm';
}

/** True when a file of this name is run through the C preprocessor before `as` (gcc's rule: capital .S, .sx). */
export function usesCpp(pathOrUri: string): boolean {
  return /\.(S|sx)$/.test(pathOrUri);
}

/** The dialect a file starts in. */
export function initialDialect(lang: Language): Dialect {
  return lang === 'nasm' ? 'nasm' : 'att';
}
