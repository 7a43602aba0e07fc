// Callers that change memory under an op: getters that resize an argument's buffer,
// buffers resized or transferred while an async call runs, outputs too large to
// allocate. Each runs in a child process (these crashed the process before).
import t from 'tap';
import { describe, runChild } from './child';

// Prints the error a call threw or rejected with, as "name code message".
const report = `const show = (e) => console.log('ERR', e.name, e.code, e.message);`;

t.test('a getter that resizes an earlier argument buffer gives a RangeError, never a read of freed memory', async (t) => {
  const r = runChild(`${report}
    const n = 2048 * 64;
    const ab = new ArrayBuffer(n * 4, { maxByteLength: n * 4 });
    const q = new s.Tensor('float32', new Float32Array(ab), [1, 1, 2048, 64]);
    const kt = s.Tensor.zeros('float32', [1, 1, 2048, 64]);
    const k = new Proxy(kt, { get: (o, key) => { if (key === 'dtype') ab.resize(0); return o[key]; } });
    try { s.attentionSync(q, k, kt); console.log('returned'); } catch (e) { show(e); }
    // The raw addon, past the TypeScript checks: the same.
    const ab2 = new ArrayBuffer(n * 4, { maxByteLength: n * 4 });
    const q2 = { dtype: 'float32', shape: [1, 1, 2048, 64], data: new Float32Array(ab2) };
    const k2 = { get dtype() { ab2.resize(0); return 'float32'; }, shape: [1, 1, 2048, 64], data: new Float32Array(n) };
    try { require(${JSON.stringify(require.resolve('../dist/lib/native.js'))}).native().attentionSync(q2, k2, k2); console.log('returned'); } catch (e) { show(e); }
  `);
  t.equal(r.status, 0, describe(r));
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 2, r.stdout);
  for (const l of lines) t.match(l, /^ERR RangeError ERR_SUBQ_SHAPE q shape \[1, 1, 2048, 64\] .* buffer holds 0 elements/);
});

t.test('buffers resized or transferred during an async call: inputs were copied, out is not written into memory the caller gave away', async (t) => {
  const r = runChild(`${report}
    const n = 256 * 64;
    const fill = (a) => { for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37); return a; };
    const ref = s.attentionSync(s.Tensor.fromFloat32(fill(new Float32Array(n)), [1, 1, 256, 64]),
      s.Tensor.fromFloat32(fill(new Float32Array(n)), [1, 1, 256, 64]), s.Tensor.fromFloat32(fill(new Float32Array(n)), [1, 1, 256, 64]));
    const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
    (async () => {
      // 1. Inputs resized to 0 right after the call started.
      const ab = new ArrayBuffer(n * 4, { maxByteLength: n * 4 });
      fill(new Float32Array(ab));
      const q = new s.Tensor('float32', new Float32Array(ab), [1, 1, 256, 64]);
      const p1 = s.attention(q, q, q);
      ab.resize(0);
      console.log('resized inputs', same((await p1).data, ref.data));
      // 2. Inputs transferred away and collected.
      let ab2 = new ArrayBuffer(n * 4);
      fill(new Float32Array(ab2));
      const q2 = new s.Tensor('float32', new Float32Array(ab2), [1, 1, 256, 64]);
      const p2 = s.attention(q2, q2, q2);
      structuredClone(ab2, { transfer: [ab2] });
      ab2 = null;
      global.gc();
      console.log('transferred inputs', same((await p2).data, ref.data));
      // 3. out resized, then transferred: the call rejects and writes nothing.
      const k = s.Tensor.fromFloat32(fill(new Float32Array(n)), [1, 1, 256, 64]);
      const oab = new ArrayBuffer(n * 4, { maxByteLength: n * 4 });
      const out = new s.Tensor('float32', new Float32Array(oab), [1, 1, 256, 64]);
      const p3 = s.attention(k, k, k, { out });
      oab.resize(0);
      await p3.then(() => console.log('resolved'), show);
      const tab = new ArrayBuffer(n * 4);
      const out2 = new s.Tensor('float32', new Float32Array(tab), [1, 1, 256, 64]);
      const p4 = s.attention(k, k, k, { out: out2 });
      const moved = new Float32Array(structuredClone(tab, { transfer: [tab] }));
      await p4.then(() => console.log('resolved'), show);
      console.log('moved untouched', moved.every((x) => x === 0));
      // 4. out kept: written as usual.
      const out3 = s.Tensor.zeros('float32', [1, 1, 256, 64]);
      await s.attention(k, k, k, { out: out3 });
      console.log('out written', same(out3.data, ref.data));
    })();
  `, { nodeArgs: ['--expose-gc'] });
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /resized inputs true/);
  t.match(r.stdout, /transferred inputs true/);
  t.match(r.stdout, /ERR RangeError ERR_SUBQ_ARG options\.out: the buffer was resized, transferred or detached[^\n]*\nERR RangeError ERR_SUBQ_ARG options\.out/);
  t.match(r.stdout, /moved untouched true/);
  t.match(r.stdout, /out written true/);
});

t.test('an output larger than memory is a RangeError (ERR_SUBQ_OOM), not a V8 abort', async (t) => {
  const fs = await import('fs');
  // With overcommit_memory = 1 the kernel grants any allocation, and the check cannot fire.
  const always = (() => { try { return fs.readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim() === '1'; } catch { return false; } })();
  if (always) return t.skip('vm.overcommit_memory = 1: allocations never fail here');
  const r = runChild(`${report}
    // q [1, 2^32, 1, 256] from 1 KiB by stride-0 broadcast: out has 2^40 elements (4 TiB).
    const q = new s.Tensor('float32', new Float32Array(256), [1, 2 ** 32, 1, 256], [0, 0, 0, 1]);
    const kv = s.Tensor.zeros('float32', [1, 1, 1, 256]);
    try { s.attentionSync(q, kv, kv); console.log('returned'); } catch (e) { show(e); }
    s.attention(q, kv, kv).then(() => console.log('resolved'), show);
  `);
  t.equal(r.status, 0, describe(r));
  t.match(r.stdout, /^ERR RangeError ERR_SUBQ_OOM out of memory[^\n]*\nERR RangeError ERR_SUBQ_OOM out of memory/);
});
