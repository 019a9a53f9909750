/** Small statistics and formatting helpers of the benchmarks. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function min(values: readonly number[]): number {
  return Math.min(...values);
}

export function max(values: readonly number[]): number {
  return Math.max(...values);
}

/** `1234.5` → `'1,235'`. */
export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with no decimals, e.g. `'812 ms'`. */
export function ms(value: number): string {
  return `${int(value)} ms`;
}

/** `'$1.23'`; amounts under a cent get four decimals. */
export function usd(value: number): string {
  if (value !== 0 && Math.abs(value) < 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

/** Bytes as kB (1000) with one decimal, e.g. `'16.5 kB'`. */
export function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}
