// Plain TypeScript helpers the examples share: weights, projections and norms are
// small dense math, done here; the kernels of the package do the sequence work.

/** Deterministic pseudo-random numbers in [-scale, scale) (a linear congruential generator). */
export function random(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = ((x / 2 ** 32) * 2 - 1) * scale;
  }
  return a;
}

/** y [rows, n] = x [rows, k] . w [k, n] (row-major). */
export function matmul(x: Float32Array, w: Float32Array, rows: number, k: number, n: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const yr = y.subarray(r * n, (r + 1) * n);
    for (let j = 0; j < k; j++) {
      const xv = x[r * k + j];
      if (xv === 0) continue;
      const wr = w.subarray(j * n, (j + 1) * n);
      for (let c = 0; c < n; c++) yr[c] += xv * wr[c];
    }
  }
  return y;
}

/** RMSNorm of each row of x [rows, n] (unit gain). */
export function rmsNorm(x: Float32Array, rows: number, n: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += x[r * n + c] ** 2;
    const inv = 1 / Math.sqrt(s / n + 1e-6);
    for (let c = 0; c < n; c++) y[r * n + c] = x[r * n + c] * inv;
  }
  return y;
}

export const silu = (v: number) => v / (1 + Math.exp(-v));

/** The largest |a - b| over the elements, relative to b's largest magnitude. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

/** `--small`: the smoke-test size (CI runs every example so). */
export const small = process.argv.includes('--small');

/** ||a - b|| / ||b|| over all elements. */
export function relRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    m += b[i] ** 2;
  }
  return Math.sqrt(d / (m || 1));
}
