// The IPI Timeline panel: hosts webview/timeline.ts, replays the session's rows into it when
// it opens, and streams new batches while the VM runs. Clicking an event reveals its vCPU.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { Sessions } from '../sessions';
import type { SessionModel } from '../model/session';
import type { FromWebview, ToWebview } from '../timeline/messages';
import { timelineHtml } from '../timeline/html';

/** Rows per message when replaying a long history into a new panel. */
const REPLAY_CHUNK = 50_000;

export type RenderReport = Extract<FromWebview, { type: 'rendered' }>;

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** The session whose rows the webview holds, and how many it has. */
  private shown: SessionModel | undefined;
  private sent = 0;
  private labelsSent = 0;
  /** The webview's last report of what it drew (for tests and diagnostics). */
  lastRender: RenderReport | undefined;
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;
  private readonly disposables: vscode.Disposable[] = [this.rendered];

  constructor(private readonly context: vscode.ExtensionContext, private readonly sessions: Sessions,
    private readonly revealVcpu: (vcpu: number) => void) {
    this.disposables.push(
      sessions.onDidAddEvents(({ model }) => this.sync(model)),
      sessions.onDidChange(() => this.sync(sessions.active())),
    );
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel('hyperstep.timeline', 'IPI Timeline', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [media, dist],
    });
    panel.iconPath = vscode.Uri.joinPath(media, 'timeline.svg');
    this.panel = panel;
    this.ready = false;
    this.shown = undefined;
    this.sent = 0;
    const webview = panel.webview;
    webview.html = timelineHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'timeline-webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'timeline.css')).toString(),
      nonce: randomBytes(16).toString('base64'),
    });
    webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m), null, this.disposables);
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    }, null, this.disposables);
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.shown = undefined;
        this.sync(this.sessions.active());
        return;
      case 'reveal':
        this.revealVcpu(m.vcpu);
        return;
      case 'rendered':
        this.lastRender = m;
        this.rendered.fire(m);
        return;
    }
  }

  private post(m: ToWebview): void {
    void this.panel?.webview.postMessage(m);
  }

  /** Brings the webview up to date with `model`: a reset on a new session, then the rows it lacks. */
  private sync(model: SessionModel | undefined): void {
    if (!this.panel || !this.ready) return;
    if (!model) return; // keep showing the last session after it ends
    if (model !== this.shown) {
      this.shown = model;
      this.sent = 0;
      this.labelsSent = 0;
      this.post({ type: 'reset', title: model.name, vcpus: model.status?.vcpus ?? model.vcpus.length, states: model.laneStates() });
    }
    const store = model.timeline;
    while (this.sent < store.count) {
      const to = Math.min(store.count, this.sent + REPLAY_CHUNK);
      // Each label goes once; rows only refer to labels interned before or with them.
      const batch = store.toBatch(this.sent, to, false);
      batch.labels = store.labels.slice(this.labelsSent);
      this.labelsSent = store.labels.length;
      this.post({ type: 'append', batch });
      this.sent = to;
    }
    this.post({ type: 'status', running: model.running, dropped: model.dropped, states: model.laneStates() });
  }
}
