// Outputs, the job summary and the dry-run plan: what the run tells the workflow and the user.
import * as core from '@actions/core';
import type { Plan } from './plan/types.js';
import { waitsFor } from './plan/smoke.js';

export interface ImageOutcome {
  name: string;
  tags: string[];
  digest: string;
  platforms: string[];
  smoke: 'passed' | 'skipped' | 'failed';
  /** platform → the engine's ID of the image that was smoke-tested (what push.ts checked the registry against). */
  tested?: Record<string, string>;
  size: Record<string, number>;
  buildSeconds?: number;
  cache?: string;
  goCache?: string;
  /** The index digest signed with cosign, and per repository the command that verifies it. */
  signature?: { digest: string; verify: string[] };
}

/** Pure: an image counts as pushed when every one of its tags was pushed. */
function imagePushed(img: ImageOutcome, pushedRefs: readonly string[]): boolean {
  return img.tags.length > 0 && img.tags.every((t) => pushedRefs.includes(t));
}

/**
 * Pure: the `images` output, with `pushed` per image. (A digest is set only once every tag of the
 * image is pushed, so an image that reached no registry has none.)
 */
function imagesOutput(images: ImageOutcome[], pushedRefs: readonly string[]): string {
  return JSON.stringify(
    images.map((img) => ({
      name: img.name,
      tags: img.tags,
      digest: img.digest,
      platforms: img.platforms,
      smoke: img.smoke,
      tested: img.tested ?? {},
      size: img.size,
      pushed: imagePushed(img, pushedRefs),
      ...(img.signature ? { signature: img.signature } : {})
    }))
  );
}

/**
 * `pushed` is true only when the run pushed every image; `pushed-tags` lists exactly the refs that
 * were pushed, also when the run failed half-way (a registry that went away).
 */
export function setOutputs(plan: Plan, images: ImageOutcome[], pushed: boolean, pushedRefs: readonly string[] = []): void {
  core.setOutput('version', plan.release.version ?? '');
  // The tags this run creates: a floating tag kept by a newer release is not among them.
  core.setOutput('tags', images.flatMap((i) => i.tags).join('\n'));
  core.setOutput('images', imagesOutput(images, pushedRefs));
  core.setOutput('pushed', pushed ? 'true' : 'false');
  core.setOutput('pushed-tags', pushedRefs.join('\n'));
}

export function planOutcomes(plan: Plan): ImageOutcome[] {
  return plan.images.map((i) => ({ name: i.name, tags: i.refs, digest: '', platforms: i.platforms, smoke: 'skipped', size: {} }));
}

/** The plan as text: tags, labels, build args and every docker command, per image. */
export function describePlan(plan: Plan, commands: string[][]): string {
  const lines: string[] = [];
  lines.push(`Version: ${plan.release.version ?? '(none)'} (from ${plan.release.source}); stable: ${plan.release.stable}`);
  lines.push(`Push: ${plan.push} (${plan.pushReason})`);
  for (const img of plan.images) {
    lines.push(
      '',
      `Image ${img.name}`,
      `  platforms: ${img.platforms.join(', ')}`,
      `  dockerfile: ${img.dockerfile} (context ${img.context})`,
      `  cache scope: ${img.cacheScope}`
    );
    lines.push('  tags:', ...img.refs.map((r) => `    ${r}`));
    lines.push('  labels:', ...Object.entries(img.labels).map(([k, v]) => `    ${k}=${v}`));
    lines.push('  build args:', ...Object.entries(img.buildArgs).map(([k, v]) => `    ${k}=${v}`));
    if (img.check) {
      lines.push(
        `  Dockerfile check: ${img.check.findings.length === 0 ? 'no findings' : ''}`,
        ...img.check.findings.map((f) => `    line ${f.line} (${f.severity}): ${f.message}`),
        `  RUN steps execute on: ${img.check.executes.join(', ') || '(none)'}`,
        `  Go cache mounts: ${img.check.goCache ? img.check.goCache.mounts.map((m) => m.target).join(', ') : '(none)'}`
      );
    }
    const smoke = img.smoke;
    lines.push(
      `  smoke: ${smoke.enabled ? `docker run --detach ${[smoke.entrypoint ? `--entrypoint ${smoke.entrypoint}` : '', img.refs[0], ...smoke.args].filter(Boolean).join(' ')}; passes on ${waitsFor(smoke)}, at most ${smoke.timeoutSeconds} s` : 'off'}`
    );
  }
  lines.push('', 'Commands:', ...commands.map((c) => `  ${c[0] === 'cosign' ? '' : 'docker '}${c.map(quote).join(' ')}`));
  return lines.join('\n');
}

function quote(a: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Pure: the summary's table for one image, as rows of [field, value] (HTML-escaped). */
export function summaryRows(
  img: ImageOutcome,
  pushed: boolean,
  attestations: { provenance: Plan['provenance']; sbom: boolean } = { provenance: 'min', sbom: false }
): [string, string][] {
  const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
  const where = 'in the index: one attestation manifest per platform (platform unknown/unknown)';
  const attested =
    [
      attestations.provenance === 'false' ? 'provenance: none (provenance: false)' : `provenance (mode=${attestations.provenance})`,
      attestations.sbom ? 'SBOM (SPDX)' : ''
    ]
      .filter(Boolean)
      .join(', ') + (attestations.provenance !== 'false' || attestations.sbom ? `, ${where}` : '');
  return [
    ['Platforms', img.platforms.map((p) => esc(p)).join(', ')],
    [
      'Size',
      img.platforms
        .map((p) => (img.size[p] !== undefined ? `${esc(p)}: ${mb(img.size[p])}` : ''))
        .filter(Boolean)
        .join('<br>') || (pushed ? '(not read back from the registry)' : '(not pushed)')
    ],
    ['Digest', img.digest ? `<code>${esc(img.digest)}</code>` : ''],
    ['Tags', img.tags.map((t) => `<code>${esc(t)}</code>`).join('<br>')],
    [
      'Smoke test',
      [img.smoke, ...Object.entries(img.tested ?? {}).map(([p, id]) => `${esc(p)}: image <code>${esc(id)}</code>`)].join('<br>')
    ],
    ['Build time', img.buildSeconds !== undefined ? `${img.buildSeconds.toFixed(1)} s` : ''],
    ['Cache', esc(img.cache ?? '')],
    ['Go cache', esc(img.goCache ?? 'no cache mounts')],
    ['Pushed', pushed ? 'yes' : 'no'],
    ['Attestations', pushed ? esc(attested) : ''],
    [
      'Signed',
      img.signature
        ? [`<code>${esc(img.signature.digest)}</code>`, ...img.signature.verify.map((v) => `verify: <code>${esc(v)}</code>`)].join('<br>')
        : 'no'
    ]
  ];
}

/** `pushedRefs` says per image whether it was pushed (also in a run that failed half-way). */
export async function writeSummary(plan: Plan, images: ImageOutcome[], note: string, pushedRefs: readonly string[]): Promise<void> {
  const s = core.summary.addHeading('go-docker-publish', 2);
  s.addRaw(`<p>Version <code>${esc(plan.release.version ?? '(none)')}</code>. ${esc(note)}</p>`, true);
  const findings = plan.images.flatMap((img) =>
    (img.check?.findings ?? []).map((f) => `<li><code>${esc(img.dockerfile)}:${f.line}</code> ${esc(f.severity)}: ${esc(f.message)}</li>`)
  );
  if (plan.images.some((i) => i.check)) {
    s.addRaw(
      `<p>Dockerfile check: ${findings.length === 0 ? 'no findings.' : ''}</p>${findings.length ? `<ul>${findings.join('')}</ul>` : ''}`,
      true
    );
  }
  for (const img of images) {
    s.addHeading(esc(img.name), 3);
    s.addTable([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true }
      ],
      ...summaryRows(img, imagePushed(img, pushedRefs), { provenance: plan.provenance, sbom: plan.sbom })
    ]);
  }
  await s.write();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
