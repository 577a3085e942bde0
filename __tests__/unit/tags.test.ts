// The tag rules, table-tested with the real webhook payloads in __tests__/fixtures/events/.
import { describe, expect, it } from '@jest/globals';
import { defaultBuildArgs, ociLabels } from '../../src/plan/labels.js';
import { buildPlan } from '../../src/plan/plan.js';
import { isValidTag, normalizeRepository, sanitizeTag } from '../../src/plan/reference.js';
import type { EventContext, Inputs, Tristate } from '../../src/plan/types.js';
import { resolveRelease } from '../../src/plan/version.js';
import { ctxFor, inputsFor, SHA } from '../support/plan-inputs.js';

const release = (tag: string, prerelease: boolean): EventContext => {
  const c = ctxFor('release-published', { ref: `refs/tags/${tag}` });
  return { ...c, payload: { ...c.payload, release: { ...(c.payload.release as object), tag_name: tag, prerelease } } };
};
const dispatch = (inputs: Record<string, string>): EventContext => {
  const c = ctxFor('workflow-dispatch');
  return { ...c, payload: { ...c.payload, inputs } };
};

type Row = [
  string,
  EventContext,
  { version?: string; latest?: Tristate; semverTags?: boolean },
  { version?: string; tags: string[]; stable: boolean; push: boolean }
];

describe('version, tags, latest and push per event', () => {
  it.each<Row>([
    ['published release', ctxFor('release-published'), {}, { version: 'v2.3.1', tags: ['v2.3.1', 'latest'], stable: true, push: true }],
    [
      'published release, semver tags',
      ctxFor('release-published'),
      { semverTags: true },
      { version: 'v2.3.1', tags: ['v2.3.1', '2.3.1', '2.3', '2', 'latest'], stable: true, push: true }
    ],
    [
      'pre-release',
      ctxFor('release-prerelease'),
      { semverTags: true },
      { version: 'v2.4.0-rc.1', tags: ['v2.4.0-rc.1', '2.4.0-rc.1'], stable: false, push: true }
    ],
    ['dispatch with version', ctxFor('workflow-dispatch'), {}, { version: 'v2.3.0', tags: ['v2.3.0', 'latest'], stable: true, push: true }],
    ['dispatch without version', dispatch({}), {}, { tags: ['master', 'sha-3f78685'], stable: false, push: false }],
    [
      'pushed tag',
      ctxFor('push-tag'),
      { semverTags: true },
      { version: 'v1.10.0', tags: ['v1.10.0', '1.10.0', '1.10', '1', 'latest'], stable: true, push: true }
    ],
    ['pushed branch', ctxFor('push-branch'), {}, { tags: ['feature-ws-keepalive', 'sha-3f78685'], stable: false, push: false }],
    [
      'pushed branch, latest: true is still never latest',
      ctxFor('push-branch'),
      { latest: 'true' },
      { tags: ['feature-ws-keepalive', 'sha-3f78685'], stable: false, push: false }
    ],
    [
      'branch with / and uppercase',
      ctxFor('push-branch', { ref: 'refs/heads/Feature/WS_Keep.alive' }),
      {},
      { tags: ['Feature-WS_Keep.alive', 'sha-3f78685'], stable: false, push: false }
    ],
    ['pull request from a fork', ctxFor('pull-request-fork'), {}, { tags: ['pr-42', 'sha-a94a8fe'], stable: false, push: false }],
    [
      'schedule',
      { ...ctxFor('push-branch', { eventName: 'schedule', ref: 'refs/heads/master' }) },
      {},
      { tags: ['master', 'sha-3f78685'], stable: false, push: false }
    ],
    [
      'release marked prerelease, stable semver',
      release('v2.5.0', true),
      { semverTags: true },
      { version: 'v2.5.0', tags: ['v2.5.0', '2.5.0', '2.5', '2'], stable: false, push: true }
    ],
    [
      'release not marked, semver pre-release',
      release('v2.4.0-rc.1', false),
      {},
      { version: 'v2.4.0-rc.1', tags: ['v2.4.0-rc.1'], stable: false, push: true }
    ],
    [
      'v-less version',
      release('2.3.1', false),
      { semverTags: true },
      { version: '2.3.1', tags: ['2.3.1', '2.3', '2', 'latest'], stable: true, push: true }
    ],
    [
      'build metadata',
      release('v1.2.3+build.7', false),
      { semverTags: true },
      { version: 'v1.2.3+build.7', tags: ['v1.2.3-build.7', '1.2.3', '1.2', '1', 'latest'], stable: true, push: true }
    ],
    [
      'calendar version',
      release('2026.11.22', false),
      { semverTags: true },
      { version: '2026.11.22', tags: ['2026.11.22', '2026.11', '2026', 'latest'], stable: true, push: true }
    ],
    [
      '0.x: no major tag',
      release('v0.4.2', false),
      { semverTags: true },
      { version: 'v0.4.2', tags: ['v0.4.2', '0.4.2', '0.4', 'latest'], stable: true, push: true }
    ],
    [
      'non-semver from a release',
      release('nightly-5', false),
      {},
      { version: 'nightly-5', tags: ['nightly-5', 'latest'], stable: true, push: true }
    ],
    [
      'non-semver from a dispatch',
      dispatch({ version: 'nightly-5' }),
      {},
      { version: 'nightly-5', tags: ['nightly-5'], stable: false, push: true }
    ],
    ['latest: false', ctxFor('release-published'), { latest: 'false' }, { version: 'v2.3.1', tags: ['v2.3.1'], stable: true, push: true }],
    [
      'latest: true on a pre-release',
      ctxFor('release-prerelease'),
      { latest: 'true' },
      { version: 'v2.4.0-rc.1', tags: ['v2.4.0-rc.1', 'latest'], stable: false, push: true }
    ],
    [
      'version input wins over the release',
      ctxFor('release-published'),
      { version: 'v9.0.0' },
      { version: 'v9.0.0', tags: ['v9.0.0', 'latest'], stable: true, push: true }
    ],
    [
      'version input on a branch push does not push by default',
      ctxFor('push-branch'),
      { version: 'v3.0.0' },
      { version: 'v3.0.0', tags: ['v3.0.0', 'latest'], stable: true, push: false }
    ]
  ])('%s', (_name, ctx, o, want) => {
    const r = resolveRelease(ctx, { latest: o.latest ?? 'auto', semverTags: o.semverTags ?? false, version: o.version });
    expect({ version: r.version, tags: r.tags, stable: r.stable, push: r.pushByDefault }).toEqual(want);
    for (const t of r.tags) expect(isValidTag(t)).toBe(true);
  });

  it('marks a pull request from a fork, and not a branch push', () => {
    expect(resolveRelease(ctxFor('pull-request-fork'), { latest: 'auto', semverTags: false }).fromFork).toBe(true);
    expect(resolveRelease(ctxFor('push-branch'), { latest: 'auto', semverTags: false }).fromFork).toBe(false);
  });

  it.each([
    [
      'release',
      'v1.0.0";touch /tmp/pwned;"',
      /The release tag_name "v1\.0\.0\\";touch \/tmp\/pwned;\\"" is not valid: it contains "\\"" ";"/
    ],
    ['release', "v1'$(id)", /The release tag_name .* contains "'" "\$" "\(" "\)"/],
    ['release', 'v1`id`', /contains "`"/]
  ])('a %s version with quotes or shell metacharacters (%s) fails, naming where it came from', (_e, tag, msg) => {
    expect(() => resolveRelease(release(tag, false), { latest: 'auto', semverTags: true })).toThrow(msg);
  });

  it('an input version with a shell metacharacter fails naming the input', () => {
    expect(() => resolveRelease(ctxFor('release-published'), { version: 'v1;reboot', latest: 'auto', semverTags: false })).toThrow(
      /Input "version" "v1;reboot" is not valid: it contains ";"/
    );
  });

  it('a branch named $(id) or -x cannot become a flag', () => {
    for (const b of ['$(id)', '-x', '.hidden']) {
      const tag = resolveRelease(ctxFor('push-branch', { ref: `refs/heads/${b}` }), { latest: 'auto', semverTags: false }).tags[0] ?? '';
      expect(isValidTag(tag)).toBe(true);
      expect(tag.startsWith('-')).toBe(false);
    }
  });

  it.each(['   ', '', 'x'.repeat(129)])('an explicit version %j that cannot be a tag is an error naming the input', (v) => {
    expect(() => resolveRelease(ctxFor('release-published'), { version: v, latest: 'auto', semverTags: false })).toThrow(/Input "version"/);
  });
});

describe('repository names', () => {
  it.each([
    ['ghcr.io/Example/Tunnel', 'ghcr.io/example/tunnel', true],
    ['localhost:5151/a/b', 'localhost:5151/a/b', false],
    ['docker.io/org/app', 'docker.io/org/app', false],
    ['org/my_app__x.y-z', 'org/my_app__x.y-z', false],
    ['Org/App', 'org/app', true]
  ])('%s → %s', (name, repo, notice) => {
    const r = normalizeRepository(name);
    expect(r.repository).toBe(repo);
    expect(r.notice !== undefined).toBe(notice);
  });
  it.each(['app:1.0', 'Bad Name', '-x/y', 'a//b', '', 'a/b@sha256:abc', 'org/app-', 'ghcr.io/org/app:latest'])(
    '%j is an error naming it',
    (name) => {
      expect(() => normalizeRepository(name)).toThrow(`Image name ${JSON.stringify(name)} is not a valid repository`);
    }
  );
  it('sanitizes tags', () => {
    expect(sanitizeTag('feature/ws-keepalive')).toBe('feature-ws-keepalive');
    expect(sanitizeTag('-rf')).toBe('_rf');
    expect(sanitizeTag('x'.repeat(200))).toHaveLength(128);
    expect(sanitizeTag(' ')).toBe('');
  });
});

describe('labels and build args', () => {
  const ctx = { ...ctxFor('release-published'), commitTime: 1793527200 };
  const rel = resolveRelease(ctx, { latest: 'auto', semverTags: false });

  it('OCI labels from the release payload, the commit time, user labels win', () => {
    expect(ociLabels(ctx, rel, 'tunnel', { 'org.opencontainers.image.title': 'Tunnel', team: 'infra' })).toEqual({
      'org.opencontainers.image.title': 'Tunnel',
      'org.opencontainers.image.version': 'v2.3.1',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/example/tunnel',
      'org.opencontainers.image.url': 'https://github.com/example/tunnel',
      'org.opencontainers.image.created': '2026-11-01T10:00:00Z',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.description': 'SSH tunnels in a container',
      team: 'infra'
    });
  });

  it('no license or description in the payload: no such labels; no commit time: no created', () => {
    const c = ctxFor('push-tag');
    const l = ociLabels(c, resolveRelease(c, { latest: 'auto', semverTags: false }), 'tunnel', {});
    expect(Object.keys(l).sort()).toEqual([
      'org.opencontainers.image.revision',
      'org.opencontainers.image.source',
      'org.opencontainers.image.title',
      'org.opencontainers.image.url',
      'org.opencontainers.image.version'
    ]);
  });

  it('build args VERSION, REVISION, BUILD_DATE, SOURCE_DATE_EPOCH unless the user sets them', () => {
    expect(defaultBuildArgs(ctx, rel, { GOPROXY: 'off', VERSION: 'custom' })).toEqual({
      VERSION: 'custom',
      REVISION: SHA,
      BUILD_DATE: '2026-11-01T10:00:00Z',
      SOURCE_DATE_EPOCH: '1793527200',
      GOPROXY: 'off'
    });
  });

  it('the same commit gives the same labels on two runs', () => {
    expect(ociLabels(ctx, rel, 't', {})).toEqual(
      ociLabels({ ...ctx }, resolveRelease(ctx, { latest: 'auto', semverTags: false }), 't', {})
    );
  });
});

describe('plan', () => {
  const inputs = (over: Partial<Inputs> = {}): Inputs =>
    inputsFor(
      [
        {
          names: ['docker.io/example/tunnel', 'ghcr.io/Example/Tunnel'],
          dockerfile: 'Dockerfile',
          context: '.',
          buildArgs: { A: 'img' },
          labels: {},
          smoke: { enabled: true, args: [], env: {}, timeoutSeconds: 60, wait: { kind: 'up', seconds: 5 } }
        },
        {
          names: ['ghcr.io/example/tunnel-web'],
          dockerfile: 'Dockerfile.web',
          context: '.',
          buildArgs: {},
          labels: {},
          smoke: { enabled: false },
          platforms: ['linux/amd64']
        }
      ],
      { buildArgs: { A: 'global', GOPROXY: 'direct' }, ...over }
    );

  it('every tag for every name of every image, a cache scope each, notices for lowercasing and smoke: false', () => {
    const p = buildPlan(inputs(), ctxFor('release-published'));
    expect(p.images.map((i) => i.refs)).toEqual([
      [
        'docker.io/example/tunnel:v2.3.1',
        'docker.io/example/tunnel:latest',
        'ghcr.io/example/tunnel:v2.3.1',
        'ghcr.io/example/tunnel:latest'
      ],
      ['ghcr.io/example/tunnel-web:v2.3.1', 'ghcr.io/example/tunnel-web:latest']
    ]);
    expect(p.images.map((i) => i.cacheScope)).toEqual(['docker.io-example-tunnel', 'ghcr.io-example-tunnel-web']);
    expect(p.images.map((i) => i.platforms)).toEqual([['linux/amd64', 'linux/arm64'], ['linux/amd64']]);
    expect(p.images[0]?.buildArgs).toMatchObject({ A: 'img', GOPROXY: 'direct', VERSION: 'v2.3.1' });
    expect(p.notices.join('\n')).toMatch(/lowercased to "ghcr\.io\/example\/tunnel"/);
    expect(p.notices.join('\n')).toMatch(/smoke test of ghcr\.io\/example\/tunnel-web is turned off/);
    expect(p.push).toBe(true);
  });

  it.each([
    ['push-branch', 'auto', false],
    ['push-branch', 'true', true],
    ['release-published', 'false', false],
    ['pull-request-fork', 'true', false]
  ] as ['push-branch' | 'release-published' | 'pull-request-fork', 'auto' | 'true' | 'false', boolean][])(
    '%s with push: %s pushes: %s',
    (event, push, want) => {
      const p = buildPlan(inputs({ push }), ctxFor(event));
      expect(p.push).toBe(want);
      expect(p.pushReason).not.toBe('');
    }
  );

  it('builder: docker is refused when the run pushes (no push by digest), and allowed when it does not', () => {
    expect(() => buildPlan(inputs({ builder: 'docker' }), ctxFor('release-published'))).toThrow(
      /^Input "builder": "docker" is not valid when the run pushes \(push: auto pushes for a release event\)\. Expected "auto" or "docker-container"/
    );
    expect(buildPlan(inputs({ builder: 'docker' }), ctxFor('push-branch')).push).toBe(false);
  });

  it('a fork never logs in', () => {
    expect(buildPlan(inputs({ push: 'true' }), ctxFor('pull-request-fork')).registries).toEqual([]);
  });

  it('two images with the same explicit cache scope is an error; derived ones are made unique', () => {
    const two = inputs();
    two.images[0]!.cacheScope = 'same';
    two.images[1]!.cacheScope = 'same';
    expect(() => buildPlan(two, ctxFor('release-published'))).toThrow(/cache-scope "same" is used by two images/);
  });
});
