// Tensor: dtype, shape, strides (in elements), device and data. CPU tensors wrap a
// TypedArray without copying; fp16 / bf16 data live in a Uint16Array. CUDA tensors
// ('cuda:N') own a block of device memory: freed by dispose() / Symbol.dispose, or
// by the native handle's finalizer when it is garbage collected (a backstop only).
import { fromHalfBits, toHalfBits } from './half';
import { native, type NativeDeviceBuffer, type NativeTensor } from './native';
import { ErrorCodes, rangeError, typeError, type ErrorCode } from './errors';

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

const arrayTypes: Record<DType, { new (n: number): TypedArray; name: string; BYTES_PER_ELEMENT: number }> = {
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
  if (!Array.isArray(shape)) throw typeError(`${name}.shape must be an array of integers`, ErrorCodes.SHAPE);
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0)
      throw rangeError(`${name}.shape[${i}] must be a non-negative integer, got ${String(d)}`, ErrorCodes.SHAPE);
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

/** 'cpu', or 'cuda:N' for the N-th CUDA device ('cuda' means 'cuda:0' where a device is named). */
export type Device = 'cpu' | `cuda:${number}`;

/** 'cpu' | 'cuda' | 'cuda:N' -> 'cpu' | 'cuda:N'. */
export function parseDevice(device: unknown, name = 'device'): Device {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda') return 'cuda:0';
  if (typeof device === 'string' && /^cuda:\d{1,4}$/.test(device)) return `cuda:${Number(device.slice(5))}`;
  throw typeError(`${name} must be 'cpu', 'cuda' or 'cuda:N', got ${typeof device === 'string' ? `'${device}'` : String(device)}`);
}

/** The device memory behind a CUDA tensor (views of one tensor share it). */
export class DeviceStorage {
  constructor(readonly buffer: NativeDeviceBuffer, readonly device: Device) {}
}

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** 'cpu' or 'cuda:N'. */
  readonly device: Device;
  readonly #data: TypedArray | undefined;
  readonly #storage: DeviceStorage | undefined;

  /**
   * Wraps `data` (no copy). `strides` default to contiguous row-major; every
   * addressed element must lie inside `data`. (A DeviceStorage in place of data
   * makes a view of device memory; use `tensor.to('cuda')` to create one.)
   */
  constructor(dtype: DType, data: TypedArray | DeviceStorage, shape: readonly number[], strides?: readonly number[]) {
    if (!isDType(dtype)) throw typeError(`dtype must be one of ${Object.keys(arrayTypes).join(', ')}, got ${String(dtype)}`, ErrorCodes.DTYPE);
    const want = arrayTypes[dtype];
    const onDevice = data instanceof DeviceStorage;
    if (!onDevice && !(data instanceof want)) throw typeError(`data for dtype ${dtype} must be a ${want.name}`, ErrorCodes.DTYPE);
    const capacity = onDevice ? Math.floor(data.buffer.bytes / bytesOf(dtype)) : data.length;
    checkShape(shape, 'tensor');
    const st = strides ? [...strides] : contiguousStrides(shape);
    if (st.length !== shape.length) throw rangeError(`strides must have ${shape.length} entries, got ${st.length}`, ErrorCodes.SHAPE);
    let last = 0;
    let empty = false;
    st.forEach((s, i) => {
      if (!Number.isSafeInteger(s) || s < 0) throw rangeError(`strides[${i}] must be a non-negative integer, got ${String(s)}`, ErrorCodes.SHAPE);
      if (shape[i] === 0) empty = true;
      else last += (shape[i] - 1) * s;
    });
    if (!empty && last >= capacity)
      throw rangeError(`shape [${shape.join(', ')}] with strides [${st.join(', ')}] reaches element ${last}, but data holds ${capacity}`, ErrorCodes.SHAPE);
    this.dtype = dtype;
    this.device = onDevice ? data.device : 'cpu';
    this.#data = onDevice ? undefined : data;
    this.#storage = onDevice ? data : undefined;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(st);
  }

  /** Accepts a Tensor, an onnxruntime-style {type, dims, data}, or {data, shape[, dtype]}. */
  static from(x: TensorLike, name = 'tensor'): Tensor {
    if (x instanceof Tensor) return x;
    if (x === null || typeof x !== 'object') throw typeError(`${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    const o = x as Partial<OrtLikeTensor> & { shape?: readonly number[]; dtype?: unknown; strides?: readonly number[]; device?: unknown };
    if (o.location !== undefined && o.location !== 'cpu')
      throw typeError(`${name}.location must be 'cpu', got '${String(o.location)}'`);
    // Plain objects hold host data: one that claims a device must not run on the CPU.
    if (o.device !== undefined && o.device !== 'cpu')
      throw typeError(`${name}.device is '${String(o.device)}', but only a Tensor can live on a CUDA device (use tensor.to('cuda'))`);
    const shape = o.dims ?? o.shape;
    const dtype = o.type ?? o.dtype ?? dtypeOfArray(o.data);
    if (!shape || !('data' in o)) throw typeError(`${name} must be a Tensor or an object with data and shape (or ORT-style dims and type)`);
    if (!isDType(dtype)) throw typeError(`${name} has an unsupported element type ${String(dtype)}`, ErrorCodes.DTYPE);
    const data = dtype === 'float16' ? asHalfBits(o.data) ?? o.data : o.data;
    try {
      return new Tensor(dtype, data as TypedArray, shape, o.strides);
    } catch (e) {
      // Name the argument the caller passed.
      const code = (e as { code?: ErrorCode }).code ?? ErrorCodes.ARG;
      if (e instanceof TypeError) throw typeError(`${name}: ${e.message}`, code);
      if (e instanceof RangeError) throw rangeError(`${name}: ${e.message}`, code);
      throw e;
    }
  }

  /** A new zero-filled contiguous tensor. */
  static zeros(dtype: DType, shape: readonly number[]): Tensor {
    checkShape(shape, 'tensor');
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n)) throw rangeError(`shape [${shape.join(', ')}] is too large`, ErrorCodes.SHAPE);
    return new Tensor(dtype, new arrayTypes[dtype](n), shape);
  }

  /** fp32 values converted to `dtype` (fp16/bf16 rounded to nearest even). */
  static fromFloat32(values: ArrayLike<number>, shape: readonly number[], dtype: FloatDType = 'float32'): Tensor {
    const data = dtype === 'float32' ? Float32Array.from(values) : toHalfBits(values, dtype);
    return new Tensor(dtype, data, shape);
  }

  /** The elements of a CPU tensor (no copy). A CUDA tensor's data live in device memory: use toArray() or to('cpu'). */
  get data(): TypedArray {
    if (this.#data) return this.#data;
    throw typeError(
      `this tensor is on ${this.device}: its data live in device memory; use \`await t.toArray()\` or \`await t.to('cpu')\``,
    );
  }

  /** The native device-memory handle of a CUDA tensor (what the ops marshal); undefined on the CPU. */
  get deviceBuffer(): NativeDeviceBuffer | undefined {
    return this.#storage?.buffer;
  }

  /** True once dispose() freed a CUDA tensor's memory (views of it share that memory). */
  get disposed(): boolean {
    return this.#storage?.buffer.disposed ?? false;
  }

  /**
   * This tensor on `device` ('cpu', 'cuda', 'cuda:N'): a copy, or this tensor
   * when it is already there. A strided CPU tensor is made contiguous on the way.
   */
  async to(device: Device | 'cuda'): Promise<Tensor> {
    const dev = parseDevice(device);
    this.#checkLive();
    if (dev === this.device) return this;
    if (dev === 'cpu') {
      const host = new arrayTypes[this.dtype](Math.floor(this.#storage!.buffer.bytes / bytesOf(this.dtype)));
      await native().copyToHost(this.#storage!.buffer, host);
      return new Tensor(this.dtype, host, this.shape, this.strides);
    }
    const dense = (this.device === 'cpu' ? this : await this.to('cpu')).contiguous().data;
    const buffer = new (native().DeviceBuffer)(Number(dev.slice(5)), dense.byteLength);
    try {
      await native().copyToDevice(buffer, dense);
    } catch (e) {
      buffer.dispose();
      throw e;
    }
    return new Tensor(this.dtype, new DeviceStorage(buffer, dev), this.shape);
  }

  /** The elements in row-major order, copied into a new TypedArray (from the device for CUDA tensors). */
  async toArray(): Promise<TypedArray> {
    const host = this.device === 'cpu' ? this : await this.to('cpu');
    return host.contiguousData();
  }

  /** Frees a CUDA tensor's device memory now (and that of every view sharing it); no-op on the CPU. */
  dispose(): void {
    this.#storage?.buffer.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #checkLive(): void {
    if (this.disposed)
      throw typeError(`this tensor was disposed: its ${this.device} memory is freed and it can no longer be used`);
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
      throw rangeError(`dims must be a permutation of 0..${this.shape.length - 1}`);
    this.#checkLive();
    return new Tensor(this.dtype, this.#storage ?? this.data, dims.map((d) => this.shape[d]), dims.map((d) => this.strides[d]));
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
    this.#checkLive();
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

const bytesOf = (dtype: DType): number => arrayTypes[dtype].BYTES_PER_ELEMENT;

/** Wraps a plain tensor object returned by the native addon. */
export function fromNative(o: NativeTensor): Tensor {
  if (o.deviceBuffer) return new Tensor(o.dtype, new DeviceStorage(o.deviceBuffer, parseDevice(o.device)), o.shape, o.strides);
  return new Tensor(o.dtype, o.data as TypedArray, o.shape, o.strides);
}
