/**
 * The image reference grammar registries and engines parse (`[host[:port]/]path[:tag][@digest]`),
 * so a reference the engine would refuse ("invalid reference format") is refused at validate
 * instead, at the FILE:LINE:COL of `artifact.image`. Written from the grammar documented with
 * the distribution project's reference package (reference.go, regexp.go) and Docker's
 * "docker image tag" reference: lower-case path components joined by `.`, `_`, `__` or dashes;
 * a registry host (letters of either case, an IPv4 address or a [bracketed] IPv6 address) with
 * an optional port; a tag of at most 128 word characters, dots and dashes; at most 255
 * characters of name; and a digest of a registered algorithm with its exact hex length.
 */
import { ProviderError } from '../../model/errors.js';

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Longest repository name (domain and path) a reference may have. */
export const MAX_IMAGE_NAME_LENGTH = 255;

/** The digest algorithms engines verify, with the length of their lower-case hex encoding. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Why `ref` is not an image reference an engine accepts, or null when it is one. */
export function imageReferenceProblem(ref: string): string | null {
  const m = REFERENCE.exec(ref);
  if (!m) return formatProblem(ref);
  const [, name, , digest] = m;
  if (name.length > MAX_IMAGE_NAME_LENGTH) {
    return `the repository name is ${name.length} characters; at most ${MAX_IMAGE_NAME_LENGTH} are allowed`;
  }
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(':');
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length === undefined) return `digest algorithm "${algorithm}" is not sha256, sha384 or sha512`;
    if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
      return `a ${algorithm} digest is ${length} lower-case hex digits`;
    }
  }
  return null;
}

/** The most specific reason a reference does not parse: a capital in the path, a bad tag, or the form. */
function formatProblem(ref: string): string {
  const beforeDigest = ref.split('@')[0];
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? null : beforeDigest.slice(colon + 1);
  const parts = name.split('/');
  // The first part names a registry when it has a dot or a port, or is localhost.
  const path = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.slice(1) : parts;
  if (/[A-Z]/.test(path.join('/'))) return 'the repository name must be lower case';
  if (tag !== null && !new RegExp(`^${TAG}$`).test(tag)) {
    return 'a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"';
  }
  return 'not of the form [registry[:port]/]name[:tag][@digest] (lower-case name components joined by ".", "_", "__" or "-")';
}

/** Throws (non-retryable, before any provider call) when revision `id`'s `image` is not a reference engines accept. */
export function checkImageReference(id: string, image: string): void {
  const problem = imageReferenceProblem(image);
  if (problem) throw new ProviderError(`revision "${id}": "${image}" is not a valid image reference: ${problem}`);
}
