/** `deployers.X.config` of the aws-ec2 deployer: its JSON Schema and the typed shape. */
import { portSchema } from '../kit/config-schema.js';

export interface RouteConfig {
  host_headers?: string[];
  path_patterns?: string[];
}

export interface AwsEc2Config {
  region: string;
  /** One endpoint for both EC2 and ELBv2 (a fake, LocalStack, a VPC endpoint); unset for AWS itself. */
  endpoint?: string;
  listener_arn: string;
  vpc_id: string;
  subnet_ids: string[];
  ami_id: string;
  security_group_ids?: string[];
  instance_type?: string;
  instance_profile?: string;
  key_name?: string;
  /** What the AMI is, for GPU revisions' drivers (docs/deployers/aws-ec2.md, GPUs). */
  ami_family?: 'amazon-linux-2023' | 'deep-learning' | 'ubuntu' | 'other';
  app_port: number;
  host_domain?: string;
  routes?: Record<string, RouteConfig>;
  rule_priority_base: number;
  boot_seconds: number;
  poll_interval_ms: number;
  max_attempts: number;
}

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } };
/** ALB: 3 values per condition (docs/deployers/aws-ec2.md, Limits); hosts at most 128 characters. */
const conditionValues = { type: 'array', maxItems: 3, items: { type: 'string', minLength: 1, maxLength: 128 } };

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['region', 'listener_arn', 'vpc_id', 'subnet_ids', 'ami_id'],
  properties: {
    region: { type: 'string', minLength: 1, description: 'AWS region, e.g. eu-west-1.' },
    endpoint: {
      type: 'string',
      description: 'Endpoint override for EC2 and ELBv2 (fakes, LocalStack); leave unset for AWS.',
    },
    listener_arn: {
      type: 'string',
      minLength: 1,
      description: 'ALB listener that receives one weighted rule per deployment.',
    },
    vpc_id: { type: 'string', minLength: 1, description: "VPC of the target groups (the load balancer's VPC)." },
    subnet_ids: { ...stringList, minItems: 1, description: 'Subnets instances are spread over, round robin.' },
    ami_id: {
      type: 'string',
      minLength: 1,
      description: 'AMI with Docker available or installable (e.g. Amazon Linux 2023).',
    },
    security_group_ids: {
      ...stringList,
      description: 'Security groups of the instances; must admit the load balancer on app_port.',
    },
    instance_type: { type: 'string', description: 'Overrides the catalog choice from resources.' },
    instance_profile: {
      type: 'string',
      description:
        'IAM instance profile name or ARN: the identity instances pull from ECR and fetch ${secret:aws-sm:...} / ${secret:aws-ssm:...} values with at boot.',
    },
    ami_family: {
      enum: ['amazon-linux-2023', 'deep-learning', 'ubuntu', 'other'],
      default: 'amazon-linux-2023',
      description:
        'What ami_id is: GPU revisions get NVIDIA drivers installed (amazon-linux-2023, ubuntu), use the preinstalled ones (deep-learning), or are refused (other).',
    },
    key_name: { type: 'string', description: 'EC2 key pair for SSH access.' },
    app_port: portSchema(8080, 'PORT the revision listens on; the target group port.'),
    host_domain: {
      type: 'string',
      maxLength: 100,
      description: 'Route <deployment_id>.<host_domain> to each deployment (host-header rule).',
    },
    routes: {
      type: 'object',
      description: 'Per deployment id: the rule conditions, overriding host_domain.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { host_headers: conditionValues, path_patterns: conditionValues },
      },
    },
    rule_priority_base: {
      type: 'integer',
      minimum: 1,
      maximum: 45000,
      default: 10000,
      description:
        "Lowest listener rule priority bp uses; bp uses [base, base + 5000), under ELBv2's ceiling of 50,000.",
    },
    boot_seconds: {
      type: 'integer',
      minimum: 0,
      default: 300,
      description: 'Added to health.timeout_seconds while warming, for boot and image pull.',
    },
    poll_interval_ms: {
      type: 'integer',
      minimum: 10,
      default: 5000,
      description: 'How often warm and drain poll target health.',
    },
    max_attempts: {
      type: 'integer',
      minimum: 1,
      default: 1,
      description: 'SDK attempts per call before bp sees the error (bp retries verbs itself).',
    },
  },
} as const;
