// The job summary (GITHUB_STEP_SUMMARY: the HTML that @actions/core writes) as a person reads it in
// a terminal: headings, paragraphs and lists as lines, tables as aligned columns. And the rows of
// its phase tables ("Where the time went", "Post step"), which the benchmark prints and sums.
// With GDP_SUMMARY_TEXT=FILE, running it prints FILE so (scripts/run-example.sh bundles it with ncc).
import { readFileSync } from 'node:fs';

const entities: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#39;': "'" };
const text = (html: string): string =>
  html
    .replace(/<br\s*\/?>/g, ', ')
    .replace(/<[^>]+>/g, '')
    .replace(/&(lt|gt|amp|quot|#39);/g, (e) => entities[e] ?? e)
    .trim();

/** The cells of each row of one `<table>`. */
function tableRows(table: string): string[][] {
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...(r[1] ?? '').matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1] ?? ''))
  );
}

function aligned(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  return [head ? line(head) : '', widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The summary as terminal text. */
export function summaryText(html: string): string {
  const out: string[] = [];
  for (const m of html.matchAll(/<(h[1-6]|p|ul|table)>([\s\S]*?)<\/\1>/g)) {
    const [, tag, body = ''] = m;
    if (tag?.startsWith('h')) out.push('', `== ${text(body)}`);
    else if (tag === 'p') out.push(text(body));
    else if (tag === 'ul') out.push(...[...body.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((li) => `  - ${text(li[1] ?? '')}`));
    else out.push(aligned(tableRows(body)));
  }
  return out.join('\n').trim();
}

/** The rows [phase, start, wall] of the summary's phase tables (main's and post's), as written. */
export function phaseTable(html: string): string[][] {
  const tables = [...html.matchAll(/<h3>(Where the time went|Post step)<\/h3>\s*<table>([\s\S]*?)<\/table>/g)];
  return tables.flatMap((t) => tableRows(t[2] ?? '').slice(1));
}

const file = process.env.GDP_SUMMARY_TEXT;
if (file) process.stdout.write(`${summaryText(readFileSync(file, 'utf8'))}\n`);
