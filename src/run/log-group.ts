// A collapsed log group written in one piece: phases that run side by side (images build and
// smoke-test at the same time) collect their lines and write them as one group when they are done,
// so that the groups of two commands never interleave in the log (runner groups do not nest).
import * as core from '@actions/core';

export class LogGroup {
  private readonly lines: string[] = [];

  constructor(private readonly title: string) {}

  info(text: string): void {
    this.lines.push(text);
  }

  /** Writes the group at once: its title, every line, its end. */
  write(): void {
    core.startGroup(this.title);
    if (this.lines.length > 0) core.info(this.lines.join('\n'));
    core.endGroup();
  }
}
