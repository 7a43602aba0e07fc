// State-space ops (Mamba semantics): selective scan and its decode update, causal
// depthwise conv1d and its decode update. State math in fp32.
import { native } from '../native';
import { asTensor, opOptions, outAnd, type OpResult, type OutOption } from './common';
import { Tensor, type TensorLike } from '../tensor';

export interface SelectiveScanOptions extends OutOption {
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
}

export interface SelectiveScanWithState {
  out: Tensor;
  lastState: Tensor;
}

export interface StateUpdateOptions extends OutOption {
  D?: TensorLike;
  z?: TensorLike;
  dtBias?: TensorLike;
  dtSoftplus?: boolean;
  /** int32 [b]: the state slot each batch row updates; a negative index is a padding row (output 0, no state touched). */
  stateIndices?: TensorLike;
}

export interface CausalConv1dOptions extends OutOption {
  /** [d]. */
  bias?: TensorLike;
  /** 'silu' (or 'swish') applies x * sigmoid(x) to the output; default 'none'. */
  activation?: 'silu' | 'swish' | 'none';
  /** The w-1 inputs before each sequence, [b, d, w-1] ([sequences, d, w-1] with cuSeqlens), x's dtype; zeros by default. */
  initialStates?: TensorLike;
  /** Also return the last w-1 inputs of each sequence (x's dtype). */
  returnFinalStates?: boolean;
  cuSeqlens?: TensorLike;
}

export interface CausalConv1dWithState {
  out: Tensor;
  finalStates: Tensor;
}

export interface CausalConv1dUpdateOptions extends OutOption {
  bias?: TensorLike;
  activation?: 'silu' | 'swish' | 'none';
  /** int32 [b]: conv-state slot per batch row; negative = padding. */
  stateIndices?: TensorLike;
}

const tensorKeys = ['D', 'z', 'deltaBias', 'initialState', 'cuSeqlens', 'dtBias', 'stateIndices', 'bias', 'initialStates', 'out'];

const opts = <O extends object>(options: O | undefined) => opOptions(options, tensorKeys);
// The positional tensors, each named for errors.
const tensors = <T extends [TensorLike, string][]>(...xs: T) => xs.map(([x, n]) => Tensor.from(x, n)) as { [I in keyof T]: Tensor };

/** selectiveScan's result for options O: `{out, lastState}` when returnLastState is true, else the output. */
export type SelectiveScanResult<O> = OpResult<O, 'returnLastState', SelectiveScanWithState>;
/** causalConv1d's result for options O: `{out, finalStates}` when returnFinalStates is true, else the output. */
export type CausalConv1dResult<O> = OpResult<O, 'returnFinalStates', CausalConv1dWithState>;

const scanArgs = (u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, o?: SelectiveScanOptions) =>
  [...tensors([u, 'u'], [delta, 'delta'], [A, 'A'], [B, 'B'], [C, 'C']), opts(o)] as const;

/**
 * Mamba's selective scan. u, delta [b, d, L]; A [d, N] fp32 (N <= 256); B, C [d, N]
 * (constant) or [b, G, N, L] (varying, G groups of d/G channels). For each channel:
 * x_l = exp(dt_l A) x_{l-1} + dt_l B_l u_l, y_l = C_l . x_l, out = y + D u (* silu(z)).
 * Runs off the event loop.
 */
export async function selectiveScan<O extends SelectiveScanOptions | undefined = undefined>(
  u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: O,
): Promise<SelectiveScanResult<O>> {
  return outAnd(await native().selectiveScan(...scanArgs(u, delta, A, B, C, options)), 'lastState') as SelectiveScanResult<O>;
}

/** selectiveScan() on the calling thread. */
export function selectiveScanSync<O extends SelectiveScanOptions | undefined = undefined>(
  u: TensorLike, delta: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: O,
): SelectiveScanResult<O> {
  return outAnd(native().selectiveScanSync(...scanArgs(u, delta, A, B, C, options)), 'lastState') as SelectiveScanResult<O>;
}

const updateArgs = (state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, o?: StateUpdateOptions) =>
  [...tensors([state, 'state'], [x, 'x'], [dt, 'dt'], [A, 'A'], [B, 'B'], [C, 'C']), opts(o)] as const;

/**
 * One decode step of the scan, updating `state` [slots, d, N] fp32 in place: x, dt
 * [b, d]; B, C [b, G, N] or [b, N]. Returns out [b, d].
 */
export async function selectiveStateUpdate(
  state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: StateUpdateOptions,
): Promise<Tensor> {
  return asTensor(await native().selectiveStateUpdate(...updateArgs(state, x, dt, A, B, C, options)));
}

/** selectiveStateUpdate() on the calling thread. */
export function selectiveStateUpdateSync(
  state: TensorLike, x: TensorLike, dt: TensorLike, A: TensorLike, B: TensorLike, C: TensorLike, options?: StateUpdateOptions,
): Tensor {
  return asTensor(native().selectiveStateUpdateSync(...updateArgs(state, x, dt, A, B, C, options)));
}

const convArgs = (x: TensorLike, weight: TensorLike, o?: CausalConv1dOptions) => [...tensors([x, 'x'], [weight, 'weight']), opts(o)] as const;

/**
 * Causal depthwise conv1d: x [b, d, L], weight [d, w] (w in 2..8);
 * out[l] = bias + sum_k weight[k] x[l - (w-1) + k], optionally silu.
 */
export async function causalConv1d<O extends CausalConv1dOptions | undefined = undefined>(
  x: TensorLike, weight: TensorLike, options?: O,
): Promise<CausalConv1dResult<O>> {
  return outAnd(await native().causalConv1d(...convArgs(x, weight, options)), 'finalStates') as CausalConv1dResult<O>;
}

/** causalConv1d() on the calling thread. */
export function causalConv1dSync<O extends CausalConv1dOptions | undefined = undefined>(
  x: TensorLike, weight: TensorLike, options?: O,
): CausalConv1dResult<O> {
  return outAnd(native().causalConv1dSync(...convArgs(x, weight, options)), 'finalStates') as CausalConv1dResult<O>;
}

const convUpdateArgs = (x: TensorLike, convState: TensorLike, weight: TensorLike, o?: CausalConv1dUpdateOptions) =>
  [...tensors([x, 'x'], [convState, 'convState'], [weight, 'weight']), opts(o)] as const;

/**
 * Decode steps of the conv: x [b, d] or [b, d, T]; convState [slots, d, K] (K >= w-1,
 * oldest first) is updated in place. Returns out shaped like x.
 */
export async function causalConv1dUpdate(x: TensorLike, convState: TensorLike, weight: TensorLike, options?: CausalConv1dUpdateOptions): Promise<Tensor> {
  return asTensor(await native().causalConv1dUpdate(...convUpdateArgs(x, convState, weight, options)));
}

/** causalConv1dUpdate() on the calling thread. */
export function causalConv1dUpdateSync(x: TensorLike, convState: TensorLike, weight: TensorLike, options?: CausalConv1dUpdateOptions): Tensor {
  return asTensor(native().causalConv1dUpdateSync(...convUpdateArgs(x, convState, weight, options)));
}
