// Unit tests' stand-ins for the real runner (ExecRunner): one that answers from a script, and one
// that holds chosen calls until the test lets them go (a build still under way).
import type { ExecOptions, ExecResult, Runner } from '../../src/run/runner.js';

/** A fake runner: records every docker call (and the environment it was given) and answers from a script. */
export class FakeRunner implements Runner {
  calls: string[][] = [];
  /** The extra environment each call was given (calls[i]'s is envs[i]). */
  envs: Record<string, string>[] = [];
  constructor(private readonly answer: (args: string[]) => Partial<ExecResult> = () => ({})) {}
  async docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.record(args, opts);
    return this.answered(args, opts);
  }
  protected record(args: string[], opts: ExecOptions): void {
    this.calls.push(args);
    this.envs.push(opts.env ?? {});
  }
  /** The answer to a call, without recording it. */
  answered(args: string[], opts: ExecOptions = {}): ExecResult {
    const r = { exitCode: 0, stdout: '', stderr: '', ...this.answer(args) };
    if (r.exitCode !== 0 && !opts.allowFailure) throw new Error(`docker ${args[0]} failed${r.stderr ? `: ${r.stderr}` : ''}`);
    return r;
  }
  /** cosign calls are recorded as ['cosign', ...args], with the extra environment of each. */
  cosignEnvs: Record<string, string>[] = [];
  async cosign(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.cosignEnvs.push(opts.env ?? {});
    return this.docker(['cosign', ...args], { ...opts, env: undefined });
  }
  /** git calls are recorded as ['git', ...args]. */
  async git(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.docker(['git', ...args], opts);
  }
  /** Credential helper calls are recorded as ['docker-credential-<helper>', 'get', server]. */
  async credentialHelper(helper: string, server: string): Promise<ExecResult> {
    return this.docker([`docker-credential-${helper}`, 'get', server], { allowFailure: true });
  }
  commands(): string[] {
    return this.calls.map((c) => (c[0] === 'buildx' ? `buildx ${c[1]}` : (c[0] ?? '')));
  }
}

/**
 * A FakeRunner whose calls that `held` picks are recorded when they start and answered only once
 * `release()` is called: one command of a run stays under way while the others go on.
 */
export class HoldingRunner extends FakeRunner {
  private open: () => void = () => undefined;
  private readonly gate = new Promise<void>((r) => (this.open = r));
  constructor(
    answer: (args: string[]) => Partial<ExecResult>,
    private readonly held: (args: string[]) => boolean
  ) {
    super(answer);
  }
  release(): void {
    this.open();
  }
  override async docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.record(args, opts);
    if (this.held(args)) await this.gate;
    return this.answered(args, opts);
  }
}
