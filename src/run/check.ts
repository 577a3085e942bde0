// The Dockerfile check, before anything runs: each image's Dockerfile is read from the workspace
// and checked (plan/check.ts, no I/O: it writes each image's check, and a GOMAXPROCS build arg
// where Go compiles under QEMU, into the plan); findings go to the log as annotations on the
// Dockerfile line. A go build with no Go cache mount is annotated by the derived Dockerfile phase
// instead (run/derived-dockerfile.ts), once it knows the stage's paths, when this run derives one.
// A Dockerfile the check cannot read is a warning (BuildKit has the last word), never a failed run.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import * as core from '@actions/core';
import { applyChecks } from '../plan/check.js';
import { derivesDockerfiles } from '../plan/derived-dockerfile.js';
import type { DockerfileCheck, Plan, PlannedImage } from '../plan/types.js';
import { nodeArch } from './qemu.js';

export function checkDockerfiles(plan: Plan, workspace: string): void {
  const log = applyChecks(plan, (f) => readFileSync(resolve(workspace, f), 'utf8'), `linux/${nodeArch()}`, availableParallelism());
  const later = derivesDockerfiles(plan);
  for (const img of plan.images) {
    const findings = img.check?.findings ?? [];
    if (findings.length === 0) core.info(`Dockerfile check of ${img.name} (${img.dockerfile}): no findings`);
    for (const f of findings) if (!later || f.code !== 'go-cache-mount-missing') annotate(img, f);
  }
  for (const l of log.warnings) core.warning(l);
  for (const l of log.notices) core.notice(l);
}

/** A finding as a runner annotation on its Dockerfile line. */
export function annotate(img: PlannedImage, f: DockerfileCheck['findings'][number]): void {
  const text = `${img.name}: ${img.dockerfile}:${f.line}: ${f.message}`;
  const props = { title: `Dockerfile check (${f.code})`, file: img.dockerfile, startLine: f.line };
  if (f.severity === 'warning') core.warning(text, props);
  else core.notice(text, props);
}
