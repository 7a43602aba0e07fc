// fp64 attention written from the definition (FlashAttention semantics), not
// from the kernels: for query i, key j is visible when
//   i + Nk - Nq - left <= j <= i + Nk - Nq + right   (-1 = unlimited; causal: right = 0),
// s_ij = scale * q_i.k_j, optionally c*tanh(s/c); out_i = sum_j softmax(s_i)_j v_j;
// lse_i = log sum_j exp(s_ij). A row with no visible key: out 0, lse -inf.

export interface Dims {
  B: number;
  Hq: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
}

export interface RefOptions {
  causal?: boolean;
  window?: readonly [number, number];
  softcap?: number;
  scale?: number;
  /** Rounds intermediate scores, probabilities and outputs (a naive low-precision run). */
  round?: (x: number) => number;
  /** An extra visibility rule (a block mask expanded to elements): key j is also hidden
   *  from query i of (batch b, query head h) when it returns false. */
  keep?: (b: number, h: number, i: number, j: number) => boolean;
  /** Compute only these query rows (others stay 0 / -inf); all rows by default. */
  rows?: readonly number[];
  /** The weights of P.V from a row's probabilities p [Nk] (0 for hidden keys), in place:
   *  out_i = sum_j p_j v_j after it (quantizedAttention's pv 'int8' quantizes them). */
  weights?: (p: Float64Array, b: number, hk: number) => void;
}

/** q [B,Hq,Nq,D], k [B,Hkv,Nk,D], v [B,Hkv,Nk,Dv], all contiguous. */
export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, d: Dims, o: RefOptions = {}) {
  const { B, Hq, Hkv, Nq, Nk, D, Dv } = d;
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const left = o.window?.[0] ?? -1;
  const right = o.causal ? 0 : o.window?.[1] ?? -1;
  const cap = o.softcap ?? 0;
  const round = o.round ?? ((x: number) => x);
  const out = new Float64Array(B * Hq * Nq * Dv);
  const lse = new Float64Array(B * Hq * Nq);
  const s = new Float64Array(Nk);
  const acc = new Float64Array(Dv);
  const w = new Float64Array(Nk);
  const allRows = o.rows ? [] : Array.from({ length: Nq }, (_, i) => i);
  if (o.rows) lse.fill(-Infinity);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      const qBase = (b * Hq + h) * Nq * D;
      const kBase = (b * Hkv + hk) * Nk * D;
      const vBase = (b * Hkv + hk) * Nk * Dv;
      for (const i of o.rows ?? allRows) {
        const row = (b * Hq + h) * Nq + i;
        let max = -Infinity;
        for (let j = 0; j < Nk; j++) {
          const visible =
            (left < 0 || j >= i + Nk - Nq - left) && (right < 0 || j <= i + Nk - Nq + right) && (!o.keep || o.keep(b, h, i, j));
          if (!visible) {
            s[j] = -Infinity;
            continue;
          }
          let dot = 0;
          for (let t = 0; t < D; t++) dot += q[qBase + i * D + t] * k[kBase + j * D + t];
          let x = round(dot) * scale;
          if (cap > 0) x = cap * Math.tanh(x / cap);
          s[j] = x;
          if (x > max) max = x;
        }
        if (max === -Infinity) {
          lse[row] = -Infinity;
          continue;  // out stays 0
        }
        let sum = 0;
        for (let j = 0; j < Nk; j++) if (s[j] !== -Infinity) sum += Math.exp(s[j] - max);
        lse[row] = max + Math.log(sum);
        acc.fill(0);
        for (let j = 0; j < Nk; j++) w[j] = s[j] === -Infinity ? 0 : round(Math.exp(s[j] - max) / sum);
        if (o.weights) o.weights(w, b, hk);
        for (let j = 0; j < Nk; j++) {
          if (s[j] === -Infinity) continue;
          const p = w[j];
          for (let t = 0; t < Dv; t++) acc[t] += p * v[vBase + j * Dv + t];
        }
        for (let t = 0; t < Dv; t++) out[row * Dv + t] = round(acc[t]);
      }
    }
  return { out, lse };
}
