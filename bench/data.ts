// Inputs and accuracy measures shared by the bench cases.
//
// longContextQKV builds q/k/v whose attention looks like that of real LLM heads on
// long contexts, for block-sparse and selection benchmarks, where uniform random
// inputs give near-uniform attention (nothing to select). Per head, the logits
// q_i . k_j / sqrt(D) are a sum of:
//   - attention sinks: the first `sinkTokens` keys score high for every query;
//   - a local band: rotary-style (cos, sin) pairs at a few frequencies give a term
//     peaked at j = i that decays with |i - j| (the recent-token band);
//   - vertical stripes: a few "retrieval" keys at random positions that a random
//     half of the heads' queries score high;
//   - a diffuse remainder: random low-magnitude components (Gaussian in the other dims).
// `concentration` scales the structured terms: 0 leaves the diffuse remainder alone
// (near-uniform attention), 1 gives the peaked heads typical of trained models, larger
// values sharper ones. Heads weight the three patterns differently (some local, some
// retrieval, some sink-dominated), as heads of one layer do.

import { gaussian, random } from '../reference/random';

export { gaussian, random } from '../reference/random';
export { relError, relRms } from '../reference/measure';

export interface LongContextOptions {
  B?: number;
  H: number;
  /** kv heads (default H); query head h uses kv head h / (H / Hkv). */
  Hkv?: number;
  N: number;
  /** Head dim, at least 16. */
  D: number;
  seed?: number;
  /** Strength of the sink, band and stripe terms (default 1). */
  concentration?: number;
  /** Sink keys (default 4). */
  sinkTokens?: number;
  /** Retrieval keys (default 8). */
  stripes?: number;
  /** Width in tokens of the local band (default 64). */
  band?: number;
}

/** q [B, H, N, D], k and v [B, Hkv, N, D] fp32 with the structure described at the top of this file. */
export function longContextQKV(o: LongContextOptions): { q: Float32Array; k: Float32Array; v: Float32Array; stripeKeys: number[] } {
  const { H, N, D } = o;
  const B = o.B ?? 1, Hkv = o.Hkv ?? H, seed = o.seed ?? 1, c = o.concentration ?? 1;
  const sinks = Math.min(o.sinkTokens ?? 4, N), band = o.band ?? 64;
  if (D < 16) throw new RangeError(`longContextQKV: D must be >= 16, got ${D}`);
  const nStripes = Math.min(o.stripes ?? 8, D - 14, N);
  // Dims: 0 sink; 1 .. 2F rotary pairs; then one per stripe; the rest diffuse.
  const F = 6, stripeDim = 1 + 2 * F, restDim = stripeDim + nStripes;
  const pick = random(nStripes + 3 * H + F, seed + 7, 0, 1);
  const stripeKeys = Array.from({ length: nStripes }, (_, s) => sinks + Math.floor(pick[s] * (N - sinks)));
  // Band frequencies: incommensurate, from 1/band down to about 1/(8 band) radians per
  // token, so the band's side lobes do not line up into periodic diagonals.
  const freq = Array.from({ length: F }, (_, f) => (1 / band) * 8 ** (-(f + pick[nStripes + 3 * H + f]) / F));
  const q = gaussian(B * H * N * D, seed), k = gaussian(B * Hkv * N * D, seed + 1), v = gaussian(B * Hkv * N * D, seed + 2);
  // Keys carry sqrt(sqrt(D)) per structured dim and queries the logit term times it, so
  // q_x k_x / sqrt(D) is the term itself. The diffuse dims give unit-variance logits.
  const root = Math.sqrt(Math.sqrt(D)), diffuse = Math.sqrt(Math.sqrt(D / (D - restDim)));
  // Peaks grow with log N so that each pattern keeps its share of the mass against the
  // N-fold diffuse remainder: at concentration 1 about 4 e^{ln N} for the sinks, twice
  // the remainder's N e^{1/2}; the band a little less; a stripe about half of it.
  const logN = Math.log(N);
  for (let b = 0; b < B; b++)
    for (let hk = 0; hk < Hkv; hk++) {
      const kb = (b * Hkv + hk) * N * D;
      for (let j = 0; j < N; j++) {
        const r = k.subarray(kb + j * D, kb + (j + 1) * D);
        for (let x = restDim; x < D; x++) r[x] *= diffuse;
        r[0] = j < sinks ? root : 0;
        for (let f = 0; f < F; f++) {
          r[1 + 2 * f] = root * Math.cos(freq[f] * j);
          r[2 + 2 * f] = root * Math.sin(freq[f] * j);
        }
        for (let s = 0; s < nStripes; s++) r[stripeDim + s] = stripeKeys[s] === j ? root : 0;
      }
    }
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      // Per-head weights of the sink, band and stripe terms.
      const w = pick.subarray(nStripes + 3 * h, nStripes + 3 * h + 3);
      const sink = c * (logN + 1.5) * (0.85 + 0.2 * w[0]), bandPeak = c * (logN - 3) * (0.85 + 0.3 * w[1]);
      const stripe = c * logN * (0.9 + 0.2 * w[2]);
      const qb = (b * H + h) * N * D;
      for (let i = 0; i < N; i++) {
        const r = q.subarray(qb + i * D, qb + (i + 1) * D);
        for (let x = restDim; x < D; x++) r[x] *= diffuse;
        r[0] = root * sink;
        for (let f = 0; f < F; f++) {
          r[1 + 2 * f] = ((root * bandPeak) / F) * Math.cos(freq[f] * i);
          r[2 + 2 * f] = ((root * bandPeak) / F) * Math.sin(freq[f] * i);
        }
        // Each retrieval key is read strongly by about half of the queries.
        for (let s = 0; s < nStripes; s++)
          r[stripeDim + s] = (Math.imul(i, 2654435761) + s * 40503) >>> 0 < 2 ** 31 ? root * stripe : 0;
      }
    }
  return { q, k, v, stripeKeys };
}
