// The Dockerfile check for private Go modules, pure: with go-private set, each stage (with its
// FROM <stage> chain) of the build that fetches modules (go mod download, go build, go install,
// go get, go mod tidy) needs the GOPRIVATE build args declared, and, with go-private-token, the
// netrc secret mounted at or before that RUN; the first RUN that lacks them gets a finding with the
// lines to add.
import { chainOf, type DockerfileReport, type Finding } from './dockerfile.js';
import { FINDINGS, type FindingCode, type FindingFacts } from './findings.js';
import { NETRC_SECRET } from './go-private.js';

const GO_FETCH = /(?:^|[\s;&|(`'"/])(?:xx-)?go\s+(?:build|install|get|mod\s+(?:download|tidy))\b/;
/** What a fetch needs of the build args go-private sets. */
export const GO_PRIVATE_ARGS = ['GOPRIVATE', 'GONOSUMDB', 'GONOPROXY', 'GOPROXY'];

export function privateModuleFindings(report: DockerfileReport, o: { hosts: string[]; proxy: boolean }): Finding[] {
  const out: Finding[] = [];
  const add = (code: FindingCode, facts: FindingFacts): void => {
    out.push({ line: facts.runLine, severity: FINDINGS[code].severity, code, message: FINDINGS[code].message(facts) });
  };
  const label = (i: number): string => {
    const s = report.stages[i];
    return s?.name ? `stage "${s.name}"` : `stage ${i}`;
  };
  for (const i of report.used) {
    const stage = report.stages[i];
    const run = stage?.runs.find((r) => GO_FETCH.test(r.command));
    if (!stage || !run) continue;
    const chain = chainOf(report.stages, i);
    const before = chain.flatMap((c) => report.stages[c]?.runs ?? []).filter((r) => r.line <= run.line);
    const facts = { stage: label(i), fromLine: stage.fromLine, runLine: run.line, hosts: o.hosts };
    if (o.hosts.length > 0 && !before.some((r) => r.secrets.includes(NETRC_SECRET))) add('netrc-mount-missing', facts);
    const declared = new Set(
      chain
        .flatMap((c) => report.stages[c]?.args ?? [])
        .filter((a) => a.line < run.line)
        .map((a) => a.name)
    );
    const wanted = o.proxy ? GO_PRIVATE_ARGS : GO_PRIVATE_ARGS.slice(0, 2);
    const missing = wanted.filter((a) => !declared.has(a));
    if (missing.length > 0) add('go-private-args-missing', { ...facts, missing });
  }
  return out;
}
