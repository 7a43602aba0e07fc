// One attention case: random inputs in the requested dtype and layout, the
// native result, and the fp64 reference with the project's tolerances.
import type { Test } from 'tap';
import { attention, attentionSync, blockSparseAttention, blockSparseAttentionSync, blockMaskToIndices, Tensor, type FloatDType } from '../lib';
import { attentionRef } from '../reference/attention';
import { blockKeep, type SparseSpec } from '../reference/sparse';
import { maxAbs, maxAbsDiff, randomArray, rounder, roundingFloor, roundTo } from './helpers';

export interface Case {
  B?: number;
  Hq?: number;
  Hkv?: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv?: number;
  dtype?: FloatDType;
  causal?: boolean;
  window?: [number, number];
  softcap?: number;
  scale?: number;
  lse?: boolean;
  layout?: 'bhnd' | 'bnhd';
  amplitude?: number;  // of q: larger gives a peakier softmax
  seed?: number;
  async?: boolean;
  /** Run blockSparseAttention with this mask (form: the uint8 mask or its compact form). */
  sparse?: SparseSpec & { form?: 'mask' | 'indices' };
}

export function describe(c: Case): string {
  const parts = [`B${c.B ?? 1} H${c.Hq ?? 1}/${c.Hkv ?? 1} Nq${c.Nq} Nk${c.Nk} D${c.D}`];
  if (c.Dv !== undefined && c.Dv !== c.D) parts.push(`Dv${c.Dv}`);
  parts.push(c.dtype ?? 'float32');
  if (c.causal) parts.push('causal');
  if (c.window) parts.push(`window[${c.window}]`);
  if (c.softcap) parts.push(`softcap${c.softcap}`);
  if (c.scale !== undefined) parts.push(`scale${c.scale}`);
  if (c.layout === 'bnhd') parts.push('bnhd');
  if (c.amplitude) parts.push(`amp${c.amplitude}`);
  if (c.sparse) {
    const s = c.sparse;
    parts.push(`block${s.block}`, s.form ?? 'mask');
    if (s.Hm !== undefined) parts.push(`Hm${s.Hm}`);
    if (s.headModes) parts.push(`modes[${s.headModes.map((m) => m[0]).join('')}] sink${s.sinkBlocks ?? 0} local${s.localBlocks ?? 0}`);
  }
  return parts.join(' ');
}

// [B, H, N, D] row-major values -> a tensor in the requested layout.
function toLayout(vals: Float32Array, shape: number[], dtype: FloatDType, layout: 'bhnd' | 'bnhd'): Tensor {
  if (layout === 'bhnd') return Tensor.fromFloat32(vals, shape, dtype);
  const [B, H, N, D] = shape;
  const t = new Float32Array(vals.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) t[((b * N + n) * H + h) * D + d] = vals[((b * H + h) * N + n) * D + d];
  return Tensor.fromFloat32(t, [B, N, H, D], dtype);
}

export interface Outcome {
  out: Tensor;
  lse?: Tensor;
}

/** Runs the case and checks it; returns the raw outputs for further checks. */
export async function checkCase(t: Test, c: Case): Promise<Outcome> {
  const B = c.B ?? 1, Hq = c.Hq ?? 1, Hkv = c.Hkv ?? 1, Dv = c.Dv ?? c.D;
  const dtype = c.dtype ?? 'float32', layout = c.layout ?? 'bhnd', seed = c.seed ?? 1;
  const dims = { B, Hq, Hkv, Nq: c.Nq, Nk: c.Nk, D: c.D, Dv };
  const qv = roundTo(randomArray(B * Hq * c.Nq * c.D, seed, c.amplitude ?? 1), dtype);
  const kv = roundTo(randomArray(B * Hkv * c.Nk * c.D, seed + 1), dtype);
  const vv = roundTo(randomArray(B * Hkv * c.Nk * Dv, seed + 2), dtype);
  const q = toLayout(qv, [B, Hq, c.Nq, c.D], dtype, layout);
  const k = toLayout(kv, [B, Hkv, c.Nk, c.D], dtype, layout);
  const v = toLayout(vv, [B, Hkv, c.Nk, Dv], dtype, layout);
  const opts = { causal: c.causal, window: c.window, softcap: c.softcap, scale: c.scale, layout, returnLse: true as const };
  const r = c.sparse ? await runSparse(q, k, v, c, opts) : c.async ? await attention(q, k, v, opts) : attentionSync(q, k, v, opts);

  const name = describe(c);
  const outB = layout === 'bnhd' ? r.out.permute([0, 2, 1, 3]) : r.out;
  t.same(r.out.dtype, dtype, `${name}: output dtype`);
  const got = outB.toFloat32();
  const refOpts = c.sparse ? { ...c, keep: blockKeep(c.sparse, Hq, c.Nq, c.Nk) } : c;
  const ref = attentionRef(qv, kv, vv, dims, refOpts);
  const scale = maxAbs(ref.out);
  const err = maxAbsDiff(got, ref.out);
  let tol: number;
  if (dtype === 'float32') tol = 1e-5 * scale + 1e-30;
  else {
    const naive = attentionRef(qv, kv, vv, dims, { ...refOpts, round: rounder(dtype) });
    tol = 2 * maxAbsDiff(naive.out, ref.out) + roundingFloor(dtype, scale);
  }
  t.ok(err <= tol, `${name}: max error ${err.toExponential(2)} <= ${tol.toExponential(2)}`);

  // LSE: fp32 math on the rounded inputs, so fp32-level agreement for every dtype.
  const lse = r.lse.toFloat32();
  let lseErr = 0;
  for (let i = 0; i < lse.length; i++) {
    const a = lse[i], e = ref.lse[i];
    if (e === -Infinity) lseErr = Math.max(lseErr, a === -Infinity ? 0 : Infinity);
    else lseErr = Math.max(lseErr, Math.abs(a - e) / Math.max(1, Math.abs(e)));
  }
  t.ok(lseErr <= 2e-5, `${name}: lse error ${lseErr.toExponential(2)}`);
  return r;
}

// blockSparseAttention on the case's mask, in the requested form.
function runSparse(q: Tensor, k: Tensor, v: Tensor, c: Case, opts: object) {
  const s = c.sparse!;
  const B = c.B ?? 1;
  const nqb = Math.ceil(c.Nq / s.block), nkb = Math.ceil(c.Nk / s.block);
  let mask = null;
  if (s.mask) {
    const m = new Tensor('uint8', s.mask, [B, s.Hm ?? c.Hq ?? 1, nqb, nkb]);
    mask = s.form === 'indices' ? blockMaskToIndices(m) : m;
  }
  const o = { ...opts, blockSize: s.block as 64 | 128, headModes: s.headModes, sinkBlocks: s.sinkBlocks, localBlocks: s.localBlocks, returnLse: true as const };
  return c.async ? blockSparseAttention(q, k, v, mask, o) : Promise.resolve(blockSparseAttentionSync(q, k, v, mask, o));
}
