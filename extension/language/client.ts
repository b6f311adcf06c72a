// The guest assembly language server (language-server/, bundled as dist/language-server.js) in
// its own Node process, over stdio, for the GNU as and NASM files of package.json's languages.
// It is started when the first such file opens, so a debugging-only window runs no server.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind, DidChangeConfigurationNotification } from 'vscode-languageclient/node';
import { ASM_LANGUAGES, serverOptions, AsmServerOptions } from './options';

const SETTINGS = 'hyperstep.asm';

function readSettings(): AsmServerOptions {
  const c = vscode.workspace.getConfiguration(SETTINGS);
  return serverOptions(c.get('includePaths'), c.get('assembler'));
}

/**
 * The server answers textDocument/inlineValue with lookups of registers by name ("ecx", "al").
 * VS Code looks a name up among the variables of the stopped frame's scopes, where the adapter's
 * Registers scope has only the full-width registers of the vCPU's mode (eax..edi, or rax..r15 in
 * long mode): "al", "cx", or "eax" in 64-bit code would show nothing. The adapter's `evaluate`
 * knows every register at every width for the focused vCPU, so each lookup is evaluated instead.
 */
function evaluateRegisters(values: vscode.InlineValue[] | null | undefined): vscode.InlineValue[] | null | undefined {
  return values?.map((v) => (v instanceof vscode.InlineValueVariableLookup && v.variableName
    ? new vscode.InlineValueEvaluatableExpression(v.range, v.variableName)
    : v));
}

function createClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath('dist/language-server.js');
  const server: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const options: LanguageClientOptions = {
    documentSelector: ASM_LANGUAGES.flatMap((language) => [{ scheme: 'file', language }, { scheme: 'untitled', language }]),
    initializationOptions: readSettings(),
    middleware: {
      provideInlineValues: async (document, viewPort, ctx, token, next) => evaluateRegisters(await next(document, viewPort, ctx, token)),
    },
  };
  return new LanguageClient('hyperstep.asm', 'Hyperstep Assembly', server, options);
}

export function registerLanguageClient(context: vscode.ExtensionContext): void {
  let client: LanguageClient | undefined;
  const isAsm = (d: vscode.TextDocument) => ASM_LANGUAGES.includes(d.languageId);
  const start = () => {
    if (client) return;
    client = createClient(context);
    context.subscriptions.push(client);
    client.start().catch((e: unknown) => {
      void vscode.window.showErrorMessage(`Hyperstep: the assembly language server did not start: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
  if (vscode.workspace.textDocuments.some(isAsm)) start();
  else {
    const opened = vscode.workspace.onDidOpenTextDocument((d) => {
      if (!isAsm(d)) return;
      opened.dispose();
      start();
    });
    context.subscriptions.push(opened);
  }
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (!client?.isRunning() || !e.affectsConfiguration(SETTINGS)) return;
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { hyperstep: { asm: readSettings() } } });
  }));
}
