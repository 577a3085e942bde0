// The dry run's print: the plan (tags, labels, build args, the Dockerfile check, the derived
// Dockerfile and what it adds, smoke tests) and every command the pipeline recorded, as a person
// reads them in the log.
import { waitsFor } from '../plan/smoke.js';
import type { Plan } from '../plan/types.js';

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
    if (img.derived) {
      lines.push(
        `  derived Dockerfile (the build's --file): ${img.derived.file}`,
        ...img.derived.added.map((a) => `    line ${a.line}: added ${a.flags.join(' ')}`)
      );
    }
    const smoke = img.smoke;
    lines.push(
      `  smoke: ${smoke.enabled ? `docker run --detach ${[smoke.entrypoint ? `--entrypoint ${smoke.entrypoint}` : '', img.refs[0], ...smoke.args].filter(Boolean).join(' ')}; passes on ${waitsFor(smoke)}, at most ${smoke.timeoutSeconds} s` : 'off'}`
    );
  }
  // cosign's commands as they are, GitHub's attestations (in-process, run/dry-run.ts) as `@actions/attest TYPE REF…`, the rest docker's.
  const tool = (c: string[]): string => (c[0] === 'cosign' || c[0] === '@actions/attest' ? '' : 'docker ');
  lines.push('', 'Commands:', ...commands.map((c) => `  ${tool(c)}${c.map(quote).join(' ')}`));
  return lines.join('\n');
}

function quote(a: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
