// XAttention's block estimate and selection, and streaming (sink + local) block masks:
// the inputs of block-sparse attention.
//
// xattentionScores (native) sums softmax probabilities of strided antidiagonal products
// into blockSize x blockSize blocks; xattentionMask keeps, per query block, the fewest
// highest-scoring key blocks that reach a threshold of the row's mass; streamingMask
// is the fixed attention-sink + local-window pattern.
import { rangeError, typeError } from '../errors';
import { native } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { asTensor, opOptions, type OutOption } from './common';

export interface XAttentionScoresOptions extends OutOption {
  /** S: reduced rows stand for S query or key rows; 4, 8 or 16 (default 8). */
  stride?: number;
  /** Block size in tokens, 64 or 128 (default 128); stride must divide it. */
  blockSize?: number;
  /**
   * Mask at the reduced resolution: reduced key j is hidden from reduced query i when
   * j > i + (nKB - nQB) * blockSize / stride (query blocks sit at the last nQB key blocks).
   */
  causal?: boolean;
  /** Logit scale before the 1/stride; default 1/sqrt(D). */
  scale?: number;
  /** 'bhnd' (default): q, k are [B, H, N, D]; 'bnhd': [B, N, H, D]. */
  layout?: 'bhnd' | 'bnhd';
  /** Query rows per work item (a multiple of blockSize); a memory/parallelism knob that never changes the result. */
  chunk?: number;
}

const scoreArgs = (q: TensorLike, k: TensorLike, options: XAttentionScoresOptions | undefined) =>
  [Tensor.from(q, 'q'), Tensor.from(k, 'k'), opOptions(options)] as const;

/**
 * XAttention block scores: float32 [B, Hq, ceil(Nq/blockSize), ceil(Nk/blockSize)].
 * With stride S, reduced query i and reduced key j,
 *   A[i][j] = sum_{t<S} q[i*S + S-1-t] . k[j*S + t]   (rows past the end are zeros),
 * P = softmax_j(A * scale / S) over the visible, non-padding reduced keys (fp32), and
 * each score is the sum of P over one block's (blockSize/S)^2 entries (a full row of
 * blocks sums to blockSize/S; reduced query rows made only of padding add nothing).
 * q [B, Hq, Nq, D], k [B, Hkv, Nk, D] fp32/fp16/bf16; query head h reads kv head h/(Hq/Hkv).
 * Runs off the event loop.
 */
export async function xattentionScores(q: TensorLike, k: TensorLike, options?: XAttentionScoresOptions): Promise<Tensor> {
  return asTensor(await native().xattentionScores(...scoreArgs(q, k, options)));
}

/** xattentionScores() on the calling thread. */
export function xattentionScoresSync(q: TensorLike, k: TensorLike, options?: XAttentionScoresOptions): Tensor {
  return asTensor(native().xattentionScoresSync(...scoreArgs(q, k, options)));
}

// ---------------------------------------------------------------- selection

export interface XAttentionMaskOptions {
  /** Fraction of each row's score mass to keep, in [0, 1]: one for all heads or one per head. */
  threshold: number | readonly number[];
  /** Never keep key blocks past the diagonal (as the scores were computed with causal). */
  causal?: boolean;
  /** Always keep key block 0 (attention sink); default true. */
  keepSink?: boolean;
  /** Always keep the diagonal key block; default true. */
  keepRecent?: boolean;
}

export interface BlockMaskResult {
  /** uint8 [B, H, nQB, nKB]: 1 where the key block is kept. */
  mask: Tensor;
  /** Kept blocks / visible blocks over the whole mask (visible: all, or those up to the diagonal with causal). */
  density: number;
  /** The same per head (over batch and rows). */
  densityPerHead: number[];
}

function flag(o: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw typeError(`options.${key} must be a boolean, got ${typeof v}`);
  return v;
}

/**
 * XAttention's block selection from xattentionScores output (float32 [B, H, nQB, nKB],
 * on the CPU or a CUDA device; the mask comes back on the same device, bit for bit the
 * same on both). Query block qb's diagonal key block is qb + nKB - nQB (the scores'
 * alignment). Per row: block 0 (keepSink) and the diagonal block (keepRecent) if
 * visible, then further blocks in descending score order (ties: lower index first)
 * until the kept mass reaches threshold x the row's total over visible blocks; the block
 * that reaches it is kept, so the set is the smallest one reaching the threshold. Blocks
 * with score <= 0 never count towards it and are only kept as sink or diagonal. With
 * causal, blocks past the diagonal are never kept. Masses are fp64 sums in one fixed
 * order (docs/semantics.md). No sort: a bisection over the scores' values.
 * When Nq % blockSize != Nk % blockSize, the token-level (bottom-right) diagonal block can
 * be one past this diagonal; OR in streamingMask(Nq, Nk, { sinkBlocks: 0, localBlocks: 1 })
 * where every causally visible key of a kept block must be read.
 */
export function xattentionMask(scores: TensorLike, options: XAttentionMaskOptions): BlockMaskResult {
  const s = Tensor.from(scores, 'scores');
  const r = native().xattentionMaskSync(s, options);
  asTensor(r.counts).dispose();  // per-row counts: the totals below already hold what is needed
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const vis = sum(r.visiblePerHead);
  return {
    mask: asTensor(r.mask),
    density: vis > 0 ? sum(r.keptPerHead) / vis : 0,
    densityPerHead: r.keptPerHead.map((k, h) => (r.visiblePerHead[h] > 0 ? k / r.visiblePerHead[h] : 0)),
  };
}

// ---------------------------------------------------------------- streaming

export interface StreamingMaskOptions {
  /** Key blocks [0, sinkBlocks) are always kept. */
  sinkBlocks: number;
  /** The localBlocks key blocks ending at each query block's diagonal block are kept. */
  localBlocks: number;
  /** Block size in tokens (default 128). */
  blockSize?: number;
  /** Never keep blocks past the diagonal, sink blocks included (default true). */
  causal?: boolean;
  /** Leading mask dims (default 1 and 1): the pattern is the same for every batch and head. */
  batch?: number;
  heads?: number;
}

function intOption(o: Record<string, unknown>, key: string, dflt: number | undefined, min: number): number {
  const v = o[key] ?? dflt;
  const name = `options.${key}`;
  if (v === undefined) throw typeError(`${name} is required`);
  if (typeof v !== 'number') throw typeError(`${name} must be an integer, got ${typeof v}`);
  if (!Number.isSafeInteger(v) || v < min) throw rangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * A streaming (attention sink + local window) block mask, uint8 [batch, heads, nQB, nKB].
 * Query block qb's diagonal key block holds the key aligned with its last row,
 * bottom-right as causal attention aligns them:
 *   diag(qb) = floor((min((qb+1)*blockSize, nq) - 1 + nk - nq) / blockSize)
 * (none when that key index is negative). Kept: [0, sinkBlocks) and
 * [diag - localBlocks + 1, diag], within [0, nKB); with causal, nothing past diag.
 */
export function streamingMask(nq: number, nk: number, options: StreamingMaskOptions): Tensor {
  for (const [x, name] of [[nq, 'nq'], [nk, 'nk']] as const) {
    if (typeof x !== 'number') throw typeError(`${name} must be an integer, got ${typeof x}`);
    if (!Number.isSafeInteger(x) || x < 1) throw rangeError(`${name} must be an integer >= 1, got ${x}`);
  }
  if (options === null || typeof options !== 'object')
    throw typeError(`options must be an object with sinkBlocks and localBlocks, got ${options === null ? 'null' : typeof options}`);
  const o = options as unknown as Record<string, unknown>;
  const sink = intOption(o, 'sinkBlocks', undefined, 0), local = intOption(o, 'localBlocks', undefined, 0);
  const bs = intOption(o, 'blockSize', 128, 1), batch = intOption(o, 'batch', 1, 1), heads = intOption(o, 'heads', 1, 1);
  const causal = flag(o, 'causal', true);
  const nqb = Math.ceil(nq / bs), nkb = Math.ceil(nk / bs);
  const one = new Uint8Array(nqb * nkb);
  for (let qb = 0; qb < nqb; qb++) {
    const last = Math.min((qb + 1) * bs, nq) - 1 + nk - nq;
    const diag = last < 0 ? -1 : Math.floor(Math.min(last, nk - 1) / bs);
    const end = causal ? diag + 1 : nkb;
    for (let kb = 0; kb < Math.min(sink, end, nkb); kb++) one[qb * nkb + kb] = 1;
    for (let kb = Math.max(diag - local + 1, 0); kb <= diag; kb++) one[qb * nkb + kb] = 1;
  }
  const mask = new Uint8Array(batch * heads * one.length);
  for (let i = 0; i < batch * heads; i++) mask.set(one, i * one.length);
  return new Tensor('uint8', mask, [batch, heads, nqb, nkb]);
}
