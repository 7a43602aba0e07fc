// CUDA tensors and ops. Without a GPU (or without the CUDA backend) these check
// that the binary loads, reports zero devices, and refuses CUDA work with a clear
// error; with a GPU they run the ops on CUDA tensors against the CPU backend.
import t from 'tap';
import {
  attentionSync, attention, backendInfo, causalConv1d, causalConv1dSync, dequantizeSync, ErrorCodes, mergeAttentionStates,
  mergeAttentionStatesSync, quantizedAttention, quantizedAttentionSync, quantizeSync, sync, syncSync, Tensor, type FloatDType,
  blockSparseAttentionSync, xattention, xattentionMask, xattentionScoresSync, blockMaskToIndices, indicesToBlockMask,
  blockSparseAttention,
} from '../lib';
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../lib/native';
import { DeviceStorage } from '../lib/tensor';
import { maxAbs, maxAbsDiff, randomArray, roundingFloor } from './helpers';
import { attentionRef } from '../reference/attention';
import { accuracy } from '../reference/quant';
import { gaussian } from '../reference/random';

const info = backendInfo();
const gpus = info.cuda.devices.length;

t.test('backendInfo reports the CUDA build and its devices', async (t) => {
  t.equal(info.backends.includes('cuda'), info.cuda.compiled);
  t.equal(gpus, native().cudaDeviceCount(), 'devices listed = devices counted');
  if (info.cuda.compiled) t.ok(info.cuda.runtimeVersion >= 11000, `runtime ${info.cuda.runtimeVersion}`);
  else t.equal(info.cuda.runtimeVersion, 0);
  if (gpus === 0 && info.cuda.compiled) t.match(info.cuda.error ?? '', /\w/, `why no device: ${info.cuda.error}`);
  for (const d of info.cuda.devices) {
    t.match(d.computeCapability, /^\d+\.\d+$/);
    t.ok(d.totalMemory > 0 && d.freeMemory <= d.totalMemory && d.multiprocessors > 0, d.name);
    t.ok(info.cuda.driverVersion > 0, 'driver version');
  }
});

t.test('bad device names are TypeErrors', async (t) => {
  const x = Tensor.zeros('float32', [2]);
  // @ts-expect-error a name the Device type excludes: JavaScript callers reach the run-time check
  await t.rejects(x.to('gpu'), { name: 'TypeError', message: /'cpu', 'cuda' or 'cuda:N'/ });
  await t.rejects(x.to('cuda:-1'), TypeError);
  t.equal(await x.to('cpu'), x, 'to the same device is the same tensor');
  const plain = { dtype: 'float32' as const, shape: [1, 1, 2, 1], data: new Float32Array(2), device: 'cuda:0' };
  t.throws(() => attentionSync(plain, plain, plain), { name: 'TypeError', message: /q\.device is 'cuda:0'.*only a Tensor/ }, 'host data claiming a device');
  // @ts-expect-error the addon's own check, for raw objects from JavaScript callers
  t.throws(() => native().attentionSync({ ...plain, device: 'gpu' }, plain, plain, {}), { name: 'TypeError', message: /q\.device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'/ });
});

if (gpus === 0) {
  t.comment('no CUDA device here: the round-trip, device-mixing, out-of-memory and CUDA-vs-CPU op tests need one and did not run');
  t.test('without a GPU, CUDA work is refused with a clear error', async (t) => {
    const x = Tensor.fromFloat32([1, 2, 3], [3]);
    const why = info.cuda.compiled ? /no usable CUDA device/ : /no CUDA backend/;
    await t.rejects(x.to('cuda'), { message: why });
    await t.rejects(x.to('cuda:1'), { message: why });
    t.throws(() => new (native().DeviceBuffer)(0, 16), { message: why }, 'allocation');
    t.same([...(await x.toArray())], [1, 2, 3], 'the process is still usable');
  });

  t.test('without a GPU, sync() on a CUDA device is refused and sync on the CPU is a no-op', async (t) => {
    const why = info.cuda.compiled ? /no usable CUDA device/ : /no CUDA backend/;
    await t.rejects(sync(), { message: why, code: ErrorCodes.DEVICE });
    await t.rejects(sync('cuda:1'), { message: why, code: ErrorCodes.DEVICE });
    t.throws(() => syncSync('cuda'), { message: why, code: ErrorCodes.DEVICE });
    t.equal(await sync('cpu'), undefined);
    t.equal(syncSync('cpu'), undefined);
  });
}

// The addon's codes (csrc/napi/marshal.cpp, from csrc/core/error.h) are the ones lib/errors.ts exports.
t.test('the native error codes and ErrorCodes agree, ERR_SUBQ_DEVICE_LOST included', async (t) => {
  const src = fs.readFileSync(path.join(__dirname, '..', 'csrc', 'napi', 'marshal.cpp'), 'utf8');
  const nativeCodes = new Set(src.match(/"ERR_SUBQ_[A-Z_]+"/g)!.map((c) => c.slice(1, -1)));
  t.same([...nativeCodes].sort(), Object.values(ErrorCodes).sort());
  t.equal(ErrorCodes.DEVICE_LOST, 'ERR_SUBQ_DEVICE_LOST');
});

t.test('sync() checks its device argument', async (t) => {
  // @ts-expect-error a name the Device type excludes
  await t.rejects(sync('gpu'), { name: 'TypeError', message: /'cpu', 'cuda' or 'cuda:N'/ });
  // @ts-expect-error likewise
  t.throws(() => syncSync(0), { name: 'TypeError', message: /'cpu', 'cuda' or 'cuda:N'/ });
  await t.rejects(native().cudaSync(-1), { name: 'RangeError', message: /device must be in \[0, 1023\], got -1/ });
  t.throws(() => native().cudaSyncSync(1024), { name: 'RangeError', message: /device must be in \[0, 1023\]/ });
  // @ts-expect-error the addon takes an index
  await t.rejects(native().cudaSync('cuda:0'), { name: 'TypeError', code: ErrorCodes.ARG });
});

// A tensor claiming CUDA memory it does not have: the native layer refuses it
// before anything touches memory, and the JS layer's disposed checks apply.
t.test('forged and disposed CUDA tensors are refused', async (t) => {
  const fake = { bytes: 64, device: 0, disposed: false, dispose() { this.disposed = true; } };
  const x = new Tensor('float32', new DeviceStorage(fake, 'cuda:0'), [4, 4]);
  t.equal(x.device, 'cuda:0');
  t.throws(() => x.data, { name: 'TypeError', message: /on cuda:0.*toArray/ });
  const cpu = Tensor.zeros('float32', [1, 1, 4, 4]);
  const q = new Tensor('float32', new DeviceStorage(fake, 'cuda:0'), [1, 1, 4, 4]);
  t.throws(() => attentionSync(q, q, q), { name: 'TypeError', message: /q is on cuda:0 but its deviceBuffer is not a DeviceBuffer/ });
  await t.rejects(attention(cpu, q, cpu), { name: 'TypeError', message: /k is on cuda:0/ });
  const lse = Tensor.zeros('float32', [1, 1, 4]);
  t.throws(() => mergeAttentionStatesSync(cpu, lse, q, lse), TypeError);
  t.throws(() => new Tensor('float32', new DeviceStorage(fake, 'cuda:0'), [17]), RangeError, 'capacity from the buffer');
  x.dispose();
  t.ok(x.disposed && q.disposed, 'views of one buffer are disposed together');
  await t.rejects(x.toArray(), { name: 'TypeError', message: /disposed/ });
  await t.rejects(x.to('cpu'), { name: 'TypeError', message: /disposed/ });
  t.throws(() => x.permute([1, 0]), { name: 'TypeError', message: /disposed/ });
  const y = new Tensor('float32', new DeviceStorage({ ...fake, disposed: false }, 'cuda:0'), [4]);
  {
    using z = y;
    t.notOk(z.disposed);
  }
  t.ok(y.disposed, 'Symbol.dispose frees at the end of a using block');
  t.notOk(Tensor.zeros('float32', [1]).disposed, 'CPU tensors are never disposed');
});

if (gpus > 0) {
  const dtypes: FloatDType[] = ['float32', 'float16', 'bfloat16'];

  t.test('upload and download round trips', async (t) => {
    for (const dtype of dtypes) {
      const x = Tensor.fromFloat32(randomArray(2 * 3 * 5, 1), [2, 3, 5], dtype);
      using g = await x.to('cuda');
      t.equal(g.device, 'cuda:0');
      t.same([...(await g.toArray())], [...x.data], `${dtype} toArray`);
      const back = await g.permute([2, 0, 1]).to('cpu');
      t.same([...back.toFloat32()], [...x.permute([2, 0, 1]).toFloat32()], `${dtype} permuted view`);
      const strided = await x.permute([1, 0, 2]).to('cuda');
      t.same([...(await strided.toArray())], [...x.permute([1, 0, 2]).contiguous().data], 'strided source');
      strided.dispose();
    }
  });

  t.test('mixing devices in one call is a TypeError', async (t) => {
    const cpu = Tensor.fromFloat32(randomArray(2 * 8 * 16, 2), [1, 2, 8, 16]);
    const gpu = await cpu.to('cuda');
    t.throws(() => attentionSync(cpu, gpu, cpu), { name: 'TypeError', message: /k is on cuda:0 but q is on cpu/ });
    const lse = Tensor.zeros('float32', [1, 2, 8]);
    t.throws(() => mergeAttentionStatesSync(gpu, lse, gpu, lse), { name: 'TypeError', message: /lse1 is on cpu/ });
    gpu.dispose();
    t.throws(() => attentionSync(gpu, gpu, gpu), { name: 'TypeError', message: /q was disposed/ });
  });

  t.test('mergeAttentionStates on CUDA matches the CPU backend', async (t) => {
    const B = 2, H = 3, N = 37, D = 80;
    for (const dtype of dtypes) {
      const o1 = Tensor.fromFloat32(randomArray(B * H * N * D, 3), [B, H, N, D], dtype);
      const o2 = Tensor.fromFloat32(randomArray(B * H * N * D, 4), [B, H, N, D], dtype);
      const l1 = new Tensor('float32', randomArray(B * H * N, 5, 6).map((x, i) => (i % 7 ? x : -Infinity)), [B, H, N]);
      const l2 = new Tensor('float32', randomArray(B * H * N, 6, 6).map((x, i) => (i % 11 ? x : -Infinity)), [B, H, N]);
      const want = mergeAttentionStatesSync(o1, l1, o2, l2);
      const g = await Promise.all([o1, l1, o2, l2].map((x) => x.to('cuda')));
      const got = await mergeAttentionStates(g[0], g[1], g[2], g[3]);
      t.equal(got.out.device, 'cuda:0');
      const tol = roundingFloor(dtype, maxAbs(want.out.toFloat32())) * 2;
      const out = await got.out.to('cpu');
      t.ok(maxAbsDiff(out.toFloat32(), want.out.toFloat32()) <= tol, `${dtype} out`);
      t.ok(maxAbsDiff((await got.lse.to('cpu')).toFloat32(), want.lse.toFloat32()) <= 1e-5, `${dtype} lse`);
      [...g, got.out, got.lse].forEach((x) => x.dispose());
    }
  });

  t.test('quantize, dequantize and quantizedAttention on CUDA match the CPU backend', async (t) => {
    const B = 1, H = 2, N = 70, D = 40;
    for (const dtype of dtypes) {
      const x = Tensor.fromFloat32(randomArray(B * H * N * D, 9), [B, H, N, D], dtype);
      const g = await x.to('cuda');
      for (const bits of [8, 4] as const) {
        const want = quantizeSync(x, { bits, smooth: true });
        const got = quantizeSync(g, { bits, smooth: true });
        t.equal(got.data.device, 'cuda:0');
        t.same([...(await got.data.toArray())], [...want.data.data], `${dtype} int${bits} values, bit for bit`);
        t.same([...(await got.scales.toArray())], [...want.scales.data], `${dtype} int${bits} scales`);
        t.same([...(await got.mean!.toArray())], [...want.mean!.data], `${dtype} int${bits} mean`);
        const deq = dequantizeSync(got);
        t.same([...(await deq.toArray())], [...dequantizeSync(want).data], `${dtype} int${bits} dequantize`);
        t.throws(() => quantizedAttentionSync(x, got, x), { name: 'TypeError', message: /k.data is on cuda:0 but q is on cpu/ });
        t.throws(() => dequantizeSync(got, { out: Tensor.zeros('float32', [B, H, N, D]) }), { name: 'TypeError', message: /options.out is on cpu/ });
        [got.data, got.scales, got.mean!, deq].forEach((y) => y.dispose());
        for (const pv of ['fp32', 'fp16', 'int8'] as const) {
          const o = { qkBits: bits, pv, causal: true, returnLse: true } as const;
          const cpu = quantizedAttentionSync(x, x, x, o);
          const dev = await quantizedAttention(g, g, g, o);
          // pv int8: each side within 1e-3 of the fp64 pvInt8 reference (docs/semantics.md).
          const tol = pv === 'fp16' || dtype === 'float16' ? 3e-3 : dtype === 'bfloat16' ? 2e-2 : pv === 'int8' ? 1e-3 : 2e-4;
          t.ok(maxAbsDiff((await dev.out.to('cpu')).toFloat32(), cpu.out.toFloat32()) <= 2 * tol, `${dtype} int${bits} pv ${pv} out`);
          t.ok(maxAbsDiff((await dev.lse.to('cpu')).toFloat32(), cpu.lse.toFloat32()) <= 1e-4 * 10, `${dtype} int${bits} pv ${pv} lse`);
          [dev.out, dev.lse].forEach((y) => y.dispose());
        }
      }
      // A block mask (query block 0 reads key block 0; block 1 reads both), compact form on the device.
      const idx = new Tensor('int32', Int32Array.from([0, 0, 0, 1, 0, 0, 0, 1]), [B, H, 2, 2]);
      const cnt = new Tensor('int32', Int32Array.from([1, 2, 1, 2]), [B, H, 2]);
      const mo = { mask: { indices: idx, counts: cnt }, blockSize: 64, returnLse: true } as const;
      const want = quantizedAttentionSync(x, x, x, mo);
      const [indices, counts] = await Promise.all([idx.to('cuda'), cnt.to('cuda')]);
      const got = quantizedAttentionSync(g, g, g, { ...mo, mask: { indices, counts } });
      const tol = dtype === 'float16' ? 3e-3 : dtype === 'bfloat16' ? 2e-2 : 2e-4;
      t.ok(maxAbsDiff((await got.out.to('cpu')).toFloat32(), want.out.toFloat32()) <= 2 * tol, `${dtype} block mask`);
      [g, indices, counts, got.out, got.lse].forEach((y) => y.dispose());
    }
  });

  t.test('quantizedAttention pv int8 on CUDA: accuracy against fp64 attention, caches, GQA', async (t) => {
    // The semantics' accuracy inputs: 256 tokens, D 64, Gaussian, +30 on three K channels or not.
    const s = { B: 1, Hq: 2, Hkv: 2, Nq: 256, Nk: 256, D: 64, Dv: 64 };
    for (const outlier of [0, 30]) {
      const q = gaussian(256 * 128, 31), k = gaussian(256 * 128, 32), v = gaussian(256 * 128, 33);
      if (outlier) for (let i = 0; i < k.length; i += 64) for (const c of [1, 5, 11]) k[i + c] += outlier;
      const ref = attentionRef(q, k, v, s, {}).out;
      const [gq, gk, gv] = await Promise.all([q, k, v].map((a) => new Tensor('float32', a, [1, 2, 256, 64]).to('cuda')));
      for (const granularity of ['block', 'token'] as const) {
        const got = await quantizedAttention(gq, gk, gv, { granularity, pv: 'int8' }) as Tensor;
        const a = accuracy((await got.to('cpu')).toFloat32(), ref);
        t.ok(a.cosine >= 0.9995 && a.relL1 <= 0.02, `${granularity} outlier ${outlier}: cos ${a.cosine.toFixed(5)} relL1 ${a.relL1.toFixed(4)}`);
        got.dispose();
      }
      [gq, gk, gv].forEach((y) => y.dispose());
    }
    // GQA, odd lengths, a window, head dims 128 and 256, int8 and int4 V caches: against the CPU op.
    for (const [D, vbits] of [[128, 8], [200, 4]] as const) {
      const x = (n: number, h: number, seed: number) => new Tensor('float32', gaussian(h * n * D, seed), [1, h, n, D]);
      const q = x(77, 6, 41), k = x(203, 2, 42), v = x(203, 2, 43);
      const o = { pv: 'int8', window: [90, 7], returnLse: true } as const;
      const [gq, gk, gv] = await Promise.all([q.to('cuda'), k.to('cuda'), v.to('cuda')]);
      // The device quantizer writes the CPU's bits (checked above), so both read the same cache.
      const vq = quantizeSync(v, { bits: vbits, granularity: 'token' }), gvq = quantizeSync(gv, { bits: vbits, granularity: 'token' });
      for (const [name, cv, dv] of [['in-call V', v, gv], [`int${vbits} V cache`, vq, gvq]] as const) {
        const want = quantizedAttentionSync(q, k, cv, o);
        const got = await quantizedAttention(gq, gk, dv, o);
        t.ok(maxAbsDiff((await got.out.to('cpu')).toFloat32(), want.out.toFloat32()) <= 2e-3, `D ${D} ${name}: out`);
        t.ok(maxAbsDiff((await got.lse.to('cpu')).toFloat32(), want.lse.toFloat32()) <= 1e-3, `D ${D} ${name}: lse`);
        [got.out, got.lse].forEach((y) => y.dispose());
      }
      [gq, gk, gv, gvq.data, gvq.scales].forEach((y) => y.dispose());
    }
  });

  t.test('disposing inputs while an async op runs is safe', async (t) => {
    const o = Tensor.fromFloat32(randomArray(4 * 8 * 512 * 64, 7), [4, 8, 512, 64]);
    const l = new Tensor('float32', randomArray(4 * 8 * 512, 8), [4, 8, 512]);
    const want = mergeAttentionStatesSync(o, l, o, l);
    const [go, gl] = await Promise.all([o.to('cuda'), l.to('cuda')]);
    const p = mergeAttentionStates(go, gl, go, gl);
    go.dispose();
    gl.dispose();
    const got = await p;
    t.ok(maxAbsDiff(await got.out.toArray(), want.out.data) <= 1e-6, 'result intact');
    got.out.dispose();
    got.lse.dispose();
  });

  t.test('a timer keeps firing while a large copy and a merge run on the GPU', async (t) => {
    const n = 64 * 1024 * 1024;
    const x = new Tensor('float32', new Float32Array(n), [8, 32, 2048, 128]);
    const l = Tensor.zeros('float32', [8, 32, 2048]);
    let ticks = 0;
    const timer = setInterval(() => void ticks++, 2);
    const g = await x.to('cuda');
    const gl = await l.to('cuda');
    const before = ticks;
    const m = await mergeAttentionStates(g, gl, g, gl);
    const back = await m.out.to('cpu');
    clearInterval(timer);
    t.ok(ticks - before >= 3, `the interval fired ${ticks - before} times during the merge and download`);
    t.equal(back.size, n);
    [g, gl, m.out, m.lse].forEach((y) => y.dispose());
  });

  t.test('out of memory is a RangeError and the process stays usable', async (t) => {
    const huge = Tensor.zeros('float32', [1]);
    t.throws(() => new (native().DeviceBuffer)(0, 2 ** 52), { name: 'RangeError', message: /out of memory/ });
    using g = await huge.to('cuda');
    t.same([...(await g.toArray())], [0]);
  });

  t.test('causalConv1d on CUDA tensors runs on the device and matches the CPU backend', async (t) => {
    for (const dtype of dtypes) {
      const x = Tensor.fromFloat32(randomArray(2 * 16 * 300, 1), [2, 16, 300], dtype);
      const w = Tensor.fromFloat32(randomArray(16 * 4, 2), [16, 4], dtype);
      const bias = Tensor.fromFloat32(randomArray(16, 3), [16], dtype);
      const want = causalConv1dSync(x, w, { bias, activation: 'silu', returnFinalStates: true });
      const [gx, gw, gb] = await Promise.all([x, w, bias].map((y) => y.to('cuda')));
      const got = await causalConv1d(gx, gw, { bias: gb, activation: 'silu', returnFinalStates: true });
      t.equal(got.out.device, 'cuda:0', `${dtype}: output on the device`);
      const tol = 2 * roundingFloor(dtype, maxAbs(want.out.toFloat32())) + 1e-5;
      t.ok(maxAbsDiff((await got.out.to('cpu')).toFloat32(), want.out.toFloat32()) <= tol, `${dtype} out`);
      t.same([...(await got.finalStates.toArray())], [...want.finalStates.data], `${dtype} final states`);
      [gx, gw, gb, got.out, got.finalStates].forEach((y) => y.dispose());
    }
  });

  t.test('attention on CUDA matches the CPU backend', async (t) => {
    const B = 2, Hq = 4, Hkv = 2, Nq = 77, Nk = 130;
    for (const dtype of dtypes)
      for (const D of [64, 80, 128])
        for (const opts of [{}, { causal: true }, { window: [20, 5] as [number, number], softcap: 5 }]) {
          const q = Tensor.fromFloat32(randomArray(B * Hq * Nq * D, 1), [B, Hq, Nq, D], dtype);
          const k = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 2), [B, Hkv, Nk, D], dtype);
          const v = Tensor.fromFloat32(randomArray(B * Hkv * Nk * D, 3), [B, Hkv, Nk, D], dtype);
          const want = attentionSync(q, k, v, { ...opts, returnLse: true });
          const g = await Promise.all([q, k, v].map((x) => x.to('cuda')));
          const name = `${dtype} D${D} ${JSON.stringify(opts)}`;
          try {
            const got = await attention(g[0], g[1], g[2], { ...opts, returnLse: true });
            const out = (await got.out.to('cpu')).toFloat32();
            const tol = dtype === 'float32' ? 1e-4 : 4 * roundingFloor(dtype, maxAbs(want.out.toFloat32()));
            t.ok(maxAbsDiff(out, want.out.toFloat32()) <= tol, `${name}: out`);
            t.ok(maxAbsDiff((await got.lse.to('cpu')).toFloat32(), want.lse.toFloat32()) <= 1e-3, `${name}: lse`);
            got.out.dispose();
            got.lse.dispose();
          } catch (e) {
            t.fail(`${name}: ${(e as Error).message}`);
          }
          g.forEach((x) => x.dispose());
        }
  });

  t.test('xattentionMask on CUDA scores gives the CPU mask bit for bit; xattention selects on the device', async (t) => {
    const B = 2, H = 3, N = 1000, D = 64;
    const q = Tensor.fromFloat32(randomArray(B * H * N * D, 21), [B, H, N, D]);
    const k = Tensor.fromFloat32(randomArray(B * H * N * D, 22), [B, H, N, D]);
    const v = Tensor.fromFloat32(randomArray(B * H * N * D, 23), [B, H, N, D]);
    for (const causal of [false, true]) {
      const scores = xattentionScoresSync(q, k, { causal, blockSize: 64, stride: 8 });
      using gs = await scores.to('cuda');
      for (const threshold of [0, 0.5, 0.9, [0.3, 0.95, 1]]) {
        const opts = { threshold, causal, keepSink: threshold !== 0.5 };
        const want = xattentionMask(scores, opts), got = xattentionMask(gs, opts);
        t.equal(got.mask.device, 'cuda:0');
        t.same((await got.mask.to('cpu')).data, want.mask.data, `causal ${causal} threshold ${threshold}: mask`);
        t.same([got.density, ...got.densityPerHead], [want.density, ...want.densityPerHead], 'densities');
        got.mask.dispose();
      }
      const g = await Promise.all([q, k, v].map((x) => x.to('cuda')));
      const r = await xattention(g[0], g[1], g[2], { causal, blockSize: 64, threshold: 0.9 });
      // The device's scores (not the CPU's bits) decide its mask; selection itself is exact.
      using ds = xattentionScoresSync(g[0], g[1], { causal, blockSize: 64, stride: 8 });
      const sel = xattentionMask(await ds.to('cpu'), { threshold: 0.9, causal });
      t.same((await r.mask.to('cpu')).data, sel.mask.data, `causal ${causal}: xattention's mask`);
      t.equal(r.density, sel.density);
      const want = blockSparseAttentionSync(q, k, v, sel.mask, { causal, blockSize: 64 }) as Tensor;
      t.ok(maxAbsDiff((await r.out.to('cpu')).toFloat32(), want.toFloat32()) <= 1e-4, `causal ${causal}: xattention's output`);
      [...g, r.out].forEach((x) => x.dispose());
    }
  });

  t.test('block masks stay on the device: both forms, uint8 masks in blockSparseAttention, pooled xattention', async (t) => {
    const { randomBlockMask } = await import('../reference/sparse');
    for (const [B, H, nqb, nkb, density] of [[1, 1, 1, 1, 1], [2, 3, 5, 3, 0.5], [2, 4, 7, 65, 0.1], [1, 2, 3, 200, 0], [1, 2, 4, 200, 1]]) {
      const m = new Tensor('uint8', randomBlockMask(B, H, nqb, nkb, density, nkb), [B, H, nqb, nkb]);
      using gm = await m.to('cuda');
      const want = blockMaskToIndices(m), got = blockMaskToIndices(gm);
      const what = `B${B} H${H} ${nqb}x${nkb} density ${density}`;
      t.equal(got.indices.device, 'cuda:0', `${what}: the compact form stays on the device`);
      t.same(got.indices.shape, want.indices.shape, `${what}: maxK`);
      t.same((await got.indices.to('cpu')).data, want.indices.data, `${what}: indices bit for bit`);
      t.same((await got.counts.to('cpu')).data, want.counts.data, `${what}: counts`);
      using back = indicesToBlockMask(got, nkb);
      t.same((await back.to('cpu')).data, m.data, `${what}: indicesToBlockMask on the device`);
      got.indices.dispose();
      got.counts.dispose();
    }
    const [B, Hq, Hkv, N, D] = [2, 4, 2, 1000, 64];
    const q = Tensor.fromFloat32(randomArray(B * Hq * N * D, 31), [B, Hq, N, D]);
    const k = Tensor.fromFloat32(randomArray(B * Hkv * N * D, 32), [B, Hkv, N, D]);
    const v = Tensor.fromFloat32(randomArray(B * Hkv * N * D, 33), [B, Hkv, N, D]);
    const g = await Promise.all([q, k, v].map((x) => x.to('cuda')));
    const nb = Math.ceil(N / 64);
    const mask = new Tensor('uint8', randomBlockMask(B, Hkv, nb, nb, 0.3, 5), [B, Hkv, nb, nb]);
    using gmask = await mask.to('cuda');
    for (const causal of [false, true]) {
      const want = blockSparseAttentionSync(q, k, v, mask, { causal, blockSize: 64 }) as Tensor;
      const got = blockSparseAttentionSync(g[0], g[1], g[2], gmask, { causal, blockSize: 64 }) as Tensor;
      t.ok(maxAbsDiff((await got.to('cpu')).toFloat32(), want.toFloat32()) <= 1e-4, `causal ${causal}: a uint8 mask on the device`);
      const moved = (await blockSparseAttention(g[0], g[1], g[2], mask, { causal, blockSize: 64 })) as Tensor;
      t.ok(maxAbsDiff((await moved.to('cpu')).toFloat32(), want.toFloat32()) <= 1e-4, `causal ${causal}: a CPU mask moved by the async call`);
      const r = await xattention(g[0], g[1], g[2], { causal, blockSize: 64, threshold: 0.9, poolGroups: true });
      t.equal(r.mask.device, 'cuda:0', `causal ${causal}: the pooled mask stays on the device`);
      // The CPU's transforms of the device's own selection (its scores decide it).
      using ds = xattentionScoresSync(g[0], g[1], { causal, blockSize: 64, stride: 8 });
      const sel = xattentionMask(await ds.to('cpu'), { threshold: 0.9, causal });
      const ref = native().blockMaskToIndicesSync(sel.mask, { group: Hq / Hkv, diagonal: { nq: N, nk: N, blockSize: 64 }, causal, withMask: true, totals: true });
      t.same((await r.mask.to('cpu')).data, ref.mask!.data, `causal ${causal}: pooled mask`);
      const vis = ref.visiblePerHead!;
      t.same(r.densityPerHead, ref.keptPerHead!.map((x, h) => x / vis[h]), `causal ${causal}: pooled densities`);
      [got, moved, r.out, r.mask].forEach((x) => x.dispose());
    }
    g.forEach((x) => x.dispose());
  });

  // Ops on CUDA tensors are enqueued (docs/architecture.md): outputs feed the next
  // op at once, stream order keeps the chain correct, and only host reads wait.
  t.test('chained ops on the device are enqueued without host waits and stay correct', async (t) => {
    const B = 1, H = 2, N = 40, D = 64;
    const o = Tensor.fromFloat32(randomArray(B * H * N * D, 11), [B, H, N, D]);
    const l = new Tensor('float32', randomArray(B * H * N, 12, 4), [B, H, N]);
    let want = mergeAttentionStatesSync(o, l, o, l);
    for (let i = 0; i < 9; i++) want = mergeAttentionStatesSync(want.out, want.lse, o, l);
    const [go, gl] = await Promise.all([o.to('cuda'), l.to('cuda')]);
    const made: Tensor[] = [];
    let got = mergeAttentionStatesSync(go, gl, go, gl);
    made.push(got.out, got.lse);
    for (let i = 0; i < 9; i++) {
      // Alternate the twins: both return once enqueued.
      got = i % 2 ? mergeAttentionStatesSync(got.out, got.lse, go, gl) : await mergeAttentionStates(got.out, got.lse, go, gl);
      made.push(got.out, got.lse);
    }
    await sync('cuda:0');
    syncSync('cuda:0');
    t.ok(maxAbsDiff(await got.out.toArray(), want.out.data) <= 1e-5, 'out of the tenth merge');
    t.ok(maxAbsDiff(await got.lse.toArray(), want.lse.data) <= 1e-5, 'lse of the tenth merge');
    // A write enqueued after toArray() does not change what it reads.
    const before = got.out.toArray();
    mergeAttentionStatesSync(go, gl, go, gl, { out: got.out });
    t.ok(maxAbsDiff(await before, want.out.data) <= 1e-5, 'toArray reads the buffer as of its call');
    [go, gl, ...made].forEach((x) => x.dispose());
  });

  t.test('a loop of decode-sized attention calls into one output ends with the right result', async (t) => {
    const qs = [1, 2, 3].map((seed) => Tensor.fromFloat32(randomArray(4 * 8 * 64, seed), [4, 8, 1, 64], 'float16'));
    const k = Tensor.fromFloat32(randomArray(4 * 2 * 700 * 64, 5), [4, 2, 700, 64], 'float16');
    const v = Tensor.fromFloat32(randomArray(4 * 2 * 700 * 64, 6), [4, 2, 700, 64], 'float16');
    const want = attentionSync(qs[2], k, v);
    const [gk, gv, ...gq] = await Promise.all([k, v, ...qs].map((x) => x.to('cuda')));
    const out = attentionSync(gq[0], gk, gv);
    for (let i = 0; i < 200; i++) attentionSync(gq[i % 3], gk, gv, { out });
    attentionSync(gq[2], gk, gv, { out });
    const tol = 4 * roundingFloor('float16', maxAbs(want.toFloat32()));
    t.ok(maxAbsDiff((await out.to('cpu')).toFloat32(), want.toFloat32()) <= tol, 'the last call wins, in stream order');
    [gk, gv, ...gq, out].forEach((x) => x.dispose());
  });
}
