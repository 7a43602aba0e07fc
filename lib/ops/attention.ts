// attention(q, k, v, options): dense flash attention (FlashAttention semantics).
import { native } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { opOptions, outAnd } from './common';

export interface AttentionOptions {
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
  /** Write the output here instead of allocating it (same dtype and shape as the result). */
  out?: Tensor;
}

export interface AttentionWithLse {
  out: Tensor;
  lse: Tensor;
}

type Result<O> = O extends { returnLse: true } ? AttentionWithLse : Tensor;

const args = (q: TensorLike, k: TensorLike, v: TensorLike, options: AttentionOptions | undefined) =>
  [Tensor.from(q, 'q'), Tensor.from(k, 'k'), Tensor.from(v, 'v'), opOptions(options)] as const;

const wrap = (r: unknown) => outAnd(r, 'lse') as Tensor | AttentionWithLse;

/**
 * softmax(scale * q k^T, masked) v, tiled with an online softmax (the N x N
 * scores are never stored). q [B, Hq, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv],
 * Hq a multiple of Hkv. Runs off the event loop.
 */
export async function attention<O extends AttentionOptions>(q: TensorLike, k: TensorLike, v: TensorLike, options?: O): Promise<Result<O>> {
  const a = args(q, k, v, options);
  return wrap(await (native().attention(...a) as Promise<unknown>)) as Result<O>;
}

/** attention() on the calling thread. */
export function attentionSync<O extends AttentionOptions>(q: TensorLike, k: TensorLike, v: TensorLike, options?: O): Result<O> {
  return wrap(native().attentionSync(...args(q, k, v, options))) as Result<O>;
}
