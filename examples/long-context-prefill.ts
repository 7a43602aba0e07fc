// Long-context prefill with block-sparse attention: the same causal attention three
// ways, dense (`attention`), XAttention (`xattention`: antidiagonal block scores pick,
// per query block, the key blocks that hold 99% of the estimated mass; then
// `blockSparseAttention` over them), and a streaming mask (`streamingMask`: a sink
// block and a local window). The inputs carry a positional signal that makes
// attention mostly local, as trained models' often is; random inputs without it have
// no sparsity to find. Each sparse result is compared with the dense one.
//   npx tsc -p tsconfig.json && node dist/examples/long-context-prefill.js [--small]
// In your project, import from 'subquadratic' instead of '../lib'.
import { attention, backendInfo, blockSparseAttention, streamingMask, Tensor, xattention } from '../lib';
import { random, relRms, small } from './util';

const N = small ? 2048 : 8192, Hq = 8, Hkv = 2, D = 64, blockSize = 128;

// Rows [H, N, D]: noise, plus in the first 32 dims cos/sin of the position at 16
// frequencies, so that q_i . k_j grows as |i - j| shrinks.
function inputs(H: number, seed: number, signal: number): Float32Array {
  const x = random(H * N * D, seed, 0.5);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < N; i++)
      for (let f = 0; f < 16; f++) {
        const a = i * 0.5 ** (f / 2) * 0.2, o = (h * N + i) * D + 2 * f;
        x[o] += signal * Math.cos(a);
        x[o + 1] += signal * Math.sin(a);
      }
  return x;
}

async function main() {
  const info = backendInfo();
  console.log(`long-context prefill: N ${N}, ${Hq} query / ${Hkv} kv heads of ${D}, causal, blocks of ${blockSize}; ` +
    `CPU ${info.cpu.simd}, ${info.cpu.threads} threads`);
  const q = new Tensor('float32', inputs(Hq, 1, 2.5), [1, Hq, N, D]);
  const k = new Tensor('float32', inputs(Hkv, 2, 2.5), [1, Hkv, N, D]);
  const v = new Tensor('float32', random(Hkv * N * D, 3), [1, Hkv, N, D]);

  const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await f();
    return [r, performance.now() - t0];
  };
  const [dense, denseMs] = await time(() => attention(q, k, v, { causal: true }));
  const ref = dense.data as Float32Array;
  console.log(`dense:     ${denseMs.toFixed(1)} ms`);

  // The threshold counts a key block's share of a whole query block's mass: the first
  // rows of a query block look mostly at the key block before the diagonal, a small
  // share of the block's total, which 0.9 (the paper's default) drops here and 0.99 keeps.
  const [xa, xaMs] = await time(() => xattention(q, k, v, { causal: true, threshold: 0.99, blockSize }));
  console.log(`xattention: ${xaMs.toFixed(1)} ms (${(denseMs / xaMs).toFixed(2)}x), ${(xa.density * 100).toFixed(1)}% of the causal blocks, ` +
    `relative RMS difference from dense ${relRms(xa.out.data as Float32Array, ref).toExponential(1)}`);

  const local = Math.max(2, Math.round(N / blockSize / 16));
  const mask = streamingMask(N, N, { sinkBlocks: 1, localBlocks: local, blockSize, causal: true, heads: Hq });
  const [st, stMs] = await time(() => blockSparseAttention(q, k, v, mask, { causal: true, blockSize }));
  console.log(`streaming (sink 1 + local ${local} blocks): ${stMs.toFixed(1)} ms (${(denseMs / stMs).toFixed(2)}x), ` +
    `relative RMS difference from dense ${relRms(st.data as Float32Array, ref).toExponential(1)}`);
}

void main();
