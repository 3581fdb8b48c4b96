/**
 * The one Application Load Balancer and HTTP listener the ELBv2 fake starts with (what an
 * operator sets up once, and what the aws-ec2 deployer is pointed at): ids and wire shapes.
 */
import { AwsFault } from './fault.js';
import { strings, type Tree, type XmlValue } from './wire.js';

export const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
export const LOAD_BALANCER_ARN = `${ARN}:loadbalancer/app/bp-fake/50dc6c495c0c9188`;
export const LISTENER_ARN = `${ARN}:listener/app/bp-fake/50dc6c495c0c9188/f2f7dc8efc522ab2`;
export const DNS_NAME = 'bp-fake-1234567890.us-east-1.elb.amazonaws.com';

export function loadBalancerXml(): XmlValue {
  return {
    LoadBalancerArn: LOAD_BALANCER_ARN,
    DNSName: DNS_NAME,
    LoadBalancerName: 'bp-fake',
    Scheme: 'internet-facing',
    VpcId: 'vpc-0fa4e000000000001',
    State: { Code: 'active' },
    Type: 'application',
  };
}

export function describeListeners(p: Tree): XmlValue[] {
  const arns = strings(p, 'ListenerArns');
  if (arns.some((a) => a !== LISTENER_ARN))
    throw new AwsFault(400, 'ListenerNotFound', 'One or more listeners not found');
  return [
    {
      ListenerArn: LISTENER_ARN,
      LoadBalancerArn: LOAD_BALANCER_ARN,
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } },
      ],
    },
  ];
}
