// Loads the native addon (a prebuild, or the local build) and types its surface.
import * as fs from 'fs';
import * as path from 'path';
import type { DType, TypedArray } from './tensor';
import { NativeLoadError } from './errors';

/** A block of device memory (csrc/napi/device_buffer.h). */
export interface NativeDeviceBuffer {
  readonly bytes: number;
  readonly device: number;
  readonly disposed: boolean;
  dispose(): void;
}

/** A tensor the addon returns: `data` on the CPU, `deviceBuffer` on CUDA. */
export interface NativeTensor {
  dtype: DType;
  shape: number[];
  strides: number[];
  device: string;
  data?: TypedArray;
  deviceBuffer?: NativeDeviceBuffer;
}

export interface NativeBackendInfo {
  cpu: {
    simd: 'avx512' | 'avx2' | 'scalar';
    vectorBits: number;
    threads: number;
    hardwareThreads: number;
    features: Record<string, boolean>;
  };
  cuda: {
    compiled: boolean;
    runtimeVersion: number;
    driverVersion: number;
    error?: string;
    devices: {
      index: number;
      name: string;
      computeCapability: string;
      totalMemory: number;
      freeMemory: number;
      multiprocessors: number;
    }[];
  };
}

type Fn = (...args: unknown[]) => unknown;
export interface Native {
  attention: Fn;
  attentionSync: Fn;
  mergeAttentionStates: Fn;
  mergeAttentionStatesSync: Fn;
  DeviceBuffer: new (device: number, bytes: number) => NativeDeviceBuffer;
  copyToDevice(buffer: NativeDeviceBuffer, array: TypedArray): Promise<void>;
  copyToHost(buffer: NativeDeviceBuffer, array: TypedArray): Promise<void>;
  cudaDeviceCount(): number;
  backendInfo(): NativeBackendInfo;
  setNumThreads(n: number): void;
  setSimdLevel(level: string): string;
  setVectorWidth(bits: 256 | 512 | 'auto'): number;
  fmaPeak(threads: number, seconds: number): number;
  copyBandwidth(threads: number, seconds: number): number;
  [name: string]: unknown;
}

// The package root: lib/ when run from source, dist/lib/ when compiled.
const root = [path.join(__dirname, '..'), path.join(__dirname, '..', '..')].find((d) =>
  fs.existsSync(path.join(d, 'binding.gyp')),
) ?? path.join(__dirname, '..', '..');

function load(): Native {
  const attempts: string[] = [];
  const explicit = process.env.SUBQ_NATIVE_PATH;
  if (explicit) {
    try {
      return require(explicit) as Native;
    } catch (e) {
      attempts.push(`SUBQ_NATIVE_PATH=${explicit}: ${(e as Error).message}`);
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('node-gyp-build')(root) as Native;
  } catch (e) {
    attempts.push(`prebuilds/ and build/Release: ${(e as Error).message.split('\n')[0]}`);
  }
  throw new NativeLoadError(
    'subquadratic: no native addon could be loaded.\n' +
      attempts.map((a) => `  - ${a}`).join('\n') +
      '\nPossible fixes: run `npm rebuild subquadratic` (your npm may need `npm install-scripts approve subquadratic` ' +
      'to run install scripts); a source build needs cmake (or python3 + make) and a C++20 compiler.',
    attempts,
  );
}

let cached: Native | undefined;
/** The addon, loaded on first use so that importing the package never throws. */
export function native(): Native {
  if (cached) return cached;
  cached = load();
  // process.exit() waits for running ops: cancel them at their next tile or chunk.
  const shutdown = cached.shutdown as (() => void) | undefined;
  if (shutdown) process.once('exit', () => shutdown());
  // SUBQ_SIMD / SUBQ_NUM_THREADS / SUBQ_VECTOR_BITS values that were not understood.
  const warnings = (cached.envWarnings as (() => string[]) | undefined)?.() ?? [];
  for (const w of warnings) process.emitWarning(`subquadratic: ${w}`, { code: 'SUBQ_ENV' });
  return cached;
}
