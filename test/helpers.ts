// Shared test utilities: seeded data, dtype rounding and error measures.
import { Tensor, toHalfBits, fromHalfBits, type FloatDType } from '../lib';

export { rng, randomArray, gaussian } from '../reference/random';
export { maxAbs, maxAbsDiff, cosine, relL1 } from '../reference/measure';

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

/** Same bits, element for element, of two fp32 arrays. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((w, i) => w === y[i]);
}

/** Decode shapes of quantized attention (a few query rows against a longer cache). */
export const quantDecodeShapes = [
  { B: 1, Hq: 8, Hkv: 2, Nq: 1, Nk: 1000, D: 128, Dv: 128 },  // GQA 4, several 192-key blocks
  { B: 2, Hq: 4, Hkv: 1, Nq: 2, Nk: 333, D: 33, Dv: 17 },     // 8 rows, odd dims and key count
  { B: 1, Hq: 1, Hkv: 1, Nq: 8, Nk: 70, D: 7, Dv: 9 },        // 8 tokens, Dv below a vector
  { B: 1, Hq: 6, Hkv: 2, Nq: 1, Nk: 1, D: 16, Dv: 24 },       // one key
  { B: 1, Hq: 2, Hkv: 1, Nq: 3, Nk: 401, D: 64, Dv: 72 },     // 6 rows, Dv past a vector
  { B: 1, Hq: 5, Hkv: 5, Nq: 5, Nk: 257, D: 40, Dv: 40 },     // no GQA
  { B: 2, Hq: 3, Hkv: 1, Nq: 1, Nk: 333, D: 64, Dv: 80 },     // 3 rows: 64 columns and a partial vector
] as const;

/** A decode shape's queries with E zero rows before each head's: a call of Nq + E rows takes the tiled path. */
export function tiledRows(q: Float32Array, heads: number, Nq: number, D: number, E: number): Float32Array {
  const out = new Float32Array(heads * (Nq + E) * D);
  for (let r = 0; r < heads; r++) out.set(q.subarray(r * Nq * D, (r + 1) * Nq * D), (r * (Nq + E) + E) * D);
  return out;
}
/** The query heads whose outputs or LSEs differ in any bit between a decode call and its tiledRows twin. */
export function headsOffTiled(dec: { out: Tensor; lse?: Tensor }, til: { out: Tensor; lse?: Tensor },
  heads: number, Nq: number, Dv: number, E: number): number[] {
  const f32 = (x?: Tensor) => x!.data as Float32Array, Nt = Nq + E, off: number[] = [];
  for (let r = 0; r < heads; r++)
    if (!sameBits(f32(dec.out).subarray(r * Nq * Dv, (r + 1) * Nq * Dv), f32(til.out).subarray((r * Nt + E) * Dv, (r + 1) * Nt * Dv)) ||
      !sameBits(f32(dec.lse).subarray(r * Nq, (r + 1) * Nq), f32(til.lse).subarray(r * Nt + E, (r + 1) * Nt))) off.push(r);
  return off;
}

/**
 * The quantized-attention option sweep over `shapes`: per shape qkBits 8 / 4 x granularity
 * block / token, every other case causal, every third with a window whose edges fall on odd
 * keys (they cut key blocks), smoothQ with INT4; seeds seed0, seed0 + 1, ...
 */
export function* quantSweep<S extends { Nk: number }>(shapes: readonly S[], seed0: number) {
  let n = 0;
  for (const s of shapes)
    for (const qkBits of [8, 4] as const)
      for (const granularity of ['block', 'token'] as const) {
        const causal = (n & 1) === 1;
        const window: [number, number] | undefined = n % 3 === 2 ? [Math.max(1, (s.Nk >> 2) | 1), causal ? 0 : 5] : undefined;
        yield [s, { qkBits, granularity, causal, window, seed: seed0 + n, smoothQ: qkBits === 4 }] as const;
        n++;
      }
}
