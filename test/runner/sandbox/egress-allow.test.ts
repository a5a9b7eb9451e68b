import { describe, expect, it } from 'vitest';
import { egressAllowed, parseAllowEntry } from '../../../src/runner/sandbox/egress-allow.js';
import {
  parseAbsoluteTarget,
  parseConnectTarget,
} from '../../../src/runner/sandbox/egress-target.js';

const ALLOW = [
  'registry.npmjs.org',
  '*.githubusercontent.com',
  '127.0.0.1:8080',
  'localhost:11434',
  '[::1]:9000',
  'API.Example.COM.',
];

describe('egressAllowed', () => {
  it.each([
    ['registry.npmjs.org', 443, true],
    ['registry.npmjs.org', 80, true],
    ['registry.npmjs.org', 22, false],
    ['REGISTRY.npmjs.org.', 443, true],
    ['evil.registry.npmjs.org', 443, false],
    ['registry.npmjs.org.evil.com', 443, false],
    ['raw.githubusercontent.com', 443, true],
    ['a.b.githubusercontent.com', 80, true],
    ['githubusercontent.com', 443, false],
    ['evilgithubusercontent.com', 443, false],
    ['127.0.0.1', 8080, true],
    ['127.0.0.1', 443, false],
    ['127.1', 8080, true], // the same address spelt short, and connected to as 127.0.0.1
    ['127.0.0.2', 8080, false],
    ['localhost', 11434, true],
    ['localhost', 8080, false],
    ['::1', 9000, true],
    ['[0:0::1]', 9000, true],
    ['::1', 8080, false],
    ['api.example.com', 443, true],
    ['example.com', 443, false],
    ['', 443, false],
    ['bad host', 443, false],
  ])('%s:%i is allowed: %s', (host, port, allowed) => {
    expect(egressAllowed(ALLOW, host, port)).toBe(allowed);
  });

  it('an empty allow list allows nothing', () => {
    expect(egressAllowed([], 'registry.npmjs.org', 443)).toBe(false);
  });
});

describe('parseAllowEntry', () => {
  it.each([
    ['example.com', { host: 'example.com', subdomains: false, ports: [443, 80] }],
    ['*.Example.com.', { host: 'example.com', subdomains: true, ports: [443, 80] }],
    [' localhost:11434 ', { host: 'localhost', subdomains: false, ports: [11434] }],
    ['[::1]:8080', { host: '::1', subdomains: false, ports: [8080] }],
    ['[::1]', { host: '::1', subdomains: false, ports: [443, 80] }],
  ])('reads %j', (text, entry) => {
    expect(parseAllowEntry(text)).toEqual(entry);
  });

  it.each([
    ['', /not a host name/],
    ['::1:8080', /IPv6 address goes in brackets/],
    ['example.com:0', /port must be a number from 1 to 65535/],
    ['example.com:70000', /port must be a number/],
    ['example.com:https', /port must be a number/],
    ['example.com:', /port must be a number/],
    ['https://example.com', /write a host, not a URL/],
    ['example.com/path', /not a URL or a path/],
    ['a:b:c', /more than one colon/],
    ['*.*.example.com', /not a host name/],
    ['*', /not a host name/],
    ['*.127.0.0.1', /a wildcard takes a domain name/],
    ['[example.com]:443', /not a host name/],
    ['exa mple.com', /not a host name/],
  ])('refuses %j, naming it', (text, why) => {
    expect(() => parseAllowEntry(text)).toThrow(`egress.allow entry "${text}" is not valid`);
    expect(() => parseAllowEntry(text)).toThrow(why);
  });
});

describe('proxy targets', () => {
  it.each([
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['Example.COM.:80', { host: 'example.com', port: 80 }],
    ['example.com', null],
    ['example.com:0', null],
    ['user@example.com:443', null],
  ])('CONNECT %s targets %j', (authority, target) => {
    expect(parseConnectTarget(authority)).toEqual(target);
  });

  it.each([
    ['http://example.com/a/../b?q=1', { host: 'example.com', port: 80, path: '/a/../b?q=1' }],
    ['HTTP://127.0.0.1:8080', { host: '127.0.0.1', port: 8080, path: '/' }],
    ['http://[::1]:9000?x', { host: '::1', port: 9000, path: '/?x' }],
    ['/path', null],
    ['https://example.com/', null],
    ['http://user:pw@example.com/', null],
  ])('a request for %s targets %j', (url, target) => {
    expect(parseAbsoluteTarget(url)).toEqual(target);
  });
});
