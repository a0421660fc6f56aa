// A small line chart as SVG, so a benchmark can draw its own figure for BENCHMARKS.md.

export interface Series { readonly name: string; readonly color: string; readonly points: readonly (readonly [number, number])[] }

/** Two y-axes (left: series[0], right: series[1]) over a log-scale x-axis. */
export function lineChart(o: {
  readonly title: string; readonly xLabel: string; readonly left: Series; readonly right: Series;
  readonly leftLabel: string; readonly rightLabel: string;
}): string {
  const W = 640, H = 360, L = 70, R = 70, T = 40, B = 50;
  const xs = o.left.points.map((p) => p[0]);
  const lx0 = Math.log10(Math.min(...xs)), lx1 = Math.log10(Math.max(...xs));
  const x = (v: number) => L + ((Math.log10(v) - lx0) / (lx1 - lx0 || 1)) * (W - L - R);
  const scale = (s: Series) => {
    const max = Math.max(...s.points.map((p) => p[1])) * 1.1 || 1;
    return (v: number) => H - B - (v / max) * (H - T - B);
  };
  const yl = scale(o.left), yr = scale(o.right);
  const maxOf = (s: Series) => Math.max(...s.points.map((p) => p[1])) * 1.1 || 1;
  const path = (s: Series, y: (v: number) => number) => s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
  const dots = (s: Series, y: (v: number) => number) => s.points.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`).join('');
  const ticks = xs.map((v) => `<text x="${x(v).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`).join('');
  const yTicks = (max: number, y: (v: number) => number, at: number, anchor: string, fmt: (v: number) => string) =>
    [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${at}" y="${(y(max * f / 1.1) + 4).toFixed(1)}" text-anchor="${anchor}">${fmt(max * f / 1.1)}</text>`).join('');
  const fmt = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}K` : v.toFixed(v < 10 ? 2 : 0));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${o.title}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#888"/>
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="${o.left.color}"/>
<line x1="${W - R}" y1="${T}" x2="${W - R}" y2="${H - B}" stroke="${o.right.color}"/>
${ticks}
${yTicks(maxOf(o.left), yl, L - 6, 'end', fmt)}
${yTicks(maxOf(o.right), yr, W - R + 6, 'start', fmt)}
<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${o.xLabel}</text>
<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle" fill="${o.left.color}">${o.leftLabel}</text>
<text x="${W - 14}" y="${H / 2}" transform="rotate(90 ${W - 14} ${H / 2})" text-anchor="middle" fill="${o.right.color}">${o.rightLabel}</text>
<path d="${path(o.left, yl)}" fill="none" stroke="${o.left.color}" stroke-width="2"/>${dots(o.left, yl)}
<path d="${path(o.right, yr)}" fill="none" stroke="${o.right.color}" stroke-width="2" stroke-dasharray="5,3"/>${dots(o.right, yr)}
</svg>
`;
}

/** Horizontal bars, one per labelled value, on a linear or log scale. */
export function barChart(o: {
  readonly title: string; readonly unit: string; readonly log?: boolean;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly color: string }[];
}): string {
  const W = 760, L = 330, R = 90, T = 40, BAR = 22, GAP = 8;
  const H = T + o.bars.length * (BAR + GAP) + 30;
  const values = o.bars.map((b) => Math.max(b.value, 1e-3));
  const hi = Math.max(...values);
  const lo = o.log === true ? Math.min(...values) / 2 : 0;
  const w = (v: number) => (o.log === true
    ? ((Math.log10(Math.max(v, 1e-3)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1))
    : v / (hi || 1)) * (W - L - R);
  const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ${o.unit}`);
  const rows = o.bars.map((b, i) => {
    const y = T + i * (BAR + GAP);
    return `<text x="${L - 8}" y="${y + BAR / 2 + 4}" text-anchor="end">${b.label}</text>`
      + `<rect x="${L}" y="${y}" width="${Math.max(1, w(b.value)).toFixed(1)}" height="${BAR}" fill="${b.color}"/>`
      + `<text x="${(L + Math.max(1, w(b.value)) + 6).toFixed(1)}" y="${y + BAR / 2 + 4}">${fmt(b.value)}</text>`;
  }).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${o.title}</text>
${rows}
</svg>
`;
}
