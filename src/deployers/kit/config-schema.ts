/** JSON Schema fragments the VM deployers' config schemas share (aws-ec2, azure-vm, gcp-compute). */

/** `boot_grace_seconds`: how much longer than the health timeout a new VM may take to boot and serve. */
export function bootGraceSchema(defaultSeconds: number) {
  return {
    type: 'integer',
    minimum: 0,
    default: defaultSeconds,
    description: 'Added to health.timeout_seconds while warming.',
  } as const;
}

/** `poll_interval_ms`: how often warm polls the revision's health. */
export const warmPollIntervalSchema = {
  type: 'integer',
  minimum: 10,
  default: 5000,
  description: 'Health polling interval while warming.',
} as const;

/** A TCP port setting (`port`, `frontend_port`, …). */
export function portSchema(defaultPort: number, description: string) {
  return { type: 'integer', minimum: 1, maximum: 65535, default: defaultPort, description } as const;
}
