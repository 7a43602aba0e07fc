// fp64 merge of two attention states, written from the definition (natural-log LSE):
//   m = max(lse1, lse2), w_i = exp(lse_i - m), out = (w1 o1 + w2 o2) / (w1 + w2),
//   lse = m + log(w1 + w2); a state with lse = -inf contributes nothing; two empty
//   states give out 0 and lse -inf; a NaN LSE makes the row NaN.

/** o1, o2 [rows, D] and lse1, lse2 [rows], contiguous (rows = B*H*N in [B, H, N] order). */
export function mergeRef(o1: ArrayLike<number>, lse1: ArrayLike<number>, o2: ArrayLike<number>, lse2: ArrayLike<number>, D: number) {
  const rows = lse1.length;
  const out = new Float64Array(rows * D);
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = lse1[r], b = lse2[r];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      out.fill(NaN, r * D, (r + 1) * D);
      lse[r] = NaN;
      continue;
    }
    const m = Math.max(a, b);
    if (m === -Infinity) {
      lse[r] = -Infinity;
      continue;
    }
    const w1 = Math.exp(a - m), w2 = Math.exp(b - m);
    for (let d = 0; d < D; d++) {
      const x = (w1 > 0 ? w1 * o1[r * D + d] : 0) + (w2 > 0 ? w2 * o2[r * D + d] : 0);
      out[r * D + d] = x / (w1 + w2);
    }
    lse[r] = m + Math.log(w1 + w2);
  }
  return { out, lse };
}
