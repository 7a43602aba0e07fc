// Interleaved timing of quantized attention against our fp32 and bf16 attention, and of
// quantized decode against a bf16 cache, in one process: the variants alternate within
// each repetition, so load on a shared machine shifts them alike and the ratios of medians
// hold. Each call is timed in wall time and in the process's CPU time (user + system): on
// a machine shared with other work, the CPU-time ratios are the steadier ones.
//   node dist/bench/quant-ratios.js [N=4096] [reps=5] [D=64,128] [causal=0 (0, 1 or 0,1)]
import * as os from 'os';
import { attentionSync, backendInfo, quantizedAttentionSync, quantizeSync, Tensor } from '../lib';
import { native } from '../lib/native';
import { gaussian, random } from './data';
import { cosine, relL1 } from '../reference/measure';
import { attentionRef } from '../reference/attention';

const N = Number(process.argv[2] ?? 4096), reps = Number(process.argv[3] ?? 5);
const dims = (process.argv[4] ?? '64,128').split(',').map(Number);
const causals = (process.argv[5] ?? '0').split(',').map((x) => x === '1');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
// [wall ms, CPU ms] of one call.
const time = (f: () => unknown): [number, number] => {
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  f();
  const t1 = process.hrtime.bigint(), c = process.cpuUsage(c0);
  return [Number(t1 - t0) / 1e6, (c.user + c.system) / 1e3];
};

// Each variant run once to warm up, then `n` interleaved rounds; medians in ms, wall and CPU.
function interleaved(fs: (() => unknown)[], n: number): { wall: number[]; cpu: number[] } {
  const w: number[][] = fs.map(() => []), c: number[][] = fs.map(() => []);
  for (const f of fs) f();
  for (let r = 0; r < n; r++)
    fs.forEach((f, i) => {
      const [a, b] = time(f);
      w[i].push(a);
      c[i].push(b);
    });
  return { wall: w.map(median), cpu: c.map(median) };
}

const threads = backendInfo().cpu.threads;
console.log(`${os.cpus()[0]?.model}, ${threads} threads, ${backendInfo().cpu.simd}, bf16 attention ${backendInfo().cpu.attentionBf16}; ` +
  `fp32 FMA peak ${native().fmaPeak(threads, 0.5).toFixed(1)} GFLOP/s in this run; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
{
  // Accuracy of each variant against fp64 attention on Gaussian inputs (H2 N512 D64).
  const s = { B: 1, Hq: 2, Hkv: 2, Nq: 512, Nk: 512, D: 64, Dv: 64 }, shape = [1, 2, 512, 64], n = 2 * 512 * 64;
  const [q, k, v] = [1, 2, 3].map((i) => Tensor.fromFloat32(gaussian(n, 40 + i), shape));
  const ref = attentionRef(q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, s, {}).out;
  const bf = (x: Tensor) => Tensor.fromFloat32(x.data as Float32Array, shape, 'bfloat16');
  const acc = (o: Tensor) => {
    const a = o.toFloat32();
    return `cos ${cosine(a, ref).toFixed(6)} relL1 ${relL1(a, ref).toFixed(4)}`;
  };
  console.log(`accuracy vs fp64 (Gaussian, H2 N512 D64): bf16 attention ${acc(attentionSync(bf(q), bf(k), bf(v)))}; ` +
    `int8 ${acc(quantizedAttentionSync(q, k, v))}; int8 pv bf16 ${acc(quantizedAttentionSync(q, k, v, { pv: 'bf16' }))}; ` +
    `int8 pv int8 ${acc(quantizedAttentionSync(q, k, v, { pv: 'int8' }))}; ` +
    `int4 pv bf16 ${acc(quantizedAttentionSync(q, k, v, { pv: 'bf16', qkBits: 4, granularity: 'token', smoothQ: true }))}`);
}
for (const D of dims) for (const causal of causals) {
  const shape = [1, 8, N, D], n = 8 * N * D;
  const [q, k, v] = [1, 2, 3].map((s) => Tensor.fromFloat32(random(n, s), shape));
  const [qb, kb, vb] = [q, k, v].map((x) => Tensor.fromFloat32(x.data as Float32Array, shape, 'bfloat16'));
  const out = Tensor.zeros('float32', shape), outb = Tensor.zeros('bfloat16', shape);
  const int4 = { qkBits: 4, granularity: 'token', smoothQ: true, causal } as const;
  const names = ['fp32', 'bf16', 'int8', 'int8 pv bf16', 'int8 pv bf16 (bf16 in)', 'int8 pv int8', 'int8 pv int8 (bf16 in)', 'int4',
    'int4 pv bf16', 'int4 pv int8'];
  const m = interleaved([
    () => attentionSync(q, k, v, { out, causal }),
    () => attentionSync(qb, kb, vb, { out: outb, causal }),
    () => quantizedAttentionSync(q, k, v, { out, causal }),
    () => quantizedAttentionSync(q, k, v, { out, causal, pv: 'bf16' }),
    () => quantizedAttentionSync(qb, kb, vb, { out: outb, causal, pv: 'bf16' }),
    () => quantizedAttentionSync(q, k, v, { out, causal, pv: 'int8' }),
    () => quantizedAttentionSync(qb, kb, vb, { out: outb, causal, pv: 'int8' }),
    () => quantizedAttentionSync(q, k, v, { out, ...int4 }),
    () => quantizedAttentionSync(q, k, v, { out, ...int4, pv: 'bf16' }),
    () => quantizedAttentionSync(q, k, v, { out, ...int4, pv: 'int8' }),
  ], reps);
  console.log(`B1 H8 N${N} D${D}${causal ? ' causal' : ''} (medians of ${reps}; ratios: fp32 / x, bf16 / x; wall, then CPU time):`);
  names.forEach((name, i) =>
    console.log(`  ${name.padEnd(24)} wall ${m.wall[i].toFixed(1).padStart(8)} ms  ${(m.wall[0] / m.wall[i]).toFixed(2)}x  ` +
      `${(m.wall[1] / m.wall[i]).toFixed(2)}x   cpu ${m.cpu[i].toFixed(1).padStart(8)} ms  ${(m.cpu[0] / m.cpu[i]).toFixed(2)}x  ` +
      `${(m.cpu[1] / m.cpu[i]).toFixed(2)}x`));
}
if (process.env.QUANT_RATIOS_DECODE !== '0') {
  // Decode: 1 token, GQA 32/8, 32K cache, D128; four caches in turn so each is read from memory.
  const Hq = 32, Hkv = 8, Nk = 32768, D = 128, kv = Hkv * Nk * D;
  const q = Tensor.fromFloat32(random(Hq * D, 1), [1, Hq, 1, D], 'bfloat16');
  const raw = [0, 1, 2, 3].map((i) => [2, 3].map((s) => Tensor.fromFloat32(random(kv, s + 2 * i), [1, Hkv, Nk, D], 'bfloat16')));
  const cache = (bits: 8 | 4) => raw.map(([k, v]) =>
    [quantizeSync(k, { bits, granularity: 'token', smooth: true }), quantizeSync(v, { bits, granularity: 'token' })] as const);
  const [c8, c4] = [cache(8), cache(4)];
  const out = Tensor.zeros('bfloat16', [1, Hq, 1, D]);
  let i = 0;
  const m = interleaved([
    () => attentionSync(q, raw[i % 4][0], raw[i++ % 4][1], { out }),
    () => quantizedAttentionSync(q, c8[i % 4][0], c8[i++ % 4][1], { out }),
    () => quantizedAttentionSync(q, c4[i % 4][0], c4[i++ % 4][1], { out }),
    () => quantizedAttentionSync(q, c8[i % 4][0], c8[i++ % 4][1], { out, pv: 'int8' }),
    () => quantizedAttentionSync(q, c4[i % 4][0], c4[i++ % 4][1], { out, pv: 'int8' }),
    () => quantizedAttentionSync(q, c8[i % 4][0], c8[i++ % 4][1], { out, pv: 'bf16' }),
    () => quantizedAttentionSync(q, c4[i % 4][0], c4[i++ % 4][1], { out, pv: 'bf16' }),
  ], Math.max(reps, 9)).wall;
  console.log(`decode H32/8 Nk32768 D128: bf16 cache ${m[0].toFixed(2)} ms, int8 ${m[1].toFixed(2)} ms ` +
    `(${(m[1] / m[0]).toFixed(2)} of bf16), int4 ${m[2].toFixed(2)} ms (${(m[2] / m[0]).toFixed(2)} of bf16); ` +
    `pv int8: int8 ${m[3].toFixed(2)} ms (${(m[3] / m[1]).toFixed(2)} of pv fp32), int4 ${m[4].toFixed(2)} ms ` +
    `(${(m[4] / m[2]).toFixed(2)} of pv fp32); pv bf16: int8 ${m[5].toFixed(2)} ms (${(m[5] / m[1]).toFixed(2)} of pv fp32), ` +
    `int4 ${m[6].toFixed(2)} ms (${(m[6] / m[2]).toFixed(2)} of pv fp32)`);
  // The bytes each call reads (K and V rows, plus the per-token scales), against the copy
  // bandwidth (bytes read + written) measured now.
  const copy = native().copyBandwidth(threads, 0.5);
  const bytes = [2 * kv * 2, 2 * kv + 2 * Hkv * Nk * 4, kv + 2 * Hkv * Nk * 4];
  const rate = bytes.map((b, j) => b / (m[j] * 1e6));
  console.log(`  read rate: bf16 ${rate[0].toFixed(1)}, int8 ${rate[1].toFixed(1)}, int4 ${rate[2].toFixed(1)} GB/s; ` +
    `copy ${copy.toFixed(1)} GB/s (${rate.map((r) => ((100 * r) / copy).toFixed(0) + '%').join(', ')} of it)`);
}
