// XAttention's block estimate and selection, and streaming (sink + local) block masks:
// the inputs of block-sparse attention.
//
// xattentionScores (native) sums softmax probabilities of strided antidiagonal products
// into blockSize x blockSize blocks; xattentionMask keeps, per query block, the fewest
// highest-scoring key blocks that reach a threshold of the row's mass; streamingMask
// is the fixed attention-sink + local-window pattern.
import { ErrorCodes, rangeError, typeError } from '../errors';
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

function unitNumber(v: unknown, name: string): number {
  if (typeof v !== 'number') throw typeError(`${name} must be a number, got ${typeof v}`);
  if (!(v >= 0 && v <= 1)) throw rangeError(`${name} must be in [0, 1], got ${v}`);
  return v;
}

function thresholds(t: unknown, heads: number): number[] {
  if (Array.isArray(t)) {
    if (t.length !== heads)
      throw rangeError(`options.threshold has ${t.length} entries but scores.shape[1] (heads) = ${heads}`, ErrorCodes.SHAPE);
    return t.map((x, i) => unitNumber(x, `options.threshold[${i}]`));
  }
  if (t === undefined) throw typeError('options.threshold must be a number or an array of numbers (one per head)');
  return new Array<number>(heads).fill(unitNumber(t, 'options.threshold'));
}

// Selection order: higher score first, ties to the lower block index.
const before = (v: Float32Array, a: number, b: number) => v[a] > v[b] || (v[a] === v[b] && a < b);

// Rows up to this many candidates are sorted; longer ones use the mass-guided select.
const kSortMax = 64;

/**
 * Arranges cand[0, n) (block indices into v) so that its first `return` entries are the
 * shortest prefix of the selection order whose mass (starting from 0) reaches `need`:
 * a quickselect on mass, expected O(n), never a full sort of a long row.
 */
function selectPrefix(v: Float32Array, cand: Int32Array, n: number, need: number): number {
  let lo = 0, hi = n;
  const swap = (i: number, j: number) => {
    const t = cand[i];
    cand[i] = cand[j];
    cand[j] = t;
  };
  while (need > 0 && lo < hi) {
    if (hi - lo <= kSortMax) {
      const part = Array.from(cand.subarray(lo, hi)).sort((a, b) => (before(v, a, b) ? -1 : 1));
      cand.set(part, lo);
      while (need > 0 && lo < hi) need -= v[cand[lo++]];
      return lo;
    }
    // Median of three as the pivot, moved to the end; Lomuto partition by the order.
    const mid = lo + ((hi - lo) >> 1);
    const [a, b, c] = [cand[lo], cand[mid], cand[hi - 1]];
    const med = before(v, a, b) ? (before(v, b, c) ? mid : before(v, a, c) ? hi - 1 : lo) : before(v, a, c) ? lo : before(v, b, c) ? hi - 1 : mid;
    swap(med, hi - 1);
    const pivot = cand[hi - 1];
    let p = lo, mass = 0;
    for (let i = lo; i < hi - 1; i++)
      if (before(v, cand[i], pivot)) {
        mass += v[cand[i]];
        swap(i, p++);
      }
    swap(p, hi - 1);
    if (mass >= need) hi = p;  // the prefix ends inside the better part
    else {
      need -= mass + v[pivot];  // the better part and the pivot are all kept
      lo = p + 1;
    }
  }
  return lo;
}

/**
 * XAttention's block selection from xattentionScores output (float32 [B, H, nQB, nKB],
 * CPU). Query block qb's diagonal key block is qb + nKB - nQB (the scores' alignment).
 * Per row: block 0 (keepSink) and the diagonal block (keepRecent) if visible, then
 * further blocks in descending score order (ties: lower index first) while the kept
 * mass is below threshold x the row's total over visible blocks; the block that
 * reaches it is kept, so the set is the smallest one reaching the threshold. Blocks
 * with score <= 0 never count towards it and are only kept as sink or diagonal. With
 * causal, blocks past the diagonal are never kept. Masses are summed in fp64.
 * When Nq % blockSize != Nk % blockSize, the token-level (bottom-right) diagonal block can
 * be one past this diagonal; OR in streamingMask(Nq, Nk, { sinkBlocks: 0, localBlocks: 1 })
 * where every causally visible key of a kept block must be read.
 */
export function xattentionMask(scores: TensorLike, options: XAttentionMaskOptions): BlockMaskResult {
  const s = Tensor.from(scores, 'scores');
  if (s.dtype !== 'float32') throw typeError(`scores.dtype must be float32, got ${s.dtype}`, ErrorCodes.DTYPE);
  if (s.shape.length !== 4) throw rangeError(`scores must have 4 dimensions, got ${s.shape.length}`, ErrorCodes.SHAPE);
  if (s.device !== 'cpu') throw typeError(`scores must be a CPU tensor, got one on ${s.device}`);
  if (options === null || typeof options !== 'object')
    throw typeError(`options must be an object with a threshold, got ${options === null ? 'null' : typeof options}`);
  const o = options as unknown as Record<string, unknown>;
  const [B, H, nqb, nkb] = s.shape;
  const th = thresholds(o.threshold, H);
  const causal = flag(o, 'causal', false), keepSink = flag(o, 'keepSink', true), keepRecent = flag(o, 'keepRecent', true);

  const v = s.isContiguous && s.data.length === s.size ? (s.data as Float32Array) : s.toFloat32();  // read only
  const mask = new Uint8Array(v.length);
  const keptH = new Float64Array(H), visH = new Float64Array(H);
  const cand = new Int32Array(nkb);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let qb = 0; qb < nqb; qb++) {
        const base = ((b * H + h) * nqb + qb) * nkb;
        const row = v.subarray(base, base + nkb), m = mask.subarray(base, base + nkb);
        const diag = qb + nkb - nqb;
        const end = causal ? Math.min(Math.max(diag + 1, 0), nkb) : nkb;  // visible blocks [0, end)
        if (end === 0) continue;
        let total = 0;
        for (let kb = 0; kb < end; kb++) total += row[kb];
        let kept = 0;
        if (keepSink) m[0] = 1;
        if (keepRecent && diag >= 0 && diag < end) m[diag] = 1;
        let n = 0;
        for (let kb = 0; kb < end; kb++) {
          if (m[kb]) kept += row[kb];
          else if (row[kb] > 0) cand[n++] = kb;
        }
        const chosen = selectPrefix(row, cand, n, th[h] * total - kept);
        for (let i = 0; i < chosen; i++) m[cand[i]] = 1;
        let count = 0;
        for (let kb = 0; kb < end; kb++) count += m[kb];
        keptH[h] += count;
        visH[h] += end;
      }
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const vis = sum(visH);
  return {
    mask: new Tensor('uint8', mask, [B, H, nqb, nkb]),
    density: vis > 0 ? sum(keptH) / vis : 0,
    densityPerHead: Array.from(keptH, (k, h) => (visH[h] > 0 ? k / visH[h] : 0)),
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
