/**
 * Resource Manager's fixed limits on what any PUT names and tags (BEHAVIOUR.md, "Names and
 * tags"): each resource type's name length and characters (Naming rules and restrictions for
 * Azure resources), and at most 50 tags per resource, tag names of at most 512 and values of at
 * most 256 characters, tag names without `< > % & \ ? /` (Use tags to organize your Azure
 * resources, Limitations).
 */
import { ArmError } from './store.js';

interface NameRule {
  max: number;
  pattern: RegExp;
  /** The rule's wording on the naming-rules page. */
  valid: string;
}

/** Network resources: "Alphanumerics, underscores, periods, and hyphens. Start with alphanumeric. End alphanumeric or underscore." */
const NETWORK: NameRule = {
  max: 80,
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/,
  valid:
    'alphanumerics, underscores, periods and hyphens, starting with an alphanumeric and ending with an alphanumeric or underscore',
};

const NAME_RULES: Record<string, NameRule> = {
  // Linux VMs: 1-64; no spaces, control characters or ~!@#$%^&*()=+_[]{}\|;:.'",<>/?; not ending with a period or hyphen.
  'microsoft.compute/virtualmachines': {
    max: 64,
    pattern: /^[^\s~!@#$%^&*()=+_[\]{}\\|;:.'",<>/?]*[^\s~!@#$%^&*()=+_[\]{}\\|;:.'",<>/?-]$/,
    valid:
      'no spaces, control characters or ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . \' " , < > / ?, not ending with a period or hyphen',
  },
  'microsoft.network/publicipaddresses': NETWORK,
  'microsoft.network/loadbalancers': NETWORK,
  'microsoft.network/networkinterfaces': NETWORK,
  'microsoft.network/trafficmanagerprofiles': { ...NETWORK, max: 63 },
};

export const MAX_TAGS = 50;

export function checkNameAndTags(type: string, name: string, tags: Record<string, unknown> | undefined): void {
  const rule = NAME_RULES[type.toLowerCase()];
  if (rule && (name.length > rule.max || !rule.pattern.test(name))) {
    throw new ArmError(
      400,
      'InvalidResourceName',
      `Resource name ${name} is invalid. The name can be up to ${rule.max} characters long: ${rule.valid}.`,
    );
  }
  const entries = Object.entries(tags ?? {});
  if (entries.length > MAX_TAGS) {
    throw new ArmError(
      400,
      'InvalidTemplate',
      `The tags of resource '${name}' exceed the limit of ${MAX_TAGS} tag name/value pairs.`,
    );
  }
  for (const [key, value] of entries) {
    if (key.length > 512 || /[<>%&\\?/]/.test(key))
      throw new ArmError(
        400,
        'InvalidTagNameCharacters',
        `The tag name '${key}' has characters that are not allowed ('<,>,%,&,\\,?,/') or is longer than 512 characters.`,
      );
    if (String(value).length > 256)
      throw new ArmError(400, 'InvalidTag', `The value of tag '${key}' is longer than 256 characters.`);
  }
}
