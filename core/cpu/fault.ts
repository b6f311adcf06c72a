// A CPU exception raised while executing an instruction. Handlers throw it; the run
// loop catches it outside the hot loop and delivers it (SDM vol. 3, ch. 6).

export class CpuFault {
  constructor(readonly vector: number, readonly errorCode: number | null) {}
}

/** Thrown when the vCPU must leave its run loop at once (unsupported instruction, triple fault). */
export class CpuStop {
  constructor(readonly reason: string) {}
}

export function fault(vector: number, errorCode: number | null = null): never {
  throw new CpuFault(vector, errorCode);
}
