// How attention runs: off the event loop, independent of the thread count,
// into caller-provided outputs.
import t from 'tap';
import { attention, attentionSync, backendInfo, setNumThreads, setSimdLevel, setVectorWidth, Tensor } from '../lib';
import { bitsEqual, randomArray } from './helpers';

const qkv = (B: number, H: number, N: number, D: number, dtype: 'float32' | 'bfloat16' = 'float32', seed = 1) =>
  [0, 1, 2].map((i) => Tensor.fromFloat32(randomArray(B * H * N * D, seed + i), [B, H, N, D], dtype));

t.test('a timer keeps firing while a large attention runs', async (t) => {
  const [q, k, v] = qkv(1, 16, 4096, 128);
  let ticks = 0;
  let settled = false;
  const timer = setInterval(() => void ticks++, 2);
  let ticksWhilePending = 0;
  const p = attention(q, k, v).then((o) => ((settled = true), (ticksWhilePending = ticks), o));
  t.notOk(settled, 'the call returned before the work finished');
  const out = await p;
  clearInterval(timer);
  t.ok(ticksWhilePending >= 3, `the interval fired ${ticksWhilePending} times while attention was pending`);
  t.same(out.shape, [1, 16, 4096, 128]);
});

t.test('results are bit-identical for 1 thread and for all threads', async (t) => {
  const all = backendInfo().cpu.hardwareThreads;
  t.teardown(() => {
    setNumThreads(all);
    setSimdLevel('avx512');
  });
  const cases = [
    { B: 1, H: 4, N: 1023, D: 64, opts: { causal: true } },
    { B: 2, H: 3, N: 300, D: 80, opts: { window: [50, 20] as [number, number], softcap: 4 } },
    { B: 1, H: 2, N: 257, D: 128, opts: {} },
  ];
  for (const level of ['avx512', 'avx2', 'scalar'] as const) {
    setSimdLevel(level);
    // Decode (few rows per kv head): the key ranges and their merge order come from the shapes.
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const q = Tensor.fromFloat32(randomArray(2 * 8 * 64, 7), [2, 8, 1, 64], dtype);
      const [k, v] = [8, 9].map((seed) => Tensor.fromFloat32(randomArray(2 * 2 * 3000 * 64, seed), [2, 2, 3000, 64], dtype));
      setNumThreads(1);
      const one = attentionSync(q, k, v, { returnLse: true });
      setNumThreads(Math.max(all, 2));
      const many = attentionSync(q, k, v, { returnLse: true });
      t.ok(bitsEqual(one.out, many.out) && bitsEqual(one.lse, many.lse), `${level} ${dtype} decode GQA 4, Nk 3000`);
    }
    for (const c of cases)
      for (const dtype of ['float32', 'bfloat16'] as const) {
        const [q, k, v] = qkv(c.B, c.H, c.N, c.D, dtype);
        setNumThreads(1);
        const one = attentionSync(q, k, v, { ...c.opts, returnLse: true });
        setNumThreads(Math.max(all, 2));
        const many = attentionSync(q, k, v, { ...c.opts, returnLse: true });
        const name = `${level} ${dtype} B${c.B} H${c.H} N${c.N} D${c.D} ${JSON.stringify(c.opts)}`;
        t.ok(bitsEqual(one.out, many.out), `${name}: output`);
        t.ok(bitsEqual(one.lse, many.lse), `${name}: lse`);
      }
  }
});

t.test('short calls back to back, several in flight, thread counts changing: same bits', async (t) => {
  // The pool hands regions over by spinning first and sleeping after a while: this
  // walks both ways, regions that need fewer workers than exist, and callers on
  // several threads at once.
  const all = backendInfo().cpu.hardwareThreads;
  t.teardown(() => void setNumThreads(all));
  const [q, k, v] = qkv(1, 3, 40, 16);
  const want = attentionSync(q, k, v, { causal: true });
  let calls = 0, same = 0;
  for (let round = 0; round < 40; round++) {
    setNumThreads([1, 2, 3, 5, 8][round % 5]);
    for (let i = 0; i < 5; i++, calls++) same += Number(bitsEqual(attentionSync(q, k, v, { causal: true }), want));
    const outs = await Promise.all(Array.from({ length: 4 }, () => attention(q, k, v, { causal: true })));
    for (const o of outs) {
      calls++;
      same += Number(bitsEqual(o, want));
    }
    if (round % 8 === 7) await new Promise((r) => setTimeout(r, 5));  // long enough for the workers to sleep
  }
  t.equal(same, calls, `${calls} calls`);
});

t.test('AVX-512 kernels give the same bits at 256 and 512 bits', { skip: backendInfo().cpu.simd !== 'avx512' && 'no AVX-512 on this CPU' }, async (t) => {
  t.teardown(() => void setVectorWidth('auto'));
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const [q, k, v] = qkv(2, 3, 301, 72, dtype);
    const opts = { window: [90, 7] as [number, number], softcap: 6, returnLse: true as const };
    setVectorWidth(512);
    const wide = attentionSync(q, k, v, opts);
    setVectorWidth(256);
    const narrow = attentionSync(q, k, v, opts);
    t.ok(bitsEqual(wide.out, narrow.out) && bitsEqual(wide.lse, narrow.lse), `${dtype}: output and lse`);
  }
});

t.test('options.out receives the result and is returned', async (t) => {
  const [q, k, v] = qkv(1, 2, 33, 16);
  const out = Tensor.zeros('float32', [1, 2, 33, 16]);
  const r = await attention(q, k, v, { out });
  t.equal(r, out, 'the same tensor object');
  t.ok(bitsEqual(out, attentionSync(q, k, v)), 'same values as a fresh output');
  const r2 = attentionSync(q, k, v, { out, returnLse: true });
  t.equal(r2.out, out);
  t.same(r2.lse.shape, [1, 2, 33]);
});

t.test('sync and async give the same bits', async (t) => {
  const [q, k, v] = qkv(2, 2, 77, 48, 'bfloat16');
  t.ok(bitsEqual(await attention(q, k, v, { causal: true }), attentionSync(q, k, v, { causal: true })));
});

t.test('onnxruntime-style and packed-QKV inputs need no copy', async (t) => {
  const B = 1, N = 40, H = 2, D = 16;
  // One [B, N, 3, H, D] buffer; q, k, v are strided views into it (bnhd layout).
  const packed = randomArray(B * N * 3 * H * D, 7);
  const view = (i: number) => new Tensor('float32', packed.subarray(i * H * D), [B, N, H, D], [N * 3 * H * D, 3 * H * D, D, 1]);
  const got = attentionSync(view(0), view(1), view(2), { layout: 'bnhd' });
  const dense = (i: number) => view(i).contiguous();
  const want = attentionSync(dense(0), dense(1), dense(2), { layout: 'bnhd' });
  t.ok(bitsEqual(got, want), 'strided views match contiguous copies');
  const ort = (x: Tensor) => ({ type: 'float32', dims: x.shape, data: x.data, location: 'cpu' });
  const d = [dense(0), dense(1), dense(2)];
  t.ok(bitsEqual(attentionSync(ort(d[0]), ort(d[1]), ort(d[2]), { layout: 'bnhd' }), want), 'ORT-style tensors');
});
