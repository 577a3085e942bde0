// The Dockerfile parser, pure: follows BuildKit's dockerfile frontend: parser directives only at
// the very top (syntax, escape, check; the first other line ends them), `escape=` with "\" or "`",
// comment lines ("#" after optional whitespace) and blank lines skipped, also inside
// continuations, continuation lines joined as they are, heredocs (<<EOF, <<-EOF, <<"EOF") for
// RUN/COPY/ADD, case-insensitive keywords, leading --flags, JSON (exec) form. Each instruction
// keeps the lines it spans, so findings and edits can point at them.

export type Flag = { name: string; value: string };
/** chomp: <<-, leading tabs stripped from the body and the terminator. */
export type Heredoc = { name: string; chomp: boolean; body: string };
export interface Instruction {
  keyword: string;
  flags: Flag[];
  args: string;
  json?: string[];
  heredocs: Heredoc[];
  /** 1-based line where it starts, and the last line it uses (continuations and heredoc bodies included). */
  line: number;
  endLine: number;
}
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
/** A word starting with <<, as BuildKit reads heredocs (so `echo "a <<b"` and `<<<` are none). */
const HEREDOC = /(?:^|\s)\d*<<(-?)(["']?)([A-Za-z_][\w.-]*)\2(?=\s|$)/g;
const FLAG = /^--([A-Za-z][\w-]*)(?:=((?:"[^"]*"|'[^']*'|[^\s"'])*))?(?:\s+|$)/;
const FLAG_KEYWORDS = new Set(['FROM', 'RUN', 'COPY', 'ADD']);

export const unquote = (s: string): string => (/^(["']).*\1$/s.test(s) && s.length >= 2 ? s.slice(1, -1) : s);
const skippable = (l: string): boolean => {
  const t = l.trim();
  return t === '' || t.startsWith('#');
};

export function parseDockerfile(text: string): { instructions: Instruction[]; directives: Record<string, string> } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const directives: Record<string, string> = {};
  for (const l of lines) {
    const m = DIRECTIVE.exec(l);
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !KNOWN_DIRECTIVES.has(key) || key in directives) break;
    directives[key] = m[2] ?? '';
  }
  const cont = directives.escape === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
  const instructions: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] ?? '';
    if (skippable(first)) {
      i++;
      continue;
    }
    const line = i + 1;
    let logical = first.trimStart();
    let more = cont.test(logical);
    if (more) logical = logical.replace(cont, '');
    while (more && ++i < lines.length) {
      const l = lines[i] ?? '';
      if (skippable(l)) continue;
      more = cont.test(l);
      logical += more ? l.replace(cont, '') : l;
    }
    i++;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(logical);
    const keyword = (m?.[1] ?? '').toUpperCase();
    let rest = (m?.[2] ?? '').trim();
    const flags: Flag[] = [];
    for (let f = FLAG.exec(rest); FLAG_KEYWORDS.has(keyword) && f; f = FLAG.exec(rest)) {
      flags.push({ name: (f[1] ?? '').toLowerCase(), value: unquote(f[2] ?? '') });
      rest = rest.slice(f[0].length);
    }
    let json: string[] | undefined;
    if (rest.startsWith('[')) {
      try {
        const v: unknown = JSON.parse(rest);
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v as string[];
      } catch {
        // shell form after all
      }
    }
    const heredocs: Heredoc[] = [];
    if (json === undefined && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
      for (const h of rest.matchAll(HEREDOC)) {
        const chomp = h[1] === '-';
        const name = h[3] ?? '';
        const body: string[] = [];
        while (i < lines.length) {
          const l = chomp ? (lines[i++] ?? '').replace(/^\t+/, '') : (lines[i++] ?? '');
          if (l === name) break;
          body.push(l);
        }
        heredocs.push({ name, chomp, body: body.join('\n') });
      }
    }
    instructions.push({ keyword, flags, args: rest, ...(json ? { json } : {}), heredocs, line, endLine: Math.min(i, lines.length) });
  }
  return { instructions, directives };
}
