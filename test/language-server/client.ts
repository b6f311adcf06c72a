// A JSON-RPC client for the language server tests: spawns the real server process
// (out/language-server/main.js, or the CLI's `lsp --stdio`), speaks LSP over its stdio
// and collects publishDiagnostics and log messages.
import { spawn, ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, ProtocolConnection, InitializeRequest, InitializedNotification,
  DidOpenTextDocumentNotification, DidChangeTextDocumentNotification, DidSaveTextDocumentNotification, DidCloseTextDocumentNotification,
  PublishDiagnosticsNotification, LogMessageNotification, HoverRequest, DefinitionRequest, ReferencesRequest, RenameRequest, PrepareRenameRequest,
  DocumentSymbolRequest, WorkspaceSymbolRequest, CompletionRequest, InlineValueRequest, ShutdownRequest, ExitNotification,
  Diagnostic, Hover, Location, WorkspaceEdit, DocumentSymbol, SymbolInformation, CompletionItem, CompletionList, InlineValue, MarkupContent,
  Range, MessageType,
} from 'vscode-languageserver-protocol/node';

/** The repository root (tests run from out/test/language-server). */
export const REPO = resolve(__dirname, '../../..');
export const FIXTURES = join(REPO, 'test/language-server/fixtures');
export const WS = join(FIXTURES, 'ws');

export const uriOf = (path: string) => pathToFileURL(path).href;

export interface StartOptions {
  root: string;
  viaCli?: boolean;
  initializationOptions?: unknown;
}

export class LspClient {
  readonly diagnostics = new Map<string, Diagnostic[]>();
  /** How many times diagnostics were published per URI. */
  readonly published = new Map<string, number>();
  readonly errors: string[] = [];
  private readonly waiters: (() => void)[] = [];
  private versions = new Map<string, number>();

  private constructor(readonly proc: ChildProcess, readonly conn: ProtocolConnection) {
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.published.set(p.uri, (this.published.get(p.uri) ?? 0) + 1);
      for (const w of this.waiters.splice(0)) w();
    });
    conn.onNotification(LogMessageNotification.type, (p) => { if (p.type === MessageType.Error) this.errors.push(p.message); });
  }

  static async start(o: StartOptions): Promise<LspClient> {
    const args = o.viaCli ? [join(REPO, 'out/cli/main.js'), 'lsp', '--stdio'] : [join(REPO, 'out/language-server/main.js'), '--stdio'];
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stderr!.on('data', (b: Buffer) => process.stderr.write(`[server] ${b}`));
    const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    conn.listen();
    const client = new LspClient(proc, conn);
    await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid, rootUri: uriOf(o.root), workspaceFolders: [{ uri: uriOf(o.root), name: 'ws' }],
      capabilities: {}, initializationOptions: o.initializationOptions ?? null,
    });
    await conn.sendNotification(InitializedNotification.type, {});
    return client;
  }

  /** Opens a file (its text from disk unless given); returns its URI. */
  async open(path: string, text?: string, languageId = 'hyperstep-gas'): Promise<string> {
    const uri = uriOf(path);
    this.versions.set(uri, 1);
    await this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text: text ?? readFileSync(path, 'utf8') } });
    return uri;
  }

  async change(uri: string, text: string): Promise<void> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  async save(uri: string): Promise<void> {
    await this.conn.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
  }

  async close(uri: string): Promise<void> {
    await this.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
  }

  async hoverText(uri: string, line: number, character: number): Promise<string> {
    const h = await this.hover(uri, line, character);
    return h ? (h.contents as MarkupContent).value : '';
  }

  async definition(uri: string, line: number, character: number): Promise<Location[]> {
    const r = await this.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: { line, character } });
    return (Array.isArray(r) ? r : r ? [r] : []) as Location[];
  }

  async references(uri: string, line: number, character: number, includeDeclaration = true): Promise<Location[]> {
    return (await this.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: { line, character }, context: { includeDeclaration } })) ?? [];
  }

  prepareRename(uri: string, line: number, character: number) {
    return this.conn.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: { line, character } });
  }

  rename(uri: string, line: number, character: number, newName: string): Promise<WorkspaceEdit | null> {
    return this.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: { line, character }, newName });
  }

  async documentSymbols(uri: string): Promise<DocumentSymbol[]> {
    return ((await this.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) ?? []) as DocumentSymbol[];
  }

  async workspaceSymbols(query: string): Promise<SymbolInformation[]> {
    return ((await this.conn.sendRequest(WorkspaceSymbolRequest.type, { query })) ?? []) as SymbolInformation[];
  }

  async completion(uri: string, line: number, character: number): Promise<CompletionItem[]> {
    const r = await this.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line, character } });
    return !r ? [] : Array.isArray(r) ? r : (r as CompletionList).items;
  }

  async inlineValues(uri: string, range: Range, stoppedAt: Range): Promise<InlineValue[]> {
    return (await this.conn.sendRequest(InlineValueRequest.type, { textDocument: { uri }, range, context: { frameId: 1, stoppedLocation: stoppedAt } })) ?? [];
  }

  /** Waits until the diagnostics published for `uri` satisfy `ok` (checks the latest first). */
  async waitDiagnostics(uri: string, ok: (d: Diagnostic[]) => boolean, timeoutMs = 20000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = this.diagnostics.get(uri);
      if (d && ok(d)) return d;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`diagnostics for ${uri} never matched; last: ${JSON.stringify(d ?? null, null, 1)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  /** Waits until diagnostics for `uri` were published more than `count` times. */
  async waitPublished(uri: string, count: number, timeoutMs = 20000): Promise<Diagnostic[]> {
    return this.waitDiagnostics(uri, () => (this.published.get(uri) ?? 0) > count, timeoutMs);
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((res) => {
      if (!this.alive()) res(this.proc.exitCode);
      this.proc.once('exit', (code) => res(code));
    });
    try {
      await this.conn.sendRequest(ShutdownRequest.type);
      await this.conn.sendNotification(ExitNotification.type);
    } catch {
      this.proc.kill();
    }
    const timer = setTimeout(() => this.proc.kill(), 5000);
    const code = await exited;
    clearTimeout(timer);
    this.conn.dispose();
    return code;
  }
}

/** Line and column of the `occurrence`-th `needle` in `text`, plus `offset` characters. */
export function find(text: string, needle: string, offset = 0, occurrence = 0): { line: number; character: number } {
  let at = -1;
  for (let k = 0; k <= occurrence; k++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (occurrence ${occurrence}) not in the text`);
  }
  const before = text.slice(0, at + offset);
  const line = before.split('\n').length - 1;
  return { line, character: at + offset - (before.lastIndexOf('\n') + 1) };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
