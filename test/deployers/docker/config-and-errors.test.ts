/** The docker deployer's pure parts: config defaults and the mapping of engine failures. */
import { afterEach, describe, expect, it } from 'vitest';
import { settingsFrom } from '../../../src/deployers/docker/config.js';
import { describeEngine, engineError } from '../../../src/deployers/docker/engine.js';

const savedDockerHost = process.env.DOCKER_HOST;
afterEach(() => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
});

/** The shape dockerode (docker-modem) rejects with for an HTTP answer. */
function httpFailure(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

describe('docker config', () => {
  it('defaults to bridge networking published on loopback, reached on loopback', () => {
    delete process.env.DOCKER_HOST;
    expect(settingsFrom({})).toMatchObject({
      networkMode: 'bridge',
      publishIp: '127.0.0.1',
      endpointHost: '127.0.0.1',
      containerPort: 8080,
      restartPolicy: 'unless-stopped',
      pullPolicy: 'missing',
      registryAuth: null,
    });
  });

  it('reaches ports published on a wildcard at the remote engine host', () => {
    expect(settingsFrom({ host: 'docker.internal', publish_ip: '0.0.0.0' }).endpointHost).toBe('docker.internal');
    process.env.DOCKER_HOST = 'tcp://10.1.2.3:2376';
    expect(settingsFrom({ publish_ip: '0.0.0.0' }).endpointHost).toBe('10.1.2.3');
    expect(settingsFrom({ publish_ip: '0.0.0.0', endpoint_host: 'lb.example' }).endpointHost).toBe('lb.example');
  });

  it('names the engine address in messages', () => {
    delete process.env.DOCKER_HOST;
    expect(describeEngine({ socket_path: '/run/podman/podman.sock' })).toBe('unix:///run/podman/podman.sock');
    expect(describeEngine({ host: 'h', protocol: 'https' })).toBe('https://h:2376');
    expect(describeEngine({})).toBe('unix:///var/run/docker.sock');
  });
});

describe('engine errors', () => {
  const where = 'unix:///x.sock';

  it('an unreachable daemon is retryable and says how to point bp at one', () => {
    const e = engineError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'listing containers',
      where,
    );
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toMatch(
      /engine at unix:\/\/\/x\.sock is unreachable \(ECONNREFUSED\) while listing containers: .*DOCKER_HOST/,
    );
  });

  it('permission denied on the socket is not retryable', () => {
    const e = engineError(Object.assign(new Error('connect EACCES'), { code: 'EACCES' }), 'listing containers', where);
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toContain('permission denied');
  });

  it('a name conflict is not retryable, as Docker (409) and podman (500 "already in use") report it', () => {
    for (const failure of [
      httpFailure(409, 'Conflict. The container name "/a" is already in use'),
      httpFailure(500, 'the container name "a" is already in use by f0dd'),
    ]) {
      const e = engineError(failure, 'creating container a', where);
      expect(e).toMatchObject({ code: 'Provider', retryable: false });
      expect(e.message).toMatch(/^name conflict while creating container a: .*already in use.*; remove or rename/);
    }
  });

  it("other engine answers: 5xx is retryable, 4xx is not, and the engine's words are kept", () => {
    expect(engineError(httpFailure(503, 'busy'), 'starting container a', where)).toMatchObject({
      retryable: true,
      message: 'Docker engine refused starting container a (HTTP 503): busy',
    });
    expect(engineError(httpFailure(400, 'invalid reference format'), 'creating container a', where)).toMatchObject({
      retryable: false,
      message: 'Docker engine refused creating container a (HTTP 400): invalid reference format',
    });
  });
});
