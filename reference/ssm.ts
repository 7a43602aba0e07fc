// fp64 references of the state-space ops, written from the recurrences of
// docs/semantics.md, one step at a time. All arrays are contiguous row-major.

export interface ScanDims {
  b: number;
  d: number;
  L: number;
  N: number;
  /** Groups of varying B/C; ignored for constant ones. */
  G: number;
}

export interface ScanInputs {
  u: ArrayLike<number>; // [b, d, L]
  delta: ArrayLike<number>; // [b, d, L]
  A: ArrayLike<number>; // [d, N]
  B: ArrayLike<number>; // [d, N] or [b, G, N, L]
  C: ArrayLike<number>;
  BVarying: boolean;
  CVarying: boolean;
  D?: ArrayLike<number>;
  z?: ArrayLike<number>;
  deltaBias?: ArrayLike<number>;
  softplus?: boolean;
  initialState?: ArrayLike<number>; // [sequences, d, N]
  cuSeqlens?: readonly number[];
}

export const softplus = (x: number) => (x <= 20 ? Math.log1p(Math.exp(x)) : x);
export const silu = (x: number) => x / (1 + Math.exp(-x));

/** out [b, d, L] and lastState [sequences, d, N]. */
export function selectiveScanRef(s: ScanInputs, dims: ScanDims): { out: Float64Array; lastState: Float64Array } {
  const { b: nb, d: nd, L, N, G } = dims;
  const seqs: [number, number, number][] = s.cuSeqlens
    ? s.cuSeqlens.slice(0, -1).map((st, i) => [0, st, s.cuSeqlens![i + 1]])
    : Array.from({ length: nb }, (_, i) => [i, 0, L]);
  const out = new Float64Array(nb * nd * L);
  const last = new Float64Array(seqs.length * nd * N);
  const Bat = (v: ArrayLike<number>, varying: boolean, b: number, c: number, n: number, l: number) =>
    varying ? v[((b * G + Math.floor(c / (nd / G))) * N + n) * L + l] : v[c * N + n];
  const x = new Float64Array(N);
  seqs.forEach(([b, start, end], si) => {
    for (let c = 0; c < nd; c++) {
      for (let n = 0; n < N; n++) x[n] = s.initialState ? s.initialState[(si * nd + c) * N + n] : 0;
      for (let l = start; l < end; l++) {
        const i = (b * nd + c) * L + l;
        let dt = s.delta[i] + (s.deltaBias ? s.deltaBias[c] : 0);
        if (s.softplus) dt = softplus(dt);
        let y = 0;
        for (let n = 0; n < N; n++) {
          x[n] = Math.exp(dt * s.A[c * N + n]) * x[n] + dt * Bat(s.B, s.BVarying, b, c, n, l) * s.u[i];
          y += x[n] * Bat(s.C, s.CVarying, b, c, n, l);
        }
        let o = y + (s.D ? s.D[c] * s.u[i] : 0);
        if (s.z) o *= silu(s.z[i]);
        out[i] = o;
      }
      for (let n = 0; n < N; n++) last[(si * nd + c) * N + n] = x[n];
    }
  });
  return { out, lastState: last };
}

export interface UpdateInputs {
  state: ArrayLike<number>; // [slots, d, N]
  x: ArrayLike<number>; // [b, d]
  dt: ArrayLike<number>;
  A: ArrayLike<number>; // [d, N]
  B: ArrayLike<number>; // [b, G, N]
  C: ArrayLike<number>;
  D?: ArrayLike<number>;
  z?: ArrayLike<number>;
  dtBias?: ArrayLike<number>;
  softplus?: boolean;
  stateIndices?: readonly number[];
}

/** One decode step: the new state (a copy) and out [b, d]. */
export function stateUpdateRef(s: UpdateInputs, b: number, d: number, N: number, G: number) {
  const state = Float64Array.from(s.state);
  const out = new Float64Array(b * d);
  for (let r = 0; r < b; r++) {
    const slot = s.stateIndices ? s.stateIndices[r] : r;
    if (slot < 0) continue;
    for (let c = 0; c < d; c++) {
      const g = Math.floor(c / (d / G));
      let dt = s.dt[r * d + c] + (s.dtBias ? s.dtBias[c] : 0);
      if (s.softplus) dt = softplus(dt);
      let y = 0;
      for (let n = 0; n < N; n++) {
        const k = (slot * d + c) * N + n;
        state[k] = state[k] * Math.exp(dt * s.A[c * N + n]) + dt * s.B[(r * G + g) * N + n] * s.x[r * d + c];
        y += state[k] * s.C[(r * G + g) * N + n];
      }
      let o = y + (s.D ? s.D[c] * s.x[r * d + c] : 0);
      if (s.z) o *= silu(s.z[r * d + c]);
      out[r * d + c] = o;
    }
  }
  return { state, out };
}

export interface ConvInputs {
  x: ArrayLike<number>; // [b, d, L]
  weight: ArrayLike<number>; // [d, w]
  bias?: ArrayLike<number>;
  silu?: boolean;
  initialStates?: ArrayLike<number>; // [sequences, d, w-1]
  cuSeqlens?: readonly number[];
}

/** out [b, d, L] and finalStates [sequences, d, w-1]. */
export function conv1dRef(s: ConvInputs, b: number, d: number, L: number, w: number) {
  const seqs: [number, number, number][] = s.cuSeqlens
    ? s.cuSeqlens.slice(0, -1).map((st, i) => [0, st, s.cuSeqlens![i + 1]])
    : Array.from({ length: b }, (_, i) => [i, 0, L]);
  const out = new Float64Array(b * d * L);
  const fin = new Float64Array(seqs.length * d * (w - 1));
  seqs.forEach(([bb, start, end], si) => {
    for (let c = 0; c < d; c++) {
      // Input at position p of the sequence (p < 0 reads the initial state).
      const at = (p: number) =>
        p >= 0 ? s.x[(bb * d + c) * L + start + p] : s.initialStates ? s.initialStates[(si * d + c) * (w - 1) + (w - 1) + p] : 0;
      for (let l = 0; l < end - start; l++) {
        let acc = s.bias ? s.bias[c] : 0;
        for (let k = 0; k < w; k++) acc += s.weight[c * w + k] * at(l - (w - 1) + k);
        out[(bb * d + c) * L + start + l] = s.silu ? silu(acc) : acc;
      }
      for (let k = 0; k < w - 1; k++) fin[(si * d + c) * (w - 1) + k] = at(end - start - (w - 1) + k);
    }
  });
  return { out, finalStates: fin };
}
