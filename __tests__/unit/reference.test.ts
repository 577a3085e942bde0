// Docker references (src/plan/reference.ts): tags and repository names.
import { describe, expect, it } from '@jest/globals';
import { isValidTag, normalizeRepository, sanitizeTag } from '../../src/plan/reference.js';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

describe('sanitizeTag', () => {
  it.each<[string, string]>([
    ['v2.3.1', 'v2.3.1'],
    ['V2.3.1', 'V2.3.1'],
    ['Feature-WS_Keep.alive', 'Feature-WS_Keep.alive'],
    ['v1.2.3+build.7', 'v1.2.3-build.7'],
    ['feature/ws-keepalive', 'feature-ws-keepalive'],
    ['Feature/WS', 'Feature-WS'],
    ['v1.0.0";touch /tmp/pwned;"', 'v1.0.0--touch--tmp-pwned--'],
    ['$(id)', '_-id-'],
    ['-rf', '_rf'],
    ['--rf', '_-rf'],
    ['.hidden', '_hidden'],
    ['a b\tc', 'a-b-c'],
    ['ünïcode', '_n-code'],
    ['_ok', '_ok'],
    ['', ''],
    ['   ', ''],
    ['\t\n', '']
  ])('%j → %j', (raw, tag) => {
    expect(sanitizeTag(raw)).toBe(tag);
  });

  it('cuts to 128 characters', () => {
    expect(sanitizeTag('x'.repeat(200))).toBe('x'.repeat(128));
    expect(sanitizeTag('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it.each(['', ' ', '+', '-', '.', '/', '..', '-.-', '$HOME', '`id`', '\u0000x', 'é'.repeat(300), ' lead', 'trail '])(
    'anything non-blank (%j) becomes a valid tag',
    (raw) => {
      const t = sanitizeTag(raw);
      if (raw.trim() === '') expect(t).toBe('');
      else expect(t).toMatch(TAG);
    }
  );

  it('a sanitized tag is left as it is', () => {
    for (const raw of ['v1.0.0";x', '-a/b', '.x+y']) expect(sanitizeTag(sanitizeTag(raw))).toBe(sanitizeTag(raw));
  });
});

describe('isValidTag', () => {
  it.each<[string, boolean]>([
    ['v2.3.1', true],
    ['latest', true],
    ['_x', true],
    ['2.3', true],
    ['A', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['-x', false],
    ['.x', false],
    ['a+b', false],
    ['a/b', false],
    ['a b', false],
    ['a:b', false]
  ])('%j → %s', (t, ok) => {
    expect(isValidTag(t)).toBe(ok);
  });
});

describe('normalizeRepository: valid names', () => {
  it.each<[string, string, boolean]>([
    ['ghcr.io/Example/Tunnel', 'ghcr.io/example/tunnel', true],
    ['Example/Tunnel', 'example/tunnel', true],
    ['APP', 'app', true],
    ['GHCR.IO/org/app', 'GHCR.IO/org/app', false],
    ['localhost:5151/a/b', 'localhost:5151/a/b', false],
    ['localhost/a', 'localhost/a', false],
    ['localhost', 'localhost', false],
    ['docker.io/org/app', 'docker.io/org/app', false],
    ['registry.example.com:5000/team/sub/app', 'registry.example.com:5000/team/sub/app', false],
    ['[::1]:5000/app', '[::1]:5000/app', false],
    ['app', 'app', false],
    ['org/app', 'org/app', false],
    ['org/my_app__x.y-z', 'org/my_app__x.y-z', false],
    ['org/a---b', 'org/a---b', false],
    ['0/1', '0/1', false]
  ])('%s → %s', (name, repository, notice) => {
    const r = normalizeRepository(name);
    expect(r.repository).toBe(repository);
    expect(r.notice !== undefined).toBe(notice);
  });

  it('the notice names both names', () => {
    expect(normalizeRepository('ghcr.io/Example/Tunnel').notice).toBe(
      'image name "ghcr.io/Example/Tunnel" lowercased to "ghcr.io/example/tunnel"'
    );
  });

  it('a first component without "." or ":" (and not localhost) is a path component, lowercased', () => {
    expect(normalizeRepository('MyRegistry/app').repository).toBe('myregistry/app');
  });

  it('up to 255 characters', () => {
    const name = `ghcr.io/${'a'.repeat(247)}`;
    expect(name).toHaveLength(255);
    expect(normalizeRepository(name).repository).toBe(name);
  });
});

describe('normalizeRepository: invalid names are errors naming the value and the form', () => {
  it.each<[string, string]>([
    ['app:1.0', 'a tag'],
    ['ghcr.io/org/app:latest', 'a tag'],
    ['a/b@sha256:abc', 'a digest'],
    ['ghcr.io/org/app@sha256:0123', 'a digest'],
    ['Bad Name', 'bad name'],
    ['org/app name', 'app name'],
    ['-x/y', '-x'],
    ['org/-x', '-x'],
    ['org/app-', 'app-'],
    ['org/_app', '_app'],
    ['org/a___b', 'a___b'],
    ['org/a..b', 'a..b'],
    ['a//b', 'empty'],
    ['org/app/', 'empty'],
    ['/org/app', 'empty'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['ghcr.io:port/app', 'ghcr.io:port'],
    ['-bad.io/app', '-bad.io'],
    ['org/app$', 'app$'],
    ['org/ä', 'ä'],
    [`ghcr.io/${'a'.repeat(248)}`, '255']
  ])('%j (%s)', (name, why) => {
    let message = '';
    try {
      normalizeRepository(name);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Image name ${JSON.stringify(name)} is not a valid repository`);
    expect(message).toContain(why);
    expect(message).toMatch(/Expected a repository like "org\/app"/);
  });
});
