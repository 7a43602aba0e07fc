// One attention case: random inputs in the requested dtype and layout, the
// native result, and the fp64 reference with the project's tolerances.
import type { Test } from 'tap';
import { attention, attentionSync, Tensor, type FloatDType } from '../lib';
import { attentionRef } from './reference/attention';
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
  const r = c.async ? await attention(q, k, v, opts) : attentionSync(q, k, v, opts);

  const name = describe(c);
  const outB = layout === 'bnhd' ? r.out.permute([0, 2, 1, 3]) : r.out;
  t.same(r.out.dtype, dtype, `${name}: output dtype`);
  const got = outB.toFloat32();
  const ref = attentionRef(qv, kv, vv, dims, c);
  const scale = maxAbs(ref.out);
  const err = maxAbsDiff(got, ref.out);
  let tol: number;
  if (dtype === 'float32') tol = 1e-5 * scale + 1e-30;
  else {
    const naive = attentionRef(qv, kv, vv, dims, { ...c, round: rounder(dtype) });
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
