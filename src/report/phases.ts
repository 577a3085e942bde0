// Where the time went: the wall time of each phase of a run (login, QEMU, builder, Go cache
// restore, the build of each image, the load + smoke test of each platform, push, check, tag,
// sign; post adds its own), recorded by the one clock the pipeline times its phases with. Phases
// of different images overlap: each row has its start, counted from the start of the run.

export interface PhaseTime {
  name: string;
  /** Milliseconds since the clock started. */
  start: number;
  /** Milliseconds since the clock started; undefined while it runs (or when the run stopped in it). */
  end?: number;
  failed?: boolean;
}

export class PhaseClock {
  readonly phases: PhaseTime[] = [];
  private readonly t0: number;

  constructor(private readonly now: () => number = Date.now) {
    this.t0 = now();
  }

  /** Runs one phase and records its start and end, also when it fails. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const phase: PhaseTime = { name, start: this.now() - this.t0 };
    this.phases.push(phase);
    try {
      return await fn();
    } catch (e) {
      phase.failed = true;
      throw e;
    } finally {
      phase.end = this.now() - this.t0;
    }
  }
}

/** The phases as rows of [phase, start, wall], in seconds with one decimal, in the order they started. */
export function phaseRows(phases: readonly PhaseTime[]): [string, string, string][] {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return [...phases]
    .sort((a, b) => a.start - b.start)
    .map((p) => [`${p.name}${p.failed ? ' (failed)' : ''}`, s(p.start), p.end === undefined ? '(did not finish)' : s(p.end - p.start)]);
}
