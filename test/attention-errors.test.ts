// Bad input to attention: a TypeError or RangeError naming the argument, never a crash.
import t from 'tap';
import { attention, attentionSync, Tensor } from '../lib';
import { native } from '../lib/native';

const f32 = (shape: number[]) => Tensor.zeros('float32', shape);
const q = f32([1, 2, 8, 16]), k = f32([1, 1, 8, 16]), v = f32([1, 1, 8, 16]);

type Args = [unknown, unknown, unknown, unknown?];
const call = (a: Args) => (attentionSync as (...x: unknown[]) => unknown)(...a);

const cases: [string, Args, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp][] = [
  ['q not a tensor', [5, k, v], TypeError, /^q must be a Tensor/],
  ['k null', [q, null, v], TypeError, /^k must be a Tensor/],
  ['v a string', [q, k, 'v'], TypeError, /^v must be a Tensor/],
  ['v a plain array', [q, k, [1, 2, 3]], TypeError, /^v/],
  ['integer dtype', [Tensor.zeros('int32', [1, 2, 8, 16]), k, v], TypeError, /q\.dtype must be float32 \| float16 \| bfloat16, got int32/],
  ['mixed dtypes', [q, Tensor.zeros('float16', [1, 1, 8, 16]), v], TypeError, /k\.dtype must equal q\.dtype = float32, got float16/],
  ['3-d query', [f32([2, 8, 16]), k, v], RangeError, /q must have 4 dimensions, got 3/],
  ['head dim mismatch', [q, f32([1, 1, 8, 32]), v], RangeError, /k\.shape\[3\] \(head dim\) must equal q\.shape\[3\] = 16, got 32/],
  ['key length mismatch', [q, k, f32([1, 1, 9, 16])], RangeError, /v\.shape\[2\] \(key length\) must equal k\.shape\[2\] = 8, got 9/],
  ['kv heads mismatch', [q, k, f32([1, 2, 8, 16])], RangeError, /v\.shape\[1\] \(kv heads\)/],
  ['batch mismatch', [q, f32([2, 1, 8, 16]), v], RangeError, /k\.shape\[0\] \(batch\)/],
  ['Hq not a multiple of Hkv', [f32([1, 3, 8, 16]), f32([1, 2, 8, 16]), f32([1, 2, 8, 16])], RangeError, /query heads\) = 3 must be a multiple of .* = 2/],
  ['head dim above 256', [f32([1, 1, 2, 257]), f32([1, 1, 2, 257]), f32([1, 1, 2, 8])], RangeError, /q\.shape\[3\] \(head dim\) must be in \[1, 256\], got 257/],
  ['empty query', [f32([1, 2, 0, 16]), k, v], RangeError, /q\.shape\[2\] must be >= 1, got 0/],
  ['empty batch', [f32([0, 2, 8, 16]), k, v], RangeError, /q\.shape\[0\] must be >= 1/],
  ['options not an object', [q, k, v, 3], TypeError, /options must be an object/],
  ['causal not boolean', [q, k, v, { causal: 'yes' }], TypeError, /options\.causal must be a boolean/],
  ['window not a pair', [q, k, v, { window: [1] }], TypeError, /options\.window must be an array \[left, right\]/],
  ['window below -1', [q, k, v, { window: [-2, 0] }], RangeError, /options\.window\[0\] \(left\) must be in \[-1/],
  ['window not integer', [q, k, v, { window: [1.5, 0] }], RangeError, /options\.window\[0\] must be a safe integer/],
  ['causal with right window', [q, k, v, { causal: true, window: [4, 3] }], RangeError, /options\.window\[1\] \(right\) must be 0 or -1 when options\.causal/],
  ['negative softcap', [q, k, v, { softcap: -1 }], RangeError, /options\.softcap must be >= 0/],
  ['NaN scale', [q, k, v, { scale: NaN }], RangeError, /options\.scale must be a finite number/],
  ['scale a string', [q, k, v, { scale: '1' }], TypeError, /options\.scale must be a number/],
  ['unknown layout', [q, k, v, { layout: 'nhd' }], RangeError, /options\.layout must be 'bhnd' or 'bnhd'/],
  ['out with the wrong shape', [q, k, v, { out: f32([1, 2, 8, 8]) }], RangeError, /options\.out\.shape\[3\] \(output\) must equal/],
  ['out with the wrong dtype', [q, k, v, { out: Tensor.zeros('float16', [1, 2, 8, 16]) }], TypeError, /options\.out\.dtype must be float32/],
  ['data too short for the shape', [{ data: new Float32Array(10), shape: [1, 2, 8, 16] }, k, v], RangeError, /^q: shape \[1, 2, 8, 16\] .* data holds 10/],
  ['strides out of bounds', [{ data: new Float32Array(256), shape: [1, 2, 8, 16], strides: [0, 128, 32, 1] }, k, v], RangeError, /^q: .*reaches element/],
  ['wrong TypedArray for dtype', [{ dtype: 'float16', data: new Float32Array(256), shape: [1, 2, 8, 16] }, k, v], TypeError, /^q: data for dtype float16 must be a Uint16Array/],
];

t.test('sync calls throw', async (t) => {
  for (const [what, args, cls, msg] of cases) t.throws(() => call(args), { constructor: cls, message: msg }, what);
});

t.test('async calls reject the same way', async (t) => {
  for (const [what, args, cls, msg] of cases)
    await t.rejects((attention as (...x: unknown[]) => Promise<unknown>)(...args), { constructor: cls, message: msg }, what);
});

// The native layer checks again, for objects that never went through Tensor.
t.test('native validation of raw tensor objects', async (t) => {
  const raw = (shape: number[], strides: number[], data: Float32Array) => ({ dtype: 'float32', shape, strides, data, device: 'cpu' });
  // Raw objects, as JavaScript callers can pass them, bypass the addon's parameter types.
  const attentionSyncRaw = native().attentionSync as (...a: unknown[]) => unknown;
  const good = raw([1, 1, 8, 16], [128, 128, 16, 1], new Float32Array(128));
  const bad: [string, unknown[], ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp][] = [
    ['strides past the buffer', [raw([1, 1, 8, 16], [128, 128, 17, 1], new Float32Array(128)), good, good, {}], RangeError, /q shape \[1, 1, 8, 16\] with its strides reaches element 134 but the buffer holds 128/],
    ['negative stride', [good, raw([1, 1, 8, 16], [128, 128, -16, 1], new Float32Array(128)), good, {}], RangeError, /k\.strides\[2\] must be >= 0/],
    ['non-contiguous last dim', [good, good, raw([1, 1, 8, 16], [256, 256, 32, 2], new Float32Array(256)), {}], RangeError, /v\.strides\[3\] must be 1/],
    ['offsets that overflow', [raw([2 ** 40, 1, 8, 16], [2 ** 30, 128, 16, 1], new Float32Array(128)), good, good, {}], RangeError, /q .*overflows|q .*reaches element/],
    ['output size that overflows', [raw([2 ** 26, 2 ** 26, 8, 16], [0, 0, 16, 1], new Float32Array(128)), raw([2 ** 26, 1, 8, 16], [0, 0, 16, 1], new Float32Array(128)), raw([2 ** 26, 1, 8, 16], [0, 0, 16, 1], new Float32Array(128)), {}], RangeError, /output/],
    ['strides not integers', [raw([1, 1, 8, 16], [128, 128, 16.5, 1], new Float32Array(128)), good, good, {}], RangeError, /q\.strides\[2\] must be a safe integer/],
    ['shape entry a string', [{ ...good, shape: [1, 1, '8', 16] }, good, good, {}], TypeError, /q\.shape\[2\] must be an integer/],
    ['data not a TypedArray', [{ ...good, data: [1, 2] }, good, good, {}], TypeError, /q\.data must be a Float32Array/],
    ['device not cpu', [{ ...good, device: 'gpu' }, good, good, {}], TypeError, /q\.device/],
    ['missing dtype', [{ shape: [1], data: new Float32Array(1) }, good, good, {}], TypeError, /q\.dtype must be one of/],
  ];
  for (const [what, args, cls, msg] of bad) t.throws(() => attentionSyncRaw(...args), { constructor: cls, message: msg }, what);
});

t.test('NaN inputs propagate to exactly the rows that see them', async (t) => {
  const N = 24, D = 16;
  const kd = new Float32Array(N * D).fill(0.1);
  kd[10 * D + 3] = NaN;  // key 10
  const qd = new Float32Array(N * D).fill(0.2), vd = new Float32Array(N * D).fill(0.5);
  const mk = (d: Float32Array) => new Tensor('float32', d, [1, 1, N, D]);
  const out = attentionSync(mk(qd), mk(kd), mk(vd), { causal: true }).toFloat32();
  for (let i = 0; i < N; i++) {
    const row = out.subarray(i * D, i * D + D);
    if (i >= 10) t.ok(row.every(Number.isNaN), `row ${i} sees key 10: NaN`);
    else t.ok(row.every((x) => Math.abs(x - 0.5) < 1e-6), `row ${i} does not see key 10: 0.5`);
  }
});
