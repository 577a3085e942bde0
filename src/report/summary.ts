// The job summary: one line saying how the run ended, the Dockerfile findings, a table per image
// (platforms, sizes, digest, tags, smoke test, build time, caches, attestations, signature, the
// smoke-test and GitHub attestations with their verify commands), and where the time went (a row
// per phase; post adds its own table: post.ts).
import * as core from '@actions/core';
import type { Plan } from '../plan/types.js';
import type { ImageOutcome } from './outcomes.js';
import { imagePushed } from './outputs.js';
import { phaseRows, type PhaseTime } from './phases.js';

/** How the run ended, in one sentence: the summary's first line. */
export function runNote(plan: Plan, images: ImageOutcome[], pushed: boolean, pushedRefs: readonly string[], error?: Error): string {
  if (error) {
    const partial = partialPush(images, pushedRefs);
    return `Failed: ${error.message.split('\n')[0]}${partial ? ` ${partial}` : ''}`;
  }
  if (pushed) return 'Pushed.';
  if (plan.push && plan.mode === 'platform')
    return 'Pushed by digest, untagged: the merge job (mode: merge) tags every image once every platform run has passed.';
  return `Not pushed: ${plan.pushReason}.`;
}

/** A run that fails after pushing some tags says exactly which refs are in a registry and which not; '' when none is. */
export function partialPush(images: ImageOutcome[], pushedRefs: readonly string[]): string {
  if (pushedRefs.length === 0) return '';
  const notPushed = images.flatMap((i) => i.tags).filter((r) => !pushedRefs.includes(r));
  return `Pushed before the failure: ${pushedRefs.join(', ')}. Not pushed: ${notPushed.join(', ')}.`;
}

/** The summary's table for one image, as rows of [field, value] (HTML-escaped). */
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
    ['Go cache mounts added', img.derived ? `derived Dockerfile: ${esc(img.derived)}` : 'none (the Dockerfile as written)'],
    ['Pushed', pushed ? 'yes' : 'no'],
    ['Attestations', pushed ? esc(attested) : ''],
    [
      'Signed',
      img.signature
        ? [`<code>${esc(img.signature.digest)}</code>`, ...img.signature.verify.map((v) => `verify: <code>${esc(v)}</code>`)].join('<br>')
        : 'no'
    ],
    [
      'Attested',
      img.attestations
        ? img.attestations
            .map((a) =>
              [
                `${esc(a.predicateType)} (${a.by === 'github' ? "GitHub's artifact attestations" : 'cosign'}) on ${a.digests.map((d) => `<code>${esc(d)}</code>`).join(', ')}`,
                ...a.verify.map((v) => `verify: <code>${esc(v)}</code>`)
              ].join('<br>')
            )
            .join('<br>')
        : 'no'
    ]
  ];
}

/** The heading of the phase table; post's own table has it too. */
export const PHASES_HEADING = 'Where the time went';

/** The phase table: phase, start (from the start of the step), wall time. */
export function addPhaseTable(phases: readonly PhaseTime[], heading = PHASES_HEADING): void {
  core.summary.addHeading(heading, 3);
  core.summary.addTable([
    [
      { data: 'Phase', header: true },
      { data: 'Start', header: true },
      { data: 'Wall', header: true }
    ],
    ...phaseRows(phases).map((r) => r.map((c) => esc(c)))
  ]);
}

/** `pushedRefs` says per image whether it was pushed (also in a run that failed half-way). */
export async function writeSummary(
  plan: Plan,
  images: ImageOutcome[],
  note: string,
  pushedRefs: readonly string[],
  phases: readonly PhaseTime[] = []
): Promise<void> {
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
  if (phases.length > 0) addPhaseTable(phases);
  await s.write();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
