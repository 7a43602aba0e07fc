// attention(q, k, v, options): dense flash attention (FlashAttention semantics).
import { native, type NativeResult } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { opOptions, outAnd, type OpResult, type OutOption } from './common';

export interface AttentionOptions extends OutOption {
  /** Score scale; default 1/sqrt(D). */
  scale?: number;
  /** Mask keys after the query, aligned to the bottom-right corner when Nq != Nk. */
  causal?: boolean;
  /** [left, right]: key j is visible to query i when i+Nk-Nq-left <= j <= i+Nk-Nq+right; -1 = unlimited. */
  window?: readonly [number, number];
  /** c > 0 maps each scaled score s to c*tanh(s/c); 0 (default) disables it. */
  softcap?: number;
  /** Also return the natural-log softmax denominator per row, [B, Hq, Nq] fp32 (-inf for fully masked rows). */
  returnLse?: boolean;
  /** 'bhnd' (default): tensors are [B, H, N, D]; 'bnhd': [B, N, H, D]. Any strides with a contiguous last dim work. */
  layout?: 'bhnd' | 'bnhd';
}

export interface AttentionWithLse {
  out: Tensor;
  lse: Tensor;
}

/** attention's result for options O: `{out, lse}` when returnLse is true, else the output. */
export type AttentionResult<O> = OpResult<O, 'returnLse', AttentionWithLse>;

const args = (q: TensorLike, k: TensorLike, v: TensorLike, options: AttentionOptions | undefined) =>
  [Tensor.from(q, 'q'), Tensor.from(k, 'k'), Tensor.from(v, 'v'), opOptions(options)] as const;

const wrap = (r: NativeResult<'lse'>) => outAnd(r, 'lse');

/**
 * softmax(scale * q k^T, masked) v, tiled with an online softmax (the N x N
 * scores are never stored). q [B, Hq, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv],
 * Hq a multiple of Hkv. Runs off the event loop.
 */
export async function attention<O extends AttentionOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike, v: TensorLike, options?: O,
): Promise<AttentionResult<O>> {
  const a = args(q, k, v, options);
  return wrap(await native().attention(...a)) as AttentionResult<O>;
}

/** attention() on the calling thread. */
export function attentionSync<O extends AttentionOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike, v: TensorLike, options?: O,
): AttentionResult<O> {
  return wrap(native().attentionSync(...args(q, k, v, options))) as AttentionResult<O>;
}
