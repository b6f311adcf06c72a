// Public entry of the guest assembly language server: the server itself (for
// `hyperstep lsp --stdio` and for the bundled dist/language-server.js), and the pure
// functions the VS Code extension uses directly (inline values while debugging).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

export { registersRead } from './features/inline-values';
export type { RegisterRead } from './features/inline-values';
export { LANGUAGE_IDS, languageOf } from './documents/dialect';
export type { Dialect, Language } from './documents/dialect';
export type { ServerOptions } from './server';

/**
 * Runs the server on this process's stdin/stdout (`--stdio`; vscode-languageclient may
 * also start it with --node-ipc). Returns -1 once the connection is set up (the process
 * then lives until the client sends exit), or an exit status for a bad command line.
 */
export function runLanguageServer(argv: string[]): number {
  const known = argv.filter((a) => a !== '--stdio' && !a.startsWith('--node-ipc') && !a.startsWith('--clientProcessId') && !a.startsWith('--socket') && !a.startsWith('--pipe'));
  if (known.length) {
    process.stderr.write(`hyperstep lsp: unknown argument '${known[0]}' (usage: hyperstep lsp --stdio)\n`);
    return 14;
  }
  if (!argv.some((a) => a === '--stdio' || a.startsWith('--node-ipc') || a.startsWith('--socket') || a.startsWith('--pipe'))) {
    process.stderr.write('hyperstep lsp: say how to talk: --stdio (usage: hyperstep lsp --stdio)\n');
    return 14;
  }
  const connection = createConnection(ProposedFeatures.all);
  startServer(connection);
  return -1;
}
