// Quantization and quantized attention written from docs/semantics.md ("Quantized
// attention"), not from the kernels. Quantizing mirrors the fp32 steps exactly
// (Math.fround): mean = fp32(sum / N) in double, x' = fp32(x - mean),
// scale = fp32(max|x'| / qmax), value = round-half-away(fp32(x' / scale)), 0 where scale is 0.
// Attention then runs the fp64 reference on the dequantized operands:
//   s_ij = scale * (deq(Q'_i) . deq(K'_j) + qm . deq(K'_j) + q_i . km)
// by handing attentionRef [deq(Q') + qm, q] and [deq(K'), km] (head dim 2D).
// pv 'int8': V' = quantize(v) (int8, the call's granularity) or the given V cache, and per
// query row and block of 64 keys, with t_j = p_j * s_v(j) and m = max_j t_j,
//   P.V = sum_blocks (m / 255) * sum_j round-half-away(255 * t_j / m) * V'_j
// in fp64 (weights on the integer V'); the kernels' fp32 steps are left to the tolerance.
import { attentionRef, type Dims, type RefOptions } from './attention';
import { cosine, relL1 } from './measure';

export interface QuantRef {
  /** Integer values, [B, H, N, D]. */
  values: Int32Array;
  /** [B, H, ceil(N / group)]. */
  scales: Float32Array;
  /** [B, H, D] when smoothed. */
  mean?: Float32Array;
}

/** x [B, H, N, D] (contiguous, values already in fp32). group: tokens per scale. */
export function quantizeRef(x: ArrayLike<number>, B: number, H: number, N: number, D: number,
  bits: 8 | 4, group: number, smooth: boolean): QuantRef {
  const qmax = bits === 8 ? 127 : 7;
  const groups = Math.ceil(N / group);
  const values = new Int32Array(B * H * N * D);
  const scales = new Float32Array(B * H * groups);
  const mean = smooth ? new Float32Array(B * H * D) : undefined;
  const f = Math.fround;
  for (let bh = 0; bh < B * H; bh++) {
    const base = bh * N * D;
    const m = new Float64Array(D);
    if (mean) {
      for (let n = 0; n < N; n++) for (let c = 0; c < D; c++) m[c] += x[base + n * D + c];
      for (let c = 0; c < D; c++) mean[bh * D + c] = m[c] = f(m[c] / N);
    }
    for (let g = 0; g < groups; g++) {
      const n0 = g * group, n1 = Math.min(N, n0 + group);
      let amax = 0;
      for (let n = n0; n < n1; n++)
        for (let c = 0; c < D; c++) amax = Math.max(amax, Math.abs(f(x[base + n * D + c] - m[c])));
      const s = f(amax / qmax);
      scales[bh * groups + g] = s;
      for (let n = n0; n < n1; n++)
        for (let c = 0; c < D; c++) {
          if (s === 0) continue;
          const v = f(f(x[base + n * D + c] - m[c]) / s);
          const r = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
          values[base + n * D + c] = Math.max(-qmax, Math.min(qmax, r));
        }
    }
  }
  return { values, scales, mean };
}

/** The stored bytes of a quantization: int8 values, or int4 pairs (element 2i in the low nibble). */
export function packRef(values: Int32Array, rows: number, D: number, bits: 8 | 4): Uint8Array {
  if (bits === 8) return Uint8Array.from(values, (v) => v & 255);
  const rb = Math.ceil(D / 2);
  const out = new Uint8Array(rows * rb);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < D; c++) out[r * rb + (c >> 1)] |= (values[r * D + c] & 15) << (4 * (c & 1));
  return out;
}

/** fp32 values: value * scale (+ mean). */
export function dequantizeRef(q: QuantRef, B: number, H: number, N: number, D: number, group: number, addMean = true): Float64Array {
  const groups = Math.ceil(N / group);
  const out = new Float64Array(B * H * N * D);
  for (let bh = 0; bh < B * H; bh++)
    for (let n = 0; n < N; n++) {
      const s = q.scales[bh * groups + Math.floor(n / group)];
      for (let c = 0; c < D; c++) {
        const i = (bh * N + n) * D + c;
        const v = Math.fround(q.values[i] * s);
        out[i] = addMean && q.mean ? Math.fround(v + q.mean[bh * D + c]) : v;
      }
    }
  return out;
}

export interface QuantAttentionRefOptions extends RefOptions {
  qkBits?: 8 | 4;
  granularity?: 'block' | 'token';
  smoothK?: boolean;
  smoothQ?: boolean;
  /** V rounded to this (pv); P's rounding is left to the tolerance. */
  roundV?: (x: number) => number;
  /** A pre-quantized K to use instead of quantizing k (as quantize(k) produced it). */
  kq?: { q: QuantRef; group: number };
  vq?: { q: QuantRef; group: number };
  /** pv 'int8': P.V on V' and P quantized per row and block of 64 keys (above). */
  pvInt8?: boolean;
}

/** pv 'int8''s keys per P block. */
export const pBlock = 64;

/** round-half-away(255 * t / m) * m / 255 over each block of pBlock keys of t = p * sv, in place. */
export function quantizePRef(p: Float64Array, sv: (j: number) => number): void {
  for (let j0 = 0; j0 < p.length; j0 += pBlock) {
    const j1 = Math.min(p.length, j0 + pBlock);
    let m = 0;
    for (let j = j0; j < j1; j++) m = Math.max(m, p[j] * sv(j));
    for (let j = j0; j < j1; j++) p[j] = m > 0 ? (Math.floor((255 * p[j] * sv(j)) / m + 0.5) * m) / 255 : 0;
  }
}

/** q, k, v contiguous [B, H, N, D] values (already rounded to their dtype). */
export function quantizedAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, d: Dims,
  o: QuantAttentionRefOptions = {}) {
  const { B, Hq, Hkv, Nq, Nk, D, Dv } = d;
  const bits = o.qkBits ?? 8;
  const token = o.granularity === 'token';
  const kGroup = o.kq?.group ?? (token ? 1 : 64);
  const kq = o.kq?.q ?? quantizeRef(k, B, Hkv, Nk, D, bits, kGroup, o.smoothK ?? true);
  const qq = quantizeRef(q, B, Hq, Nq, D, bits, token ? 1 : 128, o.smoothQ ?? false);
  const kd = dequantizeRef(kq, B, Hkv, Nk, D, kGroup, false);
  const qd = dequantizeRef(qq, B, Hq, Nq, D, token ? 1 : 128, true);  // deq(Q') + qm
  const qa = new Float64Array(B * Hq * Nq * 2 * D);
  const ka = new Float64Array(B * Hkv * Nk * 2 * D);
  for (let r = 0; r < B * Hq * Nq; r++)
    for (let c = 0; c < D; c++) {
      qa[r * 2 * D + c] = qd[r * D + c];
      qa[r * 2 * D + D + c] = q[r * D + c];
    }
  for (let r = 0; r < B * Hkv * Nk; r++) {
    const bh = Math.floor(r / Nk);
    for (let c = 0; c < D; c++) {
      ka[r * 2 * D + c] = kd[r * D + c];
      ka[r * 2 * D + D + c] = kq.mean ? kq.mean[bh * D + c] : 0;
    }
  }
  let vv: ArrayLike<number> = v;
  let weights: RefOptions['weights'];
  if (o.pvInt8) {
    // Weights on the integer V' (the V scale folded into p).
    const vGroup = o.vq?.group ?? (token ? 1 : 64);
    const vq = o.vq?.q ?? quantizeRef(v, B, Hkv, Nk, Dv, 8, vGroup, false);
    const groups = Math.ceil(Nk / vGroup);
    vv = vq.values;
    weights = (p, b, hk) => quantizePRef(p, (j) => vq.scales[(b * Hkv + hk) * groups + Math.floor(j / vGroup)]);
  } else if (o.vq) vv = dequantizeRef(o.vq.q, B, Hkv, Nk, Dv, o.vq.group);
  if (o.roundV) vv = Float64Array.from(vv, o.roundV);
  return attentionRef(qa, ka, vv, { ...d, D: 2 * D }, { ...o, weights, scale: o.scale ?? 1 / Math.sqrt(D) });
}

/** Cosine similarity and relative L1 (sum |a - b| / sum |b|) of a against b. */
export function accuracy(a: ArrayLike<number>, b: ArrayLike<number>): { cosine: number; relL1: number } {
  return { cosine: cosine(a, b), relL1: relL1(a, b) };
}
