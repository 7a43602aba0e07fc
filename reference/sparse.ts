// Block-sparse attention's visibility, written from the definition (Block-Sparse-Attention
// semantics): query i of (batch b, head h) may see key j when the block of j is read by
// the block of i, on top of the dense rule that attentionRef applies. Blocks are `block`
// tokens on both sides. Head modes: 'dense' reads every block; 'streaming' the sink
// blocks and the `local` blocks ending at the diagonal block (the block of the key
// aligned with the query block's last row, bottom-right); 'masked' what the mask says.
import { random } from './random';

export interface SparseSpec {
  block: number;
  /** uint8 [B, Hm, nQB, nKB], nonzero = read. */
  mask?: Uint8Array;
  Hm?: number;
  headModes?: readonly ('dense' | 'streaming' | 'masked')[];
  sinkBlocks?: number;
  localBlocks?: number;
}

/** The keep(b, h, i, j) rule of attentionRef for a block-sparse call. */
export function blockKeep(s: SparseSpec, Hq: number, Nq: number, Nk: number) {
  const nqb = Math.ceil(Nq / s.block), nkb = Math.ceil(Nk / s.block);
  const Hm = s.Hm ?? Hq;
  return (b: number, h: number, i: number, j: number): boolean => {
    const qb = Math.floor(i / s.block), kb = Math.floor(j / s.block);
    const mode = s.headModes?.[h] ?? 'masked';
    if (mode === 'dense') return true;
    if (mode === 'streaming') {
      const last = Math.min((qb + 1) * s.block, Nq) - 1 + Nk - Nq;
      if (last < 0) return false;
      const diag = Math.floor(Math.min(last, Nk - 1) / s.block);
      return (kb < (s.sinkBlocks ?? 0) && kb <= diag) || (kb <= diag && kb > diag - (s.localBlocks ?? 0));
    }
    const mh = Math.floor(h / (Hq / Hm));
    return s.mask![((b * Hm + mh) * nqb + qb) * nkb + kb] !== 0;
  };
}

/** A seeded random uint8 block mask [B, Hm, nQB, nKB] of about `density` ones. */
export function randomBlockMask(B: number, Hm: number, nqb: number, nkb: number, density: number, seed: number): Uint8Array {
  const u = random(B * Hm * nqb * nkb, seed, 0, 1);
  return Uint8Array.from(u, (x) => (x < density ? 1 : 0));
}
