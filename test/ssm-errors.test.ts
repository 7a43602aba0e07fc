// Bad input to the state-space ops: a TypeError or RangeError naming the argument,
// raised before any kernel runs, never a crash.
import t from 'tap';
import {
  selectiveScan, selectiveScanSync, selectiveStateUpdateSync, causalConv1dSync, causalConv1dUpdateSync, Tensor,
} from '../lib';

const f32 = (shape: number[]) => Tensor.zeros('float32', shape);
const i32 = (v: number[]) => new Tensor('int32', Int32Array.from(v), [v.length]);
type Ctor = TypeErrorConstructor | RangeErrorConstructor;
type Call = () => unknown;

const u = f32([2, 8, 16]), delta = f32([2, 8, 16]), A = f32([8, 4]), Bv = f32([2, 2, 4, 16]), Bc = f32([8, 4]);
const scan = (...a: unknown[]) => () => (selectiveScanSync as (...x: unknown[]) => unknown)(...a);
const scanCases: [string, Call, Ctor, RegExp][] = [
  ['u not a tensor', scan(1, delta, A, Bv, Bv), TypeError, /^u must be a Tensor/],
  ['integer u', scan(Tensor.zeros('int32', [2, 8, 16]), delta, A, Bv, Bv), TypeError, /u\.dtype must be float32 \| float16 \| bfloat16, got int32/],
  ['delta dtype differs', scan(u, Tensor.zeros('float16', [2, 8, 16]), A, Bv, Bv), TypeError, /delta\.dtype must equal u\.dtype = float32, got float16/],
  ['delta length', scan(u, f32([2, 8, 15]), A, Bv, Bv), RangeError, /delta\.shape\[2\] \(length\) must equal u\.shape\[2\] = 16, got 15/],
  ['A half', scan(u, delta, Tensor.zeros('float16', [8, 4]), Bv, Bv), TypeError, /A\.dtype must be float32, got float16/],
  ['A channels', scan(u, delta, f32([7, 4]), Bv, Bv), RangeError, /A\.shape\[0\] \(channels\) must equal u\.shape\[1\] = 8, got 7/],
  ['N above 256', scan(u, delta, f32([8, 257]), f32([8, 257]), f32([8, 257])), RangeError, /A\.shape\[1\] \(state\) must be in \[1, 256\], got 257/],
  ['B of rank 3', scan(u, delta, A, f32([2, 4, 16]), Bv), RangeError, /B must be \[d, N\] \(constant\) or \[b, G, N, L\] \(varying\)/],
  ['B state', scan(u, delta, A, f32([2, 2, 5, 16]), Bv), RangeError, /B\.shape\[2\] \(state\) must equal A\.shape\[1\] = 4, got 5/],
  ['B length', scan(u, delta, A, f32([2, 2, 4, 15]), Bv), RangeError, /B\.shape\[3\] \(length\) must equal u\.shape\[2\] = 16, got 15/],
  ['groups not dividing d', scan(u, delta, A, f32([2, 3, 4, 16]), f32([2, 3, 4, 16])), RangeError, /B\.shape\[1\] \(groups\) = 3 must divide u\.shape\[1\] \(channels\) = 8/],
  ['C groups differ from B', scan(u, delta, A, Bv, f32([2, 4, 4, 16])), RangeError, /C\.shape\[1\] \(groups\) must equal B\.shape\[1\] = 2, got 4/],
  ['constant C channels', scan(u, delta, A, Bv, f32([9, 4])), RangeError, /C\.shape\[0\] \(channels\) must equal u\.shape\[1\] = 8, got 9/],
  ['D length', scan(u, delta, A, Bc, Bc, { D: f32([7]) }), RangeError, /options\.D\.shape\[0\] \(channels\) must equal the channel count = 8, got 7/],
  ['deltaBias half', scan(u, delta, A, Bc, Bc, { deltaBias: Tensor.zeros('bfloat16', [8]) }), TypeError, /options\.deltaBias\.dtype must be float32/],
  ['z shape', scan(u, delta, A, Bc, Bc, { z: f32([2, 8, 17]) }), RangeError, /options\.z\.shape\[2\] \(length\) must equal u\.shape\[2\] = 16, got 17/],
  ['z dtype', scan(u, delta, A, Bc, Bc, { z: Tensor.zeros('float16', [2, 8, 16]) }), TypeError, /options\.z\.dtype must equal u\.dtype/],
  ['initialState shape', scan(u, delta, A, Bc, Bc, { initialState: f32([2, 8, 5]) }), RangeError, /options\.initialState\.shape\[2\] \(state\) must equal/],
  ['initialState dtype', scan(u, delta, A, Bc, Bc, { initialState: Tensor.zeros('float16', [2, 8, 4]) }), TypeError, /options\.initialState\.dtype must be float32/],
  ['softplus not boolean', scan(u, delta, A, Bc, Bc, { deltaSoftplus: 1 }), TypeError, /options\.deltaSoftplus must be a boolean/],
  ['cuSeqlens with batch 2', scan(u, delta, A, Bc, Bc, { cuSeqlens: i32([0, 16]) }), RangeError, /u\.shape\[0\] \(batch\) must be 1 with options\.cuSeqlens/],
  ['cuSeqlens float', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: f32([2]) }), TypeError, /options\.cuSeqlens\.dtype must be int32/],
  ['cuSeqlens not starting at 0', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: i32([1, 16]) }), RangeError, /options\.cuSeqlens\[0\] must be 0, got 1/],
  ['cuSeqlens decreasing', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: i32([0, 9, 4, 16]) }), RangeError, /options\.cuSeqlens must be non-decreasing, but \[2\] = 4 < \[1\] = 9/],
  ['cuSeqlens last != L', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: i32([0, 9, 15]) }), RangeError, /options\.cuSeqlens\[2\] \(last\) must equal u\.shape\[2\] \(length\) = 16, got 15/],
  ['cuSeqlens too short', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: i32([0]) }), RangeError, /options\.cuSeqlens\.shape\[0\] \(sequences \+ 1\) must be in \[2/],
  ['initialState per sequence', scan(f32([1, 8, 16]), f32([1, 8, 16]), A, Bc, Bc, { cuSeqlens: i32([0, 4, 16]), initialState: f32([1, 8, 4]) }), RangeError, /options\.initialState\.shape\[0\] \(sequences\) must equal \[sequences, d, N\] = 2, got 1/],
  ['out shape', scan(u, delta, A, Bc, Bc, { out: f32([2, 8, 15]) }), RangeError, /options\.out\.shape\[2\] \(output\) must equal u\.shape\[2\] = 16, got 15/],
  ['out dtype', scan(u, delta, A, Bc, Bc, { out: Tensor.zeros('bfloat16', [2, 8, 16]) }), TypeError, /options\.out\.dtype must be float32/],
  ['strides beyond the data', scan({ data: new Float32Array(100), shape: [2, 8, 16] }, delta, A, Bc, Bc), RangeError, /^u: shape \[2, 8, 16\]/],
  ['options not an object', scan(u, delta, A, Bc, Bc, 5), TypeError, /options must be an object/],
  ['empty u', scan(f32([2, 8, 0]), f32([2, 8, 0]), A, Bc, Bc), RangeError, /u\.shape\[2\] must be >= 1, got 0/],
];

const st = f32([3, 8, 4]), x = f32([3, 8]), dt = f32([3, 8]), Bu = f32([3, 2, 4]);
const upd = (...a: unknown[]) => () => (selectiveStateUpdateSync as (...x: unknown[]) => unknown)(...a);
const updateCases: [string, Call, Ctor, RegExp][] = [
  ['state half', upd(Tensor.zeros('float16', [3, 8, 4]), x, dt, A, Bu, Bu), TypeError, /state\.dtype must be float32/],
  ['x rank', upd(st, f32([3, 8, 1]), dt, A, Bu, Bu), RangeError, /x must have 2 dimensions, got 3/],
  ['dt channels', upd(st, x, f32([3, 9]), A, Bu, Bu), RangeError, /dt\.shape\[1\] \(channels\) must equal x\.shape\[1\] = 8, got 9/],
  ['state channels', upd(f32([3, 9, 4]), x, dt, A, Bu, Bu), RangeError, /state\.shape\[1\] \(channels\) must equal x\.shape\[1\] = 8, got 9/],
  ['state slots without indices', upd(f32([4, 8, 4]), x, dt, A, Bu, Bu), RangeError, /state\.shape\[0\] \(slots\) must equal the batch = 3 without options\.stateIndices, got 4/],
  ['B rank 4', upd(st, x, dt, A, f32([3, 2, 4, 1]), Bu), RangeError, /B must be \[b, G, N\] or \[b, N\]/],
  ['C groups', upd(st, x, dt, A, Bu, f32([3, 4, 4])), RangeError, /C\.shape\[1\] \(groups\) must equal B's group count = 2, got 4/],
  ['groups not dividing', upd(st, x, dt, A, f32([3, 3, 4]), f32([3, 3, 4])), RangeError, /B groups = 3 must divide x\.shape\[1\] \(channels\) = 8/],
  ['stateIndices float', upd(st, x, dt, A, Bu, Bu, { stateIndices: f32([3]) }), TypeError, /options\.stateIndices\.dtype must be int32/],
  ['stateIndices length', upd(st, x, dt, A, Bu, Bu, { stateIndices: i32([0, 1]) }), RangeError, /options\.stateIndices\.shape\[0\] \(batch\) must equal the batch = 3, got 2/],
  ['stateIndices out of range', upd(st, x, dt, A, Bu, Bu, { stateIndices: i32([0, 3, 1]) }), RangeError, /options\.stateIndices\[1\] = 3 is out of range: state has 3 slots/],
  ['stateIndices repeated', upd(st, x, dt, A, Bu, Bu, { stateIndices: i32([2, 0, 2]) }), RangeError, /options\.stateIndices\[2\] = 2 repeats options\.stateIndices\[0\]/],
  ['dtBias length', upd(st, x, dt, A, Bu, Bu, { dtBias: f32([4]) }), RangeError, /options\.dtBias\.shape\[0\] \(channels\)/],
  ['out shape', upd(st, x, dt, A, Bu, Bu, { out: f32([3, 7]) }), RangeError, /options\.out\.shape\[1\] \(output\) must equal x\.shape\[1\] = 8, got 7/],
];

const cx = f32([2, 8, 16]), w = f32([8, 4]);
const conv = (...a: unknown[]) => () => (causalConv1dSync as (...x: unknown[]) => unknown)(...a);
const convu = (...a: unknown[]) => () => (causalConv1dUpdateSync as (...x: unknown[]) => unknown)(...a);
const convCases: [string, Call, Ctor, RegExp][] = [
  ['weight width 1', conv(cx, f32([8, 1])), RangeError, /weight\.shape\[1\] \(width\) must be in \[2, 8\], got 1/],
  ['weight width 9', conv(cx, f32([8, 9])), RangeError, /weight\.shape\[1\] \(width\) must be in \[2, 8\], got 9/],
  ['weight channels', conv(cx, f32([7, 4])), RangeError, /weight\.shape\[0\] \(channels\) must equal x\.shape\[1\] = 8, got 7/],
  ['bias length', conv(cx, w, { bias: f32([9]) }), RangeError, /options\.bias\.shape\[0\] \(channels\)/],
  ['activation unknown', conv(cx, w, { activation: 'relu' }), RangeError, /options\.activation must be 'silu', 'swish' or 'none', got 'relu'/],
  ['activation a number', conv(cx, w, { activation: 1 }), TypeError, /options\.activation must be/],
  ['initialStates width', conv(cx, w, { initialStates: f32([2, 8, 4]) }), RangeError, /options\.initialStates\.shape\[2\] \(width - 1\) must equal the state shape = 3, got 4/],
  ['initialStates dtype', conv(cx, w, { initialStates: Tensor.zeros('float16', [2, 8, 3]) }), TypeError, /options\.initialStates\.dtype must be float32/],
  ['cuSeqlens last', conv(f32([1, 8, 16]), w, { cuSeqlens: i32([0, 17]) }), RangeError, /options\.cuSeqlens\[1\] \(last\) must equal x\.shape\[2\]/],
  ['update: state too short', convu(f32([2, 8]), f32([2, 8, 2]), w), RangeError, /convState\.shape\[2\] \(state length\) must be >= weight\.shape\[1\] - 1 = 3, got 2/],
  ['update: x rank 4', convu(f32([2, 8, 1, 1]), f32([2, 8, 3]), w), RangeError, /x must be \[b, d\] or \[b, d, T\]/],
  ['update: state dtype', convu(f32([2, 8]), Tensor.zeros('bfloat16', [2, 8, 3]), w), TypeError, /convState\.dtype must be float32/],
  ['update: index out of range', convu(f32([2, 8]), f32([2, 8, 3]), w, { stateIndices: i32([0, 2]) }), RangeError, /options\.stateIndices\[1\] = 2 is out of range: convState has 2 slots/],
];

t.test('sync calls throw', async (t) => {
  for (const [what, f, cls, msg] of [...scanCases, ...updateCases, ...convCases]) t.throws(f, { constructor: cls, message: msg }, what);
});

t.test('async calls reject', async (t) => {
  await t.rejects(selectiveScan(u, delta, A, Bc, Bc, { D: f32([7]) }), { constructor: RangeError, message: /options\.D\.shape\[0\]/ });
  await t.rejects(selectiveScan(u, delta, f32([8, 300]), Bc, Bc), { constructor: RangeError, message: /A\.shape\[1\] \(state\)/ });
});

t.test('a failed call leaves the state untouched', async (t) => {
  const s = new Tensor('float32', new Float32Array(3 * 8 * 4).fill(7), [3, 8, 4]);
  t.throws(upd(s, x, dt, A, Bu, Bu, { stateIndices: i32([0, 5, 1]) }), RangeError);
  t.ok(s.toFloat32().every((v) => v === 7), 'state unchanged');
});
