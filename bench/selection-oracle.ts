// How good can a block selection be on the structured inputs (bench/data.ts)? The oracle
// keeps, per query block, the key blocks with the largest true attention mass (dense
// scores in fp64, row-normalised, summed per block) at a fixed density; its output error
// against dense attention bounds every block-sparse method at that density. XAttention's
// own selections are printed beside it. Accuracy only, no timing; fp64 scores in JS
// cost O(H N^2 D), so N <= 8192 takes about a minute.
//   node dist/bench/selection-oracle.js [N=4096] [D=64] [concentration=1]
import { attentionSync, blockSparseAttentionSync, Tensor, xattention } from '../lib';
import { longContextQKV, relRms } from './data';

const N = Number(process.argv[2] ?? 4096), D = Number(process.argv[3] ?? 64), concentration = Number(process.argv[4] ?? 1);
const H = 8, block = 128, nb = Math.ceil(N / block), shape = [1, H, N, D];
const lc = longContextQKV({ H, N, D, seed: 1, concentration });
const [q, k, v] = [lc.q, lc.k, lc.v].map((x) => new Tensor('float32', x, shape));
const dense = attentionSync(q, k, v).data as Float32Array;

// mass[h][qb * nb + kb]: the block's share of each row's probability, summed over the query block's rows.
function blockMasses(h: number): Float64Array {
  const m = new Float64Array(nb * nb), p = new Float64Array(N), scale = 1 / Math.sqrt(D);
  for (let i = 0; i < N; i++) {
    const qi = lc.q.subarray((h * N + i) * D, (h * N + i + 1) * D);
    let mx = -Infinity, total = 0;
    for (let j = 0; j < N; j++) {
      const kj = lc.k.subarray((h * N + j) * D, (h * N + j + 1) * D);
      let s = 0;
      for (let x = 0; x < D; x++) s += qi[x] * kj[x];
      p[j] = s * scale;
      mx = Math.max(mx, p[j]);
    }
    for (let j = 0; j < N; j++) total += p[j] = Math.exp(p[j] - mx);
    const row = Math.floor(i / block) * nb;
    for (let j = 0; j < N; j++) m[row + Math.floor(j / block)] += p[j] / total;
  }
  return m;
}

const masses = Array.from({ length: H }, (_, h) => blockMasses(h));
console.log(`structured inputs H${H} N${N} D${D} concentration ${concentration}, blocks of ${block}`);
for (const density of [0.25, 0.5, 0.7]) {
  const keep = Math.max(1, Math.round(density * nb)), mask = new Uint8Array(H * nb * nb);
  let kept = 0;
  for (let h = 0; h < H; h++)
    for (let qb = 0; qb < nb; qb++) {
      const ranked = Array.from(masses[h].subarray(qb * nb, (qb + 1) * nb), (m, kb) => [m, kb]).sort((a, b) => b[0] - a[0]);
      const rows = Math.min(block, N - qb * block);
      for (const [m, kb] of ranked.slice(0, keep)) {
        mask[(h * nb + qb) * nb + kb] = 1;
        kept += m / rows;
      }
    }
  const out = blockSparseAttentionSync(q, k, v, new Tensor('uint8', mask, [1, H, nb, nb]), { blockSize: block });
  console.log(`oracle      density ${density.toFixed(3)}  kept mass ${(kept / (H * nb)).toFixed(4)}  rel RMS error ${relRms(out.data as Float32Array, dense).toFixed(4)}`);
}

(async () => {
  for (const [stride, threshold] of [[8, 0.9], [16, 0.9], [4, 0.9], [8, 0.99]] as const) {
    const r = await xattention(q, k, v, { stride, threshold, blockSize: block });
    console.log(`xattention  density ${r.density.toFixed(3)}  stride ${stride} threshold ${threshold}  rel RMS error ${relRms(r.out.data as Float32Array, dense).toFixed(4)}`);
  }
})();
