/** JSON Schema fragments the VM deployers' config schemas share (azure-vm, gcp-compute). */

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
