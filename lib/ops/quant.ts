// quantize / dequantize and quantizedAttention: SageAttention-style INT8/INT4 attention
// with quantized K/V caches (docs/semantics.md, "Quantized attention"), on the CPU and on CUDA.
import { native, type NativeOptions, type NativeResult, type NativeTensor } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { typeError } from '../errors';
import { asTensor, opOptions, outAnd, type OutOption } from './common';
import type { AttentionOptions, AttentionResult } from './attention';
import { headModesTensor, nativeMask, type BlockIndices, type BlockMaskLike, type BlockSparseOptions } from './sparse';

export type QuantBits = 8 | 4;
/** 'block': one scale per block of tokens of a head; 'token': one scale per row. */
export type QuantGranularity = 'block' | 'token';

export interface QuantizeOptions {
  /** 8 (default): int8 in [-127, 127]; 4: int4 in [-7, 7], two per byte, element 2i in the low nibble of byte i. */
  bits?: QuantBits;
  /** Default 'block'. */
  granularity?: QuantGranularity;
  /** Tokens per scale when granularity is 'block'; default 64. */
  blockSize?: number;
  /** Subtract the per-(batch, head) channel mean over tokens before quantizing, and keep it (SageAttention's K smoothing); default false. */
  smooth?: boolean;
  /** The layout of x: 'bhnd' (default) or 'bnhd'. The quantized tensor is always [B, H, N, D]. */
  layout?: 'bhnd' | 'bnhd';
}

/**
 * A symmetric quantization of a [B, H, N, D] tensor (shape), rows contiguous per head:
 * value = data * scale (+ mean[channel] when smoothed).
 */
export interface QuantizedTensor {
  /** bits 8: int8 [B, H, N, D]; bits 4: uint8 [B, H, N, ceil(D / 2)], packed. */
  data: Tensor;
  /** fp32 [B, H, groups]: groups = N per token, ceil(N / blockSize) per block; max|x| / 127 (or / 7), 0 for an all-zero group. */
  scales: Tensor;
  /** fp32 [B, H, D]: the per-channel mean subtracted before quantizing (smooth: true). */
  mean?: Tensor;
  bits: QuantBits;
  granularity: QuantGranularity;
  blockSize: number;
  /** [B, H, N, D] of the unquantized tensor. */
  shape: readonly [number, number, number, number];
}

/** dequantize's options: `out` only (fp32 [B, H, N, D]). */
export type DequantizeOptions = OutOption;

export interface QuantizedAttentionOptions
  extends AttentionOptions, Pick<BlockSparseOptions, 'blockSize' | 'headModes' | 'sinkBlocks' | 'localBlocks'> {
  /** A block mask as blockSparseAttention takes it (uint8 [B, Hm, nQB, nKB] or its compact form; CPU):
   *  only the listed key blocks are read (PAROAttention's sparse + quantized combination).
   *  blockSize, headModes, sinkBlocks and localBlocks as in blockSparseAttention. */
  mask?: BlockMaskLike;
  /** Bits of Q and K (K when quantized in the call): 8 (default) or 4. */
  qkBits?: QuantBits;
  /** Scales of Q and K: 'block' (default: 128 query, 64 key tokens of one head) or 'token' (one per row). */
  granularity?: QuantGranularity;
  /** Subtract K's per-channel mean over tokens before quantizing it (default true). The caller's k is never modified; a returned LSE includes the shift. */
  smoothK?: boolean;
  /** Subtract Q's per-head channel mean over tokens before quantizing it; its product with K is added back exactly in fp32 (SageAttention2; for INT4). Default false. */
  smoothQ?: boolean;
  /** P and V are rounded to this type before P.V, accumulated in fp32. Default 'fp32'.
   *  'int8': V as int8 (a quantized v as it is, else quantized in the call with the
   *  call's granularity), P times each key's V scale quantized to u8 per query row and block of
   *  64 keys (scale max / 255), integer P'.V' (docs/semantics.md; CPU and CUDA). */
  pv?: 'bf16' | 'fp16' | 'fp32' | 'int8';
}

/** What the addon takes for a quantized argument. */
export interface NativeQuantized {
  data: Tensor;
  scales: Tensor;
  mean?: Tensor;
  bits: number;
  granularity: QuantGranularity;
  blockSize: number;
  shape: readonly number[];
}

const isQuantized = (x: unknown): x is QuantizedTensor =>
  typeof x === 'object' && x !== null && 'scales' in x && 'data' in x && 'bits' in x;

function toNativeQuantized(x: QuantizedTensor, name: string): NativeQuantized {
  if (!Array.isArray(x.shape)) throw typeError(`${name}.shape must be an array [B, H, N, D]`);
  return {
    data: Tensor.from(x.data, `${name}.data`),
    scales: Tensor.from(x.scales, `${name}.scales`),
    mean: x.mean === undefined ? undefined : Tensor.from(x.mean, `${name}.mean`),
    bits: x.bits,
    granularity: x.granularity,
    blockSize: x.blockSize,
    shape: x.shape,
  };
}

const kvArg = (x: TensorLike | QuantizedTensor, name: string) =>
  isQuantized(x) ? toNativeQuantized(x, name) : Tensor.from(x, name);

function quantized(
  r: { data: NativeTensor; scales: NativeTensor; mean?: NativeTensor },
  x: Tensor,
  o: QuantizeOptions | undefined,
): QuantizedTensor {
  const bhnd = (o?.layout ?? 'bhnd') === 'bhnd';
  const [b, s1, s2, d] = x.shape;
  return {
    data: asTensor(r.data),
    scales: asTensor(r.scales),
    ...(r.mean ? { mean: asTensor(r.mean) } : {}),
    bits: o?.bits ?? 8,
    granularity: o?.granularity ?? 'block',
    blockSize: o?.blockSize ?? 64,
    shape: bhnd ? [b, s1, s2, d] : [b, s2, s1, d],
  };
}

/**
 * Symmetric INT8/INT4 quantization of x [B, H, N, D] (fp32/fp16/bf16): per group of rows,
 * scale = max|x| / 127 (INT4: / 7) in fp32, data = round-half-away-from-zero(x / scale)
 * (x / scale in fp32), 0 where the scale is 0. Runs off the event loop.
 */
export async function quantize(x: TensorLike, options?: QuantizeOptions): Promise<QuantizedTensor> {
  const t = Tensor.from(x, 'x');
  return quantized(await native().quantize(t, opOptions(options, [])), t, options);
}

/** quantize() on the calling thread. */
export function quantizeSync(x: TensorLike, options?: QuantizeOptions): QuantizedTensor {
  const t = Tensor.from(x, 'x');
  return quantized(native().quantizeSync(t, opOptions(options, [])), t, options);
}

/** fp32 [B, H, N, D]: data * scale (+ mean). */
export async function dequantize(x: QuantizedTensor, options?: DequantizeOptions): Promise<Tensor> {
  return asTensor(await native().dequantize(toNativeQuantized(x, 'x'), opOptions(options)));
}

/** dequantize() on the calling thread. */
export function dequantizeSync(x: QuantizedTensor, options?: DequantizeOptions): Tensor {
  return asTensor(native().dequantizeSync(toNativeQuantized(x, 'x'), opOptions(options)));
}

/** quantizedAttention's options as the addon takes them: the mask in compact form. */
export type NativeQuantizedAttentionOptions = NativeOptions<Omit<QuantizedAttentionOptions, 'mask' | 'headModes'>> & {
  mask?: BlockIndices;
  headModes?: Tensor;
  maskKeyBlocks?: number;
};

function nativeOptions(options: QuantizedAttentionOptions | undefined): NativeQuantizedAttentionOptions | undefined {
  const o = opOptions(options) as NativeQuantizedAttentionOptions | undefined;
  if (!o || !options) return o;
  if (options.mask !== undefined && options.mask !== null) {
    const m = nativeMask(options.mask, 'options.mask');
    o.mask = m.mask;
    if (m.maskKeyBlocks !== undefined) o.maskKeyBlocks = m.maskKeyBlocks;
  }
  if (options.headModes !== undefined) o.headModes = headModesTensor(options.headModes);
  return o;
}

const wrap = (r: NativeResult<'lse'>) => outAnd(r, 'lse');

/**
 * attention() with Q.K^T on INT8 or INT4 (SageAttention): Q and K are quantized (K
 * smoothed by its channel mean first), S = int32(Q' K'^T) * q_scale * k_scale * scale
 * plus the exact smoothing terms, then the usual softmax and P.V (P and V rounded to
 * `pv`). k and v may be pre-quantized (quantize(k, {smooth: true}), quantize(v)) so that
 * a KV cache is quantized once; decode calls (a few query rows) read such caches as they
 * are. Same shapes and options as attention().
 */
export async function quantizedAttention<O extends QuantizedAttentionOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike | QuantizedTensor, v: TensorLike | QuantizedTensor, options?: O,
): Promise<AttentionResult<O>> {
  const r = await native().quantizedAttention(Tensor.from(q, 'q'), kvArg(k, 'k'), kvArg(v, 'v'), nativeOptions(options));
  return wrap(r) as AttentionResult<O>;
}

/** quantizedAttention() on the calling thread. */
export function quantizedAttentionSync<O extends QuantizedAttentionOptions | undefined = undefined>(
  q: TensorLike, k: TensorLike | QuantizedTensor, v: TensorLike | QuantizedTensor, options?: O,
): AttentionResult<O> {
  return wrap(native().quantizedAttentionSync(Tensor.from(q, 'q'), kvArg(k, 'k'), kvArg(v, 'v'), nativeOptions(options))) as AttentionResult<O>;
}


