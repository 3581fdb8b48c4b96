/**
 * Secrets of VM revisions, delivered at boot (docs/secrets.md, "VM deployers"): the aws-ec2,
 * gcp-compute and azure-vm plugins set `fetchesSecretsItself`, so their revisions'
 * `artifact.env` reaches them as written, references unresolved. Each VM's boot script fetches
 * the values with the VM's own identity (instance profile, service account, managed identity);
 * the script, and therefore the provider's metadata, holds references only.
 *
 * What a boot script cannot fetch is refused at validate (FILE:LINE:COL) by `bootSecretProblems`:
 * `${env:NAME}` and `${file:PATH}` (bp would have to resolve them and write the value into the
 * metadata), stores the VM's identity cannot read, a reference mixed with other text, and any
 * secret when the deployer config names no identity.
 */
import type { DeployerRevision, EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import { classifyReferences, type SecretStoreKind } from '../../spec/index.js';

/** One env variable whose value the VM fetches at boot. */
export interface BootSecret {
  name: string;
  store: SecretStoreKind;
  ref: string;
  version?: string;
  key?: string;
  /** The reference as written, e.g. `${secret:aws-sm:prod/web#token}`. */
  text: string;
}

export interface BootEnv {
  /** Values written into the boot script as they are (`$${` already turned into `${`). */
  plain: Record<string, string>;
  secrets: BootSecret[];
}

/** What one VM deployer can fetch at boot and how its config names the identity. */
export interface BootSecretRules {
  deployer: string;
  stores: readonly SecretStoreKind[];
  /** For messages: "AWS Secrets Manager (aws-sm) or SSM Parameter Store (aws-ssm)". */
  storeNames: string;
  /** Where the values would otherwise end up: "EC2 user data". */
  metadataName: string;
  /** The config field naming the identity, e.g. `instance_profile`. */
  identityField: string;
  /** For messages: "IAM instance profile". */
  identityWhat: string;
  /** An example reference for messages. */
  example: string;
  /** Further refusals of one reference (a store's REF syntax, a tool the image lacks). */
  check?: (secret: BootSecret) => string | null;
}

type Classified = { plain: string } | { secret: BootSecret } | { problem: string };

function classify(name: string, value: string, rules: BootSecretRules, where: string): Classified {
  const { references } = classifyReferences(value);
  if (references.length === 0) return { plain: value.split('$${').join('${') };
  const first = references[0];
  const subject = `${where} env ${name}`;
  if (first.kind !== 'secret') {
    return {
      problem:
        `${subject} is ${first.text}: ${rules.deployer} VMs fetch their secrets themselves at boot, and a value bp ` +
        `resolved would be written into the ${rules.metadataName} in plaintext; put it in ${rules.storeNames} ` +
        `and reference it (e.g. ${rules.example})`,
    };
  }
  if (!rules.stores.includes(first.store)) {
    return {
      problem:
        `${subject} references the store ${first.store}: ${rules.deployer} VMs fetch secrets at boot with their ` +
        `${rules.identityWhat}, which reads ${rules.storeNames} only`,
    };
  }
  if (references.length > 1 || value !== first.text) {
    return {
      problem: `${subject} mixes a secret reference with other text: on ${rules.deployer} a secret reference must be the whole value (e.g. ${rules.example})`,
    };
  }
  const secret: BootSecret = {
    name,
    store: first.store,
    ref: first.ref,
    text: first.text,
    ...(first.version !== undefined ? { version: first.version } : {}),
    ...(first.key !== undefined ? { key: first.key } : {}),
  };
  const refused = rules.check?.(secret);
  return refused ? { problem: `${subject}: ${refused}` } : { secret };
}

/** True when `bootEnv` refuses the revision's env (validation reports why; nothing else about its boot is checked). */
export function bootEnvRefused(
  revision: DeployerRevision,
  rules: BootSecretRules,
  identity: string | undefined,
): boolean {
  try {
    bootEnv(revision, rules, identity);
    return false;
  } catch {
    return true;
  }
}

/**
 * Splits a revision's env into plain values and boot-time secrets. Throws a non-retryable
 * error naming the first problem (validate refuses these earlier; this guards direct callers).
 */
export function bootEnv(revision: DeployerRevision, rules: BootSecretRules, identity: string | undefined): BootEnv {
  const out: BootEnv = { plain: {}, secrets: [] };
  const where = `revision "${revision.revision_id}":`;
  for (const [name, value] of Object.entries(revision.artifact.env ?? {})) {
    const c = classify(name, value, rules, where);
    if ('problem' in c) throw new ProviderError(c.problem);
    if ('plain' in c) out.plain[name] = c.plain;
    else out.secrets.push(c.secret);
  }
  if (out.secrets.length > 0 && !identity) {
    throw new ProviderError(
      `${where} its env has secret references but the ${rules.deployer} config names no ${rules.identityField}: ` +
        `the VMs fetch secrets at boot with their ${rules.identityWhat}`,
    );
  }
  return out;
}

/**
 * Validation (the plugins' `checkEnvironment`): every `artifact.env` value of the revisions
 * using deployer `instance`, each problem at the value's FILE:LINE:COL.
 */
export function bootSecretProblems(
  env: Environment,
  instance: string,
  rules: BootSecretRules,
  identity: string | undefined,
): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  env.deployments.forEach((d, di) => {
    if (d.deployer !== instance) return;
    d.revisions.forEach((r, ri) => {
      const where = `revision "${r.revision_id}":`;
      for (const [name, value] of Object.entries(r.artifact?.env ?? {})) {
        if (typeof value !== 'string') continue;
        const path = ['deployments', di, 'revisions', ri, 'artifact', 'env', name];
        const c = classify(name, value, rules, where);
        if ('problem' in c) problems.push({ path, message: c.problem });
        else if ('secret' in c && !identity) {
          problems.push({
            path,
            message:
              `${where} env ${name} is a secret, and deployer "${instance}" names no ${rules.identityField}: its VMs ` +
              `fetch secrets at boot with their own ${rules.identityWhat}; set deployers.${instance}.config.${rules.identityField}`,
          });
        }
      }
    });
  });
  return problems;
}
