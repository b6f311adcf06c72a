// Messages between the IPI Timeline panel (views/timelinePanel.ts) and its webview
// (webview/timeline.ts). Types only.
import type { EncodedBatch } from './encoding';

export type ToWebview =
  /** Forget everything: a new session (or none). */
  | { type: 'reset'; title: string; vcpus: number; states: number[] }
  | { type: 'append'; batch: EncodedBatch }
  /** Current activity state per lane (for lanes that never changed state), running or not, events the adapter dropped. */
  | { type: 'status'; running: boolean; dropped: number; states: number[] };

export type FromWebview =
  | { type: 'ready' }
  /** A click on an event or a lane name: reveal that vCPU. */
  | { type: 'reveal'; vcpu: number; row: number }
  /** After each drawn frame (throttled): what is on screen, for tests and diagnostics. */
  | { type: 'rendered'; rows: number; drawn: number; lanes: number; t0: number; t1: number; arrows: number; ms: number };
