// Seeded inputs for the tests and the bench: one generator (mulberry32), so a seed means
// the same numbers everywhere.

/** Deterministic uniform numbers in [-1, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** n values uniform in [lo, hi). */
export function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  const half = (hi - lo) / 2, mid = lo + half;
  for (let i = 0; i < n; i++) a[i] = mid + r() * half;
  return a;
}

/** n values uniform in [-amplitude, amplitude). */
export function randomArray(n: number, seed: number, amplitude = 1): Float32Array {
  return random(n, seed, -amplitude, amplitude);
}

/** n standard normal values (Box-Muller). */
export function gaussian(n: number, seed: number): Float32Array {
  const u = random(2 * Math.ceil(n / 2), seed, 1e-7, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u[i])), t = 2 * Math.PI * u[i + 1];
    a[i] = r * Math.cos(t);
    if (i + 1 < n) a[i + 1] = r * Math.sin(t);
  }
  return a;
}
