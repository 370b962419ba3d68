// A small SVG line chart (a few series over one x axis, an optional second y axis on the right):
// enough to publish the benchmarks' curves without a plotting dependency.
export type Series = { name: string; points: [number, number][] };
export type Axis = { label: string; series: Series[]; min?: number; max?: number };

const W = 640;
const H = 360;
const M = { left: 64, right: 64, top: 40, bottom: 72 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" step for about `n` ticks over [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  const raw = (hi - lo) / n || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function range(axis: Axis): [number, number] {
  const ys = axis.series.flatMap((s) => s.points.map((p) => p[1]));
  const lo = axis.min ?? Math.min(0, ...ys);
  const hi = axis.max ?? Math.max(...ys) * 1.1;
  return [lo, hi > lo ? hi : lo + 1];
}

export function lineChart(o: { title: string; x: { label: string; values?: number[]; log?: boolean }; y: Axis; y2?: Axis }): string {
  const all = [...o.y.series, ...(o.y2?.series ?? [])];
  const xs = all.flatMap((s) => s.points.map((p) => p[0]));
  const fx = o.x.log ? Math.log10 : (v: number) => v;
  const [x0, x1] = [fx(Math.min(...xs)), fx(Math.max(...xs))];
  const px = (v: number) => M.left + ((fx(v) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const scale = (a: Axis) => {
    const [lo, hi] = range(a);
    return { lo, hi, py: (v: number) => H - M.bottom - ((v - lo) / (hi - lo)) * (H - M.top - M.bottom) };
  };
  const s1 = scale(o.y);
  const s2 = o.y2 ? scale(o.y2) : null;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`,
  ];
  // Axes, grid and labels.
  const xTicks = o.x.values ?? ticks(Math.min(...xs), Math.max(...xs));
  for (const v of xTicks) {
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${px(v)}" y="${H - M.bottom + 16}" text-anchor="middle">${v}</text>`);
  }
  for (const v of ticks(s1.lo, s1.hi)) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${s1.py(v)}" y2="${s1.py(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${s1.py(v) + 4}" text-anchor="end">${v}</text>`);
  }
  if (s2) for (const v of ticks(s2.lo, s2.hi)) parts.push(`<text x="${W - M.right + 6}" y="${s2.py(v) + 4}">${v}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${W / 2}" y="${H - M.bottom + 32}" text-anchor="middle">${esc(o.x.label)}</text>`);
  parts.push(`<text transform="translate(16 ${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">${esc(o.y.label)}</text>`);
  if (o.y2) parts.push(`<text transform="translate(${W - 14} ${(H - M.bottom + M.top) / 2}) rotate(90)" text-anchor="middle">${esc(o.y2.label)}</text>`);
  // Series, then a legend under the chart.
  const drawn = [...o.y.series.map((s) => ({ s, py: s1.py, dash: '' })), ...(o.y2?.series ?? []).map((s) => ({ s, py: s2!.py, dash: ' stroke-dasharray="6 4"' }))];
  drawn.forEach(({ s, py, dash }, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)}: ${y}</title></circle>`);
    const lx = M.left + (i % 3) * 180;
    const ly = H - 20 + Math.floor(i / 3) * 16 - (drawn.length > 3 ? 8 : 0);
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${dash}/><text x="${lx + 26}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
