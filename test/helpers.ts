// Shared test utilities: seeded data, dtype rounding and error measures.
import { Tensor, toHalfBits, fromHalfBits, type FloatDType } from '../lib';

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
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

export function randomArray(n: number, seed: number, amplitude = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * amplitude;
  return a;
}

/** The values a tensor of `dtype` holds after rounding `x` into it. */
export function roundTo(x: Float32Array, dtype: FloatDType): Float32Array {
  return dtype === 'float32' ? x : fromHalfBits(toHalfBits(x, dtype), dtype);
}

/** Rounds one number to fp32 / fp16 / bf16. */
export function rounder(dtype: FloatDType): (x: number) => number {
  if (dtype === 'float32') return Math.fround;
  const buf = new Float32Array(1);
  return (x: number) => {
    buf[0] = x;
    return fromHalfBits(toHalfBits(buf, dtype), dtype)[0];
  };
}

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

/** Half an ulp of `dtype` at magnitude `scale`: the floor of any rounded output. */
export function roundingFloor(dtype: FloatDType, scale: number): number {
  const bits = dtype === 'float32' ? 24 : dtype === 'float16' ? 11 : 8;
  return Math.max(scale, 1e-30) * 2 ** -bits * 2;
}

export function tensor(values: Float32Array, shape: number[], dtype: FloatDType): Tensor {
  return Tensor.fromFloat32(values, shape, dtype);
}

export function bitsEqual(a: Tensor, b: Tensor): boolean {
  if (a.data.length !== b.data.length) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.every((v, i) => v === y[i]);
}
