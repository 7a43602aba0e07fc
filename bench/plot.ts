// An SVG plot of time against sequence length (log-log), one line per series;
// peers dashed. Cases without a sequence length (x) are left out.
import type { Report, Row } from './suite';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function plotSvg(r: Report): string {
  const pts = r.rows.filter((x) => x.medianMs !== undefined && x.x !== undefined) as (Row & { x: number; medianMs: number })[];
  const families = [...new Set(pts.map((p) => p.family))];
  const W = 760, Hp = 420, m = { l: 70, r: 260, t: 30, b: 50 };
  const panels: string[] = [];
  families.forEach((fam, fi) => {
    const rows = pts.filter((p) => p.family === fam);
    const xs = rows.map((p) => p.x), ys = rows.map((p) => p.medianMs!);
    const pad = Math.min(...xs) === Math.max(...xs) ? 0.5 : 0.05;  // a single x sits in the middle
    const lx0 = Math.log10(Math.min(...xs)) - pad, lx1 = Math.log10(Math.max(...xs)) + pad;
    const ly0 = Math.floor(Math.log10(Math.min(...ys))), ly1 = Math.ceil(Math.log10(Math.max(...ys)) + 1e-9);
    const X = (x: number) => m.l + ((Math.log10(x) - lx0) / (lx1 - lx0 || 1)) * (W - m.l - m.r);
    const Y = (y: number) => m.t + (1 - (Math.log10(y) - ly0) / (ly1 - ly0 || 1)) * (Hp - m.t - m.b);
    const g: string[] = [`<g transform="translate(0, ${fi * Hp})">`];
    g.push(`<text x="${m.l}" y="18" font-size="14" font-weight="bold">${esc(fam)}: median time vs sequence length</text>`);
    for (let e = ly0; e <= ly1; e++) {
      const y = Y(10 ** e);
      g.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${m.l - 6}" y="${y + 4}" font-size="11" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)} ms</text>`);
    }
    for (const x of [...new Set(xs)].sort((a, b) => a - b))
      g.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${m.t}" y2="${Hp - m.b}" stroke="#eee"/><text x="${X(x)}" y="${Hp - m.b + 16}" font-size="11" text-anchor="middle">${x}</text>`);
    g.push(`<text x="${(m.l + W - m.r) / 2}" y="${Hp - 12}" font-size="12" text-anchor="middle">sequence length</text>`);
    [...new Set(rows.map((p) => p.series))].forEach((s, si) => {
      const line = rows.filter((p) => p.series === s).sort((a, b) => a.x - b.x);
      const color = palette[si % palette.length];
      const dash = line[0].backend === 'subquadratic' ? '' : ' stroke-dasharray="5,3"';  // peers dashed
      g.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${line.map((p) => `${X(p.x)},${Y(p.medianMs!)}`).join(' ')}"/>`);
      for (const p of line) g.push(`<circle cx="${X(p.x)}" cy="${Y(p.medianMs!)}" r="3" fill="${color}"/>`);
      const ly = m.t + 14 * si;
      g.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/><text x="${W - m.r + 38}" y="${ly + 4}" font-size="11">${esc(s)}</text>`);
    });
    g.push('</g>');
    panels.push(g.join('\n'));
  });
  const H = Math.max(1, families.length) * Hp;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n</svg>\n`;
}
