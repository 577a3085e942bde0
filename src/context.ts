// What the runner tells the action about the event: the payload file and the GITHUB_* variables
// that describe it, and the commit's time from the checkout (git, through the Runner). The plan
// takes this EventContext. The other variables a run needs are read where they are used: main.ts
// (GITHUB_WORKSPACE, GITHUB_RUN_ID/_ATTEMPT, GITHUB_SHA for git, RUNNER_TEMP, and for signing and
// attestations GITHUB_SERVER_URL, GITHUB_WORKFLOW_REF, GITHUB_REPOSITORY), plan/cache-service.ts
// (the cache service's ACTIONS_*), and the checks before anything runs of keyless signing
// (run/sign.ts), attestations (run/attest.ts) and the hand-off (run/handoff.ts); post.ts reads
// RUNNER_ENVIRONMENT (a GitHub-hosted runner's builder is left to the VM) and GITHUB_STEP_SUMMARY.
import { readFileSync } from 'node:fs';
import { gitLogTimeArgs } from './plan/commands/git.js';
import type { EventContext } from './plan/types.js';
import type { Runner } from './run/runner.js';

export function readEventContext(env: NodeJS.ProcessEnv, commitTime?: number): EventContext {
  let payload: Record<string, unknown> = {};
  const path = env.GITHUB_EVENT_PATH;
  if (path) {
    try {
      payload = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`GITHUB_EVENT_PATH "${path}" could not be read as JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  const ctx: EventContext = {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com'
  };
  const t = commitTime ?? commitTimeFromPayload(payload);
  if (t !== undefined) ctx.commitTime = t;
  return ctx;
}

/** The head commit's time from a push payload, when the workspace has no git history to ask. */
function commitTimeFromPayload(payload: Record<string, unknown>): number | undefined {
  const head = payload.head_commit as { timestamp?: unknown } | undefined;
  if (head && typeof head.timestamp === 'string') {
    const ms = Date.parse(head.timestamp);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return undefined;
}

/** The commit's time from git in the workspace (the checkout), or undefined when git cannot tell. */
export async function gitCommitTime(workspace: string, sha: string, runner: Runner): Promise<number | undefined> {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) return undefined;
  try {
    const r = await runner.git(gitLogTimeArgs(workspace, sha), { silent: true, allowFailure: true });
    const t = Number(r.stdout.trim());
    return r.exitCode === 0 && Number.isInteger(t) && t > 0 ? t : undefined;
  } catch {
    return undefined;
  }
}
