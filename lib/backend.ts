// What this build and machine offer, and the CPU backend's knobs.
import { native, type NativeBackendInfo, type SimdLevel } from './native';

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
