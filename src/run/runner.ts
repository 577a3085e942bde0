// Every external command the action runs goes through a Runner: an argv array (never a shell),
// an optional stdin, and the environment the action chose (its own DOCKER_CONFIG). Tests fake it.
import * as exec from '@actions/exec';

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
  /** Variables for this command only, on top of the runner's (a signing key). */
  env?: Record<string, string>;
}

export interface Runner {
  docker(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The cosign CLI, with the same Docker config (registry logins) as docker. */
  cosign(args: string[], opts?: ExecOptions): Promise<ExecResult>;
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
export class DockerCli implements Runner {
  constructor(private readonly env: Record<string, string>) {}

  docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('docker', args, opts);
  }

  cosign(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('cosign', args, opts);
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

/** A runner for dry runs: records what would run and runs nothing. */
export class RecordingRunner implements Runner {
  readonly calls: { args: string[]; input?: string }[] = [];
  async docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ args, input: opts.input });
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async cosign(args: string[]): Promise<ExecResult> {
    this.calls.push({ args: ['cosign', ...args] });
    return { exitCode: 0, stdout: '', stderr: '' };
  }
}
