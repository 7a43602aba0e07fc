// What this build and machine offer, and the CPU backend's knobs.
import { native, type NativeBackendInfo, type SimdLevel } from './native';
export type { PlanChoiceInfo } from './native';
import { parseDevice, type Device } from './tensor';

export type BackendInfo = NativeBackendInfo & { backends: ('cpu' | 'cuda')[] };

/** Compiled backends, CPU SIMD level and threads, CUDA devices and versions. */
export function backendInfo(): BackendInfo {
  const info = native().backendInfo();
  const backends: ('cpu' | 'cuda')[] = ['cpu'];
  if (info.cuda.compiled) backends.push('cuda');
  return { ...info, backends };
}

/** Threads used by CPU kernels (default: hardware threads, or SUBQ_NUM_THREADS). */
export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}

/**
 * Caps the CPU SIMD level ('avx512' | 'avx2' | 'scalar'); the level actually in
 * effect (never above what the CPU has) is returned. SUBQ_SIMD sets it at start-up.
 */
export function setSimdLevel(level: SimdLevel): SimdLevel {
  return native().setSimdLevel(level);
}

/**
 * On AVX-512 CPUs, whether kernels use 512- or 256-bit vectors ('auto': measured once;
 * SUBQ_VECTOR_BITS sets it at start-up). Results are bit-identical either way.
 * Returns the width in effect (512, 256, or 32 on the scalar path).
 */
export function setVectorWidth(bits: 256 | 512 | 'auto'): number {
  return native().setVectorWidth(bits);
}

/**
 * Forces one of the planner's choices (`backendInfo().cpu.plan` lists them with their
 * candidates) to a candidate, or 'auto' to use the value measured on this machine (timed
 * once per process when first needed). SUBQ_PLAN=name=value,... sets them at start-up.
 * Every candidate gives the same bits: the choice affects speed only. Returns the value
 * in effect.
 */
export function setPlan(name: string, value: string): string {
  return native().setPlan(name, value);
}

/**
 * Waits for the work enqueued on `device` so far (default 'cuda', i.e. 'cuda:0').
 * Ops on CUDA tensors return (and their Promises resolve) once the work is enqueued
 * on the device's stream, as PyTorch's do: stream order makes their outputs usable
 * at once as inputs of the next op, and copies to the host (toArray, to('cpu'))
 * wait by themselves. sync() is for timing, and for surfacing the errors of work in
 * flight; a kernel fault rejects with ERR_SUBQ_DEVICE_LOST. CPU work is done when
 * its call settles, so sync('cpu') resolves at once.
 */
export async function sync(device: Device | 'cuda' = 'cuda'): Promise<void> {
  const dev = parseDevice(device);
  if (dev !== 'cpu') await native().cudaSync(Number(dev.slice(5)));
}

/** sync() on the calling thread: blocks it until the device's work so far is done. */
export function syncSync(device: Device | 'cuda' = 'cuda'): void {
  const dev = parseDevice(device);
  if (dev !== 'cpu') native().cudaSyncSync(Number(dev.slice(5)));
}
