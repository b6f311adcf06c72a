// Records every DAP message between VS Code and the Hyperstep adapter (a tracker of the
// test's own, independent of the extension's), so steps can wait for and assert on them.
import * as vscode from 'vscode';

export interface Message {
  /** 'in': adapter -> VS Code; 'out': VS Code -> adapter. */
  dir: 'in' | 'out';
  type: string;
  event?: string;
  command?: string;
  body?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  arguments?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  success?: boolean;
  message?: string;
}

export class DapRecorder implements vscode.Disposable {
  readonly messages: Message[] = [];
  private waiters: (() => void)[] = [];
  private readonly registration: vscode.Disposable;

  constructor(type: string) {
    this.registration = vscode.debug.registerDebugAdapterTrackerFactory(type, {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: Message) => this.push({ ...m, dir: 'in' }),
        onWillReceiveMessage: (m: Message) => this.push({ ...m, dir: 'out' }),
      }),
    });
  }

  dispose(): void {
    this.registration.dispose();
  }

  private push(m: Message): void {
    this.messages.push(m);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** A position in the log: later waits only look at messages after it. */
  mark(): number {
    return this.messages.length;
  }

  find(from: number, match: (m: Message) => boolean): Message | undefined {
    for (let k = from; k < this.messages.length; k++) if (match(this.messages[k])) return this.messages[k];
    return undefined;
  }

  async wait(from: number, match: (m: Message) => boolean, what: string, timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.find(from, match);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last messages:\n${this.tail(12)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  event(from: number, name: string, what = `the '${name}' event`, timeoutMs?: number): Promise<Message> {
    return this.wait(from, (m) => m.dir === 'in' && m.type === 'event' && m.event === name, what, timeoutMs);
  }

  tail(n: number): string {
    return this.messages.slice(-n).map((m) => `  ${m.dir} ${m.type} ${m.event ?? m.command ?? ''} ${JSON.stringify(m.body ?? m.arguments ?? {}).slice(0, 200)}`).join('\n');
  }
}
