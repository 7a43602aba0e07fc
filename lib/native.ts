// Loads the native addon (a prebuild, or the local build) and types its surface.
import * as fs from 'fs';
import * as path from 'path';
import type { DType, Tensor, TensorLike, TypedArray } from './tensor';
import type { AttentionOptions } from './ops/attention';
import type { MergeOptions } from './ops/merge';
import type { BlockIndices, BlockSparseOptions } from './ops/sparse';
import type { XAttentionMaskOptions, XAttentionScoresOptions } from './ops/xattention';
import type { DequantizeOptions, NativeQuantized, NativeQuantizedAttentionOptions, QuantizeOptions } from './ops/quant';
import type { CausalConv1dOptions, CausalConv1dUpdateOptions, SelectiveScanOptions, StateUpdateOptions } from './ops/ssm';
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

/** The CPU kernels' instruction set. */
export type SimdLevel = 'avx512' | 'avx2' | 'scalar';

/** One planner choice: its value, where that came from, and its candidates. */
export interface PlanChoiceInfo {
  /** The candidate in effect; null while pending. */
  value: string | null;
  /** measured: timed on this machine; env: SUBQ_PLAN (or SUBQ_VECTOR_BITS); set: setPlan()
   *  or setVectorWidth(); default: cannot be timed on this CPU, the first candidate holds;
   *  pending: not needed yet (measured on first use). */
  source: 'measured' | 'env' | 'set' | 'default' | 'pending';
  candidates: string[];
}

export interface NativeBackendInfo {
  cpu: {
    simd: SimdLevel;
    vectorBits: number;
    threads: number;
    hardwareThreads: number;
    /** How bfloat16 attention runs now (prefill; decode widens): Q.K^T and P.V on
     *  AVX512-BF16 dot products with P rounded to bf16, or converted to fp32. */
    attentionBf16: 'avx512-bf16' | 'fp32-widen';
    features: Record<string, boolean>;
    /** The planner's choices (kernel shapes whose best value differs by machine), by name:
     *  `vector_bits`, `conv1d_stream`, `conv1d_stream_silu`. See setPlan(). */
    plan: Record<string, PlanChoiceInfo>;
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

/** An op's options as the addon reads them: every tensor-valued field already a Tensor. */
export type NativeOptions<O> = { [K in keyof O]: Exclude<O[K], undefined> extends TensorLike ? Tensor : O[K] };

/** An op's output: the caller's `options.out`, or a tensor the addon allocated. */
export type NativeOut = Tensor | NativeTensor;

/** The output, or the output and the second tensor the options asked for. */
export type NativeResult<Second extends string> = NativeOut | ({ out: NativeOut } & { [K in Second]: NativeTensor });

/** blockSparseAttention's options after lib/ops/sparse.ts: head modes as codes, and the
 *  width of a mask given in dense form (its compact form no longer shows it). */
export type NativeSparseOptions = NativeOptions<Omit<BlockSparseOptions, 'headModes'>> & {
  headModes?: Tensor;
  maskKeyBlocks?: number;
};

type ScanArgs = [u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, options?: NativeOptions<SelectiveScanOptions>];
type StateUpdateArgs = [state: Tensor, x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, options?: NativeOptions<StateUpdateOptions>];
type Conv1dArgs = [x: Tensor, weight: Tensor, options?: NativeOptions<CausalConv1dOptions>];
type Conv1dUpdateArgs = [x: Tensor, convState: Tensor, weight: Tensor, options?: NativeOptions<CausalConv1dUpdateOptions>];
type AttentionArgs = [q: Tensor, k: Tensor, v: Tensor, options?: NativeOptions<AttentionOptions>];
type SparseArgs = [q: Tensor, k: Tensor, v: Tensor, mask: BlockIndices | Tensor | null, options: NativeSparseOptions];
/** blockMaskToIndicesSync's options (ops/block_mask.h): pooling, the token diagonal, and
 *  what to return besides the counts. */
export interface NativeBlockMaskOptions {
  group?: number;
  diagonal?: { nq: number; nk: number; blockSize: number };
  causal?: boolean;
  padToKeyBlocks?: boolean;
  /** Default true; false: no compact form, for the mask and totals alone. */
  indices?: boolean;
  withMask?: boolean;
  totals?: boolean;
}
type MergeArgs = [o1: Tensor, lse1: Tensor, o2: Tensor, lse2: Tensor, options?: NativeOptions<MergeOptions>];
type XAttentionScoresArgs = [q: Tensor, k: Tensor, options?: NativeOptions<XAttentionScoresOptions>];
type XAttentionMaskArgs = [scores: Tensor, options: XAttentionMaskOptions];
type QuantizeArgs = [x: Tensor, options?: NativeOptions<QuantizeOptions>];
type NativeQuantizedOut = { data: NativeTensor; scales: NativeTensor; mean?: NativeTensor };
type DequantizeArgs = [x: NativeQuantized, options?: NativeOptions<DequantizeOptions>];
type QuantAttentionArgs = [
  q: Tensor,
  k: Tensor | NativeQuantized,
  v: Tensor | NativeQuantized,
  options?: NativeQuantizedAttentionOptions,
];

/** The addon's exports (csrc/napi/*.cpp). Each op comes twice: `name` runs on a worker
 *  thread and returns a Promise, `nameSync` runs on the calling thread. On CUDA tensors
 *  both only enqueue the work on the device's stream (the Promise resolves then). */
export interface Native {
  attention(...a: AttentionArgs): Promise<NativeResult<'lse'>>;
  attentionSync(...a: AttentionArgs): NativeResult<'lse'>;
  blockSparseAttention(...a: SparseArgs): Promise<NativeResult<'lse'>>;
  blockSparseAttentionSync(...a: SparseArgs): NativeResult<'lse'>;
  mergeAttentionStates(...a: MergeArgs): Promise<{ out: NativeOut; lse: NativeTensor }>;
  mergeAttentionStatesSync(...a: MergeArgs): { out: NativeOut; lse: NativeTensor };
  selectiveScan(...a: ScanArgs): Promise<NativeResult<'lastState'>>;
  selectiveScanSync(...a: ScanArgs): NativeResult<'lastState'>;
  selectiveStateUpdate(...a: StateUpdateArgs): Promise<NativeOut>;
  selectiveStateUpdateSync(...a: StateUpdateArgs): NativeOut;
  causalConv1d(...a: Conv1dArgs): Promise<NativeResult<'finalStates'>>;
  causalConv1dSync(...a: Conv1dArgs): NativeResult<'finalStates'>;
  causalConv1dUpdate(...a: Conv1dUpdateArgs): Promise<NativeOut>;
  causalConv1dUpdateSync(...a: Conv1dUpdateArgs): NativeOut;
  xattentionScores(...a: XAttentionScoresArgs): Promise<NativeOut>;
  xattentionScoresSync(...a: XAttentionScoresArgs): NativeOut;
  /** Only a Sync twin: it returns the kept and visible blocks per head (read back from a device). */
  blockMaskToIndicesSync(mask: Tensor, options: NativeBlockMaskOptions): {
    indices?: NativeTensor; counts: NativeTensor; mask?: NativeTensor; keptPerHead?: number[]; visiblePerHead?: number[];
  };
  indicesToBlockMaskSync(indices: Tensor, counts: Tensor, nKeyBlocks: number): NativeOut;
  xattentionMaskSync(...a: XAttentionMaskArgs): { mask: NativeTensor; counts: NativeTensor; keptPerHead: number[]; visiblePerHead: number[] };
  quantize(...a: QuantizeArgs): Promise<NativeQuantizedOut>;
  quantizeSync(...a: QuantizeArgs): NativeQuantizedOut;
  dequantize(...a: DequantizeArgs): Promise<NativeOut>;
  dequantizeSync(...a: DequantizeArgs): NativeOut;
  quantizedAttention(...a: QuantAttentionArgs): Promise<NativeResult<'lse'>>;
  quantizedAttentionSync(...a: QuantAttentionArgs): NativeResult<'lse'>;
  DeviceBuffer: new (device: number, bytes: number) => NativeDeviceBuffer;
  /** Enqueues the upload of `array` (same byte length) into a new buffer; resolves once enqueued. */
  copyToDevice(buffer: NativeDeviceBuffer, array: TypedArray): Promise<void>;
  /** Resolves once the buffer's bytes (as of this call, in stream order) are in `array`. */
  copyToHost(buffer: NativeDeviceBuffer, array: TypedArray): Promise<void>;
  /** Resolves once the work enqueued on cuda:`device` so far is done. */
  cudaSync(device: number): Promise<void>;
  /** Returns once the work enqueued on cuda:`device` so far is done. */
  cudaSyncSync(device: number): void;
  cudaDeviceCount(): number;
  backendInfo(): NativeBackendInfo;
  setNumThreads(n: number): void;
  setSimdLevel(level: SimdLevel): SimdLevel;
  setVectorWidth(bits: 256 | 512 | 'auto'): number;
  setPlan(name: string, value: string): string;
  /** Cancels this environment's calls in flight (at their next tile or chunk). */
  shutdown(): void;
  /** The SUBQ_* environment settings that were not understood. */
  envWarnings(): string[];
  /** The package version the binary was built for (package.json, compiled in). */
  version: string;
  /** The N-API version it was compiled against. */
  napiVersion: number;
  fmaPeak(threads: number, seconds: number): number;
  copyBandwidth(threads: number, seconds: number): number;
}

// The package root: lib/ when run from source, dist/lib/ when compiled.
const root = [path.join(__dirname, '..'), path.join(__dirname, '..', '..')].find((d) =>
  fs.existsSync(path.join(d, 'binding.gyp')),
) ?? path.join(__dirname, '..', '..');

interface NodeGypBuild {
  parseTuple(name: string): { name: string; platform: string; architectures: string[] } | undefined;
  matchTuple(platform: string, arch: string): (t: unknown) => boolean;
  compareTuples(a: unknown, b: unknown): number;
  parseTags(file: string): { file: string } | undefined;
  matchTags(runtime: string, abi: string): (t: unknown) => boolean;
  compareTags(runtime: string): (a: unknown, b: unknown) => number;
}

const readdir = (dir: string) => { try { return fs.readdirSync(dir); } catch { return []; } };

/** The prebuilt binary node-gyp-build would choose for this platform and ABI, if any. */
function prebuildPath(): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-gyp-build has no type declarations
  const ngb = require('node-gyp-build') as NodeGypBuild;
  const tuple = readdir(path.join(root, 'prebuilds')).map(ngb.parseTuple)
    .filter(ngb.matchTuple(process.platform, process.arch)).sort(ngb.compareTuples)[0];
  if (!tuple) return undefined;
  const dir = path.join(root, 'prebuilds', tuple.name);
  const winner = readdir(dir).map(ngb.parseTags).filter(ngb.matchTags('node', process.versions.modules))
    .sort(ngb.compareTags('node'))[0];
  return winner && path.join(dir, winner.file);
}

/** The binaries to try, in order: SUBQ_NATIVE_PATH, a local build (build/Release, then
 *  build/Debug), then the prebuild for this platform. */
function candidates(): [what: string, file: string][] {
  const out: [string, string][] = [];
  if (process.env.SUBQ_NATIVE_PATH) out.push([`SUBQ_NATIVE_PATH=${process.env.SUBQ_NATIVE_PATH}`, process.env.SUBQ_NATIVE_PATH]);
  for (const dir of ['build/Release', 'build/Debug']) {
    const file = readdir(path.join(root, dir)).find((f) => f.endsWith('.node'));
    if (file) out.push([dir, path.join(root, dir, file)]);
  }
  const prebuild = prebuildPath();
  out.push(['prebuilds/', prebuild ?? '']);
  return out;
}

/** Why a loaded binary is not this package's, or null when it is: it must report this
 *  package's version (compiled in from package.json) and an N-API version this Node has. */
export function mismatch(addon: { version?: unknown; napiVersion?: unknown }, want: string, napi: number): string | null {
  if (addon.version !== want)
    return `it was built for subquadratic ${String(addon.version ?? 'unknown')}, not ${want} (rebuild it: npm rebuild subquadratic)`;
  if (typeof addon.napiVersion !== 'number' || addon.napiVersion > napi)
    return `it needs N-API ${String(addon.napiVersion)}, this Node has ${napi}`;
  return null;
}

function load(): Native {
  const attempts: string[] = [];
  const want = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  for (const [what, file] of candidates()) {
    if (!file) {
      attempts.push(`${what}: no binary for ${process.platform}-${process.arch}`);
      continue;
    }
    let addon: Native;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
      addon = require(file) as Native;
    } catch (e) {
      attempts.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const why = mismatch(addon, want, Number(process.versions.napi));
    if (!why) {
      // A binary passed over is worth a word: a stale build, or an explicit path ignored.
      if (attempts.length)
        process.emitWarning(`subquadratic: using ${file}; passed over: ${attempts.join('; ')}`, { code: 'SUBQ_NATIVE_FALLBACK' });
      return addon;
    }
    attempts.push(`${what}: refused ${file}: ${why}`);
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
  const addon = cached;
  process.once('exit', () => addon.shutdown());
  // SUBQ_SIMD / SUBQ_NUM_THREADS / SUBQ_VECTOR_BITS values that were not understood.
  for (const w of cached.envWarnings()) process.emitWarning(`subquadratic: ${w}`, { code: 'SUBQ_ENV' });
  return cached;
}
