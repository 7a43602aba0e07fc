// State-space ops (Mamba semantics): selective scan and its decode update, causal
// depthwise conv1d and its decode update. State math in fp32.
import { native, type NativeTensor } from '../native';
import { asTensor, opOptions, outAnd } from './common';
import { Tensor, type TensorLike } from '../tensor';

export interface SelectiveScanOptions {
  /** Skip connection D [d] fp32: out += D * u. */
  D?: TensorLike;
  /** Gate z [b, d, L] (u's dtype): out *= silu(z). */
  z?: TensorLike;
  /** Added to delta before the softplus, [d] fp32. */
  deltaBias?: TensorLike;
  /** dt = dt <= 20 ? log1p(exp(dt)) : dt. */
  deltaSoftplus?: boolean;
  /** Starting state [b, d, N] fp32 ([sequences, d, N] with cuSeqlens); zeros by default. */
  initialState?: TensorLike;
  /** Also return the state after the last step of each sequence, fp32. */
  returnLastState?: boolean;
  /** int32 [sequences + 1] offsets of sequences packed along L (batch must be 1). */
  cuSeqlens?: TensorLike;
  /** Write the output here instead of allocating it. */
  out?: TensorLike;
}

export interface SelectiveScanWithState {
  out: Tensor;
  lastState: Tensor;
}

export interface StateUpdateOptions {
  D?: TensorLike;
  z?: TensorLike;
  dtBias?: TensorLike;
  dtSoftplus?: boolean;
  /** int32 [b]: the state slot each batch row updates; a negative index is a padding row (output 0, no state touched). */
  stateIndices?: TensorLike;
  out?: TensorLike;
}

export interface CausalConv1dOptions {
  /** [d]. */
  bias?: TensorLike;
  /** 'silu' (or 'swish') applies x * sigmoid(x) to the output; default 'none'. */
  activation?: 'silu' | 'swish' | 'none';
  /** The w-1 inputs before each sequence, [b, d, w-1] ([sequences, d, w-1] with cuSeqlens), x's dtype; zeros by default. */
  initialStates?: TensorLike;
  /** Also return the last w-1 inputs of each sequence (x's dtype). */
  returnFinalStates?: boolean;
  cuSeqlens?: TensorLike;
  out?: TensorLike;
}

export interface CausalConv1dWithState {
  out: Tensor;
  finalStates: Tensor;
}

export interface CausalConv1dUpdateOptions {
  bias?: TensorLike;
  activation?: 'silu' | 'swish' | 'none';
  /** int32 [b]: conv-state slot per batch row; negative = padding. */
  stateIndices?: TensorLike;
  out?: TensorLike;
}

// The addon's state-space entry points (registered by csrc/napi/ssm.cpp).
const op = (name: string) => native()[name] as (...args: unknown[]) => unknown;

const tensorKeys = ['D', 'z', 'deltaBias', 'initialState', 'cuSeqlens', 'dtBias', 'stateIndices', 'bias', 'initialStates', 'out'];

const opts = <O extends object>(options: O | undefined) => opOptions(options, tensorKeys);
const tensors = (xs: [TensorLike, string][]) => xs.map(([x, n]) => Tensor.from(x, n));
const wrap = outAnd;

type ScanResult<O> = O extends { returnLastState: true } ? SelectiveScanWithState : Tensor;
type ConvResult<O> = O extends { returnFinalStates: true } ? CausalConv1dWithState : Tensor;

const scanArgs = (u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, o?: SelectiveScanOptions) =>
  [...tensors([[u, 'u'], [delta, 'delta'], [A, 'A'], [B, 'B'], [C, 'C']]), opts(o)];

/**
 * Mamba's selective scan. u, delta [b, d, L]; A [d, N] fp32 (N <= 256); B, C [d, N]
 * (constant) or [b, G, N, L] (varying, G groups of d/G channels). For each channel:
 * x_l = exp(dt_l A) x_{l-1} + dt_l B_l u_l, y_l = C_l . x_l, out = y + D u (* silu(z)).
 * Runs off the event loop.
 */
export async function selectiveScan<O extends SelectiveScanOptions>(
  u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: O,
): Promise<ScanResult<O>> {
  return wrap(await (op('selectiveScan')(...scanArgs(u, delta, A, B, C, options)) as Promise<unknown>), 'lastState') as ScanResult<O>;
}

/** selectiveScan() on the calling thread. */
export function selectiveScanSync<O extends SelectiveScanOptions>(
  u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: O,
): ScanResult<O> {
  return wrap(op('selectiveScanSync')(...scanArgs(u, delta, A, B, C, options)), 'lastState') as ScanResult<O>;
}

const updateArgs = (state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, o?: StateUpdateOptions) =>
  [...tensors([[state, 'state'], [x, 'x'], [dt, 'dt'], [A, 'A'], [B, 'B'], [C, 'C']]), opts(o)];

/**
 * One decode step of the scan, updating `state` [slots, d, N] fp32 in place: x, dt
 * [b, d]; B, C [b, G, N] or [b, N]. Returns out [b, d].
 */
export async function selectiveStateUpdate(
  state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: StateUpdateOptions,
): Promise<Tensor> {
  return asTensor(await (op('selectiveStateUpdate')(...updateArgs(state, x, dt, A, B, C, options)) as Promise<NativeTensor>));
}

/** selectiveStateUpdate() on the calling thread. */
export function selectiveStateUpdateSync(
  state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: StateUpdateOptions,
): Tensor {
  return asTensor(op('selectiveStateUpdateSync')(...updateArgs(state, x, dt, A, B, C, options)) as NativeTensor);
}

const convArgs = (x: TensorLike, weight: TensorLike, o?: CausalConv1dOptions) => [...tensors([[x, 'x'], [weight, 'weight']]), opts(o)];

/**
 * Causal depthwise conv1d: x [b, d, L], weight [d, w] (w in 2..8);
 * out[l] = bias + sum_k weight[k] x[l - (w-1) + k], optionally silu.
 */
export async function causalConv1d<O extends CausalConv1dOptions>(x: TensorLike, weight: TensorLike, options?: O): Promise<ConvResult<O>> {
  return wrap(await (op('causalConv1d')(...convArgs(x, weight, options)) as Promise<unknown>), 'finalStates') as ConvResult<O>;
}

/** causalConv1d() on the calling thread. */
export function causalConv1dSync<O extends CausalConv1dOptions>(x: TensorLike, weight: TensorLike, options?: O): ConvResult<O> {
  return wrap(op('causalConv1dSync')(...convArgs(x, weight, options)), 'finalStates') as ConvResult<O>;
}

const convUpdateArgs = (x: TensorLike, convState: TensorLike, weight: TensorLike, o?: CausalConv1dUpdateOptions) =>
  [...tensors([[x, 'x'], [convState, 'convState'], [weight, 'weight']]), opts(o)];

/**
 * Decode steps of the conv: x [b, d] or [b, d, T]; convState [slots, d, K] (K >= w-1,
 * oldest first) is updated in place. Returns out shaped like x.
 */
export async function causalConv1dUpdate(x: TensorLike, convState: TensorLike, weight: TensorLike, options?: CausalConv1dUpdateOptions): Promise<Tensor> {
  return asTensor(await (op('causalConv1dUpdate')(...convUpdateArgs(x, convState, weight, options)) as Promise<NativeTensor>));
}

/** causalConv1dUpdate() on the calling thread. */
export function causalConv1dUpdateSync(x: TensorLike, convState: TensorLike, weight: TensorLike, options?: CausalConv1dUpdateOptions): Tensor {
  return asTensor(op('causalConv1dUpdateSync')(...convUpdateArgs(x, convState, weight, options)) as NativeTensor);
}
