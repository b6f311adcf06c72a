// "Show LAPIC": one vCPU's local APIC, every register decoded, in a readable panel that
// follows the VM (refreshed at every stop). The page is static HTML (model/lapic.ts) under a
// Content Security Policy that allows nothing but the extension's stylesheet.
import * as vscode from 'vscode';
import type { LapicResponseBody } from '../../debug-adapter/protocol';
import type { Sessions } from '../sessions';
import { lapicHtml } from '../model/lapic';

export class LapicPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** The vCPU shown, and its last answer (for tests). */
  vcpu: number | undefined;
  last: LapicResponseBody | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext, private readonly sessions: Sessions) {
    this.disposables.push(sessions.onDidStop(() => {
      if (this.panel && this.vcpu !== undefined) void this.show(this.vcpu, false);
    }));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  async show(vcpu: number, reveal = true): Promise<void> {
    const session = this.sessions.activeSession();
    if (!session) {
      void vscode.window.showWarningMessage('Hyperstep: start a debug session to read a LAPIC.');
      return;
    }
    const body = (await session.customRequest('hyperstep/lapic', { vcpu })) as LapicResponseBody;
    this.vcpu = vcpu;
    this.last = body;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('hyperstep.lapic', `LAPIC · vCPU ${vcpu}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'media')],
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      }, null, this.disposables);
    } else if (reveal) {
      this.panel.reveal(undefined, true);
    }
    const webview = this.panel.webview;
    this.panel.title = `LAPIC · vCPU ${vcpu}`;
    const name = this.sessions.active()?.vcpus.find((v) => v.vcpu === vcpu)?.name ?? `vCPU ${vcpu}`;
    webview.html = lapicHtml(body, {
      csp: `default-src 'none'; style-src ${webview.cspSource};`,
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'media', 'lapic.css')).toString(),
      title: name,
    });
  }
}
