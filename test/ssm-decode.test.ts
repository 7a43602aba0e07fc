// The decode ops: selectiveStateUpdate and causalConv1dUpdate against their fp64
// references, decode loops that reproduce the full-sequence ops step by step, and
// continuous batching with state slots.
import t from 'tap';
import {
  selectiveStateUpdate, selectiveStateUpdateSync, causalConv1dSync, causalConv1dUpdate, causalConv1dUpdateSync,
  setSimdLevel, Tensor, type FloatDType,
} from '../lib';
import { stateUpdateRef } from '../reference/ssm';
import { randomArray, roundTo } from './helpers';
import { convInputs, report, runScan, type ScanCase } from './ssm-check';

const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];
const f32 = (v: ArrayLike<number>, shape: number[]) => Tensor.fromFloat32(v, shape, 'float32');
const i32 = (v: readonly number[]) => new Tensor('int32', Int32Array.from(v), [v.length]);

// Step l of a [b, d, L] array -> [b, d]; of a [b, G, N, L] array -> [b, G, N].
function step(v: ArrayLike<number>, rows: number, L: number, l: number): Float32Array {
  const r = new Float32Array(rows);
  for (let i = 0; i < rows; i++) r[i] = v[i * L + l];
  return r;
}

t.test('a decode loop of selectiveStateUpdate reproduces selectiveScan', async (t) => {
  const cases: ScanCase[] = [
    { b: 2, d: 37, L: 23, N: 16, D: true, z: true, bias: true, softplus: true, init: true },
    { b: 3, d: 24, L: 9, N: 5, G: 3 },
    { b: 1, d: 19, L: 12, N: 64, softplus: true, dtype: 'bfloat16', z: true },
    { b: 2, d: 8, L: 7, N: 256, init: true, dtype: 'float16', D: true },
    { b: 1, d: 3, L: 5, N: 1, softplus: true },
  ];
  for (const c of cases) {
    const scan = await runScan(c);
    const { vals, dims, dtype } = scan.inputs;
    const { b, d, L, N, G } = dims;
    const state = f32(vals.initialState ?? new Float32Array(b * d * N), [b, d, N]);
    const got = new Float32Array(b * d * L);
    for (let l = 0; l < L; l++) {
      const half = (v: ArrayLike<number>, shape: number[]) => Tensor.fromFloat32(v, shape, dtype);
      const out = selectiveStateUpdateSync(
        state, half(step(vals.u, b * d, L, l), [b, d]), half(step(vals.delta, b * d, L, l), [b, d]), f32(vals.A, [d, N]),
        half(step(vals.B, b * G * N, L, l), [b, G, N]), half(step(vals.C, b * G * N, L, l), [b, G, N]),
        {
          D: vals.D && f32(vals.D, [d]), dtBias: vals.deltaBias && f32(vals.deltaBias, [d]), dtSoftplus: c.softplus,
          z: vals.z && half(step(vals.z, b * d, L, l), [b, d]),
        });
      const o = out.toFloat32();
      for (let i = 0; i < b * d; i++) got[i * L + l] = o[i];
    }
    const name = `b${b} d${d} L${L} N${N} G${G} ${dtype}`;
    report(t, got, scan.out.toFloat32(), dtype, `${name}: outputs step by step`);
    report(t, state.toFloat32(), scan.lastState.toFloat32(), 'float32', `${name}: state after the loop`);
  }
});

t.test('selectiveStateUpdate against the reference, with slots and padding', async (t) => {
  for (const dtype of dtypes)
    for (const [b, d, N, G, slots] of [[3, 20, 16, 2, 5], [4, 7, 3, 1, 4], [2, 300, 64, 3, 3], [1, 1, 1, 1, 1]] as const) {
      const idx = b === 3 ? [4, -1, 1] : b === 4 ? [3, 2, -5, 0] : b === 2 ? [2, 0] : [0];
      const seed = b * 100 + d;
      const vals = {
        state: randomArray(slots * d * N, seed),
        x: roundTo(randomArray(b * d, seed + 1), dtype),
        dt: roundTo(randomArray(b * d, seed + 2), dtype),
        A: randomArray(d * N, seed + 3).map((v) => -Math.abs(v) - 0.1),
        B: roundTo(randomArray(b * G * N, seed + 4), dtype),
        C: roundTo(randomArray(b * G * N, seed + 5), dtype),
        D: randomArray(d, seed + 6),
        z: roundTo(randomArray(b * d, seed + 7), dtype),
        dtBias: randomArray(d, seed + 8),
      };
      const ref = stateUpdateRef({ ...vals, softplus: true, stateIndices: idx }, b, d, N, G);
      const state = f32(vals.state, [slots, d, N]);
      const h = (v: Float32Array, s: number[]) => Tensor.fromFloat32(v, s, dtype);
      const args = [state, h(vals.x, [b, d]), h(vals.dt, [b, d]), f32(vals.A, [d, N]), h(vals.B, [b, G, N]), h(vals.C, [b, G, N])] as const;
      const opts = { D: f32(vals.D, [d]), z: h(vals.z, [b, d]), dtBias: f32(vals.dtBias, [d]), dtSoftplus: true, stateIndices: i32(idx) };
      const out = dtype === 'float16' ? await selectiveStateUpdate(...args, opts) : selectiveStateUpdateSync(...args, opts);
      const name = `b${b} d${d} N${N} G${G} slots[${idx}] ${dtype}`;
      report(t, out.toFloat32(), ref.out, dtype, `${name}: out`);
      report(t, state.toFloat32(), ref.state, 'float32', `${name}: state`);
      const o = out.toFloat32();
      idx.forEach((s, r) => {
        if (s < 0) t.ok(o.slice(r * d, (r + 1) * d).every((v) => v === 0), `${name}: padding row ${r} outputs 0`);
      });
      const untouched = Array.from({ length: slots }, (_, s) => s).filter((s) => !idx.includes(s));
      for (const s of untouched)
        t.same(Array.from(state.toFloat32().slice(s * d * N, (s + 1) * d * N)), Array.from(vals.state.slice(s * d * N, (s + 1) * d * N)), `${name}: slot ${s} untouched`);
    }
});

t.test('selectiveStateUpdate accepts B and C as [b, N]', async (t) => {
  const b = 2, d = 9, N = 4;
  const vals = { x: randomArray(b * d, 1), dt: randomArray(b * d, 2).map(Math.abs), A: randomArray(d * N, 3).map((v) => -Math.abs(v)), B: randomArray(b * N, 4), C: randomArray(b * N, 5) };
  const state = f32(new Float32Array(b * d * N), [b, d, N]);
  const out = selectiveStateUpdateSync(state, f32(vals.x, [b, d]), f32(vals.dt, [b, d]), f32(vals.A, [d, N]), f32(vals.B, [b, N]), f32(vals.C, [b, N]));
  const ref = stateUpdateRef({ ...vals, state: new Float32Array(b * d * N) }, b, d, N, 1);
  report(t, out.toFloat32(), ref.out, 'float32', 'out');
});

t.test('selectiveStateUpdate on every SIMD path', async (t) => {
  t.teardown(() => void setSimdLevel('avx512'));
  for (const level of ['avx2', 'scalar'] as const) {
    setSimdLevel(level);
    const b = 2, d = 13, N = 19, G = 1;
    const vals = { state: randomArray(b * d * N, 9), x: randomArray(b * d, 1), dt: randomArray(b * d, 2), A: randomArray(d * N, 3).map((v) => -Math.abs(v)), B: randomArray(b * N, 4), C: randomArray(b * N, 5), z: randomArray(b * d, 6) };
    const state = f32(vals.state, [b, d, N]);
    const out = selectiveStateUpdateSync(state, f32(vals.x, [b, d]), f32(vals.dt, [b, d]), f32(vals.A, [d, N]), f32(vals.B, [b, G, N]), f32(vals.C, [b, G, N]), { z: f32(vals.z, [b, d]), dtSoftplus: true });
    const ref = stateUpdateRef({ ...vals, softplus: true }, b, d, N, G);
    report(t, out.toFloat32(), ref.out, 'float32', `${level}: out`);
    report(t, state.toFloat32(), ref.state, 'float32', `${level}: state`);
  }
});

t.test('a decode loop of causalConv1dUpdate reproduces causalConv1d', async (t) => {
  for (const dtype of dtypes)
    for (const [w, extra, silu, multi] of [[4, 0, true, false], [2, 3, false, true], [8, 1, true, true], [3, 0, false, false]] as const) {
      const b = 2, d = 11, L = 13, K = w - 1 + extra;
      const inp = convInputs({ b, d, L, w, dtype, bias: true, silu, init: true, seed: w + extra });
      const { x, weight, options } = inp.tensors;
      const full = causalConv1dSync(x, weight, options);
      // The rolling state starts as the initial states, left-padded to K.
      const st = new Float32Array(b * d * K);
      for (let i = 0; i < b * d; i++)
        for (let k = 0; k < w - 1; k++) st[i * K + extra + k] = inp.vals.initialStates![i * (w - 1) + k];
      const convState = Tensor.fromFloat32(st, [b, d, K], dtype);
      const got = new Float32Array(b * d * L);
      const opts = { bias: options.bias, activation: options.activation };
      if (multi) {
        const out = await causalConv1dUpdate(x, convState, weight, opts);
        t.same(out.shape, [b, d, L], 'out shaped like x');
        got.set(out.toFloat32());
      } else {
        for (let l = 0; l < L; l++) {
          const xl = Tensor.fromFloat32(step(inp.vals.x, b * d, L, l), [b, d], dtype);
          const o = causalConv1dUpdateSync(xl, convState, weight, opts).toFloat32();
          for (let i = 0; i < b * d; i++) got[i * L + l] = o[i];
        }
      }
      const name = `w${w} K${K} ${dtype}${silu ? ' silu' : ''}${multi ? ' T steps at once' : ''}`;
      report(t, got, full.out.toFloat32(), dtype, `${name}: outputs`);
      const fin = full.finalStates.toFloat32(), cs = convState.toFloat32();
      const tail = new Float32Array(b * d * (w - 1));
      for (let i = 0; i < b * d; i++) for (let k = 0; k < w - 1; k++) tail[i * (w - 1) + k] = cs[i * K + extra + k];
      t.same(Array.from(tail), Array.from(fin), `${name}: state ends as finalStates`);
    }
});

t.test('causalConv1dUpdate with slots and padding rows', async (t) => {
  const b = 3, d = 5, w = 4, K = 3, slots = 4;
  const st0 = randomArray(slots * d * K, 1);
  const convState = f32(st0, [slots, d, K]);
  const x = randomArray(b * d, 2), weight = randomArray(d * w, 3);
  const out = causalConv1dUpdateSync(f32(x, [b, d]), convState, f32(weight, [d, w]), { stateIndices: i32([2, -1, 0]) }).toFloat32();
  const cs = convState.toFloat32();
  const rowOf = [2, -1, 0];
  for (let r = 0; r < b; r++)
    for (let c = 0; c < d; c++) {
      const s = rowOf[r];
      if (s < 0) {
        t.equal(out[r * d + c], 0, `padding row ${r} outputs 0`);
        continue;
      }
      const win = [...Array.from(st0.slice((s * d + c) * K, (s * d + c + 1) * K)), x[r * d + c]];
      let acc = 0;
      for (let k = 0; k < w; k++) acc += weight[c * w + k] * win[win.length - w + k];
      t.ok(Math.abs(out[r * d + c] - acc) <= 1e-6, `row ${r} channel ${c}`);
      t.same(Array.from(cs.slice((s * d + c) * K, (s * d + c + 1) * K)), win.slice(1).map(Math.fround), `slot ${s} channel ${c} rolled`);
    }
  t.same(Array.from(cs.slice(d * K, 2 * d * K)), Array.from(st0.slice(d * K, 2 * d * K)), 'slot 1 untouched');
  t.same(Array.from(cs.slice(3 * d * K)), Array.from(st0.slice(3 * d * K)), 'slot 3 untouched');
});
