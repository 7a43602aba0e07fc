// State-space test cases: random inputs in the requested dtype, the native result,
// and the fp64 reference with mamba's tolerances (rtol, atol per dtype).
import type { Test } from 'tap';
import { selectiveScan, selectiveScanSync, causalConv1d, causalConv1dSync, Tensor, type FloatDType } from '../lib';
import { selectiveScanRef, conv1dRef } from '../reference/ssm';
import { randomArray, roundTo } from './helpers';

export const tolerances: Record<FloatDType, [number, number]> = {
  float32: [6e-4, 2e-3],
  float16: [3e-3, 5e-3],
  bfloat16: [3e-2, 5e-2],
};

/** Elements outside atol + rtol*|ref| (NaN or Inf where the reference is finite count too). */
export function compare(got: ArrayLike<number>, ref: ArrayLike<number>, dtype: FloatDType) {
  const [rtol, atol] = tolerances[dtype];
  let bad = 0, worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    const ok = d <= atol + rtol * Math.abs(ref[i]) || (Number.isNaN(got[i]) && Number.isNaN(ref[i])) || got[i] === ref[i];
    if (!ok) bad++;
    const excess = Number.isFinite(d) ? d / (atol + rtol * Math.abs(ref[i])) : Infinity;
    if (!ok || excess > worst) {
      if (excess >= worst) at = i;
      worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
    }
  }
  return { bad, worst, at };
}

export function report(t: Test, got: ArrayLike<number>, ref: ArrayLike<number>, dtype: FloatDType, what: string) {
  const { bad, worst, at } = compare(got, ref, dtype);
  t.ok(got.length === ref.length && bad === 0,
    `${what}: ${bad} of ${ref.length} outside tolerance (worst ${worst.toFixed(3)} of the allowed error at ${at}: ${got[at]} vs ${ref[at]})`);
}

const f32 = (v: Float32Array, shape: number[]) => Tensor.fromFloat32(v, shape, 'float32');
const i32 = (v: readonly number[]) => new Tensor('int32', Int32Array.from(v), [v.length]);
const positive = (n: number, seed: number, scale: number, offset = 0) => randomArray(n, seed).map((x) => (x + 1) * 0.5 * scale + offset);

export interface ScanCase {
  b?: number;
  d: number;
  L: number;
  N: number;
  G?: number;
  BVarying?: boolean;
  CVarying?: boolean;
  dtype?: FloatDType;
  D?: boolean;
  z?: boolean;
  bias?: boolean;
  softplus?: boolean;
  init?: boolean;
  cuSeqlens?: number[];
  seed?: number;
  async?: boolean;
  /** delta = this * (uniform [0, 1)), default 0.5 as in mamba's tests. */
  deltaScale?: number;
  /** A = -(this * uniform [0, 1) + 0.1)... default 0.5 + 0.1 offset. */
  AScale?: number;
}

export function describeScan(c: ScanCase): string {
  const p = [`b${c.b ?? 1} d${c.d} L${c.L} N${c.N}`];
  if ((c.G ?? 1) > 1) p.push(`G${c.G}`);
  p.push(`B:${c.BVarying ?? true ? 'var' : 'const'} C:${c.CVarying ?? true ? 'var' : 'const'}`, c.dtype ?? 'float32');
  for (const k of ['D', 'z', 'bias', 'softplus', 'init'] as const) if (c[k]) p.push(k);
  if (c.cuSeqlens) p.push(`cu[${c.cuSeqlens}]`);
  if (c.deltaScale) p.push(`deltaScale${c.deltaScale}`);
  return p.join(' ');
}

export interface ScanRun {
  inputs: ReturnType<typeof scanInputs>;
  out: Tensor;
  lastState: Tensor;
}

export function scanInputs(c: ScanCase) {
  const b = c.b ?? 1, G = c.G ?? 1, dtype = c.dtype ?? 'float32', seed = c.seed ?? 1;
  const BV = c.BVarying ?? true, CV = c.CVarying ?? true;
  const { d, L, N } = c;
  const nseq = c.cuSeqlens ? c.cuSeqlens.length - 1 : b;
  const bcShape = (v: boolean) => (v ? [b, G, N, L] : [d, N]);
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const vals = {
    u: roundTo(randomArray(b * d * L, seed), dtype),
    delta: roundTo(positive(b * d * L, seed + 1, c.deltaScale ?? 0.5), dtype),
    A: positive(d * N, seed + 2, -(c.AScale ?? 0.5), -0.1),
    B: roundTo(randomArray(size(bcShape(BV)), seed + 3), dtype),
    C: roundTo(randomArray(size(bcShape(CV)), seed + 4), dtype),
    D: c.D ? randomArray(d, seed + 5) : undefined,
    z: c.z ? roundTo(randomArray(b * d * L, seed + 6, 2), dtype) : undefined,
    // Positive, as in mamba's tests: a negative dt would make exp(dt*A) grow.
    deltaBias: c.bias ? positive(d, seed + 7, 0.5) : undefined,
    initialState: c.init ? randomArray(nseq * d * N, seed + 8) : undefined,
  };
  const tensors = {
    u: Tensor.fromFloat32(vals.u, [b, d, L], dtype),
    delta: Tensor.fromFloat32(vals.delta, [b, d, L], dtype),
    A: f32(vals.A, [d, N]),
    B: Tensor.fromFloat32(vals.B, bcShape(BV), dtype),
    C: Tensor.fromFloat32(vals.C, bcShape(CV), dtype),
    options: {
      D: vals.D && f32(vals.D, [d]),
      z: vals.z && Tensor.fromFloat32(vals.z, [b, d, L], dtype),
      deltaBias: vals.deltaBias && f32(vals.deltaBias, [d]),
      initialState: vals.initialState && f32(vals.initialState, [nseq, d, N]),
      cuSeqlens: c.cuSeqlens && i32(c.cuSeqlens),
      deltaSoftplus: c.softplus,
      returnLastState: true as const,
    },
  };
  return { vals, tensors, dims: { b, d, L, N, G }, dtype, BV, CV };
}

export async function runScan(c: ScanCase): Promise<ScanRun> {
  const inputs = scanInputs(c);
  const { u, delta, A, B, C, options } = inputs.tensors;
  const r = c.async ? await selectiveScan(u, delta, A, B, C, options) : selectiveScanSync(u, delta, A, B, C, options);
  return { inputs, out: r.out, lastState: r.lastState };
}

/** Runs the case and checks out and lastState against the fp64 recurrence. */
export async function checkScan(t: Test, c: ScanCase): Promise<ScanRun> {
  const run = await runScan(c);
  const { vals, dims, dtype, BV, CV } = run.inputs;
  const ref = selectiveScanRef({ ...vals, BVarying: BV, CVarying: CV, softplus: c.softplus, cuSeqlens: c.cuSeqlens }, dims);
  const name = describeScan(c);
  t.equal(run.out.dtype, dtype, `${name}: out dtype`);
  report(t, run.out.toFloat32(), ref.out, dtype, `${name}: out`);
  // The state is fp32 whatever the input dtype.
  report(t, run.lastState.toFloat32(), ref.lastState, 'float32', `${name}: lastState`);
  return run;
}

export interface ConvCase {
  b?: number;
  d: number;
  L: number;
  w: number;
  dtype?: FloatDType;
  bias?: boolean;
  silu?: boolean;
  init?: boolean;
  cuSeqlens?: number[];
  seed?: number;
  async?: boolean;
}

export function describeConv(c: ConvCase): string {
  const p = [`b${c.b ?? 1} d${c.d} L${c.L} w${c.w}`, c.dtype ?? 'float32'];
  for (const k of ['bias', 'silu', 'init'] as const) if (c[k]) p.push(k);
  if (c.cuSeqlens) p.push(`cu[${c.cuSeqlens}]`);
  return p.join(' ');
}

export function convInputs(c: ConvCase) {
  const b = c.b ?? 1, dtype = c.dtype ?? 'float32', seed = c.seed ?? 1;
  const nseq = c.cuSeqlens ? c.cuSeqlens.length - 1 : b;
  const vals = {
    x: roundTo(randomArray(b * c.d * c.L, seed), dtype),
    weight: roundTo(randomArray(c.d * c.w, seed + 1), dtype),
    bias: c.bias ? roundTo(randomArray(c.d, seed + 2), dtype) : undefined,
    initialStates: c.init ? roundTo(randomArray(nseq * c.d * (c.w - 1), seed + 3), dtype) : undefined,
  };
  const t = {
    x: Tensor.fromFloat32(vals.x, [b, c.d, c.L], dtype),
    weight: Tensor.fromFloat32(vals.weight, [c.d, c.w], dtype),
    options: {
      bias: vals.bias && Tensor.fromFloat32(vals.bias, [c.d], dtype),
      initialStates: vals.initialStates && Tensor.fromFloat32(vals.initialStates, [nseq, c.d, c.w - 1], dtype),
      cuSeqlens: c.cuSeqlens && i32(c.cuSeqlens),
      activation: c.silu ? ('silu' as const) : ('none' as const),
      returnFinalStates: true as const,
    },
  };
  return { vals, tensors: t, b, dtype };
}

export async function checkConv(t: Test, c: ConvCase) {
  const inp = convInputs(c);
  const { x, weight, options } = inp.tensors;
  const r = c.async ? await causalConv1d(x, weight, options) : causalConv1dSync(x, weight, options);
  const ref = conv1dRef({ ...inp.vals, silu: c.silu, cuSeqlens: c.cuSeqlens }, inp.b, c.d, c.L, c.w);
  const name = describeConv(c);
  report(t, r.out.toFloat32(), ref.out, inp.dtype, `${name}: out`);
  // Final states are copies of inputs: exact.
  t.same(Array.from(r.finalStates.toFloat32()), Array.from(ref.finalStates), `${name}: finalStates`);
  return r;
}

// A view whose rows sit `gap` elements apart inside a larger buffer, one element in.
export function spread(x: Tensor, gap: number): Tensor {
  const shape = [...x.shape], rows = x.size / shape[shape.length - 1], len = shape[shape.length - 1];
  const data = new (x.data.constructor as new (n: number) => Float32Array | Uint16Array)(1 + rows * (len + gap));
  const src = x.contiguous().data;
  for (let r = 0; r < rows; r++) for (let i = 0; i < len; i++) data[1 + r * (len + gap) + i] = src[r * len + i];
  const strides = shape.map((_, i) => shape.slice(i + 1, -1).reduce((a, b) => a * b, 1) * (i === shape.length - 1 ? 1 : len + gap));
  strides[shape.length - 1] = 1;
  return new Tensor(x.dtype, data.subarray(1) as Float32Array, shape, strides);
}
