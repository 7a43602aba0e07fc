// Tensor wrapping and the fp16/bf16 conversions.
import t from 'tap';
import { Tensor, toHalfBits, fromHalfBits } from '../lib';
import { rng } from './helpers';

// Round-to-nearest-even to `mant` fraction bits with exponent floor `minExp`, from the definition.
function roundRef(x: number, mant: number, minExp: number, maxFinite: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), minExp);
  const ulp = 2 ** (e - mant);
  const q = x / ulp, lo = Math.floor(q);
  const r = q - lo < 0.5 ? lo : q - lo > 0.5 ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;  // ties to even
  const y = r === 0 ? (x < 0 ? -0 : 0) : r * ulp;
  return Math.abs(y) > maxFinite ? Math.sign(x) * Infinity : y;
}

t.test('fp16 and bf16 conversions round to nearest even', async (t) => {
  const xs: number[] = [0, -0, 1, -1, 1 / 3, 65504, 65519, 65520, 70000, 5.96e-8, 2.98e-8, 2.99e-8, 1e-10, 6.1e-5, 3.1e-5, Infinity, -Infinity];
  const r = rng(11);
  for (let i = 0; i < 200000; i++) xs.push(Math.fround(r() * 2 ** (r() * 30 - 15)));
  // Exact ties at several scales.
  for (let i = 0; i < 2000; i++) xs.push((Math.floor(r() * 4096) + 0.5) * 2 ** (Math.floor(r() * 20) - 30), -(Math.floor(r() * 256) + 0.5) * 2 ** -4);
  const f = Float32Array.from(xs);
  const h = fromHalfBits(toHalfBits(f, 'float16'), 'float16');
  const b = fromHalfBits(toHalfBits(f, 'bfloat16'), 'bfloat16');
  let bad16 = 0, badBf = 0;
  f.forEach((x, i) => {
    if (!Object.is(h[i], roundRef(x, 10, -14, 65504)) && !(x === 0 && h[i] === 0)) bad16++;
    if (!Object.is(b[i], roundRef(x, 7, -126, 3.3895313892515355e38)) && !(x === 0 && b[i] === 0)) badBf++;
  });
  t.equal(bad16, 0, 'fp16 mismatches');
  t.equal(badBf, 0, 'bf16 mismatches');
  t.ok(Number.isNaN(fromHalfBits(toHalfBits([NaN], 'float16'), 'float16')[0]), 'fp16 NaN');
  t.ok(Number.isNaN(fromHalfBits(toHalfBits([NaN], 'bfloat16'), 'bfloat16')[0]), 'bf16 NaN');
  // Every fp16 bit pattern survives a round trip through fp32.
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = toHalfBits(fromHalfBits(all, 'float16'), 'float16');
  let diff = 0;
  all.forEach((v, i) => {
    const nan = (v & 0x7c00) === 0x7c00 && (v & 0x3ff) !== 0;
    if (!nan && back[i] !== v) diff++;
  });
  t.equal(diff, 0, 'fp16 round trips');
});

t.test('Tensor wraps without copying and checks its arguments', async (t) => {
  const data = new Float32Array(24);
  const x = new Tensor('float32', data, [2, 3, 4]);
  t.equal(x.data, data, 'no copy');
  t.same(x.strides, [12, 4, 1]);
  t.equal(x.size, 24);
  t.ok(x.isContiguous);
  const p = x.permute([0, 2, 1]);
  t.same(p.shape, [2, 4, 3]);
  t.same(p.strides, [12, 1, 4]);
  t.notOk(p.isContiguous);
  data.forEach((_, i) => (data[i] = i));
  t.same([...p.contiguous().data.slice(0, 6)], [0, 4, 8, 1, 5, 9]);
  t.same([...p.toFloat32().slice(0, 3)], [0, 4, 8]);
  t.throws(() => new Tensor('float32', new Float32Array(5), [2, 3]), RangeError);
  t.throws(() => new Tensor('float16', new Float32Array(6), [2, 3]), TypeError);
  t.throws(() => new Tensor('int64' as never, new Float32Array(6), [2, 3]), TypeError);
  t.throws(() => new Tensor('float32', new Float32Array(6), [2, -3]), RangeError);
  t.throws(() => new Tensor('float32', new Float32Array(6), [2, 3], [3]), RangeError);
  t.throws(() => x.permute([0, 0, 1]), RangeError);
  const o = Tensor.from({ type: 'bfloat16', dims: [2], data: new Uint16Array([0x3f80, 0x4000]) });
  t.same([...o.toFloat32()], [1, 2], 'ORT-style bf16');
  t.same(Tensor.from({ data: new Int32Array(4), shape: [4] }).dtype, 'int32', 'dtype from the array type');
  t.throws(() => Tensor.from({ type: 'float32', dims: [2], data: new Float32Array(2), location: 'gpu-buffer' }), TypeError);
  t.throws(() => Tensor.from({ type: 'string', dims: [2], data: ['a', 'b'] }), TypeError);
  const h = Tensor.fromFloat32([1, 2, 3], [3], 'float16');
  t.same([...h.data], [0x3c00, 0x4000, 0x4200]);
  t.same(Tensor.zeros('int8', [2, 2]).data.length, 4);
});
