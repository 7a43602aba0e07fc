// What the default call costs: `await attention(q, k, v)` (async, a new output) against
// the same call given options.out, and both against their Sync twins, interleaved in one
// process (the variants alternate within each round, so load on a shared machine shifts
// them alike and the ratios of medians hold). For the async calls the time on the JS
// thread before the call returns its Promise (the copies of the inputs) is shown apart,
// and so are the process's CPU time (user + system, all threads: on a machine shared
// with other work the steadier measure) and minor page faults per call (fresh pages
// being touched).
//   node dist/bench/default-call.js [N=4096] [rounds=9] [causal=0,1] [D=64]
import * as os from 'os';
import { attention, attentionSync, backendInfo, Tensor } from '../lib';
import { random } from './data';

const N = Number(process.argv[2] ?? 4096), rounds = Number(process.argv[3] ?? 9);
const causals = (process.argv[4] ?? '0,1').split(',').map((x) => x === '1');
const D = Number(process.argv[5] ?? 64), H = 8;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const faults = () => process.resourceUsage().minorPageFault;
const ms = (t: bigint) => Number(t) / 1e6;

interface Sample {
  wall: number;     // ms, call to settled result
  js: number;       // ms on the JS thread before the call returned
  cpu: number;      // ms of CPU time, all threads
  faults: number;   // minor page faults during the call
}

async function once(f: () => unknown): Promise<Sample> {
  const f0 = faults(), c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  const r = f();
  const t1 = process.hrtime.bigint();
  await r;
  const t2 = process.hrtime.bigint(), c = process.cpuUsage(c0);
  return { wall: ms(t2 - t0), js: ms(t1 - t0), cpu: (c.user + c.system) / 1e3, faults: faults() - f0 };
}

async function main(): Promise<void> {
  console.log(`${os.cpus()[0]?.model}, ${backendInfo().cpu.threads} threads, ${backendInfo().cpu.simd}; ` +
    `fp32 B1 H${H} N${N} D${D}, ${rounds} rounds; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const shape = [1, H, N, D], n = H * N * D;
  const [q, k, v] = [1, 2, 3].map((s) => Tensor.fromFloat32(random(n, s), shape));
  for (const causal of causals) {
    const out = Tensor.zeros('float32', shape);
    const variants: [string, () => unknown][] = [
      ['sync, out reused', () => attentionSync(q, k, v, { causal, out })],
      ['sync, new output', () => attentionSync(q, k, v, { causal })],
      ['async, out reused', () => attention(q, k, v, { causal, out })],
      ['async, new output (default call)', () => attention(q, k, v, { causal })],
    ];
    const samples: Sample[][] = variants.map(() => []);
    for (const [, f] of variants) await once(f);  // warm-up
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < variants.length; i++) samples[i].push(await once(variants[i][1]));
    const med = (i: number, key: keyof Sample) => median(samples[i].map((x) => x[key]));
    console.log(`\n${causal ? 'causal' : 'non-causal'}: medians; wall and CPU ms with their ratios to the sync call ` +
      'with out reused, JS-thread ms, page faults');
    variants.forEach(([name], i) => {
      const w = med(i, 'wall'), c = med(i, 'cpu');
      console.log(`  ${name.padEnd(34)} wall ${w.toFixed(2).padStart(8)} (${(w / med(0, 'wall')).toFixed(3)})` +
        `  cpu ${c.toFixed(2).padStart(8)} (${(c / med(0, 'cpu')).toFixed(3)})` +
        `  js ${med(i, 'js').toFixed(2).padStart(6)}  faults ${med(i, 'faults')}`);
    });
  }
  console.log(`\nload after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

void main();
