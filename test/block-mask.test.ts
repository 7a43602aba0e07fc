// A block mask's two forms (blockMaskToIndices, indicesToBlockMask) and the addon's
// compaction with xattention's transforms (GQA union pooling, the token diagonal, kept
// and visible totals), on the CPU against references written here from the definitions;
// the CUDA kernels run the same rule (test/native/block_mask_test.cpp). Bad input.
import t from 'tap';
import { blockMaskToIndices, indicesToBlockMask, Tensor } from '../lib';
import { native } from '../lib/native';
import { randomBlockMask } from '../reference/sparse';

// The compact form from its definition: ids ascending, maxK the widest row (at least 1),
// zeros past each count.
function compactRef(m: Uint8Array, rows: number, nkb: number) {
  const lists: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const ids: number[] = [];
    for (let j = 0; j < nkb; j++) if (m[r * nkb + j]) ids.push(j);
    lists.push(ids);
  }
  const maxK = Math.max(1, ...lists.map((l) => l.length));
  const indices = new Int32Array(rows * maxK);
  lists.forEach((l, r) => indices.set(l, r * maxK));
  return { maxK, indices, counts: Int32Array.from(lists, (l) => l.length) };
}

t.test('blockMaskToIndices: the compact form, bit for bit, and back', async (t) => {
  let seed = 1;
  for (const nkb of [1, 3, 65, 200])
    for (const density of [0, 0.05, 0.5, 1])
      for (const [B, H, nqb] of [[1, 1, 1], [2, 3, 5]]) {
        const data = randomBlockMask(B, H, nqb, nkb, density, seed++);
        if (density > 0 && density < 1) data.fill(0, 0, nkb);  // an empty row among the others
        const mask = new Tensor('uint8', data, [B, H, nqb, nkb]);
        const got = blockMaskToIndices(mask), want = compactRef(data, B * H * nqb, nkb);
        const what = `B${B} H${H} ${nqb}x${nkb} density ${density}`;
        t.same(got.indices.shape, [B, H, nqb, want.maxK], `${what}: indices shape`);
        t.same(got.indices.data, want.indices, `${what}: indices, padding zeros`);
        t.same(got.counts.data, want.counts, `${what}: counts`);
        t.same(indicesToBlockMask(got, nkb).data, data.map((x) => (x ? 1 : 0)), `${what}: indicesToBlockMask inverts it`);
      }
});

// xattention's transforms from their definitions: the union of each group of g heads'
// rows, then query block qb's token-diagonal key block (the block of the key aligned
// bottom-right with its last row) added.
function transformRef(m: Uint8Array, [B, H, nqb, nkb]: number[], g: number, diag?: { nq: number; nk: number; blockSize: number }) {
  const Hm = H / g, out = new Uint8Array(B * Hm * nqb * nkb);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let x = 0; x < nqb * nkb; x++) out[(b * Hm + Math.floor(h / g)) * nqb * nkb + x] |= m[(b * H + h) * nqb * nkb + x] ? 1 : 0;
  if (diag)
    for (let qb = 0; qb < nqb; qb++) {
      const key = Math.min((qb + 1) * diag.blockSize, diag.nq) - 1 + diag.nk - diag.nq;
      if (key < 0) continue;
      const kb = Math.floor(Math.min(key, diag.nk - 1) / diag.blockSize);
      for (let bh = 0; bh < B * Hm; bh++) out[(bh * nqb + qb) * nkb + kb] = 1;
    }
  return out;
}

t.test('the compaction with pooling, the token diagonal and totals', async (t) => {
  let seed = 50;
  for (const [nq, nk, bs] of [[113, 1030, 64], [1030, 113, 64], [300, 12900, 128], [300, 10, 64], [640, 640, 128]])
    for (const g of [1, 2, 4])
      for (const causal of [false, true]) {
        const [B, H, nqb, nkb] = [2, 4, Math.ceil(nq / bs), Math.ceil(nk / bs)];
        const data = randomBlockMask(B, H, nqb, nkb, 0.2, seed++);
        const diagonal = { nq, nk, blockSize: bs };
        const r = native().blockMaskToIndicesSync(new Tensor('uint8', data, [B, H, nqb, nkb]), { group: g, diagonal, causal, withMask: true, totals: true, padToKeyBlocks: g === 2 });
        const want = transformRef(data, [B, H, nqb, nkb], g, diagonal), Hm = H / g;
        const what = `${nq}/${nk}@${bs} group ${g} causal ${causal}`;
        t.same(r.mask!.data, want, `${what}: mask`);
        const c = compactRef(want, B * Hm * nqb, nkb), maxK = g === 2 ? nkb : c.maxK;
        const ix = new Int32Array(B * Hm * nqb * maxK);
        for (let row = 0; row < B * Hm * nqb; row++) ix.set(c.indices.subarray(row * c.maxK, row * c.maxK + c.counts[row]), row * maxK);
        t.same(r.indices!.data, ix, `${what}: indices (maxK ${maxK})`);
        t.same(r.counts.data, c.counts, `${what}: counts`);
        const kept = new Array(Hm).fill(0), vis = new Array(Hm).fill(0);
        for (let b = 0; b < B; b++)
          for (let h = 0; h < Hm; h++)
            for (let qb = 0; qb < nqb; qb++) {
              const end = causal ? Math.min(Math.max(qb + nkb - nqb + 1, 0), nkb) : nkb;
              for (let kb = 0; kb < end; kb++) kept[h] += want[((b * Hm + h) * nqb + qb) * nkb + kb];
              vis[h] += end;
            }
        t.same(r.keptPerHead, kept, `${what}: kept below the visible end per head`);
        t.same(r.visiblePerHead, vis, `${what}: visible per head`);
      }
  const m = new Tensor('uint8', randomBlockMask(1, 2, 3, 4, 0.5, 9), [1, 2, 3, 4]);
  const r = native().blockMaskToIndicesSync(m, { indices: false, withMask: true });
  t.equal(r.indices, undefined, 'indices: false gives no compact form');
  t.same(r.mask!.data, (m.data as Uint8Array).map((x) => (x ? 1 : 0)), 'and the mask as it was');
});

t.test('bad input is refused, naming the argument', async (t) => {
  const ones = (shape: number[]) => new Tensor('uint8', new Uint8Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
  const i32 = (data: number[], shape: number[]) => new Tensor('int32', Int32Array.from(data), shape);
  const compact = (indices: number[], counts: number[], maxK: number) => ({ indices: i32(indices, [1, 1, counts.length, maxK]), counts: i32(counts, [1, 1, counts.length]) });
  const cases: [string, () => unknown, RegExp, ErrorConstructor][] = [
    ['mask dtype', () => blockMaskToIndices(new Tensor('int32', new Int32Array(4), [1, 1, 2, 2])), /mask\.dtype must be uint8/, TypeError],
    ['mask rank', () => blockMaskToIndices(ones([2, 2, 2])), /mask must have 4 dimensions/, RangeError],
    ['group', () => native().blockMaskToIndicesSync(ones([1, 3, 2, 2]), { group: 2 }), /options\.group \(2\) must divide mask\.shape\[1\]/, RangeError],
    ['group range', () => native().blockMaskToIndicesSync(ones([1, 3, 2, 2]), { group: 0 }), /options\.group must be in \[1, 3\]/, RangeError],
    ['diagonal rows', () => native().blockMaskToIndicesSync(ones([1, 1, 2, 2]), { diagonal: { nq: 300, nk: 128, blockSize: 64 } }), /mask\.shape\[2\] \(query blocks\) must equal ceil\(options\.diagonal\.nq/, RangeError],
    ['diagonal keys', () => native().blockMaskToIndicesSync(ones([1, 1, 2, 2]), { diagonal: { nq: 128, nk: 300, blockSize: 64 } }), /mask\.shape\[3\] \(key blocks\) must equal ceil\(options\.diagonal\.nk/, RangeError],
    ['diagonal fields', () => native().blockMaskToIndicesSync(ones([1, 1, 2, 2]), { diagonal: { nq: 128 } as never }), /options\.diagonal must be an object/, TypeError],
    ['count above maxK', () => indicesToBlockMask(compact([0, 1], [1, 2], 1), 4), /mask\.counts\[1\] must be in \[0, 1\]/, RangeError],
    ['id out of range', () => indicesToBlockMask(compact([0, 4], [1, 1], 1), 4), /mask\.indices row 1 lists key block 4, outside \[0, 4\)/, RangeError],
    ['negative id', () => indicesToBlockMask(compact([-1, 0], [1, 1], 1), 4), /lists key block -1/, RangeError],
    ['nKeyBlocks', () => indicesToBlockMask(compact([0], [1], 1), 0), /nKeyBlocks must be in \[1, /, RangeError],
    ['counts shape', () => indicesToBlockMask({ indices: i32([0, 0], [1, 1, 2, 1]), counts: i32([1], [1, 1, 1]) }, 4), /mask\.counts\.shape\[2\] \(leading dims\)/, RangeError],
    ['host data claiming a device', () => blockMaskToIndices({ dtype: 'uint8', shape: [1, 1, 1, 1], data: new Uint8Array(1), device: 'cuda:0' } as never), /mask\.device is 'cuda:0'.*only a Tensor/, TypeError],
    ['compact form claiming a device', () => indicesToBlockMask({ indices: { dtype: 'int32', shape: [1, 1, 1, 1], data: new Int32Array(1), device: 'cuda:0' } as never, counts: i32([1], [1, 1, 1]) }, 4), /mask\.indices\.device is 'cuda:0'.*only a Tensor/, TypeError],
    ['indices dtype', () => indicesToBlockMask({ indices: ones([1, 1, 1, 1]), counts: i32([1], [1, 1, 1]) }, 4), /mask\.indices\.dtype must be int32/, TypeError],
  ];
  for (const [what, f, msg, cls] of cases) t.throws(f, { name: cls.name, message: msg }, what);
});
