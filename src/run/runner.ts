// Every docker, cosign, git and Docker credential helper command the action runs goes through a
// Runner, each an argv array (never a shell), an optional stdin, and the environment the action
// chose (its own DOCKER_CONFIG). The argv itself is always built by a pure function in
// plan/commands/ (or plan/sign.ts). The only other commands are those @actions/cache runs itself
// (tar and its compressor) for the Go caches and the hand-off. Tests fake the Runner; a dry run
// records through one (run/dry-run.ts).
import * as exec from '@actions/exec';
import { credentialHelperCommand } from '../plan/commands/registry.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin (a password for `docker login --password-stdin`). */
  input?: string;
  /** Do not echo the command's output to the log (it is still returned). */
  silent?: boolean;
  /** Return a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
  /** Variables for this command only, on top of the runner's (a signing key, a build secret). */
  env?: Record<string, string>;
}

export interface Runner {
  docker(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The cosign CLI, with the same Docker config (registry logins) as docker. */
  cosign(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** git, for what the checkout knows (the commit's time). */
  git(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** A Docker credential helper's `get` for a registry (docker-credential-<helper>), as the docker CLI runs it; never logged. */
  credentialHelper(helper: string, server: string): Promise<ExecResult>;
}

export class CommandError extends Error {
  constructor(
    readonly args: string[],
    readonly result: ExecResult,
    tool = 'docker'
  ) {
    const tail = lastLines(`${result.stdout}\n${result.stderr}`, 15);
    super(`${tool} ${args.slice(0, 3).join(' ')} … exited with code ${result.exitCode}${tail ? `:\n${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n)
    .join('\n');
}

/** The real runner: @actions/exec with the given environment. */
export class ExecRunner implements Runner {
  constructor(private readonly env: Record<string, string>) {}

  docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('docker', args, opts);
  }

  cosign(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('cosign', args, opts);
  }

  git(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('git', args, opts);
  }

  credentialHelper(helper: string, server: string): Promise<ExecResult> {
    const c = credentialHelperCommand(helper);
    return this.exec(c.tool, c.args, { input: server, silent: true, allowFailure: true });
  }

  private async exec(tool: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
    const r = await exec.getExecOutput(tool, args, {
      env: { ...this.env, ...opts.env },
      input: opts.input === undefined ? undefined : Buffer.from(opts.input),
      silent: opts.silent ?? false,
      ignoreReturnCode: true
    });
    const result = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    if (r.exitCode !== 0 && !opts.allowFailure) throw new CommandError(args, result, tool);
    return result;
  }
}

/** The process's environment as strings: what a runner without a Docker config of the action's own gets. */
export function processEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
