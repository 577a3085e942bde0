// git command lines, pure: what the checkout knows.

/** The commit's time, seconds since the epoch. */
export function gitLogTimeArgs(workspace: string, sha: string): string[] {
  return ['-C', workspace, 'log', '-1', '--format=%ct', sha];
}
