// Follows every Hyperstep debug session through a DebugAdapterTracker (the one place that
// reads the adapter's messages) and keeps a SessionModel for each; the views subscribe.
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../debug-adapter/protocol';
import type { EventsEventBody, StatusEventBody, VcpusResponseBody } from '../debug-adapter/protocol';
import type { EncodedBatch } from './timeline/encoding';
import { SessionModel, StopInfo } from './model/session';

interface DapMessage {
  type?: string;
  event?: string;
  body?: unknown;
}

/** While running, the vCPU summaries are refreshed at most this often (ms). */
const RUNNING_REFRESH_MS = 1000;

export class Sessions implements vscode.Disposable {
  private readonly models = new Map<string, SessionModel>();
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly refreshing = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly lastRefresh = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  /** Any change of a session's state (stop, continue, status, vCPU summaries, end). */
  private readonly changed = new vscode.EventEmitter<SessionModel | undefined>();
  readonly onDidChange = this.changed.event;
  /** New timeline rows of a session. */
  private readonly events = new vscode.EventEmitter<{ model: SessionModel; batch: EncodedBatch }>();
  readonly onDidAddEvents = this.events.event;
  /** A session stopped (after its vCPU summaries were refreshed). */
  private readonly stoppedEmitter = new vscode.EventEmitter<SessionModel>();
  readonly onDidStop = this.stoppedEmitter.event;
  /** Output written to the extension's log channel. */
  readonly log = vscode.window.createOutputChannel('Hyperstep', { log: true });

  constructor() {
    this.disposables.push(
      this.changed, this.events, this.stoppedEmitter, this.log,
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => this.track(session),
      }),
      vscode.debug.onDidTerminateDebugSession((s) => this.ended(s)),
      vscode.debug.onDidChangeActiveDebugSession(() => this.changed.fire(this.active())),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** The model of the active Hyperstep session, else of the most recent one still alive. */
  active(): SessionModel | undefined {
    const s = vscode.debug.activeDebugSession;
    if (s && s.type === DEBUG_TYPE) return this.models.get(s.id);
    const alive = [...this.models.values()].filter((m) => !m.terminated);
    return alive[alive.length - 1];
  }

  session(model: SessionModel | undefined): vscode.DebugSession | undefined {
    return model ? this.sessions.get(model.id) : undefined;
  }

  /** The active Hyperstep debug session, or an error message for the user. */
  activeSession(): vscode.DebugSession | undefined {
    return this.session(this.active());
  }

  private track(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const model = new SessionModel(session.id, session.name);
    this.models.set(session.id, model);
    this.sessions.set(session.id, session);
    this.changed.fire(model);
    return {
      onDidSendMessage: (m: DapMessage) => {
        if (m.type !== 'event') return;
        try {
          this.onEvent(session, model, m.event ?? '', m.body);
        } catch (e) {
          this.log.error(`while handling the adapter's '${m.event}' event: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        }
      },
      onError: (e) => this.log.error(`debug adapter: ${e.message}`),
      onExit: (code, signal) => {
        if (code) this.log.warn(`debug adapter exited with code ${code}${signal ? ` (${signal})` : ''}`);
      },
    };
  }

  private onEvent(session: vscode.DebugSession, model: SessionModel, event: string, body: unknown): void {
    switch (event) {
      case 'hyperstep/events': {
        const batch = model.addEvents(body as EventsEventBody);
        if (batch.time.length > 0) this.events.fire({ model, batch });
        return;
      }
      case 'hyperstep/status':
        model.setStatus(body as StatusEventBody);
        this.changed.fire(model);
        if (model.running) this.refreshSoon(session, model);
        return;
      case 'stopped':
        model.stopped(body as StopInfo);
        this.changed.fire(model);
        void this.refresh(session, model).then(() => this.stoppedEmitter.fire(model));
        return;
      case 'continued':
        model.continued();
        this.changed.fire(model);
        return;
      case 'terminated':
      case 'exited':
        model.running = false;
        this.changed.fire(model);
        return;
    }
  }

  private refreshSoon(session: vscode.DebugSession, model: SessionModel): void {
    const last = this.lastRefresh.get(model.id) ?? 0;
    if (Date.now() - last >= RUNNING_REFRESH_MS) void this.refresh(session, model);
  }

  /** Asks the adapter for every vCPU's summary (`hyperstep/vcpus`). */
  async refresh(session: vscode.DebugSession | undefined = this.activeSession(), model = session && this.models.get(session.id)): Promise<void> {
    if (!session || !model || model.terminated) return;
    // One request at a time; a refresh asked for meanwhile (a stop during a running-state
    // refresh) runs after it, so the summaries read at a stop are never lost.
    const inflight = this.inflight.get(model.id);
    if (inflight) {
      const next = inflight.then(() => this.refresh(session, model));
      return next;
    }
    const run = this.refreshNow(session, model);
    this.inflight.set(model.id, run);
    try { await run; } finally { if (this.inflight.get(model.id) === run) this.inflight.delete(model.id); }
  }

  private async refreshNow(session: vscode.DebugSession, model: SessionModel): Promise<void> {
    this.refreshing.add(model.id);
    this.lastRefresh.set(model.id, Date.now());
    const atStop = model.running ? -1 : model.stops;
    try {
      // A response that never comes (a session going away) must not block every later refresh.
      let timer: NodeJS.Timeout | undefined;
      const r = (await Promise.race([
        session.customRequest('hyperstep/vcpus', {}),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000); }),
      ]).finally(() => clearTimeout(timer))) as VcpusResponseBody;
      model.setVcpus(r.vcpus ?? [], r.status, atStop);
      this.changed.fire(model);
    } catch (e) {
      if (!model.terminated) this.log.warn(`hyperstep/vcpus failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.refreshing.delete(model.id);
    }
  }

  private ended(session: vscode.DebugSession): void {
    const model = this.models.get(session.id);
    if (!model) return;
    model.terminated = true;
    model.running = false;
    this.models.delete(session.id);
    this.sessions.delete(session.id);
    this.changed.fire(this.active());
  }
}
