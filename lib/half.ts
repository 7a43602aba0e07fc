// fp16 / bf16 <-> fp32 on the JavaScript side, exact IEEE round-to-nearest-even,
// bit-identical to the native conversions (csrc/core/half.h).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float32ToBfloat16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bfloat16BitsToFloat32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  let u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  u &= 0x7fffffff;
  if (u > 0x7f800000) return sign | 0x7e00;
  if (u >= 0x477ff000) return sign | 0x7c00;
  if (u < 0x38800000) {
    // Subnormal: adding 0.5 lets the FPU round the mantissa to nearest even
    // (the double sum is exact wherever a tie can occur).
    u32[0] = u;
    f32[0] = f32[0] + 0.5;
    return sign | ((u32[0] - 0x3f000000) & 0xffff);
  }
  const odd = (u >>> 13) & 1;
  return sign | (((u + 0xc8000fff + odd) >>> 13) & 0xffff);
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  if (exp === 0) return sign * man * 2 ** -24;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** Converts fp32 values to fp16 or bf16 bit patterns. */
export function toHalfBits(src: ArrayLike<number>, dtype: 'float16' | 'bfloat16'): Uint16Array {
  const out = new Uint16Array(src.length);
  const conv = dtype === 'float16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
  for (let i = 0; i < src.length; i++) out[i] = conv(src[i]);
  return out;
}

/** Converts fp16 or bf16 bit patterns to fp32 values. */
export function fromHalfBits(src: Uint16Array, dtype: 'float16' | 'bfloat16'): Float32Array {
  const out = new Float32Array(src.length);
  const conv = dtype === 'float16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
  for (let i = 0; i < src.length; i++) out[i] = conv(src[i]);
  return out;
}
