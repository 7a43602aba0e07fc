// worker_threads and the thread pool: workers computing at once, workers terminated
// with calls in flight, a pool that cannot start all its threads, and C++ exceptions
// that must never leave a Sync call. Crash-prone cases run in a child process.
import t from 'tap';
import { Worker } from 'worker_threads';
import * as path from 'path';
import { attentionSync, Tensor } from '../lib';
import { randomArray } from './helpers';
import { describe, root, runChild } from './child';

const report = `const show = (e) => console.log('ERR', e.name, e.code, e.message);`;

// The main thread loads the addon only at the end: each worker is its only user, so its
// end also tests that the library is not unloaded under the pool's threads.
t.test('terminating a worker with async calls in flight ends the worker, not the process', async (t) => {
  const r = runChild(`
    const { Worker } = require('worker_threads');
    const code = 'const s = require(' + JSON.stringify(${JSON.stringify(path.join(root, 'dist', 'lib', 'index.js'))}) + ');' +
      'const q = s.Tensor.fromFloat32(new Float32Array(4 * 512 * 64).fill(0.5), [1, 4, 512, 64]);' +
      'for (let i = 0; i < 20; i++) s.attention(q, q, q).catch(() => {});' +
      'require("worker_threads").parentPort.postMessage("started");';
    (async () => {
      for (let round = 0; round < 5; round++) {
        const w = new Worker(code, { eval: true });
        await new Promise((res) => w.once('message', res));
        await new Promise((res) => setTimeout(res, 30));
        await w.terminate();
      }
      const q = s.Tensor.fromFloat32(new Float32Array(64).fill(1), [1, 1, 1, 64]);
      console.log('main carries on', s.attentionSync(q, q, q).data[0]);
    })();
  `);
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /main carries on 1/);
});

t.test('several workers computing at once get the main thread\'s answers, bit for bit', async (t) => {
  const shape = [1, 4, 96, 32];
  const q = randomArray(4 * 96 * 32, 11), k = randomArray(4 * 96 * 32, 12), v = randomArray(4 * 96 * 32, 13);
  const want = attentionSync(Tensor.fromFloat32(q, shape), Tensor.fromFloat32(k, shape), Tensor.fromFloat32(v, shape), { causal: true }).data as Float32Array;
  const code = `
    const { parentPort, workerData: d } = require('worker_threads');
    const s = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'index.js'))});
    const T = (a) => s.Tensor.fromFloat32(a, d.shape);
    (async () => {
      const outs = [];
      for (let i = 0; i < 4; i++) outs.push(s.attentionSync(T(d.q), T(d.k), T(d.v), { causal: true }).data);
      const rs = await Promise.all([0, 1, 2, 3].map(() => s.attention(T(d.q), T(d.k), T(d.v), { causal: true })));
      for (const r of rs) outs.push(r.data);
      parentPort.postMessage(outs);
    })();`;
  const results = await Promise.all([0, 1, 2, 3].map(() => new Promise<Float32Array[]>((res, rej) => {
    const w = new Worker(code, { eval: true, workerData: { shape, q, k, v } });
    w.once('message', (m) => { res(m); void w.terminate(); });
    w.once('error', rej);
  })));
  for (const outs of results) for (const o of outs) t.same(Buffer.from(o.buffer), Buffer.from(want.buffer));
});

t.test('a pool that cannot start all its threads runs with those it could (same result)', async (t) => {
  // RLIMIT_NPROC caps threads for an unprivileged user; as root the child runs as nobody.
  const asRoot = process.getuid?.() === 0;
  const r = runChild(`${report}
    const q = s.Tensor.fromFloat32(Float32Array.from({ length: 64 * 512 * 64 }, (_, i) => Math.sin(i)), [1, 64, 512, 64]);
    s.setNumThreads(1);
    const one = s.attentionSync(q, q, q).data;
    s.setNumThreads(1024);
    try {
      const many = s.attentionSync(q, q, q).data;
      console.log('same', many.every((x, i) => Object.is(x, one[i])));
    } catch (e) { show(e); }
    s.attention(q, q, q).then((r) => console.log('async same', r.data.every((x, i) => Object.is(x, one[i]))), show);
  `, { shell: 'ulimit -u 40;', spawn: asRoot ? { uid: 65534, gid: 65534 } : {} });
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /^same true\nasync same true/);
});

t.test('a stride-0 state with 2^36 slots and stateIndices is a RangeError, not std::bad_alloc', async (t) => {
  const r = runChild(`${report}
    const state = new s.Tensor('float32', new Float32Array(16), [2 ** 36, 1, 16], [0, 16, 1]);
    const x = s.Tensor.zeros('float32', [1, 1]), dt = s.Tensor.zeros('float32', [1, 1]);
    const A = s.Tensor.zeros('float32', [1, 16]), B = s.Tensor.zeros('float32', [1, 16]), C = s.Tensor.zeros('float32', [1, 16]);
    const stateIndices = new s.Tensor('int32', Int32Array.of(5), [1]);
    try { s.selectiveStateUpdateSync(state, x, dt, A, B, C, { stateIndices }); console.log('returned'); } catch (e) { show(e); }
  `);
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /^ERR RangeError ERR_SUBQ_ARG state is written, so its elements must not share memory/);
});

t.test('process.exit() with a long async call running ends the process (the call is cancelled)', async (t) => {
  // Days of work from 64-byte rows broadcast with stride 0 (each tile a few ms):
  // without cancellation the exit waits for the pool and the child is killed at the
  // spawn timeout.
  const r = runChild(`
    const q = new s.Tensor('float32', new Float32Array(16).fill(0.01), [1, 1024, 4096, 16], [0, 0, 0, 1]);
    const k = new s.Tensor('float32', new Float32Array(16).fill(0.02), [1, 1, 2 ** 16, 16], [0, 0, 0, 1]);
    s.attention(q, k, k).then(() => console.log('finished?'), (e) => console.log('rejected', e.code));
    // A Sync call from an 'exit' handler still runs (only calls in flight are cancelled).
    process.on('exit', () => {
      const one = s.Tensor.fromFloat32(new Float32Array(16).fill(1), [1, 1, 1, 16]);
      console.log('sync in exit', s.attentionSync(one, one, one).data[0]);
    });
    setTimeout(() => { console.log('exiting'); process.exit(0); }, 100);
  `, { spawn: { timeout: 60_000, killSignal: 'SIGKILL' } });
  t.equal(r.status, 0, describe(r));
  t.equal(r.stdout.trim(), 'exiting\nsync in exit 1');
});
