// mergeAttentionStates(o1, lse1, o2, lse2): combines two partial attention results
// by their log-sum-exp (split-KV, chunked prefill, sparse + dense, sequence parallelism).
import { native, type NativeTensor } from '../native';
import { Tensor, fromNative, type TensorLike } from '../tensor';

export interface MergeOptions {
  /** 'bhnd' (default): o1, o2 and out are [B, H, N, D]; 'bnhd': [B, N, H, D]. LSEs are always [B, H, N]. */
  layout?: 'bhnd' | 'bnhd';
  /** Write the merged output here (same dtype, shape and device as o1); may be o1 itself. */
  out?: Tensor;
}

export interface MergedState {
  out: Tensor;
  lse: Tensor;
}

function args(o1: TensorLike, lse1: TensorLike, o2: TensorLike, lse2: TensorLike, options: MergeOptions | undefined) {
  if (options !== undefined && (options === null || typeof options !== 'object'))
    throw new TypeError(`options must be an object, got ${options === null ? 'null' : typeof options}`);
  const opts = options?.out === undefined ? options : { ...options, out: Tensor.from(options.out, 'options.out') };
  return [Tensor.from(o1, 'o1'), Tensor.from(lse1, 'lse1'), Tensor.from(o2, 'o2'), Tensor.from(lse2, 'lse2'), opts] as const;
}

function wrap(r: unknown): MergedState {
  const o = r as { out: NativeTensor | Tensor; lse: NativeTensor };
  return { out: o.out instanceof Tensor ? o.out : fromNative(o.out), lse: fromNative(o.lse) };
}

/**
 * Merges two attention states over disjoint key sets into the state over their
 * union. With natural-log LSEs (as attention's returnLse gives them):
 * m = max(lse1, lse2), w = exp(lse - m), out = (w1 o1 + w2 o2) / (w1 + w2),
 * lse = m + log(w1 + w2). A state with lse = -inf is empty; two empty states give
 * out = 0 and lse = -inf. o1, o2: [B, H, N, D] fp32/fp16/bf16 (same dtype);
 * lse1, lse2: [B, H, N] fp32; all on one device. Math in fp32.
 */
export async function mergeAttentionStates(
  o1: TensorLike,
  lse1: TensorLike,
  o2: TensorLike,
  lse2: TensorLike,
  options?: MergeOptions,
): Promise<MergedState> {
  return wrap(await (native().mergeAttentionStates(...args(o1, lse1, o2, lse2, options)) as Promise<unknown>));
}

/** mergeAttentionStates() on the calling thread. */
export function mergeAttentionStatesSync(
  o1: TensorLike,
  lse1: TensorLike,
  o2: TensorLike,
  lse2: TensorLike,
  options?: MergeOptions,
): MergedState {
  return wrap(native().mergeAttentionStatesSync(...args(o1, lse1, o2, lse2, options)));
}
