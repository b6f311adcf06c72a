// The language client's pure half (extension/language/options.ts): the `hyperstep.asm` settings
// as the server's options, with hand-edited nonsense left out so the server keeps its defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverOptions, ASM_LANGUAGES } from '../../extension/language/options';
import type { ServerOptions } from '../../language-server/server';
import { LANGUAGE_IDS } from '../../language-server/documents/dialect';

test('the client serves the two languages the server knows', () => {
  assert.deepEqual(ASM_LANGUAGES, [LANGUAGE_IDS.gas, LANGUAGE_IDS.nasm]);
});

test('settings become the options the server accepts', () => {
  const o: ServerOptions = serverOptions(['guests/common', '/abs/inc'], { enabled: false, as: 'as', gcc: 'x86_64-linux-gnu-gcc', nasm: 'nasm', args: ['-DSMP'], timeoutMs: 5000 });
  assert.deepEqual(o, {
    includePaths: ['guests/common', '/abs/inc'],
    assembler: { enabled: false, as: 'as', gcc: 'x86_64-linux-gnu-gcc', nasm: 'nasm', args: ['-DSMP'], timeoutMs: 5000 },
  });
});

test('values of the wrong type are left out', () => {
  assert.deepEqual(serverOptions(undefined, undefined), {});
  assert.deepEqual(serverOptions('guests', [1]), {});
  assert.deepEqual(serverOptions(['a', 3, '', null], { enabled: 'yes', as: '', gcc: 7, args: ['-I.', 2], timeoutMs: -1, extra: true }), {
    includePaths: ['a'],
    assembler: { args: ['-I.'] },
  });
});
