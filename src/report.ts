// Outputs, the job summary and the dry-run plan: what the run tells the workflow and the user.
import * as core from '@actions/core';
import type { Plan } from './plan/types.js';

export interface ImageOutcome {
  name: string;
  tags: string[];
  digest: string;
  platforms: string[];
  smoke: 'passed' | 'skipped' | 'failed';
  size: Record<string, number>;
  buildSeconds?: number;
  cache?: string;
}

export function setOutputs(plan: Plan, images: ImageOutcome[], pushed: boolean): void {
  core.setOutput('version', plan.release.version ?? '');
  core.setOutput('tags', plan.images.flatMap((i) => i.refs).join('\n'));
  core.setOutput(
    'images',
    JSON.stringify(images.map(({ name, tags, digest, platforms, smoke, size }) => ({ name, tags, digest, platforms, smoke, size })))
  );
  core.setOutput('pushed', pushed ? 'true' : 'false');
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
    lines.push(
      `  smoke: ${img.smoke.enabled ? `docker run --rm ${[img.smoke.entrypoint ? `--entrypoint ${img.smoke.entrypoint}` : '', img.refs[0], ...img.smoke.args].filter(Boolean).join(' ')} (timeout ${img.smoke.timeoutSeconds} s${img.smoke.expect ? `, expect /${img.smoke.expect}/` : ''})` : 'off'}`
    );
  }
  lines.push('', 'Commands:', ...commands.map((c) => `  docker ${c.map(quote).join(' ')}`));
  return lines.join('\n');
}

function quote(a: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Pure: the summary's table for one image, as rows of [field, value] (HTML-escaped). */
export function summaryRows(img: ImageOutcome, pushed: boolean): [string, string][] {
  const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
  return [
    ['Platforms', img.platforms.map((p) => esc(p)).join(', ')],
    [
      'Size',
      img.platforms
        .map((p) => (img.size[p] !== undefined ? `${esc(p)}: ${mb(img.size[p])}` : ''))
        .filter(Boolean)
        .join('<br>') || '(not pushed)'
    ],
    ['Digest', img.digest ? `<code>${esc(img.digest)}</code>` : ''],
    ['Tags', img.tags.map((t) => `<code>${esc(t)}</code>`).join('<br>')],
    ['Smoke test', img.smoke],
    ['Build time', img.buildSeconds !== undefined ? `${img.buildSeconds.toFixed(1)} s` : ''],
    ['Cache', esc(img.cache ?? '')],
    ['Pushed', pushed ? 'yes' : 'no']
  ];
}

export async function writeSummary(plan: Plan, images: ImageOutcome[], pushed: boolean, note: string): Promise<void> {
  const s = core.summary.addHeading('go-docker-publish', 2);
  s.addRaw(`<p>Version <code>${esc(plan.release.version ?? '(none)')}</code>. ${esc(note)}</p>`, true);
  for (const img of images) {
    s.addHeading(esc(img.name), 3);
    s.addTable([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true }
      ],
      ...summaryRows(img, pushed)
    ]);
  }
  await s.write();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
