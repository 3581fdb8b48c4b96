/**
 * What an EC2 guest's boot would trip over (BEHAVIOUR.md, "Guests"). The fake runs no user
 * data: it checks the preconditions of the script's commands, and ELBv2 health follows. The
 * AWS CLI calls of the user data (ECR login, Secrets Manager, SSM) need credentials from an
 * instance profile, and an ECR image pulls only after `docker login` to its registry. Null when
 * the boot succeeds.
 */
export function bootFailure(userData: string, instanceProfile: string | null): string | null {
  const lines = userData.split('\n');
  const usesAws = lines.some((l) => /(^|[|$(\s])aws (ecr|secretsmanager|ssm) /.test(l));
  if (usesAws && !instanceProfile) return 'the AWS CLI finds no credentials: the instance has no instance profile';
  const run = lines.findIndex((l) => l.startsWith('docker run '));
  const image = run >= 0 ? /'([^']+)'\s*$/.exec(lines[run])?.[1] : undefined;
  const ecr = image ? /^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\//.exec(image)?.[1] : undefined;
  if (ecr && !lines.slice(0, run).some((l) => l.includes('docker login') && l.includes(ecr)))
    return `docker run: pull access denied for ${image}: no basic auth credentials`;
  return null;
}
