// What the extension tells the assembly language server: the languages it serves (ids shared
// with the server, whose documents/dialect.ts names them) and the `hyperstep.asm.*` settings
// turned into the server's options. Pure (no `vscode` import) so it runs under plain
// `node --test`; language/client.ts wires it.
import { LANGUAGE_IDS } from '../../language-server/documents/dialect';

/** The language ids of package.json's contributes.languages, served by the language server. */
export const ASM_LANGUAGES: readonly string[] = [LANGUAGE_IDS.gas, LANGUAGE_IDS.nasm];

/** The `hyperstep.asm.assembler` setting (package.json), each field optional. */
export interface AssemblerSettings {
  enabled?: boolean;
  as?: string;
  gcc?: string;
  nasm?: string;
  args?: string[];
  timeoutMs?: number;
}

/** The options language-server/server.ts accepts (initializationOptions, and settings changes). */
export interface AsmServerOptions {
  includePaths?: string[];
  assembler?: AssemblerSettings;
}

/**
 * The server's options from the `hyperstep.asm` settings as VS Code returns them. Values of the
 * wrong type (a hand-edited settings.json) are left out, so the server keeps its defaults.
 */
export function serverOptions(includePaths: unknown, assembler: unknown): AsmServerOptions {
  const out: AsmServerOptions = {};
  if (Array.isArray(includePaths)) out.includePaths = includePaths.filter((p): p is string => typeof p === 'string' && p !== '');
  if (assembler && typeof assembler === 'object' && !Array.isArray(assembler)) {
    const a = assembler as Record<string, unknown>;
    const s: AssemblerSettings = {};
    if (typeof a.enabled === 'boolean') s.enabled = a.enabled;
    for (const k of ['as', 'gcc', 'nasm'] as const) if (typeof a[k] === 'string' && a[k] !== '') s[k] = a[k] as string;
    if (Array.isArray(a.args)) s.args = a.args.filter((x): x is string => typeof x === 'string');
    if (typeof a.timeoutMs === 'number' && Number.isFinite(a.timeoutMs) && a.timeoutMs > 0) s.timeoutMs = a.timeoutMs;
    out.assembler = s;
  }
  return out;
}
