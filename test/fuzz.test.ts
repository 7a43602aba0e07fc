// Seeded fuzz of every public op. Valid calls (random shapes, dtypes, options,
// strided views, Sync or async) are checked against the fp64 references; invalid
// calls (one random defect in one argument) must throw or reject with a TypeError or
// RangeError that names the argument and carries an ERR_SUBQ_* code, through the
// TypeScript API and the raw addon alike. The call counts are fixed, not timed.
// A new op joins by adding an OpSpec to `ops`.
import t, { type Test } from 'tap';
import * as lib from '../lib';
import { Tensor } from '../lib';
import { native } from '../lib/native';
import { attentionRef } from '../reference/attention';
import { blockKeep, randomBlockMask } from '../reference/sparse';
import { xattentionScoresRef } from '../reference/xattention';
import { mergeRef } from '../reference/merge';
import { conv1dRef, selectiveScanRef, stateUpdateRef } from '../reference/ssm';
import { maxAbs, maxAbsDiff, randomArray, rng } from './helpers';
import { compare } from './ssm-check';

const SEED = Number(process.env.SUBQ_FUZZ_SEED ?? 20261202);
const VALID = 100, INVALID = 600;  // per op and per entry point (Sync, async)

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(((r() + 1) / 2) * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.min(xs.length - 1, int(r, 0, xs.length - 1))];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** An fp32 tensor of `shape` with values in [-amp, amp), sometimes a strided view into a larger buffer. */
function tensor(r: Rand, shape: number[], amp = 1, seed = int(r, 1, 1 << 30)): { t: Tensor; v: Float32Array } {
  const v = randomArray(size(shape), seed, amp);
  if (r() < 0.3 && shape.length > 1) {
    // Rows padded by `gap` elements: a non-contiguous view of the same values.
    const gap = int(r, 1, 3), last = shape[shape.length - 1];
    const strides: number[] = new Array(shape.length);
    strides[shape.length - 1] = 1;
    let s = last + gap;
    for (let i = shape.length - 2; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
    const data = new Float32Array(s);
    const rows = size(shape) / last;
    for (let row = 0; row < rows; row++) {
      let off = 0, rem = row;
      for (let i = shape.length - 2; i >= 0; i--) { off += (rem % shape[i]) * strides[i]; rem = Math.floor(rem / shape[i]); }
      data.set(v.subarray(row * last, (row + 1) * last), off);
    }
    return { t: new Tensor('float32', data, shape, strides), v };
  }
  return { t: Tensor.fromFloat32(v, shape), v };
}

interface Built {
  names: string[];                  // positional argument names
  args: unknown[];                  // positional tensors
  options: Record<string, unknown>;
  check(t: Test, result: unknown, what: string): void;
}

interface OpSpec {
  name: string;
  sync: (...a: unknown[]) => unknown;
  async: (...a: unknown[]) => Promise<unknown>;
  raw: string;                      // the addon's entry point (the Sync one; async adds nothing)
  rawCall?: (...a: unknown[]) => unknown;  // how to call it when the positional tensors differ from the API's
  build(r: Rand): Built;
  // Options with their bad values: [key, value, error class].
  badOptions: [string, unknown, 'TypeError' | 'RangeError'][];
}

const closeTo = (t: Test, got: ArrayLike<number>, ref: ArrayLike<number>, what: string, rel = 2e-5) => {
  const err = maxAbsDiff(got, ref), tol = rel * Math.max(1, maxAbs(ref));
  t.ok(err <= tol, `${what}: error ${err.toExponential(2)} <= ${tol.toExponential(2)}`);
};

const ops: OpSpec[] = [
  {
    name: 'attention', sync: lib.attentionSync as never, async: lib.attention as never, raw: 'attentionSync',
    build(r) {
      const B = int(r, 1, 2), Hkv = int(r, 1, 2), Hq = Hkv * int(r, 1, 3), Nq = int(r, 1, 20), Nk = int(r, 1, 40);
      const D = pick(r, [1, 3, 8, 16, 33]), Dv = r() < 0.8 ? D : pick(r, [2, 8, 24]);
      const q = tensor(r, [B, Hq, Nq, D]), k = tensor(r, [B, Hkv, Nk, D]), v = tensor(r, [B, Hkv, Nk, Dv]);
      const causal = r() < 0.3, window: [number, number] | undefined = !causal && r() < 0.3 ? [int(r, -1, 10), int(r, -1, 10)] : undefined;
      const softcap = r() < 0.2 ? pick(r, [5, 30]) : undefined, scale = r() < 0.2 ? pick(r, [0.05, 0.5]) : undefined;
      return {
        names: ['q', 'k', 'v'], args: [q.t, k.t, v.t], options: { causal, window, softcap, scale, returnLse: true },
        check(t, res, what) {
          const { out, lse } = res as { out: Tensor; lse: Tensor };
          const ref = attentionRef(q.v, k.v, v.v, { B, Hq, Hkv, Nq, Nk, D, Dv }, { causal, window, softcap, scale });
          closeTo(t, out.data as Float32Array, ref.out, `${what} out`);
          const l = lse.data as Float32Array;
          t.ok(l.every((x, i) => (ref.lse[i] === -Infinity ? x === -Infinity : Math.abs(x - ref.lse[i]) <= 2e-5 * Math.max(1, Math.abs(ref.lse[i])))), `${what} lse`);
        },
      };
    },
    badOptions: [['causal', 1, 'TypeError'], ['window', [1], 'TypeError'], ['window', [-5, 0], 'RangeError'], ['softcap', -1, 'RangeError'],
      ['scale', NaN, 'RangeError'], ['scale', 1e300, 'RangeError'], ['layout', 'xyz', 'RangeError'], ['returnLse', 'yes', 'TypeError']],
  },
  {
    name: 'mergeAttentionStates', sync: lib.mergeAttentionStatesSync as never, async: lib.mergeAttentionStates as never, raw: 'mergeAttentionStatesSync',
    build(r) {
      const B = int(r, 1, 2), H = int(r, 1, 3), N = int(r, 1, 9), D = pick(r, [1, 5, 16, 40]);
      const o1 = tensor(r, [B, H, N, D]), o2 = tensor(r, [B, H, N, D]), l1 = tensor(r, [B, H, N], 6), l2 = tensor(r, [B, H, N], 6);
      return {
        names: ['o1', 'lse1', 'o2', 'lse2'], args: [o1.t, l1.t, o2.t, l2.t], options: {},
        check(t, res, what) {
          const ref = mergeRef(o1.v, l1.v, o2.v, l2.v, D);
          const m = res as { out: Tensor; lse: Tensor };
          closeTo(t, m.out.data as Float32Array, ref.out, `${what} out`);
          closeTo(t, m.lse.data as Float32Array, ref.lse, `${what} lse`);
        },
      };
    },
    badOptions: [['layout', 3, 'TypeError'], ['layout', 'nhd', 'RangeError']],
  },
  {
    name: 'selectiveScan', sync: lib.selectiveScanSync as never, async: lib.selectiveScan as never, raw: 'selectiveScanSync',
    build(r) {
      const b = int(r, 1, 2), d = int(r, 1, 6), L = int(r, 1, 40), N = int(r, 1, 8);
      const u = tensor(r, [b, d, L]), dl = tensor(r, [b, d, L]), A = tensor(r, [d, N]), B = tensor(r, [d, N]), C = tensor(r, [d, N]);
      for (let i = 0; i < dl.v.length; i++) dl.v[i] = Math.abs(dl.v[i]) * 0.5;
      for (let i = 0; i < A.v.length; i++) A.v[i] = -Math.abs(A.v[i]) - 0.1;
      const dt = Tensor.fromFloat32(dl.v, [b, d, L]), At = Tensor.fromFloat32(A.v, [d, N]);
      const Dp = r() < 0.5 ? tensor(r, [d]) : undefined, softplus = r() < 0.5;
      return {
        names: ['u', 'delta', 'A', 'B', 'C'], args: [u.t, dt, At, B.t, C.t], options: { D: Dp?.t, deltaSoftplus: softplus, returnLastState: true },
        check(t, res, what) {
          const ref = selectiveScanRef({ u: u.v, delta: dl.v, A: A.v, B: B.v, C: C.v, BVarying: false, CVarying: false, D: Dp?.v, softplus }, { b, d, L, N, G: 1 });
          const s = res as { out: Tensor; lastState: Tensor };
          t.equal(compare(s.out.data as Float32Array, ref.out, 'float32').bad, 0, `${what} out`);
          t.equal(compare(s.lastState.data as Float32Array, ref.lastState, 'float32').bad, 0, `${what} lastState`);
        },
      };
    },
    badOptions: [['D', 5, 'TypeError'], ['deltaSoftplus', 'x', 'TypeError'], ['cuSeqlens', Tensor.fromFloat32(new Float32Array(2), [2]), 'TypeError']],
  },
  {
    name: 'selectiveStateUpdate', sync: lib.selectiveStateUpdateSync as never, async: lib.selectiveStateUpdate as never, raw: 'selectiveStateUpdateSync',
    build(r) {
      const b = int(r, 1, 3), d = int(r, 1, 6), N = int(r, 1, 8), slots = b + int(r, 0, 2);
      const st = tensor(r, [slots, d, N]), x = tensor(r, [b, d]), dt = tensor(r, [b, d]), A = tensor(r, [d, N]), B = tensor(r, [b, N]), C = tensor(r, [b, N]);
      for (let i = 0; i < A.v.length; i++) A.v[i] = -Math.abs(A.v[i]);
      const At = Tensor.fromFloat32(A.v, [d, N]);
      const idx = Array.from({ length: b }, (_, i) => (slots > b ? (i + 1) % slots : i));
      const state = Tensor.fromFloat32(st.v, [slots, d, N]);
      return {
        names: ['state', 'x', 'dt', 'A', 'B', 'C'], args: [state, x.t, dt.t, At, B.t, C.t],
        options: { dtSoftplus: true, stateIndices: new Tensor('int32', Int32Array.from(idx), [b]) },
        check(t, res, what) {
          const ref = stateUpdateRef({ state: st.v, x: x.v, dt: dt.v, A: A.v, B: B.v, C: C.v, softplus: true, stateIndices: idx }, b, d, N, 1);
          t.equal(compare((res as Tensor).data as Float32Array, ref.out, 'float32').bad, 0, `${what} out`);
          t.equal(compare(state.data as Float32Array, ref.state, 'float32').bad, 0, `${what} state`);
        },
      };
    },
    badOptions: [['stateIndices', Tensor.fromFloat32(new Float32Array(1), [1]), 'TypeError'], ['dtSoftplus', 0, 'TypeError'], ['z', 'z', 'TypeError']],
  },
  {
    name: 'causalConv1d', sync: lib.causalConv1dSync as never, async: lib.causalConv1d as never, raw: 'causalConv1dSync',
    build(r) {
      const b = int(r, 1, 2), d = int(r, 1, 6), L = int(r, 1, 40), w = int(r, 2, 4);
      const x = tensor(r, [b, d, L]), wt = tensor(r, [d, w]), bias = r() < 0.5 ? tensor(r, [d]) : undefined, silu = r() < 0.5;
      return {
        names: ['x', 'weight'], args: [x.t, wt.t], options: { bias: bias?.t, activation: silu ? 'silu' : 'none', returnFinalStates: true },
        check(t, res, what) {
          const ref = conv1dRef({ x: x.v, weight: wt.v, bias: bias?.v, silu }, b, d, L, w);
          const c = res as { out: Tensor; finalStates: Tensor };
          t.equal(compare(c.out.data as Float32Array, ref.out, 'float32').bad, 0, `${what} out`);
          t.equal(compare(c.finalStates.data as Float32Array, ref.finalStates, 'float32').bad, 0, `${what} finalStates`);
        },
      };
    },
    badOptions: [['activation', 'relu', 'RangeError'], ['activation', 3, 'TypeError'], ['returnFinalStates', 1, 'TypeError'], ['bias', [1], 'TypeError']],
  },
  {
    name: 'causalConv1dUpdate', sync: lib.causalConv1dUpdateSync as never, async: lib.causalConv1dUpdate as never, raw: 'causalConv1dUpdateSync',
    build(r) {
      const b = int(r, 1, 3), d = int(r, 1, 6), T = int(r, 1, 4), w = int(r, 2, 4);
      const x = tensor(r, [b, d, T]), cs = tensor(r, [b, d, w - 1]), wt = tensor(r, [d, w]);
      const convState = Tensor.fromFloat32(cs.v, [b, d, w - 1]);
      return {
        names: ['x', 'convState', 'weight'], args: [x.t, convState, wt.t], options: {},
        check(t, res, what) {
          // T steps after the state = the full conv with the state as its initial inputs.
          const ref = conv1dRef({ x: x.v, weight: wt.v, initialStates: cs.v }, b, d, T, w);
          t.equal(compare((res as Tensor).data as Float32Array, ref.out, 'float32').bad, 0, `${what} out`);
          t.equal(compare(convState.data as Float32Array, ref.finalStates, 'float32').bad, 0, `${what} convState`);
        },
      };
    },
    badOptions: [['activation', 'gelu', 'RangeError'], ['stateIndices', 'a', 'TypeError']],
  },
  {
    // The mask's compact form as two positional tensors, so each can take a defect.
    name: 'blockSparseAttention', raw: 'blockSparseAttentionSync',
    sync: ((q: Tensor, k: Tensor, v: Tensor, indices: Tensor, counts: Tensor, o: object) =>
      lib.blockSparseAttentionSync(q, k, v, { indices, counts }, o)) as never,
    async: ((q: Tensor, k: Tensor, v: Tensor, indices: Tensor, counts: Tensor, o: object) =>
      lib.blockSparseAttention(q, k, v, { indices, counts }, o)) as never,
    rawCall: (q, k, v, indices, counts, o) => native().blockSparseAttentionSync(q as never, k as never, v as never, { indices, counts } as never, o as never),
    build(r) {
      const B = int(r, 1, 2), Hkv = int(r, 1, 2), Hq = Hkv * int(r, 1, 2), Nq = int(r, 1, 150), Nk = int(r, 1, 200), D = pick(r, [4, 16, 33]);
      const block = pick(r, [64, 128] as const), Hm = pick(r, [Hq, Hkv, 1]);
      const nqb = Math.ceil(Nq / block), nkb = Math.ceil(Nk / block);
      const mask = randomBlockMask(B, Hm, nqb, nkb, (r() + 1) / 2, int(r, 1, 1 << 30));
      const ix = lib.blockMaskToIndices(new Tensor('uint8', mask, [B, Hm, nqb, nkb]));
      const q = tensor(r, [B, Hq, Nq, D]), k = tensor(r, [B, Hkv, Nk, D]), v = tensor(r, [B, Hkv, Nk, D]);
      const causal = r() < 0.4;
      return {
        names: ['q', 'k', 'v', 'mask.indices', 'mask.counts'], args: [q.t, k.t, v.t, ix.indices, ix.counts],
        options: { causal, blockSize: block, returnLse: true },
        check(t, res, what) {
          const { out } = res as { out: Tensor };
          const ref = attentionRef(q.v, k.v, v.v, { B, Hq, Hkv, Nq, Nk, D, Dv: D }, { causal, keep: blockKeep({ block, mask, Hm }, Hq, Nq, Nk) });
          closeTo(t, out.data as Float32Array, ref.out, `${what} out`);
        },
      };
    },
    badOptions: [['blockSize', 32, 'RangeError'], ['blockSize', 'x', 'TypeError'], ['sinkBlocks', -1, 'RangeError'],
      ['headModes', 7, 'TypeError'], ['causal', 1, 'TypeError'], ['softcap', -1, 'RangeError']],
  },
  {
    name: 'xattentionScores', sync: lib.xattentionScoresSync as never, async: lib.xattentionScores as never, raw: 'xattentionScoresSync',
    build(r) {
      const B = int(r, 1, 2), Hkv = int(r, 1, 2), Hq = Hkv * int(r, 1, 2), Nq = int(r, 1, 150), Nk = int(r, 1, 200), D = pick(r, [4, 16, 33]);
      const blockSize = pick(r, [64, 128]), stride = pick(r, [4, 8, 16]), causal = r() < 0.5;
      const q = tensor(r, [B, Hq, Nq, D]), k = tensor(r, [B, Hkv, Nk, D]);
      return {
        names: ['q', 'k'], args: [q.t, k.t], options: { blockSize, stride, causal },
        check(t, res, what) {
          const ref = xattentionScoresRef(q.v, k.v, { B, Hq, Hkv, Nq, Nk, D }, { stride, blockSize, causal });
          closeTo(t, (res as Tensor).data as Float32Array, ref, `${what} scores`, 1e-4);
        },
      };
    },
    badOptions: [['stride', 3, 'RangeError'], ['blockSize', 96, 'RangeError'], ['causal', 'yes', 'TypeError'], ['chunk', -1, 'RangeError'],
      ['scale', 1e300, 'RangeError']],
  },
];

// One random defect in one argument. `certain`: the call cannot be valid, so it must
// throw naming `name`; otherwise it may succeed, but may only fail cleanly.
interface Defect { value: unknown; name: string; certain: boolean; cls?: 'TypeError' | 'RangeError' }

function defect(r: Rand, spec: OpSpec, b: Built, raw: boolean): { args: unknown[]; options: Record<string, unknown>; d: Defect } {
  const args = [...b.args], options = { ...b.options };
  if (r() < 0.2 && spec.badOptions.length) {
    const [key, value, cls] = pick(r, spec.badOptions);
    options[key] = value;
    return { args, options, d: { value, name: `options.${key}`, certain: true, cls } };
  }
  const i = int(r, 0, args.length - 1), name = b.names[i], x = args[i] as Tensor;
  const plain = { dtype: x.dtype, shape: [...x.shape], strides: [...x.strides], data: x.data };
  const kind = int(r, 0, 9);
  let value: unknown, certain = true, cls: Defect['cls'];
  switch (kind) {
    case 0: value = pick(r, [5, 'q', null, [1, 2], true]); cls = 'TypeError'; break;
    case 1: // a dtype the argument cannot take (an integer tensor gets a float one)
      value = x.dtype === 'int32' ? { ...plain, dtype: 'float32', data: new Float32Array(x.data.length) } : { ...plain, dtype: 'int32', data: new Int32Array(x.data.length) };
      cls = 'TypeError'; break;
    // Some ops take more than one rank (B as [b, N] or [b, G, N]): a changed rank may be valid.
    case 2: value = { ...plain, shape: [...plain.shape, 1], strides: [...plain.strides, 1] }; certain = false; break;
    case 3: value = { ...plain, shape: plain.shape.slice(1), strides: plain.strides.slice(1) }; certain = false; break;
    case 4: { // shorter than the last element the view addresses
      const need = plain.shape.reduce((a, d, j) => a + (d - 1) * plain.strides[j], 0) + 1;
      value = { ...plain, data: (x.data as Float32Array).subarray(0, int(r, 0, need - 1)) }; cls = 'RangeError'; break;
    }
    case 5: { const s = [...plain.strides]; s[int(r, 0, s.length - 1)] = -1; value = { ...plain, strides: s }; cls = 'RangeError'; break; }
    case 6: { // a huge stride on a dim of more than one element
      const dims = plain.shape.map((d, j) => (d > 1 ? j : -1)).filter((j) => j >= 0);
      const s = [...plain.strides];
      s[dims.length ? pick(r, dims) : 0] = 2 ** 52;
      value = { ...plain, strides: s }; certain = dims.length > 0; cls = 'RangeError'; break;
    }
    case 7: { const sh = [...plain.shape]; const j = int(r, 0, sh.length - 1); sh[j] += int(r, 1, 3); value = { ...plain, shape: sh, strides: undefined, data: new Float32Array(size(sh)) }; certain = false; break; }
    case 8: value = { ...plain, shape: plain.shape.map((d, j) => (j === 0 ? 0 : d)) }; cls = 'RangeError'; break;
    default: value = { ...plain, dtype: 'float16', data: new Uint16Array(x.data.length) }; certain = false; break;
  }
  if (!raw && typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { strides?: unknown }).strides === undefined) delete (value as { strides?: unknown }).strides;
  args[i] = value;
  return { args, options, d: { value, name, certain, cls } };
}

const codes = /^ERR_SUBQ_(ARG|SHAPE|DTYPE|OOM)$/;
const escape = (s: string) => s.replace(/[.[\]]/g, (c) => `\\${c}`);

let calls = 0;
for (const spec of ops) {
  t.test(`fuzz ${spec.name}`, async (t) => {
    const r = rng(SEED ^ spec.name.length * 7919);
    for (let n = 0; n < VALID; n++) {
      const b = spec.build(r), async = n % 2 === 1;
      const what = `${spec.name} valid #${n}${async ? ' async' : ''}`;
      const res = async ? await spec.async(...b.args, b.options) : spec.sync(...b.args, b.options);
      calls++;
      b.check(t, res, what);
    }
    let failures = 0;
    for (let n = 0; n < INVALID; n++) {
      const b = spec.build(r), raw = n % 3 === 0, async = !raw && n % 3 === 1;
      const { args, options, d } = defect(r, spec, b, raw);
      const fn = raw ? spec.rawCall ?? (native()[spec.raw] as (...a: unknown[]) => unknown) : spec.sync;
      let err: unknown;
      try {
        if (async) await spec.async(...args, options);
        else fn(...args, options);
      } catch (e) {
        err = e;
      }
      calls++;
      const e = err as { name?: string; code?: string; message?: string } | undefined;
      const what = `${spec.name} invalid #${n} (${raw ? 'raw addon' : async ? 'async' : 'sync'}): ${d.name} = ${JSON.stringify(d.value, (_, v) => (ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as Float32Array).length})` : v))?.slice(0, 160)}`;
      if (!err) {
        if (d.certain) { failures++; t.fail(`${what}: no error`); }
        continue;
      }
      const ok = (e!.name === 'TypeError' || e!.name === 'RangeError') && codes.test(String(e!.code)) &&
        (!d.certain || new RegExp(`(^|\\W)${escape(d.name)}\\b`).test(String(e!.message))) && (!d.cls || !d.certain || e!.name === d.cls);
      if (!ok) { failures++; t.fail(`${what}: got ${e!.name} ${e!.code}: ${e!.message}`); }
    }
    t.equal(failures, 0, `${spec.name}: ${INVALID} invalid calls, each a TypeError/RangeError naming the argument`);
  });
}

t.teardown(() => console.log(`# fuzz: ${calls} calls (seed ${SEED})`));
