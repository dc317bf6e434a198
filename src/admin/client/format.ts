/** Number, time and unit formatting for the pages; '–' stands for no data. */
export const NO_DATA = '–';

type Maybe = number | null | undefined;
const valid = (v: Maybe): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Up to `maxDecimals` decimals, grouped thousands: 1234.5 → "1,235", 1.2345 → "1.23". Below 1 at
 * least 3 significant digits, so a small rate is not rounded to "0": 0.0046 → "0.0046"; 0 is "0".
 */
export function num(v: Maybe, maxDecimals = 2): string {
  if (!valid(v)) return NO_DATA;
  const abs = Math.abs(v);
  if (abs > 0 && abs < 1) {
    // The significant digits `maxDecimals` decimals would show, but never fewer than 3.
    const significant = Math.max(3, maxDecimals + Math.floor(Math.log10(abs)) + 1);
    return v.toLocaleString('en-US', { maximumSignificantDigits: Math.min(21, significant) });
  }
  const decimals = abs >= 1000 ? 0 : abs >= 100 ? Math.min(1, maxDecimals) : maxDecimals;
  return v.toLocaleString('en-US', { maximumFractionDigits: decimals });
}

/** Past this a robust z says only "far off": an expected spread near 0 gives absurd values (+10,000,000,000σ). */
const DEVIATION_CAP = 1000;

/** A robust z-score with its sign: "+8.4σ", "-4.2σ", "> +1,000σ". */
export function deviation(v: number): string {
  if (v > DEVIATION_CAP) return `> +${num(DEVIATION_CAP)}σ`;
  if (v < -DEVIATION_CAP) return `< -${num(DEVIATION_CAP)}σ`;
  return `${v >= 0 ? '+' : ''}${num(v, 1)}σ`;
}

export function int(v: Maybe): string {
  return valid(v) ? Math.round(v).toLocaleString('en-US') : NO_DATA;
}

/** A ratio as a percentage: 0.9512 → "95.1%". */
export function percent(v: Maybe, decimals = 1): string {
  if (!valid(v)) return NO_DATA;
  // A share short of the whole is never shown as the whole: 0.9996 → "99.96%", not "100.0%".
  let shown = decimals;
  while (v < 1 && shown < 4 && (v * 100).toFixed(shown) === (100).toFixed(shown)) shown++;
  if (v < 1 && (v * 100).toFixed(shown) === (100).toFixed(shown)) return '> 99.99%';
  return `${(v * 100).toFixed(shown)}%`;
}

/**
 * A ratio as a share of a whole, keeping a small one visible: 0.0769 → "7.7%", 0.00208 → "0.21%",
 * 0.00001 → "< 0.01%", 0 → "0%".
 */
export function share(v: Maybe): string {
  if (!valid(v)) return NO_DATA;
  if (v === 0) return '0%';
  if (v > 0 && v < 0.0001) return '< 0.01%';
  return percent(v, Math.abs(v) < 0.01 ? 2 : 1);
}

/** Rounds to `decimals` and drops the float noise: 999.96 at 1 → 1000. */
const rounded = (v: number, decimals: number): number => Number(v.toFixed(decimals));

/**
 * Milliseconds: 38.8889 → "38.9 ms", 1234 → "1.23 s", 83_000 → "1 min 23 s", 10_800_000 → "3 h".
 * The value is rounded to what would be shown before the unit is chosen, so 999.96 is "1.00 s",
 * not "1,000 ms"; from a minute on it is a human duration (elapsed()).
 */
export function ms(v: Maybe): string {
  if (!valid(v)) return NO_DATA;
  const shown = Math.abs(v) >= 1 ? rounded(v, Math.abs(v) < 10 ? 2 : 1) : v;
  if (Math.abs(shown) < 1000) return `${num(shown, Math.abs(shown) < 10 ? 2 : 1)} ms`;
  const seconds = rounded(shown / 1000, Math.abs(shown) < 10_000 ? 2 : 1);
  if (Math.abs(seconds) < 60) return `${seconds.toFixed(Math.abs(seconds) < 10 ? 2 : 1)} s`;
  return elapsed(shown);
}

const UNITS = [
  { s: 86_400, name: 'd' },
  { s: 3_600, name: 'h' },
  { s: 60, name: 'min' },
  { s: 1, name: 's' },
] as const;

/**
 * A time span in milliseconds in its largest unit and the next one, rounded to that one:
 * 83_000 → "1 min 23 s", 10_800_000 → "3 h", 5_184_000_000 → "60 d", 97_260_000 → "1 d 3 h".
 */
export function elapsed(v: Maybe): string {
  if (!valid(v)) return NO_DATA;
  if (v < 0) return `-${elapsed(-v)}`;
  let total = Math.round(v / 1000);
  if (total < 60) return `${total} s`;
  // Round at the second unit of the largest one, then split (3 h 59 min 40 s is "4 h").
  const first = UNITS.findIndex((u) => total >= u.s);
  const second = UNITS[Math.min(first + 1, UNITS.length - 1)] as (typeof UNITS)[number];
  total = Math.round(total / second.s) * second.s;
  const big = UNITS.find((u) => total >= u.s) as (typeof UNITS)[number];
  const next = UNITS[UNITS.indexOf(big) + 1];
  const whole = Math.floor(total / big.s);
  const rest = next ? Math.round((total - whole * big.s) / next.s) : 0;
  return rest > 0 && next ? `${whole} ${big.name} ${rest} ${next.name}` : `${whole} ${big.name}`;
}

/** Seconds (as Prometheus reports durations) shown in milliseconds. */
export function secondsAsMs(v: Maybe): string {
  return valid(v) ? ms(v * 1000) : NO_DATA;
}

export function perSecond(v: Maybe): string {
  return valid(v) ? `${num(v)}/s` : NO_DATA;
}

export function bytesPerSecond(v: Maybe): string {
  if (!valid(v)) return NO_DATA;
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let value = v;
  let i = 0;
  while (Math.abs(value) >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${num(value)} ${units[i]}`;
}

/** A value in a Prometheus unit ('s', 'By/s', '{message}/s', '{connection}'). */
export function byUnit(unit: string, v: Maybe): string {
  if (unit === 's') return secondsAsMs(v);
  if (unit === 'By/s') return bytesPerSecond(v);
  if (unit.endsWith('/s')) return perSecond(v);
  return num(v);
}

export function interval(lower: Maybe, upper: Maybe, fmt: (v: Maybe) => string): string {
  return valid(lower) && valid(upper) ? `${fmt(lower)} – ${fmt(upper)}` : NO_DATA;
}

const dateTime = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortDateTime = new Intl.DateTimeFormat('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function when(iso: string | Date | null | undefined): string {
  if (!iso) return NO_DATA;
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(date.getTime()) ? NO_DATA : dateTime.format(date);
}

export function shortWhen(date: Date): string {
  return shortDateTime.format(date);
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const hours = Math.round(m / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** ISO country code → name; 'other' and 'ZZ' are ours. */
export function countryName(code: string): string {
  if (code === 'other') return 'Other (small countries)';
  if (code === 'ZZ') return 'Unknown';
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}
