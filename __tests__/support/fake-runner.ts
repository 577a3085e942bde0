// Unit tests' stand-in for DockerCli.
import type { ExecOptions, ExecResult, Runner } from '../../src/run/runner.js';

/** A fake runner: records every docker call and answers from a script. */
export class FakeRunner implements Runner {
  calls: string[][] = [];
  constructor(private readonly answer: (args: string[]) => Partial<ExecResult> = () => ({})) {}
  async docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(args);
    const r = { exitCode: 0, stdout: '', stderr: '', ...this.answer(args) };
    if (r.exitCode !== 0 && !opts.allowFailure) throw new Error(`docker ${args[0]} failed`);
    return r;
  }
  commands(): string[] {
    return this.calls.map((c) => (c[0] === 'buildx' ? `buildx ${c[1]}` : (c[0] ?? '')));
  }
}
