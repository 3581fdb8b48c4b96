/**
 * The fake's state: resources by scope and collection, addressed the way Compute Engine
 * addresses them (`projects/P/global/C/NAME`, `projects/P/zones/Z/C/NAME`), and the
 * long-running operations that change them. See BEHAVIOUR.md for the documentation cited.
 */
import { randomBytes } from 'node:crypto';

export const LINK_BASE = 'https://www.googleapis.com/compute/v1/';

export type Resource = Record<string, unknown> & { name: string; selfLink: string; id: string };

/** An error the API answers with: HTTP status plus the `errors[].reason` clients match on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** JSON-parsing refusals also carry the canonical status and the offending field (google.rpc.BadRequest). */
    readonly extra: { status?: string; field?: string; errorDetails?: unknown[] } = {},
  ) {
    super(message);
  }
  body(): unknown {
    const { status, field } = this.extra;
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
        ...(status ? { status } : {}),
        ...(field
          ? {
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.BadRequest',
                  fieldViolations: [{ field, description: this.message }],
                },
              ],
            }
          : {}),
      },
    };
  }
}

export const notFound = (path: string) => new ApiError(404, 'notFound', `The resource '${path}' was not found`);

/** `projects/p/zones/z` or `projects/p/global`: where a collection lives. */
export type Scope = string;

export interface OperationRecord {
  op: Record<string, unknown> & { name: string; status: string };
  scope: Scope;
  /** Applied when the operation finishes; a thrown ApiError becomes the operation's error. */
  finish: () => void;
  doneAt: number;
  waiters: Array<() => void>;
}

let idCounter = 1_000_000_000_000n;
export const newId = (): string => String(++idCounter + BigInt(Math.floor(Math.random() * 1000)));

/** Any reference (full URL, partial `projects/...` path, or `global/...`) to a canonical path. */
export function canonicalPath(ref: string, project: string): string {
  let p = ref.startsWith(LINK_BASE) ? ref.slice(LINK_BASE.length) : ref.replace(/^https?:\/\/[^/]+\/compute\/v1\//, '');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('global/') || p.startsWith('zones/') || p.startsWith('regions/')) p = `projects/${project}/${p}`;
  return p;
}

export class Store {
  private readonly collections = new Map<string, Map<string, Resource>>();
  readonly operations = new Map<string, OperationRecord>();
  /** requestId -> operation name: a retried mutation returns the first operation (idempotency). */
  private readonly requestIds = new Map<string, string>();

  constructor(private readonly opDelayMs: () => number) {}

  collection(scope: Scope, kind: string): Map<string, Resource> {
    const key = `${scope}/${kind}`;
    let c = this.collections.get(key);
    if (!c) {
      c = new Map();
      this.collections.set(key, c);
    }
    return c;
  }

  get(path: string): Resource | undefined {
    const i = path.lastIndexOf('/');
    return this.collections.get(path.slice(0, i))?.get(path.slice(i + 1));
  }

  require(path: string): Resource {
    const r = this.get(path);
    if (!r) throw notFound(path);
    return r;
  }

  put(scope: Scope, kind: string, body: Record<string, unknown>): Resource {
    const name = String(body.name);
    const r = {
      ...body,
      name,
      id: (body.id as string | undefined) ?? newId(),
      selfLink: `${LINK_BASE}${scope}/${kind}/${name}`,
    } as Resource;
    this.collection(scope, kind).set(name, r);
    return r;
  }

  remove(path: string): void {
    const i = path.lastIndexOf('/');
    this.collections.get(path.slice(0, i))?.delete(path.slice(i + 1));
  }

  /** Every resource of one kind across scopes (for references between zonal and global ones). */
  all(kind: string): Resource[] {
    const out: Resource[] = [];
    for (const [key, c] of this.collections) if (key.endsWith(`/${kind}`)) out.push(...c.values());
    return out;
  }

  operationForRequest(requestId: string | null): OperationRecord | undefined {
    if (!requestId) return undefined;
    const name = this.requestIds.get(requestId);
    return name ? this.operations.get(name) : undefined;
  }

  /**
   * Starts an operation: PENDING now, RUNNING at once, DONE after the configured delay, when
   * `finish` runs. `error` makes the operation end in error without running `finish`.
   */
  startOperation(
    scope: Scope,
    type: string,
    target: string,
    finish: () => void,
    opts: { requestId: string | null; error?: { code: string; message: string; httpStatus: number } },
  ): OperationRecord {
    const name = `operation-${Date.now()}-${randomBytes(6).toString('hex')}`;
    const zone = /\/zones\/([^/]+)$/.exec(scope)?.[1];
    const now = new Date().toISOString();
    const op = {
      kind: 'compute#operation',
      id: newId(),
      name,
      operationType: type,
      targetLink: `${LINK_BASE}${target}`,
      targetId: newId(),
      status: 'PENDING',
      user: 'bp-fake@example.iam.gserviceaccount.com',
      progress: 0,
      insertTime: now,
      selfLink: `${LINK_BASE}${scope}/operations/${name}`,
      ...(zone ? { zone: `${LINK_BASE}${scope}` } : {}),
    };
    const record: OperationRecord = { op, scope, finish, doneAt: Date.now() + this.opDelayMs(), waiters: [] };
    const injected = opts.error;
    if (injected) {
      record.finish = () => {
        throw new ApiError(injected.httpStatus, injected.code, injected.message);
      };
    }
    this.operations.set(name, record);
    if (opts.requestId) this.requestIds.set(opts.requestId, name);
    setImmediate(() => {
      if (op.status === 'PENDING')
        Object.assign(op, { status: 'RUNNING', startTime: new Date().toISOString(), progress: 0 });
    });
    setTimeout(() => this.completeOperation(record), Math.max(0, record.doneAt - Date.now())).unref();
    return record;
  }

  private completeOperation(record: OperationRecord): void {
    const { op } = record;
    if (op.status === 'DONE') return;
    try {
      record.finish();
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'internalError', String(e));
      Object.assign(op, {
        error: {
          errors: [
            {
              code: err.reason,
              message: err.message,
              ...(err.extra.errorDetails ? { errorDetails: err.extra.errorDetails } : {}),
            },
          ],
        },
        httpErrorStatusCode: err.status,
        httpErrorMessage: err.status === 403 ? 'FORBIDDEN' : err.status === 409 ? 'CONFLICT' : 'BAD REQUEST',
      });
    }
    Object.assign(op, { status: 'DONE', progress: 100, endTime: new Date().toISOString() });
    for (const w of record.waiters.splice(0)) w();
  }
}

/**
 * One page of a list, as every `list` method pages: at most `maxResults` (capped at 500, and
 * at `pageSize` here so tests see several pages) from `pageToken`, then `nextPageToken`.
 * A `maxResults` outside 0-500 is 400 `invalid`. Ref: each list method's `maxResults`.
 */
export function paginate<T>(
  items: T[],
  query: URLSearchParams,
  pageSize: number,
): { page: T[]; nextPageToken?: string } {
  const asked = query.get('maxResults');
  if (asked !== null && (!/^\d+$/.test(asked) || Number(asked) > 500)) {
    throw new ApiError(400, 'invalid', `Invalid value for field 'maxResults': '${asked}'. Must be between 0 and 500.`);
  }
  const max = Math.min(asked === null || Number(asked) === 0 ? 500 : Number(asked), pageSize);
  const token = query.get('pageToken');
  const start = token ? Number(token) : 0;
  if (!Number.isInteger(start) || start < 0) {
    throw new ApiError(400, 'invalid', `Invalid value for field 'pageToken': '${token}'. Invalid page token.`);
  }
  const page = items.slice(start, start + max);
  return { page, ...(start + max < items.length ? { nextPageToken: String(start + max) } : {}) };
}

/** The key a mutation's `requestId` is remembered under (per project). */
export function requestKey(project: string, query: URLSearchParams): string | null {
  const id = query.get('requestId');
  return id ? `${project}/${id}` : null;
}
