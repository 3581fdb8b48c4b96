/**
 * The fake's state: ARM resources by id (ARM ids and names are case-insensitive, so the key is
 * the lower-cased id; the resource keeps the casing it was created with) and the asynchronous
 * operations that change them. See BEHAVIOUR.md for the documentation each rule follows.
 */
import { randomUUID } from 'node:crypto';

export type Json = Record<string, unknown>;

export interface ArmResource extends Json {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  properties: Json & { provisioningState?: string };
}

/** An ARM error answer: `{ "error": { "code", "message" } }` with an HTTP status. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** `error.details`: what the provider found wrong (`InvalidJson` under `InvalidRequestFormat`). */
    readonly details: Array<{ code: string; message: string }> = [],
    /** `error.target`: the parameter a Compute InvalidParameter names (`osDisk.createOption`). */
    readonly target?: string,
  ) {
    super(message);
  }
  body(): Json {
    return {
      error: {
        code: this.code,
        ...(this.target ? { target: this.target } : {}),
        message: this.message,
        ...(this.details.length ? { details: this.details } : {}),
      },
    };
  }
}

export const notFound = (type: string, name: string, rg: string) =>
  new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface AsyncOperation {
  id: string;
  /** `Microsoft.Compute/locations/westeurope` style scope of its status URLs. */
  scope: string;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
  /** What GET on the operation's Location URL answers once done (a POST's result). */
  result?: Json;
}

export class Store {
  private readonly resources = new Map<string, ArmResource>();
  readonly operations = new Map<string, AsyncOperation>();

  get(id: string): ArmResource | undefined {
    return this.resources.get(id.toLowerCase());
  }

  put(r: ArmResource): ArmResource {
    this.resources.set(r.id.toLowerCase(), r);
    return r;
  }

  remove(id: string): void {
    this.resources.delete(id.toLowerCase());
  }

  /** Every resource of one type (`Microsoft.Network/loadBalancers`), optionally in one resource group. */
  list(type: string, resourceGroupPrefix?: string): ArmResource[] {
    const t = type.toLowerCase();
    return [...this.resources.values()].filter(
      (r) =>
        r.type.toLowerCase() === t &&
        (!resourceGroupPrefix || r.id.toLowerCase().startsWith(`${resourceGroupPrefix.toLowerCase()}/`)),
    );
  }

  all(): ArmResource[] {
    return [...this.resources.values()];
  }

  /**
   * Starts an operation that ends after `delayMs`: `finish` runs then (a thrown ArmError, or
   * `failWith`, makes it end Failed with that error instead).
   */
  startOperation(
    scope: string,
    delayMs: number,
    finish: () => Json | void,
    failWith?: { code: string; message: string },
  ): AsyncOperation {
    const op: AsyncOperation = { id: randomUUID(), scope, status: 'InProgress', startTime: new Date().toISOString() };
    this.operations.set(op.id, op);
    setTimeout(() => {
      try {
        if (failWith) throw new ArmError(409, failWith.code, failWith.message);
        op.result = finish() ?? undefined;
        op.status = 'Succeeded';
      } catch (e) {
        const err = e instanceof ArmError ? e : new ArmError(500, 'InternalServerError', String(e));
        op.status = 'Failed';
        op.error = { code: err.code, message: err.message };
      }
      op.endTime = new Date().toISOString();
    }, delayMs).unref();
    return op;
  }
}

/** The last `n` segments after `providers/NS/TYPE/NAME`: e.g. a NIC id's resource group. */
export function parseId(id: string): { subscription: string; resourceGroup: string; type: string; name: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)/i.exec(id);
  if (!m)
    throw new ArmError(
      400,
      'LinkedInvalidPropertyId',
      `Property id '${id}' at path is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
    );
  return { subscription: m[1], resourceGroup: m[2], type: m[3], name: m[4] };
}

/** The top-level resource id of a child id (`…/loadBalancers/lb/backendAddressPools/pool` → `…/loadBalancers/lb`). */
export function parentId(id: string): string {
  const parts = id.split('/');
  return parts.slice(0, 9).join('/');
}
