// New CPU outputs of 1 MiB and more come from recycled huge-page blocks behind
// external ArrayBuffers (csrc/core/host_blocks.h, csrc/napi/host_alloc.h): they must
// be correct and writable, outlive the call and any
// garbage collection, survive workers that exit, transfers and detaching, and a
// synchronous loop must not pile them up. Each case runs in a child process.
import t from 'tap';
import { describe, runChild } from './child';

// A conv1d whose output is 12 MiB (d 1536, L 2048: above the block size), its inputs,
// and a check of an output against a fresh reference computed into options.out.
const setup = `
  const d = 1536, L = 2048, w = 4;
  const fill = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k));
  const x = s.Tensor.fromFloat32(fill(d * L, 1), [1, d, L]), wt = s.Tensor.fromFloat32(fill(d * w, 2), [d, w]);
  const ref = s.Tensor.zeros('float32', [1, d, L]);
  s.causalConv1dSync(x, wt, { out: ref });
  const same = (o) => o.data.length === ref.data.length && o.data.every((v, i) => Object.is(v, ref.data[i]));
  const tick = () => new Promise((r) => setImmediate(r));
`;

t.test('outputs are correct, writable and independent, after their blocks are recycled', async (t) => {
  const r = runChild(`${setup}
    (async () => {
      const a = s.causalConv1dSync(x, wt);
      console.log('first', same(a), a.data.buffer.byteLength === d * L * 4);
      a.data.fill(NaN);  // garbage in a block that goes back to the cache
      const b = s.causalConv1dSync(x, wt);
      console.log('independent', same(b), a.data.every(Number.isNaN));
      for (let i = 0; i < 6; i++) {  // collected, recycled (via the event loop), reused
        global.gc(); await tick();
        const c = i % 2 ? await s.causalConv1d(x, wt) : s.causalConv1dSync(x, wt);
        if (!same(c)) console.log('wrong at', i);
        c.data[0] = 42; c.data.fill(-1, 100);
      }
      console.log('done');
    })();
  `, { nodeArgs: ['--expose-gc'] });
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /first true true/);
  t.match(r.stdout, /independent true true/);
  t.notMatch(r.stdout, /wrong at/);
  t.match(r.stdout, /done/);
});

t.test('an output outlives the call and garbage collection; a sync loop does not pile up blocks', async (t) => {
  const r = runChild(`${setup}
    (async () => {
      const kept = [s.causalConv1dSync(x, wt), await s.causalConv1d(x, wt)];
      // 120 outputs of 12 MiB dropped in a loop that never yields: their finalizers
      // cannot run, so past a bound the outputs must be memory that collection frees.
      const rss0 = process.memoryUsage().rss;
      for (let i = 0; i < 120; i++) s.causalConv1dSync(x, wt);
      global.gc();
      const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
      console.log('grown MiB', Math.round(grown), grown < 700);
      for (let i = 0; i < 4; i++) { global.gc(); await tick(); }
      console.log('kept', kept.every(same));
    })();
  `, { nodeArgs: ['--expose-gc'] });
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /grown MiB \d+ true/);
  t.match(r.stdout, /kept true/);
});

t.test('transferred, cloned and detached outputs: no crash, the data stay right', async (t) => {
  const r = runChild(`${setup}
    const { MessageChannel } = require('worker_threads');
    (async () => {
      const a = s.causalConv1dSync(x, wt);
      // structuredClone with a transfer list: Node may refuse to move an external buffer
      // (DataCloneError) or copy it; either way nothing breaks.
      let moved;
      try { moved = new Float32Array(structuredClone(a.data.buffer, { transfer: [a.data.buffer] })); }
      catch (e) { console.log('transfer refused', e.name); }
      if (moved) console.log('moved ok', moved.every((v, i) => Object.is(v, ref.data[i])));
      const { port1, port2 } = new MessageChannel();
      const b = s.causalConv1dSync(x, wt);
      const got = new Promise((res) => port2.once('message', res));
      try { port1.postMessage(b.data, [b.data.buffer]); } catch (e) { port1.postMessage(b.data); console.log('post refused', e.name); }
      const m = await got;
      console.log('posted ok', m.every((v, i) => Object.is(v, ref.data[i])));
      port1.close(); port2.close();
      // A detached output given back to an op is an error, not a crash.
      const c = s.causalConv1dSync(x, wt);
      try { structuredClone(c.data.buffer, { transfer: [c.data.buffer] }); } catch {}
      try { s.causalConv1dSync(x, wt, { out: c }); console.log('out accepted', c.data.length); } catch (e) { console.log('out refused', e.code); }
      for (let i = 0; i < 4; i++) { global.gc(); await tick(); }
      console.log('after', same(s.causalConv1dSync(x, wt)));
    })();
  `, { nodeArgs: ['--expose-gc'] });
  t.equal(r.status, 0, describe(r));
  t.notMatch(r.stdout, /moved ok false|posted ok false/);
  t.match(r.stdout, /posted ok true/);
  t.match(r.stdout, /after true/);
  t.comment(r.stdout.trim().split('\n').join('; '));
});

t.test('outputs made in workers: posted back, held at exit, and the workers gone', async (t) => {
  const r = runChild(`${setup}
    const { Worker } = require('worker_threads');
    const body = ${'`'}
      const s = require(\${JSON.stringify(require.resolve('./dist/lib'))});
      const { parentPort, workerData } = require('worker_threads');
      const d = 1536, L = 2048, w = 4;
      const fill = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k));
      const x = s.Tensor.fromFloat32(fill(d * L, 1), [1, d, L]), wt = s.Tensor.fromFloat32(fill(d * w, 2), [d, w]);
      (async () => {
        const held = [s.causalConv1dSync(x, wt), await s.causalConv1d(x, wt)];  // alive at exit
        for (let i = 0; i < 3; i++) { s.causalConv1dSync(x, wt); await new Promise((r) => setImmediate(r)); }
        parentPort.postMessage(held[workerData % 2].data);  // a copy goes out
        // An abrupt end, once the copy has arrived (a message posted just before
        // process.exit() in a worker may never be delivered).
        if (workerData === 2) parentPort.once('message', () => process.exit(0));
      })();
    ${'`'};
    (async () => {
      const outs = [];
      for (let i = 0; i < 3; i++) {
        const w = new Worker(body, { eval: true, workerData: i });
        // Listen for the exit from the start: a worker that ends right after posting may
        // exit before a later listener is attached.
        const exited = new Promise((res) => w.once('exit', res));
        outs.push(await Promise.race([
          new Promise((res, rej) => { w.once('message', res); w.once('error', rej); }),
          exited.then((code) => { throw new Error('worker ' + i + ' exited (' + code + ') before posting'); }),
        ]));
        w.postMessage('received');
        await exited;
      }
      const w = new Worker(body, { eval: true, workerData: 1 });
      await new Promise((res) => w.once('message', res));
      await w.terminate();  // terminated while its outputs are alive
      console.log('from workers', outs.every((o) => o.every((v, i) => Object.is(v, ref.data[i]))));
      for (let i = 0; i < 4; i++) { global.gc(); await tick(); }
      console.log('main after', same(s.causalConv1dSync(x, wt)), same(await s.causalConv1d(x, wt)));
    })();
  `, { nodeArgs: ['--expose-gc'] });
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /from workers true/);
  t.match(r.stdout, /main after true true/);
});
