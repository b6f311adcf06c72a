// How commands find the vCPU they are about in their argument. Pure.
import { vcpuOf } from '../../debug-adapter/protocol';

/**
 * A vCPU named by a command's argument: a vCPUs-view row ({vcpu}) or one of its detail rows
 * ({parent: {vcpu}}), a Call Stack thread ({threadId}), or a number.
 */
export function vcpuOfArgument(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  if (arg && typeof arg === 'object') {
    const a = arg as { vcpu?: unknown; threadId?: unknown; parent?: { vcpu?: unknown } };
    if (typeof a.vcpu === 'number') return a.vcpu;
    if (typeof a.parent?.vcpu === 'number') return a.parent.vcpu;
    if (typeof a.threadId === 'number') return vcpuOf(a.threadId);
  }
  return undefined;
}
