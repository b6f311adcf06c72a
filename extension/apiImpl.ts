// The HyperstepApi that `activate` returns, built over the live views.
import type * as vscode from 'vscode';
import type { HyperstepApi, SessionSnapshot } from './api';
import type { Sessions } from './sessions';
import type { Views } from './commands';
import type { SessionModel } from './model/session';
import type { RenderReport } from './views/timelinePanel';

function snapshot(m: SessionModel): SessionSnapshot {
  return {
    id: m.id, name: m.name, running: m.running, status: m.status, vcpus: m.vcpus, lastStop: m.lastStop, stops: m.stops, vcpusAtStop: m.vcpusAtStop,
    timelineRows: m.timeline.count, dropped: m.dropped,
  };
}

function waitFor<T>(subscribe: (listener: (value: T) => void) => vscode.Disposable, accept: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = subscribe((v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}

export function createApi(sessions: Sessions, views: Views): HyperstepApi {
  return {
    session: () => {
      const m = sessions.active();
      return m ? snapshot(m) : undefined;
    },
    vcpuItems: () => views.vcpus.current(),
    whenStopped: async (timeoutMs = 30_000) => {
      const m = await waitFor<SessionModel>((l) => sessions.onDidStop(l), (m) => !m.running, timeoutMs, 'the VM to stop');
      return snapshot(m);
    },
    timeline: {
      isOpen: () => views.timeline.isOpen,
      lastRender: () => views.timeline.lastRender,
      whenRendered: (minRows, timeoutMs = 20_000) => {
        const last = views.timeline.lastRender;
        if (last && last.rows >= minRows) return Promise.resolve(last);
        return waitFor<RenderReport>((l) => views.timeline.onDidRender(l), (r) => r.rows >= minRows, timeoutMs, `the timeline to draw ${minRows} rows`);
      },
    },
    lapic: {
      isOpen: () => views.lapic.isOpen,
      shown: () => (views.lapic.vcpu !== undefined && views.lapic.last ? { vcpu: views.lapic.vcpu, body: views.lapic.last } : undefined),
    },
  };
}
