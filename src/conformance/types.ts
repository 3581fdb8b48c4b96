/** Public shapes of the conformance bench (docs/design.md#conformance-bench). */
import type { Artifact } from '../model/environment.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message?: string;
  expected?: unknown;
  observed?: unknown;
  durationMs: number;
}

export interface ConformanceReport {
  /** The deployer type as given (built-in name, plugin path or package). */
  deployer: string;
  checks: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** What cleanup could not tear down through the deployer: left behind in the provider. */
  leaks: string[];
}

/**
 * What the generated revisions run. Defaults to a tiny HTTP server script the bench writes
 * into its scratch directory; deployers that need an image pass one here.
 */
export interface FixtureOptions {
  artifact?: Artifact;
  /** An artifact the deployer must fail to stage or warm (error-shape check). */
  failingArtifact?: Artifact;
}

export interface ConformanceOptions {
  /** Built-in type, or a plugin path / npm package. */
  type: string;
  /** Where a relative plugin path or a package name resolves (usually the cwd). */
  baseDir: string;
  /** The deployer's config, checked against its configSchema (defaults filled) before create. */
  config: Record<string, unknown>;
  /** Scratch directory: the deployer's ctx.stateDir lives in `deployer/`, fixture files in `fixture/`. */
  stateDir: string;
  /** Run only these checks (names as listed by `checkNames()`). */
  only?: string[];
  /** Called as each check finishes, for streaming progress. */
  onCheck?: (r: CheckResult) => void;
  /** Bound on every single deployer call; default 120000. */
  verbTimeoutMs?: number;
  fixture?: FixtureOptions;
}
