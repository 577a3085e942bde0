// A build that failed because Go could not fetch a module, read from the build's output, pure:
// which module, from where, and the answer; and the error that says what to set (go-private,
// go-private-token, the netrc mount) instead of only Go's line deep in BuildKit's log.

export interface GoFetchFailure {
  module: string;
  /** What failed: "401 Unauthorized from https://…", "git asked for a password (terminal prompts disabled)", … */
  what: string;
}

export function goFetchFailure(output: string): GoFetchFailure | undefined {
  const http = /go: ([^\s@]+)@\S+: (?:reading|verifying [^:]*: reading) (https?:\/\/\S+): (\d{3}\b[^\n]*)/.exec(output);
  if (http?.[1] && http[2] && http[3] && /^(401|403|404|410)\b/.test(http[3])) {
    return { module: http[1], what: `${http[3].trim()} from ${http[2]}` };
  }
  const git = /go: ([^\s@:]+)(?:@\S+)?:[^\n]*\n(?:[^\n]*\n){0,6}?[^\n]*terminal prompts disabled/.exec(output);
  if (git?.[1]) return { module: git[1], what: 'git asked for credentials (terminal prompts disabled)' };
  return undefined;
}

/** `configured`: whether go-private and a token are set (then the token itself was refused). */
export function goFetchFailureMessage(f: GoFetchFailure, subject: string, configured: boolean): string {
  const fix = configured
    ? 'go-private-token was given: check that it may read the module, that go-private matches it, and that the RUN that fetches it mounts the netrc secret (--mount=type=secret,id=netrc,target=/root/.netrc) and declares ARG GOPRIVATE GONOSUMDB GONOPROXY GOPROXY'
    : 'a private module needs go-private (its pattern) and go-private-token, and the RUN that fetches it needs --mount=type=secret,id=netrc,target=/root/.netrc and ARG GOPRIVATE GONOSUMDB GONOPROXY GOPROXY';
  return `The build of ${subject} failed: Go could not fetch the module ${f.module} (${f.what}): ${fix} (README: "Build secrets and private Go modules").`;
}
