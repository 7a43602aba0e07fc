// Runs a snippet in a fresh Node process, so a test can watch for crashes (a
// signal, an abort) without taking the test run down with it. The snippet gets
// `s` = the compiled package (dist/lib) and prints what the test checks.
import { spawnSync, type SpawnSyncOptions } from 'child_process';
import * as path from 'path';

export const root = path.join(__dirname, '..');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runChild(code: string, opts: { nodeArgs?: string[]; shell?: string; env?: Record<string, string>; spawn?: SpawnSyncOptions } = {}): ChildResult {
  const prelude = `const s = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'index.js'))});\n`;
  const args = [...(opts.nodeArgs ?? []), '-e', prelude + code];
  // shell: a bash prefix such as 'ulimit -u 40;' run before exec'ing node.
  const [cmd, argv] = opts.shell
    ? ['bash', ['-c', `${opts.shell} exec "$0" "$@"`, process.execPath, ...args]]
    : [process.execPath, args];
  // Without the test runner's NODE_OPTIONS: its hooks are not part of what is tested.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|_?TAP)/.test(k))), ...opts.env };
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', timeout: 120_000, env, ...opts.spawn });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** "status 0" or what went wrong, with the child's stderr tail, for a test message. */
export function describe(r: ChildResult): string {
  return `status ${r.status}, signal ${r.signal}; stderr: ${r.stderr.slice(-600)}`;
}
