// Interleaved timing of quantized attention against our fp32 attention and of quantized
// decode against a bf16 cache, in one process: the variants alternate within each
// repetition, so load on a shared machine shifts them alike and the ratios of medians hold.
//   node dist/bench/quant-ratios.js [N=4096] [reps=5]
import * as os from 'os';
import { attentionSync, backendInfo, quantizedAttentionSync, quantizeSync, Tensor } from '../lib';
import { native } from '../lib/native';
import { random } from './data';

const N = Number(process.argv[2] ?? 4096), reps = Number(process.argv[3] ?? 5);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const ms = (f: () => unknown) => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

// Each variant run once to warm up, then `n` interleaved rounds; medians in ms.
function interleaved(fs: (() => unknown)[], n: number): number[] {
  const t: number[][] = fs.map(() => []);
  for (const f of fs) f();
  for (let r = 0; r < n; r++) fs.forEach((f, i) => t[i].push(ms(f)));
  return t.map(median);
}

const threads = backendInfo().cpu.threads;
console.log(`${os.cpus()[0]?.model}, ${threads} threads, ${backendInfo().cpu.simd}; ` +
  `fp32 FMA peak ${native().fmaPeak(threads, 0.5).toFixed(1)} GFLOP/s in this run`);
for (const D of [64, 128]) {
  const shape = [1, 8, N, D], n = 8 * N * D;
  const [q, k, v] = [1, 2, 3].map((s) => Tensor.fromFloat32(random(n, s), shape));
  const out = Tensor.zeros('float32', shape);
  const m = interleaved([
    () => attentionSync(q, k, v, { out }),
    () => quantizedAttentionSync(q, k, v, { out }),
    () => quantizedAttentionSync(q, k, v, { out, qkBits: 4, granularity: 'token', smoothQ: true }),
  ], reps);
  console.log(`B1 H8 N${N} D${D}: fp32 ${m[0].toFixed(1)} ms, int8 ${m[1].toFixed(1)} ms (${(m[0] / m[1]).toFixed(2)}x), ` +
    `int4 ${m[2].toFixed(1)} ms (${(m[0] / m[2]).toFixed(2)}x)`);
}
{
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
  ], Math.max(reps, 9));
  console.log(`decode H32/8 Nk32768 D128: bf16 cache ${m[0].toFixed(2)} ms, int8 ${m[1].toFixed(2)} ms ` +
    `(${(m[1] / m[0]).toFixed(2)} of bf16), int4 ${m[2].toFixed(2)} ms (${(m[2] / m[0]).toFixed(2)} of bf16)`);
  // The bytes each call reads (K and V rows, plus the per-token scales), against the copy
  // bandwidth (bytes read + written) measured now.
  const copy = native().copyBandwidth(threads, 0.5);
  const bytes = [2 * kv * 2, 2 * kv + 2 * Hkv * Nk * 4, kv + 2 * Hkv * Nk * 4];
  const rate = bytes.map((b, j) => b / (m[j] * 1e6));
  console.log(`  read rate: bf16 ${rate[0].toFixed(1)}, int8 ${rate[1].toFixed(1)}, int4 ${rate[2].toFixed(1)} GB/s; ` +
    `copy ${copy.toFixed(1)} GB/s (${rate.map((r) => ((100 * r) / copy).toFixed(0) + '%').join(', ')} of it)`);
}
