/**
 * Tags of the ELBv2 fake's target groups and rules (AddTags, DescribeTags), with the API's
 * fixed limits. `owner` finds the tagged resource by ARN in the fake's store.
 */
import { AwsFault } from './fault.js';
import { str, strings, trees, type Tree, type XmlValue } from './wire.js';

/** ELB API Reference, AddTags / DescribeTags: 50 tags per resource, 20 resource ARNs per call. */
const MAX_TAGS = 50;
const MAX_TAG_ARNS = 20;

export interface Tagged {
  tags: Record<string, string>;
}

function requireOwner(arn: string, owner: (arn: string) => Tagged | undefined): Tagged {
  const found = owner(arn);
  if (!found)
    throw new AwsFault(
      400,
      arn.includes(':targetgroup/') ? 'TargetGroupNotFound' : 'RuleNotFound',
      `Resource '${arn}' not found`,
    );
  return found;
}

export function addTags(p: Tree, owner: (arn: string) => Tagged | undefined): void {
  const tags = trees(p, 'Tags').map((t) => [str(t, 'Key') ?? '', str(t, 'Value') ?? ''] as const);
  for (const arn of strings(p, 'ResourceArns')) {
    const found = requireOwner(arn, owner);
    const next = { ...found.tags, ...Object.fromEntries(tags) };
    if (Object.keys(next).length > MAX_TAGS)
      throw new AwsFault(400, 'TooManyTags', `A resource can have at most ${MAX_TAGS} tags`);
    found.tags = next;
  }
}

export function describeTags(p: Tree, owner: (arn: string) => Tagged | undefined): XmlValue[] {
  const arns = strings(p, 'ResourceArns');
  if (arns.length > MAX_TAG_ARNS)
    throw new AwsFault(400, 'ValidationError', `At most ${MAX_TAG_ARNS} resource ARNs per call`);
  return arns.map((arn) => ({
    ResourceArn: arn,
    Tags: Object.entries(requireOwner(arn, owner).tags).map(([Key, Value]) => ({ Key, Value })),
  }));
}
