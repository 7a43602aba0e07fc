// fp64 XAttention references written from the algorithm, not from the kernels.
//
// Scores, stride S, block size Bk, R = Bk / S, nQB = ceil(Nq/Bk), nKB = ceil(Nk/Bk):
//   A[i][j] = sum_{t<S} q[i*S + S-1-t] . k[j*S + t]   (rows past the end are zeros)
//   reduced key j is visible to reduced query i when j < ceil(Nk/S) and, causal,
//   j <= i + (nKB - nQB) * R; P = softmax over the visible j of A * scale / S;
//   scores[qb][kb] = sum of P[i][j], i in block qb with i < ceil(Nq/S), j in block kb.
// Mask: the smallest set, after the forced sink/diagonal blocks, found by brute force.

import type { Dims } from './attention';

/** Attention's dims without a value head dim: scoring reads only q and k. */
export type XDims = Omit<Dims, 'Dv'>;

export interface XRefOptions {
  stride: number;
  blockSize: number;
  causal?: boolean;
  scale?: number;
}

/** q [B,Hq,Nq,D], k [B,Hkv,Nk,D] contiguous; returns [B,Hq,nQB,nKB]. */
export function xattentionScoresRef(q: ArrayLike<number>, k: ArrayLike<number>, d: XDims, o: XRefOptions): Float64Array {
  const { B, Hq, Hkv, Nq, Nk, D } = d;
  const S = o.stride, R = o.blockSize / S;
  const nqb = Math.ceil(Nq / o.blockSize), nkb = Math.ceil(Nk / o.blockSize);
  const nqr = Math.ceil(Nq / S), nkr = Math.ceil(Nk / S);
  const scale = (o.scale ?? 1 / Math.sqrt(D)) / S;
  const out = new Float64Array(B * Hq * nqb * nkb);
  const logits = new Float64Array(nkr);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      const qBase = (b * Hq + h) * Nq * D, kBase = (b * Hkv + hk) * Nk * D;
      for (let i = 0; i < nqr; i++) {
        const end = o.causal ? Math.min(i + (nkb - nqb) * R + 1, nkr) : nkr;
        if (end <= 0) continue;
        let max = -Infinity;
        for (let j = 0; j < end; j++) {
          let a = 0;
          for (let t = 0; t < S; t++) {
            const qi = i * S + S - 1 - t, kj = j * S + t;
            if (qi >= Nq || kj >= Nk) continue;
            for (let x = 0; x < D; x++) a += q[qBase + qi * D + x] * k[kBase + kj * D + x];
          }
          logits[j] = a * scale;
          max = Math.max(max, logits[j]);
        }
        let sum = 0;
        for (let j = 0; j < end; j++) sum += Math.exp(logits[j] - max);
        const row = ((b * Hq + h) * nqb + Math.floor(i / R)) * nkb;
        for (let j = 0; j < end; j++) out[row + Math.floor(j / R)] += Math.exp(logits[j] - max) / sum;
      }
    }
  return out;
}

/**
 * The kept set of one row by brute force over subsets (rows of at most ~16 candidates):
 * forced blocks, plus the smallest subset of the other visible blocks whose mass with
 * the forced ones reaches threshold x total; among the smallest, the one of largest mass,
 * then the one whose ascending index list is lexicographically first (ties in score go
 * to lower indices). Blocks with score <= 0 are never candidates. Returns a 0/1 array.
 */
export function selectRowRef(row: ArrayLike<number>, visible: number, forced: readonly number[], threshold: number): Uint8Array {
  const keep = new Uint8Array(row.length);
  let total = 0, base = 0;
  for (let kb = 0; kb < visible; kb++) total += row[kb];
  for (const f of forced)
    if (f >= 0 && f < visible && !keep[f]) {
      keep[f] = 1;
      base += row[f];
    }
  const cand: number[] = [];
  for (let kb = 0; kb < visible; kb++) if (!keep[kb] && row[kb] > 0) cand.push(kb);
  const need = threshold * total;
  if (base >= need) return keep;
  let best: number[] | undefined, bestMass = -1;
  for (let m = 0; m < 1 << cand.length; m++) {
    const set = cand.filter((_, i) => m & (1 << i));
    const mass = set.reduce((s, kb) => s + row[kb], base);
    if (mass < need) continue;
    // Both lists ascending: the first differing entry decides the lexicographic order.
    const lexFirst = (b: number[]) => {
      const i = set.findIndex((kb, x) => kb !== b[x]);
      return i >= 0 && set[i] < b[i];
    };
    if (!best || set.length < best.length || (set.length === best.length && (mass > bestMass || (mass === bestMass && lexFirst(best))))) {
      best = set;
      bestMass = mass;
    }
  }
  for (const kb of best ?? cand) keep[kb] = 1;
  return keep;
}
