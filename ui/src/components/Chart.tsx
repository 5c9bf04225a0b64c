// A hand-drawn SVG line chart: one line per series over shared x labels (days). No dependency.

const COLORS = ['#1d4ed8', '#b91c1c', '#047857', '#a16207', '#7c3aed', '#0e7490', '#be185d', '#4b5563'];

export interface Series {
  name: string;
  values: number[];
}

export function LineChart({
  labels,
  series,
  title,
  unit = '',
}: {
  labels: string[];
  series: Series[];
  title: string;
  unit?: string;
}) {
  const w = 900;
  const h = 300;
  const pad = { l: 56, r: 24, t: 12, b: 36 };
  const max = Math.max(0.0001, ...series.flatMap((s) => s.values));
  const x = (i: number) => pad.l + (labels.length <= 1 ? 0 : (i * (w - pad.l - pad.r)) / (labels.length - 1));
  const y = (v: number) => h - pad.b - (v / max) * (h - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const every = Math.max(1, Math.ceil(labels.length / 6));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={title}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={w - pad.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={pad.l - 6} y={y(v) + 4} textAnchor="end" className="axis">
              {unit}
              {v < 10 ? v.toFixed(2) : Math.round(v)}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          i % every === 0 || i === labels.length - 1 ? (
            <text
              key={l}
              x={x(i)}
              y={h - pad.b + 18}
              textAnchor={i === labels.length - 1 && i > 0 ? 'end' : i === 0 ? 'start' : 'middle'}
              className="axis"
            >
              {l.slice(5)}
            </text>
          ) : null,
        )}
        {series.map((s, si) => (
          <g key={s.name}>
            <polyline
              fill="none"
              stroke={COLORS[si % COLORS.length]}
              strokeWidth={2}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
            />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={3} fill={COLORS[si % COLORS.length]}>
                <title>
                  {s.name} {labels[i]}: {unit}
                  {v.toFixed(4)}
                </title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="legend">
          {series.map((s, si) => (
            <li key={s.name}>
              <span className="swatch" data-color={si % COLORS.length} aria-hidden="true" /> {s.name}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
