// Latency histogram with bounded memory: exact below 2048 µs, then 128
// sub-buckets per power of two (under 1% error), so percentiles of millions
// of requests cost a few kilobytes.

const EXACT = 2048;
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;

function bucketOf(v: number): number {
  if (v < EXACT) return v;
  const exp = Math.floor(Math.log2(v)); // ≥ 11
  const mantissa = Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB; // 0..127
  return EXACT + (exp - 11) * SUB + mantissa;
}

function lowerBoundOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const i = bucket - EXACT;
  const exp = Math.floor(i / SUB) + 11;
  const mantissa = (i % SUB) + SUB;
  return mantissa * 2 ** (exp - SUB_BITS);
}

export class LatencyHistogram {
  private counts = new Float64Array(EXACT + 64 * SUB);
  count = 0;
  max = 0;
  sum = 0;

  /** Adds one latency in microseconds (rounded; negatives from clock skew count as 0). */
  add(us: number): void {
    const v = us > 0 ? Math.round(us) : 0;
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /**
   * Counts by power-of-two ranges, for drawing: `[upperUs, count]` where a
   * sample v falls in the first range with v < upperUs (1, 2, 4, ...); only
   * ranges up to the largest sample are listed.
   */
  log2Buckets(): Array<[upperUs: number, count: number]> {
    const out: Array<[number, number]> = [];
    if (this.count === 0) return out;
    const top = Math.floor(Math.log2(Math.max(1, this.max))) + 1;
    for (let k = 0; k <= top; k++) out.push([2 ** k, 0]);
    for (let b = 0; b < this.counts.length; b++) {
      const c = this.counts[b]!;
      if (c === 0) continue;
      const v = lowerBoundOf(b);
      const k = v < 1 ? 0 : Math.floor(Math.log2(v)) + 1;
      out[Math.min(k, out.length - 1)]![1] += c;
    }
    return out;
  }

  /** The smallest recorded value with at least q of the samples at or below it (q in 0..1). */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(lowerBoundOf(b), this.max);
    }
    return this.max;
  }
}
