// What `activate` returns (vscode.extensions.getExtension(...).exports): read-only views of
// the extension's state, for the end-to-end tests and for other extensions.
import type { VcpuSummary } from '../debug-adapter/protocol';
import type { VcpuItem } from './model/vcpus';
import type { StopInfo } from './model/session';
import type { RenderReport } from './views/timelinePanel';
import type { LapicResponseBody, StatusEventBody } from '../debug-adapter/protocol';

export interface SessionSnapshot {
  id: string;
  name: string;
  running: boolean;
  status?: StatusEventBody;
  vcpus: VcpuSummary[];
  lastStop?: StopInfo;
  /** Stops so far; the stop at which `vcpus` was read (-1: while running). */
  stops: number;
  vcpusAtStop: number;
  /** Rows in the session's timeline, and events the adapter dropped. */
  timelineRows: number;
  dropped: number;
}

export interface HyperstepApi {
  /** The active Hyperstep session as the extension sees it. */
  session(): SessionSnapshot | undefined;
  /** The rows of the vCPUs view, as rendered. */
  vcpuItems(): readonly VcpuItem[];
  /** Resolves when the vCPUs view has summaries for a stopped session (after a `stopped`). */
  whenStopped(timeoutMs?: number): Promise<SessionSnapshot>;
  timeline: {
    isOpen(): boolean;
    lastRender(): RenderReport | undefined;
    /** Resolves with the next frame the webview reports (or the last one, if it has rows). */
    whenRendered(minRows: number, timeoutMs?: number): Promise<RenderReport>;
  };
  lapic: {
    isOpen(): boolean;
    shown(): { vcpu: number; body: LapicResponseBody } | undefined;
  };
}
