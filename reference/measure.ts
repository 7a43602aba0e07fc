// Error measures, shared by the tests (against tolerances) and the bench (reported beside
// speed): absolute, relative to the output's scale, and the cosine / relative L1 that
// quantized-attention papers report.

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a - b|; NaN anywhere counts as infinite error unless both are NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;  // equal infinities
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** max |got - ref| over the [got, ref] pairs, relative to the largest |ref|. */
export function relError(pairs: Iterable<readonly [ArrayLike<number>, ArrayLike<number>]>): number {
  let err = 0, scale = 0;
  for (const [g, r] of pairs) {
    scale = Math.max(scale, maxAbs(r));
    err = Math.max(err, maxAbsDiff(g, r));
  }
  return err / scale;
}

/** Cosine similarity of two vectors (1 when both are zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
}

/** sum |got - ref| / sum |ref|. */
export function relL1(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < ref.length; i++) {
    d += Math.abs(got[i] - ref[i]);
    s += Math.abs(ref[i]);
  }
  return s === 0 ? d : d / s;
}

/** sqrt(sum (got - ref)^2 / sum ref^2): the relative error sparse-attention papers report. */
export function relRms(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < ref.length; i++) {
    d += (got[i] - ref[i]) ** 2;
    s += ref[i] ** 2;
  }
  return Math.sqrt(s === 0 ? d : d / s);
}
