import { describe, expect, it } from 'vitest';
import { UnsafeNameError } from '../../src/runner/names.js';
import { GITHUB_COM, isOnHost, remoteUrl } from '../../src/runner/remote-url.js';

const GHE = { protocol: 'http', host: '127.0.0.1:8080' } as const;

describe('remoteUrl', () => {
  it.each([
    [GITHUB_COM, 'octo/widgets', 'https://github.com/octo/widgets.git'],
    [GITHUB_COM, 'Octo-Org/my.repo_2', 'https://github.com/Octo-Org/my.repo_2.git'],
    [GHE, 'octo/widgets', 'http://127.0.0.1:8080/octo/widgets.git'],
    [{ protocol: 'https', host: 'GHE.example.com:443' }, 'a/b', 'https://ghe.example.com/a/b.git'],
  ] as const)('%o and %s: %s', (host, fullName, url) => {
    expect(remoteUrl(host, fullName)).toBe(url);
  });

  it.each([
    'octo',
    'octo/widgets/extra',
    '/widgets',
    'octo/',
    'octo/..',
    'octo/.',
    'octo/widgets.git',
    '-octo/widgets',
    'octo/wid gets',
    'octo/wid@gets',
    'octo/widgets?x',
    'octo/widgets#x',
    'octo/%2e%2e',
    'x:y@evil.example/widgets',
  ])('refuses the full name %j', (fullName) => {
    expect(() => remoteUrl(GITHUB_COM, fullName)).toThrow(UnsafeNameError);
  });
});

describe('isOnHost', () => {
  it.each([
    ['https://github.com/octo/widgets.git', GITHUB_COM, true],
    ['https://GitHub.com:443/octo/widgets.git', GITHUB_COM, true],
    ['http://github.com/octo/widgets.git', GITHUB_COM, false],
    ['https://github.com.evil.example/octo/widgets.git', GITHUB_COM, false],
    ['https://x-access-token:t@github.com/octo/widgets.git', GITHUB_COM, false],
    ['https://evil.example/octo/widgets.git', GITHUB_COM, false],
    ['file:///tmp/origin.git', GITHUB_COM, false],
    ['/tmp/origin.git', GITHUB_COM, false],
    ['git@github.com:octo/widgets.git', GITHUB_COM, false],
    ['http://127.0.0.1:8080/octo/widgets.git', GHE, true],
    ['http://127.0.0.1:8081/octo/widgets.git', GHE, false],
    ['http://localhost:8080/octo/widgets.git', GHE, false],
  ] as const)('%s on %o: %s', (url, host, on) => {
    expect(isOnHost(url, host)).toBe(on);
  });
});
