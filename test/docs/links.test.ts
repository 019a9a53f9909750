/**
 * Every link of the project's Markdown documents resolves, offline.
 *
 * Documents: README.md, CONTRIBUTING.md, SECURITY.md, CHANGELOG.md, CODE_OF_CONDUCT.md, docs/*.md,
 * examples/README.md and examples/*\/README.md. Links: inline links and images (`[text](target)`),
 * reference definitions (`[ref]: target`), full and collapsed references (`[text][ref]`, which must be
 * defined), autolinks (`<https://...>`) and HTML `href`/`src`. Fenced code, code spans and HTML
 * comments are not prose and are skipped.
 *
 * - A relative target (to the document's folder; `/...` to the repository root) must exist, inside
 *   the repository and not in a git-ignored path (.gitignore: generated output, which GitHub does not
 *   show). A folder is fine (GitHub shows its README.md).
 * - `#anchor` (alone: the same document) must be a heading slug of the target Markdown file, GitHub's
 *   rules (github-slugger: the heading's rendered text, lowercased, punctuation except `-` and `_`
 *   removed, each space to `-`, repeated slugs suffixed `-1`, `-2`, ...) or an explicit HTML
 *   `id`/`name` anchor; in another file, a line anchor `#L12` or `#L12-L20` within the file.
 * - External http(s) and mailto: links are not fetched (no network): they must be well-formed URLs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

export interface Link {
  readonly doc: string;
  readonly line: number;
  readonly target: string;
}

/** The documents whose links are checked, relative to the repository root. */
export function documents(): string[] {
  const inDir = (dir: string) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `${dir}/${f}`);
  const exampleReadmes = readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(ROOT, 'examples', e.name, 'README.md')))
    .map((e) => `examples/${e.name}/README.md`)
    .sort();
  return [
    'README.md',
    'CONTRIBUTING.md',
    'SECURITY.md',
    'CHANGELOG.md',
    'CODE_OF_CONDUCT.md',
    ...inDir('docs'),
    'examples/README.md',
    ...exampleReadmes,
  ];
}

/** The lines of a Markdown text outside fenced code blocks and HTML comments, with 1-based numbers. */
export function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  let comment = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (fence !== undefined) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(raw);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = undefined;
      return;
    }
    const open = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (!comment && open) {
      fence = open[1];
      return;
    }
    let line = raw;
    if (comment) {
      const end = line.indexOf('-->');
      if (end < 0) return;
      comment = false;
      line = ' '.repeat(end + 3) + line.slice(end + 3);
    }
    line = line.replace(/<!--[\s\S]*?-->/g, (m) => ' '.repeat(m.length));
    const start = line.indexOf('<!--');
    if (start >= 0) {
      comment = true;
      line = line.slice(0, start);
    }
    out.push({ line: i + 1, text: line });
  });
  return out;
}

/** Replaces each code span (a run of n backticks up to the next run of exactly n) with f(content). */
function mapCodeSpans(line: string, f: (content: string, whole: string) => string): string {
  return line.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (whole, _ticks: string, content: string) => f(content, whole));
}

const blankCode = (line: string) => mapCodeSpans(line, (_, whole) => ' '.repeat(whole.length));

/** The text GitHub renders for a heading's Markdown (what its slug is made from). */
export function headingText(markdown: string): string {
  const spans: string[] = [];
  let text = mapCodeSpans(markdown, (content) => {
    spans.push(content.replace(/^ (.*) $/, '$1'));
    return `\uE000${spans.length - 1}\uE001`;
  });
  text = text
    .replace(/<[^>]*>/g, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    // Emphasis: `*` and `~` go with the punctuation anyway; `_` only where it delimits.
    .replace(/(^|[^\p{L}\p{N}_])_+([^_]+?)_+(?=$|[^\p{L}\p{N}_])/gu, '$1$2')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
  return text.replace(/\uE000(\d+)\uE001/g, (_, i: string) => spans[Number(i)]).trim();
}

/** github-slugger's slug of a heading's rendered text. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a Markdown text: heading slugs (with GitHub's -1, -2 suffixes) and HTML ids/names. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const occurrences = new Map<string, number>();
  const addHeading = (markdown: string) => {
    const original = slug(headingText(markdown));
    let result = original;
    while (occurrences.has(result)) {
      const n = occurrences.get(original)! + 1;
      occurrences.set(original, n);
      result = `${original}-${n}`;
    }
    occurrences.set(result, 0);
    anchors.add(result);
  };
  const lines = proseLines(text);
  lines.forEach(({ line, text: t }, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(t);
    if (atx) addHeading(atx[1] ?? '');
    // Setext: a one-line paragraph underlined with = or -.
    const prev = lines[i - 1];
    const before = lines[i - 2];
    if (
      /^ {0,3}(=+|-+)[ \t]*$/.test(t) &&
      prev?.line === line - 1 &&
      /^ {0,3}[^\s#>|*+\-=]/.test(prev.text) &&
      !/^ {0,3}\d+[.)]\s/.test(prev.text) &&
      (before === undefined || before.line !== line - 2 || before.text.trim() === '')
    ) {
      addHeading(prev.text.trim());
    }
    for (const tag of blankCode(t).matchAll(/<[a-z][^>]*>/gi)) {
      for (const m of tag[0].matchAll(/\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1]);
    }
  });
  return anchors;
}

/** The destination of an inline link starting at `start` (just after `(`), per CommonMark. */
function destinationAt(line: string, start: number): string | undefined {
  let i = start;
  while (line[i] === ' ') i++;
  if (line[i] === '<') {
    const end = line.indexOf('>', i);
    return end < 0 ? undefined : line.slice(i + 1, end);
  }
  let depth = 0;
  let j = i;
  for (; j < line.length; j++) {
    const c = line[j];
    if (c === '\\') j++;
    else if (/\s/.test(c)) break;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) break;
      depth--;
    }
  }
  return line.slice(i, j);
}

const normalizeLabel = (label: string) => label.trim().replace(/\s+/g, ' ').toLowerCase();

/** The links of a Markdown text, and the labels of its references that have no definition. */
export function linksOf(doc: string, text: string): { links: Link[]; undefinedRefs: Link[] } {
  const links: Link[] = [];
  const undefinedRefs: Link[] = [];
  const lines = proseLines(text).map(({ line, text: t }) => ({ line, text: blankCode(t) }));
  const definitions = new Set<string>();
  const brackets = String.raw`\[((?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*\])*)\]`;
  for (const { line, text: t } of lines) {
    const def = /^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)/.exec(t);
    if (def) {
      definitions.add(normalizeLabel(def[1]));
      links.push({ doc, line, target: def[2].replace(/^<(.*)>$/, '$1') });
    }
  }
  for (const { line, text: t } of lines) {
    if (/^ {0,3}\[([^\]]+)\]:/.test(t)) continue;
    for (const m of t.matchAll(new RegExp(`(?<!\\\\)${brackets}\\(`, 'g'))) {
      const target = destinationAt(t, m.index! + m[0].length);
      if (target !== undefined) links.push({ doc, line, target });
    }
    for (const m of t.matchAll(new RegExp(`(?<!\\\\)${brackets}\\[([^\\[\\]]*)\\]`, 'g'))) {
      const label = m[2].trim() === '' ? m[1] : m[2];
      if (!definitions.has(normalizeLabel(label))) undefinedRefs.push({ doc, line, target: `[${label}]` });
    }
    for (const m of t.matchAll(/<((?:https?|mailto):[^<>\s]*)>/gi)) links.push({ doc, line, target: m[1] });
    for (const m of t.matchAll(/<[a-z][^>]*?\s(?:href|src)\s*=\s*["']([^"']*)["']/gi)) {
      links.push({ doc, line, target: m[1] });
    }
  }
  return { links, undefinedRefs };
}

/** What is wrong with an external link, if anything. */
export function urlProblem(target: string): string | undefined {
  if (/\s/.test(target)) return 'is not a well-formed URL (whitespace)';
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'is not a well-formed URL';
  }
  if (url.protocol === 'mailto:') {
    return /^[^@\s/]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(url.pathname)
      ? undefined
      : 'is not a well-formed mailto: address';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `has an unexpected scheme ${url.protocol}`;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(url.hostname) && url.hostname !== 'localhost') {
    return `has no valid host name (${url.hostname || 'empty'})`;
  }
  return undefined;
}

/** Basename patterns of .gitignore (generated output, which is not in the repository GitHub shows). */
function gitIgnored(): RegExp[] {
  const file = path.join(ROOT, '.gitignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) =>
      l
        .trim()
        .replace(/^\*\*\//, '')
        .replace(/\/$/, ''),
    )
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!') && !l.includes('/'))
    .map(
      (l) =>
        new RegExp(
          `^${l
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '.')}$`,
        ),
    );
}

/**
 * What is wrong with each link of a document. `text` is the document's content (it need not be on
 * disk: the self-test checks a document that exists only in memory); other files are read from disk.
 */
export function linkProblems(doc: string, text: string): string[] {
  const docPath = path.join(ROOT, doc);
  const ignored = gitIgnored();
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(file === docPath ? text : readFileSync(file, 'utf8')));
    return anchorCache.get(file)!;
  };
  const { links, undefinedRefs } = linksOf(doc, text);
  const problems = undefinedRefs.map((r) => `${r.doc}:${r.line}: reference ${r.target} has no definition`);
  for (const { line, target } of links) {
    const at = `${doc}:${line}: ${target}`;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      const problem = urlProblem(target);
      if (problem) problems.push(`${at} ${problem}`);
      continue;
    }
    const hash = target.indexOf('#');
    const rawPath = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
    let file: string;
    let anchor: string | undefined;
    try {
      anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const decoded = decodeURIComponent(rawPath);
      file = decoded === '' ? docPath : path.join(decoded.startsWith('/') ? ROOT : path.dirname(docPath), decoded);
    } catch {
      problems.push(`${at} is not a well-formed link (bad %-escape)`);
      continue;
    }
    const relative = path.relative(ROOT, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      problems.push(`${at} points outside the repository`);
      continue;
    }
    // Git-ignored first: whether generated output (lib/, assets/) exists depends on what was built.
    const ignoredBy = relative.split(path.sep).find((segment) => ignored.some((re) => re.test(segment)));
    if (ignoredBy !== undefined) {
      problems.push(`${at}: ${relative} is git-ignored (${ignoredBy}), so not in the repository`);
      continue;
    }
    if (file !== docPath && !existsSync(file)) {
      problems.push(`${at}: no such file or folder ${relative}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (anchor === '') {
      problems.push(`${at}: empty anchor`);
      continue;
    }
    const target_ = file !== docPath && statSync(file).isDirectory() ? path.join(file, 'README.md') : file;
    if (target_.endsWith('.md')) {
      if (target_ !== docPath && !existsSync(target_))
        problems.push(`${at}: ${path.relative(ROOT, file)} has no README.md for the anchor`);
      else if (!anchors(target_).has(anchor)) {
        problems.push(`${at}: no heading or anchor #${anchor} in ${path.relative(ROOT, target_)}`);
      }
      continue;
    }
    const lineAnchor = /^L(\d+)(?:C\d+)?(?:-L(\d+)(?:C\d+)?)?$/.exec(anchor);
    const lineCount = readFileSync(target_, 'utf8').split('\n').length;
    if (!lineAnchor) problems.push(`${at}: #${anchor} in a file that is not Markdown must be a line anchor (#L12)`);
    else if (Math.max(Number(lineAnchor[1]), Number(lineAnchor[2] ?? 0)) > lineCount) {
      problems.push(`${at}: ${relative} has only ${lineCount} lines`);
    }
  }
  return problems;
}

const DOCS = documents();

describe('the links of the Markdown documents', () => {
  test('every document exists and has links', () => {
    expect(DOCS.filter((doc) => !existsSync(path.join(ROOT, doc)))).toEqual([]);
    const count = DOCS.reduce((n, doc) => n + linksOf(doc, readFileSync(path.join(ROOT, doc), 'utf8')).links.length, 0);
    expect(count).toBeGreaterThan(0);
  });

  test.each(DOCS)('%s: every relative link and anchor resolves, every URL is well-formed', (doc) => {
    const problems = linkProblems(doc, readFileSync(path.join(ROOT, doc), 'utf8'));
    if (problems.length > 0) throw new Error(`broken links:\n${problems.join('\n')}`);
  });
});

describe('the link checker', () => {
  test('reports broken files, anchors, references and URLs with their lines', () => {
    // A document that exists only in memory, at the repository root, with one link of each kind broken.
    const fake = [
      '# Fake document',
      '',
      'Fine: [readme](README.md), [tree](docs/ARCHITECTURE.md#construct-tree), [here](#fake-document),',
      '[basic](examples/basic), [spec](spec/openapi.yaml#L1), <https://example.com/a?b=c>, [r][ok].',
      'Broken: [gone](docs/NOPE.md), [anchor](docs/OPERATIONS.md#no-such-runbook), [self](#missing)',
      '[built](lib/index.js), [up](../outside.md), [bad](https://), [host](https://exa_mple), [x][undefined-ref]',
      '`[code](not-a-link.md)` is code.',
      '',
      '```md',
      '[in a fence](nope.md)',
      '```',
      '',
      '[ok]: https://example.com',
    ].join('\n');
    expect(linkProblems('FAKE.md', fake)).toEqual([
      'FAKE.md:6: reference [undefined-ref] has no definition',
      'FAKE.md:5: docs/NOPE.md: no such file or folder docs/NOPE.md',
      'FAKE.md:5: docs/OPERATIONS.md#no-such-runbook: no heading or anchor #no-such-runbook in docs/OPERATIONS.md',
      'FAKE.md:5: #missing: no heading or anchor #missing in FAKE.md',
      'FAKE.md:6: lib/index.js: lib/index.js is git-ignored (lib), so not in the repository',
      'FAKE.md:6: ../outside.md points outside the repository',
      'FAKE.md:6: https:// is not a well-formed URL',
      'FAKE.md:6: https://exa_mple has no valid host name (exa_mple)',
    ]);
  });

  test.each([
    ['Every `Resource: "*"` and why', 'every-resource--and-why'],
    ['4. What a runner costs to keep', '4-what-a-runner-costs-to-keep'],
    [
      'Secrets or logs not readable (`ResourceInitializationError`)',
      'secrets-or-logs-not-readable-resourceinitializationerror',
    ],
    ["The execution role's log permissions: a trade-off", 'the-execution-roles-log-permissions-a-trade-off'],
    ['With the CLI, `po-ecs-runner`', 'with-the-cli-po-ecs-runner'],
    ['`snake_case` and _emphasis_ and [a link](x.md)', 'snake_case-and-emphasis-and-a-link'],
    ['[Unreleased]', 'unreleased'],
  ])('slug of %j is %s', (heading, expected) => {
    expect(slug(headingText(heading))).toBe(expected);
  });

  test('suffixes repeated headings and reads HTML anchors, not headings in code', () => {
    const anchors = anchorsOf('# A\n## A\n## A\n```\n# B\n```\n<a name="x" id="y"></a>\n\nSetext\n---\n');
    expect([...anchors].sort()).toEqual(['a', 'a-1', 'a-2', 'setext', 'x', 'y']);
  });
});
