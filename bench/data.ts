// Inputs and accuracy measures shared by the bench cases.

/** n deterministic uniform values in [lo, hi) (a 32-bit LCG: fast for large buffers). */
export function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return a;
}

/** Max |got - ref| over the [got, ref] pairs, relative to the largest |ref|. */
export function relError(pairs: Iterable<readonly [ArrayLike<number>, ArrayLike<number>]>): number {
  let err = 0, scale = 0;
  for (const [g, r] of pairs)
    for (let i = 0; i < r.length; i++) {
      scale = Math.max(scale, Math.abs(r[i]));
      err = Math.max(err, Math.abs(g[i] - r[i]));
    }
  return err / scale;
}
