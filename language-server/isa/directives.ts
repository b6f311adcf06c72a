// Assembler directives with a one-line summary each (after the GNU as and NASM manuals,
// in our words), for completion and hover.

export const GAS_DIRECTIVES: Record<string, string> = {
  '.text': 'Switch to the code section.', '.data': 'Switch to the initialised data section.', '.bss': 'Switch to the zero-initialised data section.',
  '.section': 'Switch to a named section: .section name[, "flags"[, @type]].', '.previous': 'Return to the previous section.',
  '.pushsection': 'Switch to a section, remembering the current one.', '.popsection': 'Return to the section before the matching .pushsection.',
  '.globl': 'Make symbols visible to the linker.', '.global': 'Make symbols visible to the linker.', '.local': 'Keep symbols local to the object.',
  '.weak': 'Make symbols weak.', '.hidden': 'Give symbols hidden visibility.', '.extern': 'Accepted and ignored: undefined symbols are external.',
  '.type': 'Set a symbol\'s type: .type name, @function | @object.', '.size': 'Set a symbol\'s size: .size name, . - name.',
  '.set': 'Give a symbol a value (may be redefined): .set name, expression.', '.equ': 'Same as .set.', '.equiv': 'Like .set, but an error if already defined.',
  '.eqv': 'Define a symbol as an expression evaluated at each use.',
  '.byte': 'Emit bytes.', '.word': 'Emit 16-bit values (x86).', '.short': 'Emit 16-bit values.', '.hword': 'Emit 16-bit values.',
  '.long': 'Emit 32-bit values.', '.int': 'Emit 32-bit values.', '.quad': 'Emit 64-bit values.', '.octa': 'Emit 128-bit values.',
  '.ascii': 'Emit strings without a terminating zero.', '.asciz': 'Emit zero-terminated strings.', '.string': 'Emit zero-terminated strings.',
  '.zero': 'Emit n zero bytes.', '.space': 'Emit n bytes (of a fill value).', '.skip': 'Same as .space.', '.fill': 'Emit repeat copies of a value: .fill repeat, size, value.',
  '.align': 'Align the location counter (x86 ELF: to a byte boundary).', '.balign': 'Align to a byte boundary.', '.p2align': 'Align to a power of two.',
  '.org': 'Advance the location counter to an offset in the section.',
  '.code16': 'Assemble 16-bit code (real mode, or a 16-bit segment).', '.code16gcc': '16-bit code with 32-bit default stack and call sizes.',
  '.code32': 'Assemble 32-bit code.', '.code64': 'Assemble 64-bit code.',
  '.intel_syntax': 'Switch to Intel syntax (noprefix: registers without %).', '.att_syntax': 'Switch back to AT&T syntax.',
  '.include': 'Assemble another file here: .include "file".', '.incbin': 'Insert a file\'s bytes.',
  '.macro': 'Begin a macro definition: .macro name args.', '.endm': 'End a macro definition.', '.purgem': 'Undefine a macro.',
  '.rept': 'Repeat the following lines n times.', '.irp': 'Repeat lines for each value.', '.endr': 'End .rept / .irp.',
  '.if': 'Assemble if the expression is non-zero.', '.ifdef': 'Assemble if the symbol is defined.', '.ifndef': 'Assemble if the symbol is not defined.',
  '.else': 'Else branch of .if.', '.elseif': 'Else-if branch.', '.endif': 'End of .if.',
  '.comm': 'Declare a common symbol.', '.lcomm': 'Reserve local zeroed storage.', '.file': 'Name the source file (debug info).', '.loc': 'Line information.',
  '.cfi_startproc': 'Begin call-frame information.', '.cfi_endproc': 'End call-frame information.', '.ident': 'Identification string.',
  '.error': 'Stop with an error message.', '.warning': 'Print a warning.', '.print': 'Print a message.', '.end': 'End of the source.',
};

export const NASM_DIRECTIVES: Record<string, string> = {
  section: 'Switch to a named section.', segment: 'Same as section.', bits: 'Code size: bits 16 | 32 | 64.', use16: 'bits 16.', use32: 'bits 32.', use64: 'bits 64.',
  default: 'Defaults: default rel | abs.', org: 'Origin of a flat binary (-f bin): the address the output is loaded at.',
  global: 'Export symbols.', extern: 'Import symbols.', common: 'Declare a common symbol.', static: 'Keep a symbol local.',
  align: 'Align with NOPs (code) or a fill.', alignb: 'Align with reserved space.', times: 'Repeat an instruction or data n times.',
  db: 'Emit bytes.', dw: 'Emit words.', dd: 'Emit doublewords.', dq: 'Emit quadwords.', dt: 'Emit ten-byte values.', do: 'Emit 16-byte values.',
  resb: 'Reserve bytes.', resw: 'Reserve words.', resd: 'Reserve doublewords.', resq: 'Reserve quadwords.',
  equ: 'Give the label on this line a constant value.', incbin: 'Insert a file\'s bytes.', struc: 'Begin a structure definition.', endstruc: 'End a structure.',
  istruc: 'Begin a structure instance.', at: 'Field of a structure instance.', iend: 'End a structure instance.', absolute: 'Assemble in an absolute (no-output) segment.',
  cpu: 'Restrict the instruction set.',
  '%define': 'Single-line macro.', '%xdefine': 'Single-line macro, expanded at definition.', '%assign': 'Numeric single-line macro.', '%undef': 'Remove a macro.',
  '%macro': 'Begin a multi-line macro: %macro name nparams.', '%endmacro': 'End a multi-line macro.', '%include': 'Include a file: %include "file".',
  '%if': 'Conditional assembly.', '%ifdef': 'Assemble if a macro is defined.', '%ifndef': 'Assemble if a macro is not defined.', '%else': 'Else branch.',
  '%elif': 'Else-if branch.', '%endif': 'End of %if.', '%rep': 'Repeat a block.', '%endrep': 'End of %rep.', '%error': 'Stop with an error.', '%warning': 'Print a warning.',
};

export const CPP_DIRECTIVES: Record<string, string> = {
  '#include': 'C preprocessor: include a header (its #defines are visible here).', '#define': 'C preprocessor: define a macro or constant.',
  '#undef': 'C preprocessor: remove a macro.', '#ifdef': 'C preprocessor conditional.', '#ifndef': 'C preprocessor conditional.', '#if': 'C preprocessor conditional.',
  '#else': 'C preprocessor conditional.', '#elif': 'C preprocessor conditional.', '#endif': 'End of a C preprocessor conditional.',
};

export function describeDirective(name: string, nasm: boolean): string | undefined {
  const lower = name.toLowerCase();
  return nasm ? NASM_DIRECTIVES[lower] : GAS_DIRECTIVES[lower] ?? CPP_DIRECTIVES[lower];
}
