// blockSparseAttention(q, k, v, mask, options): attention restricted to a block mask
// (Block-Sparse-Attention semantics, docs/semantics.md), and the conversions between a
// mask's two forms.
import { typeError } from '../errors';
import { native, type NativeResult, type NativeSparseOptions } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import type { AttentionOptions, AttentionResult, AttentionWithLse } from './attention';
import { asTensor, opOptions, outAnd } from './common';
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
 * The compact form of a uint8 block mask [B, Hm, nQB, nKB], on the mask's device (CPU or
 * CUDA): maxK is the largest row count (at least 1), entries past a row's count are 0.
 * On a device the call waits for that one count to come back.
 */
export function blockMaskToIndices(mask: TensorLike): BlockIndices {
  const r = native().blockMaskToIndicesSync(Tensor.from(mask, 'mask'), {});
  return { indices: asTensor(r.indices!), counts: asTensor(r.counts) };
}

/** The uint8 block mask [B, Hm, nQB, nKeyBlocks] of a compact form, on its device (CPU or
 *  CUDA; a device's counts and ids are read back to check them). */
export function indicesToBlockMask(mask: BlockIndices, nKeyBlocks: number): Tensor {
  const ix = Tensor.from(mask.indices, 'mask.indices'), ct = Tensor.from(mask.counts, 'mask.counts');
  return asTensor(native().indicesToBlockMaskSync(ix, ct, nKeyBlocks));
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
  const moved = m && (m instanceof Tensor ? await move(m) : { indices: await move(m.indices), counts: await move(m.counts) });
  if (o.headModes) o.headModes = await move(o.headModes);
  return [moved, o] as const;
}

/** A mask in the addon's compact form and, for a dense uint8 mask, its width in key
 *  blocks: the compact form loses it, and the addon checks it against Nk. */
export function nativeMask(mask: BlockMaskLike, name = 'mask'): { mask: BlockIndices; maskKeyBlocks?: number } {
  if (isIndices(mask)) return { mask: { indices: Tensor.from(mask.indices, `${name}.indices`), counts: Tensor.from(mask.counts, `${name}.counts`) } };
  const t = Tensor.from(mask as TensorLike, name);
  return { mask: blockMaskToIndices(t), maskKeyBlocks: t.shape[3] };
}

// The mask as blockSparseAttention's addon call takes it: the compact form, or a uint8
// mask as it is (compacted by the backend on its device).
function sparseMask(mask: BlockMaskLike): BlockIndices | Tensor {
  if (isIndices(mask)) return { indices: Tensor.from(mask.indices, 'mask.indices'), counts: Tensor.from(mask.counts, 'mask.counts') };
  return Tensor.from(mask as TensorLike, 'mask');
}

const maskOn = (m: BlockIndices | Tensor, device: string) =>
  m instanceof Tensor ? m.device === device : m.indices.device === device && m.counts.device === device;

function nativeArgs(q: Tensor, mask: BlockMaskLike | null, options: BlockSparseOptions | undefined, async: boolean) {
  const o = (opOptions(options) ?? {}) as NativeSparseOptions;
  if (o.headModes !== undefined) o.headModes = headModesTensor(options!.headModes!);
  let m: BlockIndices | Tensor | null = null;
  if (mask !== null && mask !== undefined) {
    m = sparseMask(mask);
    if (!async && q.device !== 'cpu' && !maskOn(m, q.device))
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

// Kept over visible blocks, overall and per mask head.
function densities(kept: number[], visible: number[]) {
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const vis = sum(visible);
  return { density: vis ? sum(kept) / vis : 0, densityPerHead: kept.map((k, h) => (visible[h] ? k / visible[h] : 0)) };
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
  // Selection, the token diagonal, pooling and the compaction all run where the scores
  // are: from a device only the per-row kept counts of a pooled mask come back (its densities).
  const picked = xattentionMask(scores, { threshold: o.threshold ?? 0.9, causal, keepSink: o.keepSink, keepRecent: o.keepRecent });
  scores.dispose();
  const hd = o.layout === 'bnhd' ? 2 : 1, nd = 3 - hd, g = qt.shape[hd] / kt.shape[hd];
  const pool = o.poolGroups === true && g > 1, diagonal = o.keepRecent !== false;
  let mask = picked.mask, d: { density: number; densityPerHead: number[] } = picked;
  if (pool || diagonal) {
    const r = native().blockMaskToIndicesSync(picked.mask, {
      group: pool ? g : 1, diagonal: diagonal ? { nq: qt.shape[nd], nk: kt.shape[nd], blockSize } : undefined,
      causal, withMask: true, indices: false, totals: pool,
    });
    picked.mask.dispose();
    asTensor(r.counts).dispose();
    mask = asTensor(r.mask!);
    if (pool) d = densities(r.keptPerHead!, r.visiblePerHead!);
  }
  const { threshold: _t, stride: _s, keepSink: _ks, keepRecent: _kr, poolGroups: _p, ...attn } = o;
  const r: Tensor | AttentionWithLse = await blockSparseAttention(qt, kt, vt, mask, { ...attn, blockSize });
  const pair = r instanceof Tensor ? { out: r } : r;
  return { ...pair, mask, density: d.density, densityPerHead: d.densityPerHead };
}
