// An SVG of the report: per family, the median time against sequence length (log-log)
// and, beside it, the throughput (GFLOP/s or GB/s, linear) against sequence length
// with the in-run peak (FMA peak or copy bandwidth) as a horizontal line. One line
// per series; peers dashed. Cases without a sequence length (x) are left out.
import type { Report, Row } from './suite';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const W = 760, Hp = 420, m = { l: 70, r: 260, t: 30, b: 50 };

type Point = Row & { x: number };

interface Axis {
  title: string;
  value: (p: Point) => number | undefined;
  log: boolean;        // log y (time) or linear from 0 (throughput)
  unit: string;
  peak?: { value: number; label: string };
}

// One panel at (dx, dy): the series of `rows` on `axis`, colours by `colors`.
function panel(rows: Point[], axis: Axis, colors: Map<string, string>, dx: number, dy: number): string {
  const pts = rows.filter((p) => axis.value(p) !== undefined);
  if (!pts.length) return '';
  const xs = pts.map((p) => p.x), ys = pts.map((p) => axis.value(p)!);
  const pad = Math.min(...xs) === Math.max(...xs) ? 0.5 : 0.05;  // a single x sits in the middle
  const lx0 = Math.log10(Math.min(...xs)) - pad, lx1 = Math.log10(Math.max(...xs)) + pad;
  const X = (x: number) => m.l + ((Math.log10(x) - lx0) / (lx1 - lx0 || 1)) * (W - m.l - m.r);
  const g: string[] = [`<g transform="translate(${dx}, ${dy})">`, `<text x="${m.l}" y="18" font-size="14" font-weight="bold">${esc(axis.title)}</text>`];
  let Y: (y: number) => number;
  if (axis.log) {
    const ly0 = Math.floor(Math.log10(Math.min(...ys))), ly1 = Math.ceil(Math.log10(Math.max(...ys)) + 1e-9);
    Y = (y) => m.t + (1 - (Math.log10(y) - ly0) / (ly1 - ly0 || 1)) * (Hp - m.t - m.b);
    for (let e = ly0; e <= ly1; e++)
      g.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${m.l - 6}" y="${Y(10 ** e) + 4}" font-size="11" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)} ${axis.unit}</text>`);
  } else {
    const top = Math.max(...ys, axis.peak?.value ?? 0) * 1.08;
    const raw = top / 5, mag = 10 ** Math.floor(Math.log10(raw));
    const step = (raw / mag >= 5 ? 5 : raw / mag >= 2 ? 2 : 1) * mag;  // 1, 2 or 5 times a power of ten
    Y = (y) => m.t + (1 - y / top) * (Hp - m.t - m.b);
    for (let v = 0; v <= top; v += step)
      g.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/><text x="${m.l - 6}" y="${Y(v) + 4}" font-size="11" text-anchor="end">${Number(v.toPrecision(3))} ${axis.unit}</text>`);
    if (axis.peak)
      g.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(axis.peak.value)}" y2="${Y(axis.peak.value)}" stroke="#000" stroke-width="1.5" stroke-dasharray="2,2"/>` +
        `<text x="${W - m.r - 4}" y="${Y(axis.peak.value) - 5}" font-size="11" text-anchor="end">${esc(axis.peak.label)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b))
    g.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${m.t}" y2="${Hp - m.b}" stroke="#eee"/><text x="${X(x)}" y="${Hp - m.b + 16}" font-size="11" text-anchor="middle">${x}</text>`);
  g.push(`<text x="${(m.l + W - m.r) / 2}" y="${Hp - 12}" font-size="12" text-anchor="middle">sequence length</text>`);
  [...new Set(pts.map((p) => p.series))].forEach((s, si) => {
    const line = pts.filter((p) => p.series === s).sort((a, b) => a.x - b.x);
    const color = colors.get(s)!;
    const dash = line[0].backend === 'subquadratic' ? '' : ' stroke-dasharray="5,3"';  // peers dashed
    g.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${line.map((p) => `${X(p.x)},${Y(axis.value(p)!)}`).join(' ')}"/>`);
    for (const p of line) g.push(`<circle cx="${X(p.x)}" cy="${Y(axis.value(p)!)}" r="3" fill="${color}"/>`);
    const ly = m.t + 14 * si;
    g.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/><text x="${W - m.r + 38}" y="${ly + 4}" font-size="11">${esc(s)}</text>`);
  });
  g.push('</g>');
  return g.join('\n');
}

export function plotSvg(r: Report): string {
  const pts = r.rows.filter((x) => x.medianMs !== undefined && x.x !== undefined) as Point[];
  const families = [...new Set(pts.map((p) => p.family))];
  const peak = r.machine.fmaPeakGflops, copy = r.machine.copyGBs;
  const panels: string[] = [];
  let rowsOut = 0;
  for (const fam of families) {
    const rows = pts.filter((p) => p.family === fam);
    const colors = new Map([...new Set(rows.map((p) => p.series))].map((s, i) => [s, palette[i % palette.length]]));
    panels.push(panel(rows, { title: `${fam}: median time vs sequence length`, value: (p) => p.medianMs, log: true, unit: 'ms' }, colors, 0, rowsOut * Hp));
    // Throughput beside it: GFLOP/s rows against the FMA peak, GB/s rows against the copy bandwidth.
    const flopRows = rows.filter((p) => p.gflops !== undefined), byteRows = rows.filter((p) => p.gflops === undefined && p.gbs !== undefined);
    const right: [Point[], Axis][] = [];
    if (flopRows.length) right.push([flopRows, { title: `${fam}: GFLOP/s vs sequence length`, value: (p) => p.gflops, log: false, unit: 'GFLOP/s', peak: { value: peak, label: `fp32 FMA peak ${peak.toFixed(0)} GFLOP/s (this run)` } }]);
    if (byteRows.length) right.push([byteRows, { title: `${fam}: GB/s vs sequence length`, value: (p) => p.gbs, log: false, unit: 'GB/s', peak: { value: copy, label: `copy ${copy.toFixed(0)} GB/s (this run)` } }]);
    right.forEach(([rs, axis], i) => panels.push(panel(rs, axis, colors, W, (rowsOut + i) * Hp)));
    rowsOut += Math.max(1, right.length);
  }
  const width = 2 * W, height = Math.max(1, rowsOut) * Hp;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n</svg>\n`;
}
