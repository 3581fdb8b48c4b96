/**
 * `Status` bodies exactly as kube-apiserver sends them for failed requests (see BEHAVIOUR.md,
 * "Errors"): clients such as @kubernetes/client-node read `reason`, `code` and `details`.
 */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly body: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function status(code: number, reason: string, message: string, details?: StatusDetails): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return body;
}

/** `deployments.apps`, `services` (the core group has no suffix). */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError(
      status(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource }),
    ),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError(
      status(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
        name,
        group,
        kind: resource,
      }),
    ),
  conflict: (resource: string, group: string, name: string) =>
    new ApiError(
      status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group, kind: resource },
      ),
    ),
  badRequest: (message: string) => new ApiError(status(400, 'BadRequest', message)),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new ApiError(
      status(
        422,
        'Invalid',
        `${kind}.${group || 'core'} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
        { name, group, kind, causes },
      ),
    ),
  unsupportedMediaType: (type: string) =>
    new ApiError(
      status(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got ${type}`,
      ),
    ),
  methodNotAllowed: (method: string) =>
    new ApiError(
      status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`),
    ),
  unauthorized: () => new ApiError(status(401, 'Unauthorized', 'Unauthorized')),
  pathNotFound: () => new ApiError(status(404, 'NotFound', 'the server could not find the requested resource')),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ApiError(status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }), {
      'retry-after': String(retryAfterSeconds),
    }),
  internal: (message: string) =>
    new ApiError(
      status(500, 'InternalError', `Internal error occurred: ${message}`, {
        causes: [{ reason: 'UnexpectedServerResponse', message }],
      }),
    ),
};
