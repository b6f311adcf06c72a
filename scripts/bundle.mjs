// Bundles the CLI into dist/hyperstep.js (also the debug adapter: `hyperstep dap`), the guest
// assembly language server into dist/language-server.js, the VS Code extension into
// dist/extension.js and the IPI timeline's webview script into dist/timeline-webview.js.
// iced-x86 stays external: it loads its WebAssembly from its own package folder at run time.
// `vscode` is provided by the editor.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const common = { bundle: true, sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/hyperstep.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['iced-x86'],
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['extension/webview/timeline.ts'],
    outfile: 'dist/timeline-webview.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  }),
  build({
    ...common,
    entryPoints: ['language-server/main.ts'],
    outfile: 'dist/language-server.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['iced-x86'],
  }),
]);
chmodSync('dist/hyperstep.js', 0o755);
