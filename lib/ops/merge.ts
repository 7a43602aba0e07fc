// mergeAttentionStates(o1, lse1, o2, lse2): combines two partial attention results
// by their log-sum-exp (split-KV, chunked prefill, sparse + dense, sequence parallelism).
import { native, type NativeOut, type NativeTensor } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { asTensor, opOptions, type OutOption } from './common';

/** `out` may be o1 itself. */
export interface MergeOptions extends OutOption {
  /** 'bhnd' (default): o1, o2 and out are [B, H, N, D]; 'bnhd': [B, N, H, D]. LSEs are always [B, H, N]. */
  layout?: 'bhnd' | 'bnhd';
}

export interface MergedState {
  out: Tensor;
  lse: Tensor;
}

const args = (o1: TensorLike, lse1: TensorLike, o2: TensorLike, lse2: TensorLike, options: MergeOptions | undefined) =>
  [Tensor.from(o1, 'o1'), Tensor.from(lse1, 'lse1'), Tensor.from(o2, 'o2'), Tensor.from(lse2, 'lse2'), opOptions(options)] as const;

const wrap = (r: { out: NativeOut; lse: NativeTensor }): MergedState => ({ out: asTensor(r.out), lse: asTensor(r.lse) });

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
  return wrap(await native().mergeAttentionStates(...args(o1, lse1, o2, lse2, options)));
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
