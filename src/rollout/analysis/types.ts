/** The analysis module's public shapes (re-exported by index.ts). */

export interface MeasureTarget {
  environmentId: string;
  deploymentId: string;
  revisionId: string;
  /** The deployment's router metrics text (deployer.scrapeMetrics), or null when the deployer has none. */
  scrape: ((signal: AbortSignal) => Promise<string>) | null;
}

export interface Measurement {
  /** ISO time the measurement window closed. */
  at: string;
  /** The metric's value over the window; null when there was no data (e.g. no requests reached the revision). */
  value: number | null;
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** One sentence: "success_rate 0.62 < min 0.99 over 30s (31 of 50 requests succeeded)". */
  detail: string;
}

export interface MeasurementWindow {
  finish(signal: AbortSignal): Promise<Measurement>;
}
