// What the extension knows about one Hyperstep debug session, fed by the adapter's messages:
// running or stopped (and why), the latest status, the vCPU summaries, and the timeline rows.
// Pure (no `vscode` import): sessions.ts feeds it from a DebugAdapterTracker.
import type { EventsEventBody, StatusEventBody, VcpuSummary } from '../../debug-adapter/protocol';
import { EncodedBatch, TimelineEncoder, stateCode } from '../timeline/encoding';
import { TimelineStore } from '../timeline/store';

export interface StopInfo {
  threadId?: number;
  reason: string;
  description?: string;
  text?: string;
  allThreadsStopped?: boolean;
}

export class SessionModel {
  running = false;
  terminated = false;
  status?: StatusEventBody;
  vcpus: VcpuSummary[] = [];
  lastStop?: StopInfo;
  /** Stops so far, and the stop the vCPU summaries were last read at (-1: never). */
  stops = 0;
  vcpusAtStop = -1;
  /** Events the adapter dropped (rate limit), summed over its batches. */
  dropped = 0;
  readonly encoder = new TimelineEncoder();
  readonly timeline = new TimelineStore();

  constructor(readonly id: string, readonly name: string) {}

  /** A `hyperstep/events` batch: encoded once, kept, and returned for open timeline views. */
  addEvents(body: EventsEventBody): EncodedBatch {
    this.dropped += body.dropped ?? 0;
    const batch = this.encoder.encode(body.events ?? []);
    this.timeline.append(batch);
    return batch;
  }

  setStatus(s: StatusEventBody): void {
    this.status = s;
    this.running = s.running;
    this.encoder.setVcpuCount(s.vcpus);
  }

  /** New summaries, read after stop number `atStop` (see `stops`). */
  setVcpus(vcpus: VcpuSummary[], status?: StatusEventBody, atStop = this.stops): void {
    this.vcpus = vcpus;
    this.vcpusAtStop = atStop;
    if (status) this.setStatus(status);
    this.encoder.setVcpuCount(vcpus.length);
    this.encoder.setApicIds(vcpus.map((v) => v.apicId));
  }

  stopped(info: StopInfo): void {
    this.running = false;
    this.stops++;
    this.lastStop = info;
    if (this.status) this.status = { ...this.status, running: false };
  }

  continued(): void {
    this.running = true;
    if (this.status) this.status = { ...this.status, running: true };
  }

  /** Activity state code per vCPU now (for timeline lanes that have not changed state yet). */
  laneStates(): number[] {
    const n = Math.max(this.vcpus.length, this.status?.vcpus ?? 0);
    const states = new Array<number>(n).fill(stateCode('active'));
    for (const v of this.vcpus) states[v.vcpu] = stateCode(v.activity);
    // Until the first summary arrives: APs wait for SIPI, as after reset (SDM 8.4.1).
    if (this.vcpus.length === 0) for (let k = 1; k < n; k++) states[k] = stateCode('wait-for-sipi');
    return states;
  }
}
