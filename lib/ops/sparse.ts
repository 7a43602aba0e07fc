// blockSparseAttention(q, k, v, mask, options): attention restricted to a block mask
// (Block-Sparse-Attention semantics, docs/semantics.md), and the conversions between a
// mask's two forms.
import { ErrorCodes, rangeError, typeError } from '../errors';
import { native, type NativeResult, type NativeSparseOptions } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import type { AttentionOptions, AttentionResult, AttentionWithLse } from './attention';
import { opOptions, outAnd } from './common';
import { xattentionMask, xattentionScores } from './xattention';

/** Which key blocks a query head reads. */
export type HeadMode = 'dense' | 'streaming' | 'masked';
const headModeCodes: Record<HeadMode, number> = { dense: 0, streaming: 1, masked: 2 };

/** The compact form of a block mask: per (batch, mask head, query block) row, the ids of
 *  its key blocks, ascending, in the first counts[...] entries of indices[..., :]. */
export interface BlockIndices {
  /** int32 [B, Hm, nQB, maxK] */
  indices: Tensor;
  /** int32 [B, Hm, nQB] */
  counts: Tensor;
}

/** A uint8 block mask [B, Hm, nQB, nKB] (nonzero = the block is read) or its compact form.
 *  Hm is Hq, Hkv (one mask per GQA group) or 1 (one mask for every head). */
export type BlockMaskLike = TensorLike | BlockIndices;

export interface BlockSparseOptions extends AttentionOptions {
  /** Tokens per block, queries and keys alike: 64 or 128 (default). */
  blockSize?: 64 | 128;
  /** Per query head: 'masked' (default) reads the blocks the mask lists, 'dense' every
   *  block, 'streaming' the sink and local blocks. An array of Hq modes, or a uint8
   *  Tensor [Hq] of 0 (dense), 1 (streaming), 2 (masked) on the call's device. */
  headModes?: readonly HeadMode[] | Tensor;
  /** Streaming heads: key blocks [0, sinkBlocks) ... */
  sinkBlocks?: number;
  /** ... and the localBlocks key blocks ending at each query block's diagonal block
   *  (the block of the key aligned with the query block's last row). */
  localBlocks?: number;
}

const isIndices = (m: unknown): m is BlockIndices =>
  typeof m === 'object' && m !== null && 'indices' in m && 'counts' in m && !('data' in m);

/**
 * The compact form of a uint8 block mask [B, Hm, nQB, nKB] on the CPU: maxK is the
 * largest row count (at least 1).
 */
export function blockMaskToIndices(mask: TensorLike): BlockIndices {
  const m = Tensor.from(mask, 'mask');
  if (m.dtype !== 'uint8') throw typeError(`mask.dtype must be uint8, got ${m.dtype}`, ErrorCodes.DTYPE);
  if (m.shape.length !== 4) throw rangeError(`mask must have 4 dimensions [B, H, nQB, nKB], got [${m.shape.join(', ')}]`, ErrorCodes.SHAPE);
  if (m.device !== 'cpu') throw typeError(`mask is on ${m.device}: convert a CPU mask (await mask.to('cpu'))`);
  const [B, H, nqb, nkb] = m.shape;
  const data = m.contiguous().data as Uint8Array;
  const rows = B * H * nqb;
  const counts = new Int32Array(rows);
  let maxK = 1;
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let j = 0; j < nkb; j++) if (data[r * nkb + j]) n++;
    counts[r] = n;
    maxK = Math.max(maxK, n);
  }
  const indices = new Int32Array(rows * maxK);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let j = 0; j < nkb; j++) if (data[r * nkb + j]) indices[r * maxK + n++] = j;
  }
  return { indices: new Tensor('int32', indices, [B, H, nqb, maxK]), counts: new Tensor('int32', counts, [B, H, nqb]) };
}

/** The uint8 block mask [B, Hm, nQB, nKeyBlocks] of a compact form on the CPU. */
export function indicesToBlockMask(mask: BlockIndices, nKeyBlocks: number): Tensor {
  const ix = Tensor.from(mask.indices, 'mask.indices');
  const ct = Tensor.from(mask.counts, 'mask.counts');
  if (ix.dtype !== 'int32' || ct.dtype !== 'int32') throw typeError('mask.indices and mask.counts must be int32', ErrorCodes.DTYPE);
  if (ix.device !== 'cpu' || ct.device !== 'cpu') throw typeError('indicesToBlockMask takes CPU tensors');
  if (!Number.isSafeInteger(nKeyBlocks) || nKeyBlocks < 1) throw rangeError(`nKeyBlocks must be a positive integer, got ${nKeyBlocks}`);
  if (ix.shape.length !== 4 || ct.shape.length !== 3 || ct.shape.some((d, i) => d !== ix.shape[i]))
    throw rangeError(`mask.indices [B, H, nQB, maxK] and mask.counts [B, H, nQB] disagree: [${ix.shape.join(', ')}] vs [${ct.shape.join(', ')}]`, ErrorCodes.SHAPE);
  const [B, H, nqb, maxK] = ix.shape;
  const idx = ix.contiguous().data as Int32Array, cnt = ct.contiguous().data as Int32Array;
  const out = new Uint8Array(B * H * nqb * nKeyBlocks);
  for (let r = 0; r < B * H * nqb; r++) {
    if (cnt[r] < 0 || cnt[r] > maxK) throw rangeError(`mask.counts[${r}] must be in [0, ${maxK}], got ${cnt[r]}`);
    for (let x = 0; x < cnt[r]; x++) {
      const j = idx[r * maxK + x];
      if (j < 0 || j >= nKeyBlocks) throw rangeError(`mask.indices row ${r} lists key block ${j}, outside [0, ${nKeyBlocks})`);
      out[r * nKeyBlocks + j] = 1;
    }
  }
  return new Tensor('uint8', out, [B, H, nqb, nKeyBlocks]);
}

/** options.headModes as the addon takes it: a uint8 Tensor [Hq] of mode codes. */
export function headModesTensor(modes: readonly HeadMode[] | Tensor): Tensor {
  if (modes instanceof Tensor) return modes;
  if (!Array.isArray(modes)) throw typeError('options.headModes must be an array of modes or a uint8 Tensor');
  const codes = new Uint8Array(modes.length);
  modes.forEach((m, h) => {
    const c = headModeCodes[m as HeadMode];
    if (c === undefined) throw typeError(`options.headModes[${h}] must be 'dense', 'streaming' or 'masked', got ${String(m)}`);
    codes[h] = c;
  });
  return new Tensor('uint8', codes, [modes.length]);
}

// The mask and options as the addon takes them; `device` is q's device, where the compact
// form and the head modes must live (async calls move them there).
async function nativeArgsAsync(q: Tensor, mask: BlockMaskLike | null, options: BlockSparseOptions | undefined) {
  const [m, o] = nativeArgs(q, mask, options, true);
  if (q.device === 'cpu') return [m, o] as const;
  const move = async (t: Tensor) => (t.device === q.device ? t : t.to(q.device));
  const moved = m && { indices: await move(m.indices), counts: await move(m.counts) };
  if (o.headModes) o.headModes = await move(o.headModes);
  return [moved, o] as const;
}

/** A mask in the addon's compact form and, for a dense uint8 mask (CPU only), its width in
 *  key blocks: the compact form loses it, and the addon checks it against Nk. */
export function nativeMask(mask: BlockMaskLike, name = 'mask'): { mask: BlockIndices; maskKeyBlocks?: number } {
  if (isIndices(mask)) return { mask: { indices: Tensor.from(mask.indices, `${name}.indices`), counts: Tensor.from(mask.counts, `${name}.counts`) } };
  const t = Tensor.from(mask as TensorLike, name);
  if (t.device !== 'cpu')
    throw typeError(`${name} is a uint8 tensor on ${t.device}: pass its compact form (blockMaskToIndices) on that device, or a CPU mask`);
  return { mask: blockMaskToIndices(t), maskKeyBlocks: t.shape[3] };
}

function nativeArgs(q: Tensor, mask: BlockMaskLike | null, options: BlockSparseOptions | undefined, async: boolean) {
  const o = (opOptions(options) ?? {}) as NativeSparseOptions;
  if (o.headModes !== undefined) o.headModes = headModesTensor(options!.headModes!);
  let m: BlockIndices | null = null;
  if (mask !== null && mask !== undefined) {
    const n = nativeMask(mask);
    m = n.mask;
    if (n.maskKeyBlocks !== undefined) o.maskKeyBlocks = n.maskKeyBlocks;
    if (!async && q.device !== 'cpu' && (m.indices.device !== q.device || m.counts.device !== q.device))
      throw typeError(`mask must be on ${q.device} for blockSparseAttentionSync (the async call moves it)`);
  }
  if (!async && q.device !== 'cpu' && o.headModes && o.headModes.device !== q.device)
    throw typeError(`options.headModes must be a uint8 Tensor on ${q.device} for blockSparseAttentionSync`);
  return [m, o] as const;
}

const wrap = (r: NativeResult<'lse'>) => outAnd(r, 'lse');

/**
 * softmax(scale * q k^T, masked) v over the key blocks each query block reads (`mask`,
 * `headModes`); everything dense attention takes (causal, window, softcap, GQA,
 * Nq != Nk, returnLse, layouts, out) applies on top. Time scales with the blocks read.
 * `mask` may be null when no head is 'masked'. Runs off the event loop.
 */
export async function blockSparseAttention<O extends BlockSparseOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike, v: TensorLike, mask: BlockMaskLike | null, options?: O,
): Promise<AttentionResult<O>> {
  const [qt, kt, vt] = [Tensor.from(q, 'q'), Tensor.from(k, 'k'), Tensor.from(v, 'v')];
  const [m, o] = await nativeArgsAsync(qt, mask, options);
  return wrap(await native().blockSparseAttention(qt, kt, vt, m, o)) as AttentionResult<O>;
}

/** blockSparseAttention() on the calling thread. */
export function blockSparseAttentionSync<O extends BlockSparseOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike, v: TensorLike, mask: BlockMaskLike | null, options?: O,
): AttentionResult<O> {
  const qt = Tensor.from(q, 'q');
  const [m, o] = nativeArgs(qt, mask, options, false);
  return wrap(native().blockSparseAttentionSync(qt, Tensor.from(k, 'k'), Tensor.from(v, 'v'), m, o)) as AttentionResult<O>;
}

// ---------------------------------------------------------------- XAttention end to end

export interface XAttentionOptions extends Omit<BlockSparseOptions, 'headModes' | 'sinkBlocks' | 'localBlocks'> {
  /** Fraction of each query block's estimated mass to keep, in [0, 1] (default 0.9); one or one per query head. */
  threshold?: number | readonly number[];
  /** Antidiagonal stride S of the estimate: 4, 8 (default) or 16. */
  stride?: 4 | 8 | 16;
  /** Always keep key block 0 / the diagonal block (default true). */
  keepSink?: boolean;
  keepRecent?: boolean;
  /** GQA: one mask per kv head, the union of its query heads' (K/V blocks are then read once per group). */
  poolGroups?: boolean;
}

export interface XAttentionResult {
  out: Tensor;
  /** uint8 [B, Hq (or Hkv when pooled), nQB, nKB]: the blocks attended. */
  mask: Tensor;
  /** Kept blocks over the visible ones: overall and per mask head. */
  density: number;
  densityPerHead: number[];
  /** With returnLse: natural-log LSE [B, Hq, Nq]. */
  lse?: Tensor;
}

// The union of the masks of each group of `g` consecutive heads: [B, H / g, nQB, nKB].
function poolMask(mask: Tensor, g: number): Tensor {
  const [B, H, nqb, nkb] = mask.shape;
  const src = mask.data as Uint8Array, n = nqb * nkb;
  const out = new Uint8Array(B * (H / g) * n);
  for (let bh = 0; bh < B * H; bh++) {
    const dst = (Math.floor(bh / H) * (H / g) + Math.floor((bh % H) / g)) * n;
    for (let x = 0; x < n; x++) out[dst + x] |= src[bh * n + x];
  }
  return new Tensor('uint8', out, [B, H / g, nqb, nkb]);
}

// The scores align query blocks with the last key blocks (block qb's diagonal is
// qb + nKB - nQB); attention aligns rows bottom-right, and when Nq and Nk differ modulo the
// block the keys a block's last rows see reach one block further. Keep that block too.
function keepTokenDiagonal(mask: Tensor, Nq: number, Nk: number, bs: number): void {
  const [B, H, nqb, nkb] = mask.shape;
  const m = mask.data as Uint8Array;
  for (let qb = 0; qb < nqb; qb++) {
    const last = Math.min((qb + 1) * bs, Nq) - 1 + Nk - Nq;
    if (last < 0) continue;
    const diag = Math.floor(Math.min(last, Nk - 1) / bs);
    for (let bh = 0; bh < B * H; bh++) m[(bh * nqb + qb) * nkb + diag] = 1;
  }
}

// Kept over visible blocks per mask head, visible meaning up to the scores' diagonal when causal.
function densities(mask: Tensor, causal: boolean) {
  const [B, H, nqb, nkb] = mask.shape;
  const m = mask.data as Uint8Array;
  const kept = new Float64Array(H), vis = new Float64Array(H);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let qb = 0; qb < nqb; qb++) {
        const end = causal ? Math.min(Math.max(qb + nkb - nqb + 1, 0), nkb) : nkb;
        const base = ((b * H + h) * nqb + qb) * nkb;
        for (let kb = 0; kb < end; kb++) kept[h] += m[base + kb];
        vis[h] += end;
      }
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  return { density: sum(vis) ? sum(kept) / sum(vis) : 0, densityPerHead: Array.from(kept, (k, h) => (vis[h] ? k / vis[h] : 0)) };
}

/**
 * XAttention: scores key blocks by strided antidiagonal sums (xattentionScores), keeps
 * per query block the fewest blocks reaching `threshold` of the estimated mass
 * (xattentionMask), and attends to them (blockSparseAttention). Batch > 1 and GQA work.
 * Returns the output, the mask and its density. Runs off the event loop.
 */
export async function xattention(q: TensorLike, k: TensorLike, v: TensorLike, options: XAttentionOptions = {}): Promise<XAttentionResult> {
  const o = opOptions(options) ?? {};
  const [qt, kt, vt] = [Tensor.from(q, 'q'), Tensor.from(k, 'k'), Tensor.from(v, 'v')];
  const blockSize = o.blockSize ?? 128, causal = o.causal ?? false;
  const scores = await xattentionScores(qt, kt, { stride: o.stride ?? 8, blockSize, causal, scale: o.scale, layout: o.layout });
  // Selection runs where the scores are; only the uint8 mask comes back from a device, for
  // the token diagonal, pooling and the compact form blockSparseAttention reads.
  const picked = xattentionMask(scores, { threshold: o.threshold ?? 0.9, causal, keepSink: o.keepSink, keepRecent: o.keepRecent });
  let sel = picked;
  if (picked.mask.device !== 'cpu') {
    sel = { ...picked, mask: await picked.mask.to('cpu') };
    picked.mask.dispose();
  }
  scores.dispose();
  const hd = o.layout === 'bnhd' ? 2 : 1, nd = 3 - hd, g = qt.shape[hd] / kt.shape[hd];
  if (o.keepRecent !== false) keepTokenDiagonal(sel.mask, qt.shape[nd], kt.shape[nd], blockSize);
  const mask = o.poolGroups && g > 1 ? poolMask(sel.mask, g) : sel.mask;
  const { threshold: _t, stride: _s, keepSink: _ks, keepRecent: _kr, poolGroups: _p, ...attn } = o;
  const r: Tensor | AttentionWithLse = await blockSparseAttention(qt, kt, vt, mask, { ...attn, blockSize });
  const d = mask === sel.mask ? sel : densities(mask, causal);
  const pair = r instanceof Tensor ? { out: r } : r;
  return { ...pair, mask, density: d.density, densityPerHead: d.densityPerHead };
}
