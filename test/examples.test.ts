// The examples (examples/*.ts, compiled to dist/examples) run at their smoke-test size
// and check their own results: decode against a full prefill, batched decode against
// whole-sequence passes, sparse prefill against dense attention.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { root } from './child';

const run = (name: string) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|_?TAP)/.test(k)));
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'examples', `${name}.js`), '--small'], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

t.test('llama-decoder: prefill, decode, and decode equals a full prefill', async (t) => {
  const r = run('llama-decoder');
  t.equal(r.status, 0, r.out);
  t.match(r.out, /prefill: 48 tokens in [\d.]+ ms, \d+ tokens\/s/);
  t.match(r.out, /decode: 6 tokens in [\d.]+ ms, [\d.]+ tokens\/s/);
  t.match(r.out, /decode matches a full prefill: max relative difference/);
});

t.test('mamba-block: continuous batching over state slots equals whole-sequence passes', async (t) => {
  const r = run('mamba-block');
  t.equal(r.status, 0, r.out);
  t.match(r.out, /step 3: batch \[r0@slot0, r1@slot1, r2@slot2, r3@slot3\]/, 'four requests share a batch');
  t.match(r.out, /r4@slot2/, 'a later request takes a freed slot');
  t.match(r.out, /decode: \d+ tokens, \d+ tokens\/s/);
  t.match(r.out, /decode matches a pass over each whole sequence/);
});

t.test('long-context-prefill: XAttention and streaming masks close to dense attention', async (t) => {
  const r = run('long-context-prefill');
  t.equal(r.status, 0, r.out);
  const diff = (what: string) => Number(new RegExp(`${what}.*relative RMS difference from dense ([\\d.e+-]+)`).exec(r.out)?.[1]);
  t.ok(diff('xattention') < 0.02, `xattention: ${r.out}`);
  t.ok(diff('streaming') < 0.02, `streaming: ${r.out}`);
  t.match(r.out, /xattention: .*% of the causal blocks/);
});
