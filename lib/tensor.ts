// Tensor: dtype, shape, strides (in elements), device and data. CPU tensors wrap a
// TypedArray without copying; fp16 / bf16 data live in a Uint16Array.
import { fromHalfBits, toHalfBits } from './half';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int32';
export type FloatDType = 'float32' | 'float16' | 'bfloat16';
export type TypedArray = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array;

/** An onnxruntime-style tensor: {type, dims, data}. */
export interface OrtLikeTensor {
  type: string;
  dims: readonly number[];
  data: unknown;
  location?: string;
}

/** What the ops accept wherever a tensor is expected. */
export type TensorLike = Tensor | OrtLikeTensor | { data: TypedArray; shape: readonly number[]; dtype?: DType };

const arrayTypes: Record<DType, { new (n: number): TypedArray; name: string }> = {
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int32: Int32Array,
};

const dtypeOfArray = (a: unknown): DType | undefined =>
  a instanceof Float32Array ? 'float32'
  : a instanceof Int8Array ? 'int8'
  : a instanceof Uint8Array ? 'uint8'
  : a instanceof Int32Array ? 'int32'
  : undefined;

function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(arrayTypes, s);
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function checkShape(shape: readonly number[], name: string): void {
  if (!Array.isArray(shape)) throw new TypeError(`${name}.shape must be an array of integers`);
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new RangeError(`${name}.shape[${i}] must be a non-negative integer, got ${String(d)}`);
  });
}

// Float16Array (where the runtime has one) is viewed as its bits without a copy.
function asHalfBits(data: unknown): Uint16Array | undefined {
  if (data instanceof Uint16Array) return data;
  const F16 = (globalThis as { Float16Array?: new (...a: never[]) => ArrayBufferView }).Float16Array;
  if (F16 && data instanceof F16) {
    const v = data as ArrayBufferView & { length: number };
    return new Uint16Array(v.buffer, v.byteOffset, v.length);
  }
  return undefined;
}

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly device: 'cpu' = 'cpu';
  readonly data: TypedArray;

  /**
   * Wraps `data` (no copy). `strides` default to contiguous row-major; every
   * addressed element must lie inside `data`.
   */
  constructor(dtype: DType, data: TypedArray, shape: readonly number[], strides?: readonly number[]) {
    if (!isDType(dtype)) throw new TypeError(`dtype must be one of ${Object.keys(arrayTypes).join(', ')}, got ${String(dtype)}`);
    const want = arrayTypes[dtype];
    if (!(data instanceof want)) throw new TypeError(`data for dtype ${dtype} must be a ${want.name}`);
    checkShape(shape, 'tensor');
    const st = strides ? [...strides] : contiguousStrides(shape);
    if (st.length !== shape.length) throw new RangeError(`strides must have ${shape.length} entries, got ${st.length}`);
    let last = 0;
    let empty = false;
    st.forEach((s, i) => {
      if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`strides[${i}] must be a non-negative integer, got ${String(s)}`);
      if (shape[i] === 0) empty = true;
      else last += (shape[i] - 1) * s;
    });
    if (!empty && last >= data.length)
      throw new RangeError(`shape [${shape.join(', ')}] with strides [${st.join(', ')}] reaches element ${last}, but data holds ${data.length}`);
    this.dtype = dtype;
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(st);
  }

  /** Accepts a Tensor, an onnxruntime-style {type, dims, data}, or {data, shape[, dtype]}. */
  static from(x: TensorLike, name = 'tensor'): Tensor {
    if (x instanceof Tensor) return x;
    if (x === null || typeof x !== 'object') throw new TypeError(`${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    const o = x as Partial<OrtLikeTensor> & { shape?: readonly number[]; dtype?: unknown; strides?: readonly number[] };
    if (o.location !== undefined && o.location !== 'cpu')
      throw new TypeError(`${name}.location must be 'cpu', got '${String(o.location)}'`);
    const shape = o.dims ?? o.shape;
    const dtype = o.type ?? o.dtype ?? dtypeOfArray(o.data);
    if (!shape || !('data' in o)) throw new TypeError(`${name} must be a Tensor or an object with data and shape (or ORT-style dims and type)`);
    if (!isDType(dtype)) throw new TypeError(`${name} has an unsupported element type ${String(dtype)}`);
    const data = dtype === 'float16' ? asHalfBits(o.data) ?? o.data : o.data;
    try {
      return new Tensor(dtype, data as TypedArray, shape, o.strides);
    } catch (e) {
      // Name the argument the caller passed.
      if (e instanceof TypeError) throw new TypeError(`${name}: ${e.message}`);
      if (e instanceof RangeError) throw new RangeError(`${name}: ${e.message}`);
      throw e;
    }
  }

  /** A new zero-filled contiguous tensor. */
  static zeros(dtype: DType, shape: readonly number[]): Tensor {
    checkShape(shape, 'tensor');
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n)) throw new RangeError(`shape [${shape.join(', ')}] is too large`);
    return new Tensor(dtype, new arrayTypes[dtype](n), shape);
  }

  /** fp32 values converted to `dtype` (fp16/bf16 rounded to nearest even). */
  static fromFloat32(values: ArrayLike<number>, shape: readonly number[], dtype: FloatDType = 'float32'): Tensor {
    const data = dtype === 'float32' ? Float32Array.from(values) : toHalfBits(values, dtype);
    return new Tensor(dtype, data, shape);
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isContiguous(): boolean {
    const c = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d <= 1 || this.strides[i] === c[i]);
  }

  /** A view with dimensions reordered (no copy): permute([0, 2, 1, 3]) swaps N and H. */
  permute(dims: readonly number[]): Tensor {
    if (dims.length !== this.shape.length || [...dims].sort((a, b) => a - b).some((d, i) => d !== i))
      throw new RangeError(`dims must be a permutation of 0..${this.shape.length - 1}`);
    return new Tensor(this.dtype, this.data, dims.map((d) => this.shape[d]), dims.map((d) => this.strides[d]));
  }

  /** The elements in row-major order as fp32 (fp16/bf16 converted), always a copy. */
  toFloat32(): Float32Array {
    const dense = this.contiguousData();
    if (this.dtype === 'float16' || this.dtype === 'bfloat16') return fromHalfBits(dense as Uint16Array, this.dtype);
    return Float32Array.from(dense as ArrayLike<number>);
  }

  /** A contiguous copy (or this tensor when already contiguous). */
  contiguous(): Tensor {
    return this.isContiguous && this.data.length === this.size ? this : new Tensor(this.dtype, this.contiguousData(), this.shape);
  }

  private contiguousData(): TypedArray {
    const n = this.size;
    const out = new arrayTypes[this.dtype](n);
    const idx = new Array<number>(this.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let d = 0; d < idx.length; d++) off += idx[d] * this.strides[d];
      out[i] = this.data[off];
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d] < this.shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }
}

/** Wraps a plain tensor object returned by the native addon. */
export function fromNative(o: { dtype: DType; shape: number[]; strides: number[]; data: TypedArray }): Tensor {
  return new Tensor(o.dtype, o.data, o.shape, o.strides);
}
