// Bundles the CLI into dist/hyperstep.js and the guest assembly language server into
// dist/language-server.js (the extension starts it with vscode-languageclient). iced-x86
// stays external: it loads its WebAssembly from its own package folder at run time.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: ['cli/main.ts'],
  outfile: 'dist/hyperstep.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['iced-x86'],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync('dist/hyperstep.js', 0o755);

await build({
  entryPoints: ['language-server/main.ts'],
  outfile: 'dist/language-server.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['iced-x86'],
  logLevel: 'warning',
});
