// OCI labels and the build args every build gets. Pure. The time is the commit's
// (SOURCE_DATE_EPOCH), never the wall clock, so two runs of one commit give the same labels.
// - Labels: org.opencontainers.image.{title, version (release.version, else the first tag),
//   revision (sha), source and url (payload repository.html_url, else serverUrl/repository),
//   created (commit time, ISO 8601 UTC; omitted without one), licenses (spdx_id unless
//   NOASSERTION), description}. User labels win.
// - Build args: VERSION, REVISION, BUILD_DATE, SOURCE_DATE_EPOCH, each only when the user did not
//   set it; the user's args are returned too.
import type { EventContext, ReleaseInfo } from './types.js';

type RepoPayload = { repository?: { html_url?: unknown; description?: unknown; license?: { spdx_id?: unknown } | null } };

/** The commit time; undefined when unknown (or not a usable number: never fall back to the clock). */
function commitTime(ctx: EventContext): number | undefined {
  const t = ctx.commitTime;
  return t !== undefined && Number.isFinite(t) && Math.abs(t) <= 8.64e12 ? t : undefined;
}

function isoTime(ctx: EventContext): string | undefined {
  const t = commitTime(ctx);
  return t === undefined ? undefined : new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function ociLabels(
  ctx: EventContext,
  release: ReleaseInfo,
  title: string,
  userLabels: Record<string, string>
): Record<string, string> {
  const repo = (ctx.payload as RepoPayload).repository;
  const url = typeof repo?.html_url === 'string' ? repo.html_url : ctx.repository ? `${ctx.serverUrl}/${ctx.repository}` : undefined;
  const l: Record<string, string> = { 'org.opencontainers.image.title': title };
  const version = release.version ?? release.tags[0];
  if (version) l['org.opencontainers.image.version'] = version;
  if (ctx.sha) l['org.opencontainers.image.revision'] = ctx.sha;
  if (url) {
    l['org.opencontainers.image.source'] = url;
    l['org.opencontainers.image.url'] = url;
  }
  const created = isoTime(ctx);
  if (created) l['org.opencontainers.image.created'] = created;
  const spdx = repo?.license?.spdx_id;
  if (typeof spdx === 'string' && spdx !== '' && spdx !== 'NOASSERTION') l['org.opencontainers.image.licenses'] = spdx;
  if (typeof repo?.description === 'string' && repo.description !== '') l['org.opencontainers.image.description'] = repo.description;
  return { ...l, ...userLabels };
}

export function defaultBuildArgs(ctx: EventContext, release: ReleaseInfo, userArgs: Record<string, string>): Record<string, string> {
  const a: Record<string, string> = {};
  const version = release.version ?? release.tags[0];
  if (version) a.VERSION = version;
  if (ctx.sha) a.REVISION = ctx.sha;
  const created = isoTime(ctx);
  if (created) a.BUILD_DATE = created;
  const t = commitTime(ctx);
  if (t !== undefined) a.SOURCE_DATE_EPOCH = String(t);
  return { ...a, ...userArgs };
}

/** The OCI labels that also go on a multi-arch image's index, as annotations. */
export const INDEX_ANNOTATIONS = ['description', 'source', 'version', 'revision', 'licenses', 'created'].map(
  (k) => `org.opencontainers.image.${k}`
);

/** Pure: the index annotations of an image, from its labels (the user's labels win there too). */
export function indexAnnotations(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(INDEX_ANNOTATIONS.flatMap((k) => (labels[k] !== undefined && labels[k] !== '' ? [[k, labels[k]]] : [])));
}
