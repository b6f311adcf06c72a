// The adapter runs in its own Node process (`hyperstep dap` over stdio), so a guest that
// keeps it busy never slows the editor's extension host.
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../../debug-adapter/protocol';

/** The adapter process: dist/hyperstep.js run by the Node inside VS Code (or the one configured). */
export function adapterExecutable(context: vscode.ExtensionContext): vscode.DebugAdapterExecutable {
  const configured = vscode.workspace.getConfiguration('hyperstep').get<string>('adapter.nodePath', '');
  const script = context.asAbsolutePath('dist/hyperstep.js');
  if (configured) return new vscode.DebugAdapterExecutable(configured, [script, 'dap']);
  // process.execPath is Electron in desktop VS Code (Node when ELECTRON_RUN_AS_NODE is set) and
  // Node itself in a server (code-server, remote); either runs the bundled adapter.
  return new vscode.DebugAdapterExecutable(process.execPath, [script, 'dap'], { env: { ELECTRON_RUN_AS_NODE: '1' } });
}

export function registerAdapterFactory(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
    createDebugAdapterDescriptor: () => adapterExecutable(context),
  }));
}
