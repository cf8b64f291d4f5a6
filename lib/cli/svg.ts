// The loss curve as a self-contained SVG: training loss (averaged into at most ~300 buckets,
// which both smooths the per-batch noise and keeps the file small), validation loss with
// markers, and the bigram baseline as a dashed line. Plain SVG 1.1, no scripts or fonts.

export interface LossCurve {
  train: ReadonlyArray<readonly [number, number]>;
  validation: ReadonlyArray<readonly [number, number]>;
  baseline: number | null;
  title: string;
}

const WIDTH = 720, HEIGHT = 420;
const LEFT = 64, RIGHT = 24, TOP = 40, BOTTOM = 52;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Bucket means: at most `buckets` points, each the mean step and loss of its bucket. */
function downsample(points: ReadonlyArray<readonly [number, number]>, buckets: number): Array<[number, number]> {
  const finite = points.filter(([, y]) => Number.isFinite(y));
  if (finite.length <= buckets) return finite.map(([x, y]) => [x, y]);
  const out: Array<[number, number]> = [];
  const size = finite.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size), to = Math.floor((b + 1) * size);
    let sx = 0, sy = 0;
    for (let i = from; i < to; i++) { sx += finite[i][0]; sy += finite[i][1]; }
    out.push([sx / (to - from), sy / (to - from)]);
  }
  return out;
}

/** Round tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

export function lossCurveSvg(curve: LossCurve): string {
  const train = downsample(curve.train, 300);
  const validation = curve.validation.filter(([, y]) => Number.isFinite(y));
  const all = [...train, ...validation];
  const ys = all.map(([, y]) => y).concat(curve.baseline !== null && Number.isFinite(curve.baseline) ? [curve.baseline] : []);
  const xMax = Math.max(1, ...all.map(([x]) => x));
  let yMin = ys.length > 0 ? Math.min(...ys) : 0, yMax = ys.length > 0 ? Math.max(...ys) : 1;
  if (yMax - yMin < 1e-9) { yMin -= 0.5; yMax += 0.5; }
  const pad = 0.05 * (yMax - yMin);
  yMin -= pad; yMax += pad;
  const plotW = WIDTH - LEFT - RIGHT, plotH = HEIGHT - TOP - BOTTOM;
  const sx = (x: number) => LEFT + (x / xMax) * plotW;
  const sy = (y: number) => TOP + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const path = (pts: ReadonlyArray<readonly [number, number]>) =>
    pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(curve.title)}</text>`);
  // Grid and ticks.
  const yStep = tickStep(yMax - yMin, 6);
  for (let y = Math.ceil(yMin / yStep) * yStep; y <= yMax; y += yStep) {
    const py = sy(y).toFixed(1);
    parts.push(`<line x1="${LEFT}" y1="${py}" x2="${WIDTH - RIGHT}" y2="${py}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(Number(y.toPrecision(6)))}</text>`);
  }
  const xStep = tickStep(xMax, 8);
  for (let x = 0; x <= xMax; x += xStep) {
    const px = sx(x).toFixed(1);
    parts.push(`<line x1="${px}" y1="${TOP}" x2="${px}" y2="${TOP + plotH}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${px}" y="${TOP + plotH + 16}" text-anchor="middle">${fmt(Number(x.toPrecision(6)))}</text>`);
  }
  parts.push(`<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${LEFT + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">step</text>`);
  parts.push(`<text transform="translate(16 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">loss (nats per character)</text>`);
  // Curves.
  if (curve.baseline !== null && Number.isFinite(curve.baseline)) {
    const py = sy(curve.baseline).toFixed(1);
    parts.push(`<line x1="${LEFT}" y1="${py}" x2="${WIDTH - RIGHT}" y2="${py}" stroke="#888" stroke-dasharray="6 4"/>`);
  }
  if (train.length > 0) parts.push(`<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (validation.length > 0) {
    parts.push(`<path d="${path(validation)}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
    for (const [x, y] of validation) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="#d62728"/>`);
  }
  // Legend.
  const legend: Array<[string, string, string]> = [['training', '#1f77b4', ''], ['validation', '#d62728', '']];
  if (curve.baseline !== null && Number.isFinite(curve.baseline)) legend.push([`bigram baseline ${curve.baseline.toFixed(3)}`, '#888', '6 4']);
  legend.forEach(([label, color, dash], i) => {
    const y = TOP + 14 + i * 18, x = WIDTH - RIGHT - 190;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${x + 30}" y="${y}" dominant-baseline="middle">${escapeXml(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
