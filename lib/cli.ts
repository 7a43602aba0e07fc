#!/usr/bin/env node
// npx subquadratic info | bench [--quick] [--json FILE|-] [--plot FILE.svg] [--filter REGEX] [--threads N]
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from './backend';

const usage = `usage: subquadratic <command>
  info                       backends, SIMD level, threads, CUDA devices
  bench [options]            every kernel family on the default workload
    --quick                  smaller shapes (about a minute)
    --json FILE              write the report as JSON ('-' for stdout)
    --plot FILE.svg          write time and throughput against sequence length as SVG
    --filter REGEX           only cases whose "family backend label" matches
    --threads N              CPU threads (default: all)
    --min-runs N             timed runs per case after a warm-up (default 5)`;

function info(): void {
  const i = backendInfo();
  const f = Object.entries(i.cpu.features).filter(([, v]) => v).map(([k]) => k);
  // package.json sits outside the compiled tree: read it at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  console.log(`subquadratic ${require('../../package.json').version}`);
  console.log(`backends: ${i.backends.join(', ')}`);
  console.log(`cpu: ${i.cpu.simd} kernels, ${i.cpu.threads} threads (${i.cpu.hardwareThreads} hardware); features: ${f.join(' ')}`);
  if (!i.cuda.compiled) console.log('cuda: not compiled into this build');
  else {
    const v = (n: number) => (n ? `${Math.floor(n / 1000)}.${(n % 1000) / 10}` : 'none');
    console.log(`cuda: runtime ${v(i.cuda.runtimeVersion)}, driver ${v(i.cuda.driverVersion)}, ${i.cuda.devices.length} device(s)${i.cuda.error ? ` (${i.cuda.error})` : ''}`);
    for (const d of i.cuda.devices)
      console.log(`  cuda:${d.index} ${d.name}, compute ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, ${d.multiprocessors} SMs`);
  }
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const benchFlags = ['--quick'], benchValues = ['--json', '--plot', '--filter', '--threads', '--min-runs'];

async function bench(args: string[]): Promise<void> {
  // Every argument is checked before anything runs: a mistyped flag (or --help) must not
  // start a benchmark that takes many minutes.
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return void console.log(usage);
    if (benchFlags.includes(a)) continue;
    if (!benchValues.includes(a)) throw new RangeError(`unknown bench option ${a}\n${usage}`);
    const v = args[++i];
    if (v === undefined) throw new RangeError(`${a} needs a value`);
    values.set(a, v);
  }
  const count = (flag: string) => {
    const v = values.get(flag);
    if (v === undefined) return undefined;
    if (!/^[1-9][0-9]*$/.test(v)) throw new RangeError(`${flag} must be a whole number >= 1, got ${v}`);
    return Number(v);
  };
  const json = values.get('--json'), plot = values.get('--plot'), filter = values.get('--filter');
  const threads = count('--threads'), minRuns = count('--min-runs');
  // Loaded on demand: `info` stays quick and never loads the benchmark cases.
  const { runSuite, table } = await import('../bench/suite');
  const { plotSvg } = await import('../bench/plot');
  const tty = process.stderr.isTTY;
  let last = '';
  const progress = (msg: string) => {
    if (tty) process.stderr.write(`\r\x1b[K${msg}`);
    else process.stderr.write(`${msg}\n`);
    last = msg;
  };
  const report = await runSuite({
    quick: args.includes('--quick'),
    filter: filter ? new RegExp(filter) : undefined,
    threads,
    minRuns: minRuns ?? 5,
    minSeconds: 1,
    progress,
  });
  if (tty && last) process.stderr.write('\r\x1b[K');
  const text = table(report);
  if (json === '-') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    console.log(text);
    if (json) write(json, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (plot) write(plot, plotSvg(report));
  if (plot || (json && json !== '-')) console.error(`written: ${[json !== '-' && json, plot].filter(Boolean).join(', ')}`);
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'info') return info();
  if (cmd === 'bench') return bench(rest);
  console.log(usage);
  if (cmd && cmd !== 'help' && cmd !== '--help') process.exitCode = 2;
}

main().catch((e: Error) => {
  console.error(`subquadratic: ${e.message}`);
  process.exitCode = e instanceof RangeError ? 2 : 1;
});
