// The language server: one handler per LSP request, each a thin translation between the
// protocol and the features (features/*). Documents are synced incrementally; hardware
// diagnostics follow each change (debounced), assembler diagnostics each open and save.
// Every handler is guarded: bad input yields an empty answer, never a dead server.
import {
  CompletionItem, Connection, Hover, InitializeParams, InitializeResult, Location, MarkupKind,
  ResponseError, ErrorCodes, TextDocumentSyncKind, TextDocuments, Diagnostic, InlineValueParams,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { Workspace, SourceFile } from './workspace/store';
import { definitionsAt } from './workspace/symbols';
import { Project } from './features/project';
import { hover } from './features/hover';
import { complete } from './features/completion';
import { assemble, AssemblerOptions, DEFAULT_ASSEMBLER } from './features/assembler';
import { assemblerDiagnostics, hardwareDiagnostics } from './features/diagnostics';
import { documentSymbols, prepareRename, references, rename, RenameError, workspaceSymbols } from './features/symbols';
import { inlineValues } from './features/inline-values';
import { mnemonicTable } from './isa/instructions';

/** Options a client may pass in initializationOptions (and later as the `hyperstep.asm` settings). */
export interface ServerOptions {
  /** Directories searched for includes, like -I (absolute, or relative to the first workspace folder). */
  includePaths?: string[];
  assembler?: Partial<AssemblerOptions>;
}

/** A document larger than this is not analysed (it is still opened: navigation works on what was parsed). */
const MAX_ANALYSED_CHARS = 16 * 1024 * 1024;
const DIAGNOSTICS_DELAY_MS = 200;
/** Per document: more would only slow the editor down. */
const MAX_DIAGNOSTICS = 1000;

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const ws = new Workspace();
  const project = new Project(ws);
  let assembler: AssemblerOptions = { ...DEFAULT_ASSEMBLER };
  const assemblerRuns = new Map<string, Diagnostic[]>();
  const pending = new Map<string, NodeJS.Timeout>();

  const fileOf = (uri: string): SourceFile | undefined => ws.get(uri);

  /** Runs a feature; a failure is logged and answered with `fallback`. */
  const guard = <T>(what: string, fallback: T, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      connection.console.error(`${what}: ${(e as Error).stack ?? e}`);
      return fallback;
    }
  };

  const publish = (uri: string) => {
    const file = fileOf(uri);
    if (!file || !file.open) return;
    const hw = file.text.length > MAX_ANALYSED_CHARS ? [] : guard('diagnostics', [] as Diagnostic[], () => hardwareDiagnostics(project, file));
    // The assembler's errors first: they are the ones that break the build.
    const all = [...(assemblerRuns.get(file.key) ?? []), ...hw].slice(0, MAX_DIAGNOSTICS);
    void connection.sendDiagnostics({ uri: file.uri, diagnostics: all });
  };

  const schedule = (uri: string, delay = DIAGNOSTICS_DELAY_MS) => {
    const old = pending.get(uri);
    if (old) clearTimeout(old);
    pending.set(uri, setTimeout(() => { pending.delete(uri); publish(uri); }, delay));
  };

  const runAssembler = async (uri: string) => {
    const file = fileOf(uri);
    if (!file || file.text.length > MAX_ANALYSED_CHARS) return;
    try {
      const run = await assemble(ws, file, assembler);
      const current = fileOf(uri);
      if (!current) return;
      if (run) assemblerRuns.set(current.key, assemblerDiagnostics(project, current, run));
      else assemblerRuns.delete(current.key);
      publish(uri);
    } catch (e) {
      connection.console.error(`assembler: ${(e as Error).stack ?? e}`);
    }
  };

  const applyOptions = (o: ServerOptions | undefined) => {
    if (!o) return;
    if (Array.isArray(o.includePaths)) ws.includePaths = o.includePaths.filter((p) => typeof p === 'string');
    if (o.assembler && typeof o.assembler === 'object') assembler = { ...assembler, ...o.assembler };
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const roots = (params.workspaceFolders ?? []).map((f) => f.uri);
    if (roots.length === 0 && params.rootUri) roots.push(params.rootUri);
    ws.roots = roots.flatMap((u) => { try { return [fileURLToPath(u)]; } catch { return []; } });
    applyOptions(params.initializationOptions as ServerOptions | undefined);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        workspaceSymbolProvider: true,
        completionProvider: { triggerCharacters: ['%', '.', '$', '#'], resolveProvider: false },
        inlineValueProvider: true,
      },
      serverInfo: { name: 'hyperstep-asm', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    // Warm the instruction tables off the first request's path.
    setTimeout(() => guard('warm-up', undefined, () => { mnemonicTable(); }), 0);
  });

  connection.onDidChangeConfiguration((change) => {
    const settings = (change.settings as { hyperstep?: { asm?: ServerOptions } } | undefined)?.hyperstep?.asm;
    applyOptions(settings);
    for (const d of documents.all()) schedule(d.uri);
  });

  const sync = (doc: TextDocument) => {
    guard('parse', undefined, () => { ws.openDocument(doc.uri, doc.getText(), doc.languageId); });
    // Files that include this one see its constants: refresh their diagnostics too.
    const changed = fileOf(doc.uri);
    for (const other of documents.all()) {
      if (other.uri === doc.uri) continue;
      const f = fileOf(other.uri);
      if (f && changed && ws.includeClosure(f).some((g) => g.key === changed.key)) schedule(other.uri);
    }
    schedule(doc.uri);
  };

  documents.onDidOpen((e) => { sync(e.document); void runAssembler(e.document.uri); });
  documents.onDidChangeContent((e) => sync(e.document));
  documents.onDidSave((e) => void runAssembler(e.document.uri));
  documents.onDidClose((e) => {
    ws.closeDocument(e.document.uri);
    const key = fileOf(e.document.uri)?.key;
    if (key) assemblerRuns.delete(key);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((p): Hover | null => guard('hover', null, () => {
    const file = fileOf(p.textDocument.uri);
    if (!file) return null;
    const h = hover(project, file, p.position.line, p.position.character);
    if (!h) return null;
    return { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: { start: { line: h.line, character: h.start }, end: { line: h.line, character: h.end } } };
  }));

  connection.onDefinition((p): Location[] => guard('definition', [] as Location[], () => {
    const file = fileOf(p.textDocument.uri);
    if (!file) return [];
    const { line, character } = p.position;
    // On an include's file name: the file.
    const inc = file.parsed.includes.find((i) => i.span.line === line && character >= i.span.start && character <= i.span.end);
    if (inc) {
      const target = ws.resolveInclude(file, inc);
      return target ? [Location.create(target.uri, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } })] : [];
    }
    return definitionsAt(ws, file, line, character).map((d) => Location.create(d.file.uri, {
      start: { line: d.item.span.line, character: d.item.span.start }, end: { line: d.item.span.line, character: d.item.span.end },
    }));
  }));

  connection.onReferences((p): Location[] => guard('references', [] as Location[], () => {
    const file = fileOf(p.textDocument.uri);
    return file ? references(ws, file, p.position.line, p.position.character, p.context.includeDeclaration) : [];
  }));

  connection.onPrepareRename((p) => guard('prepareRename', null, () => {
    const file = fileOf(p.textDocument.uri);
    if (!file) return null;
    try {
      const s = prepareRename(ws, file, p.position.line, p.position.character);
      return { start: { line: s.line, character: s.start }, end: { line: s.line, character: s.end } };
    } catch (e) {
      if (e instanceof RenameError) throw new ResponseError(ErrorCodes.InvalidRequest, e.message);
      throw e;
    }
  }));

  connection.onRenameRequest((p) => guard('rename', null, () => {
    const file = fileOf(p.textDocument.uri);
    if (!file) return null;
    try {
      return rename(ws, file, p.position.line, p.position.character, p.newName);
    } catch (e) {
      if (e instanceof RenameError) throw new ResponseError(ErrorCodes.InvalidRequest, e.message);
      throw e;
    }
  }));

  connection.onDocumentSymbol((p) => guard('documentSymbol', [], () => {
    const file = fileOf(p.textDocument.uri);
    return file ? documentSymbols(file) : [];
  }));

  connection.onWorkspaceSymbol((p) => guard('workspaceSymbol', [], () => workspaceSymbols(ws, p.query)));

  connection.onCompletion((p): CompletionItem[] => guard('completion', [] as CompletionItem[], () => {
    const file = fileOf(p.textDocument.uri);
    return file ? complete(project, file, p.position.line, p.position.character) : [];
  }));

  connection.languages.inlineValue.on((p: InlineValueParams) => guard('inlineValue', [], () => {
    const file = fileOf(p.textDocument.uri);
    if (!file) return [];
    const last = Math.min(p.range.end.line, p.context.stoppedLocation.end.line);
    return inlineValues(file, p.range.start.line, last);
  }));

  documents.listen(connection);
  connection.listen();
}
