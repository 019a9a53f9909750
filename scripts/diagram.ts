/**
 * Renders the resources of the synthesized `examples/basic` template, and the references between
 * them (`Ref`, `Fn::GetAtt`, `Fn::Sub`), as a Mermaid flowchart, and writes it into
 * docs/ARCHITECTURE.md between `<!-- BEGIN GENERATED -->` and `<!-- END GENERATED -->`.
 *
 *   npx tsx --tsconfig tsconfig.dev.json scripts/diagram.ts          write the section
 *   npx tsx --tsconfig tsconfig.dev.json scripts/diagram.ts --check  exit 1 when it is stale
 *
 * test/docs/diagram.test.ts fails when the committed section differs from a fresh rendering, so
 * run this after any change to the resources of examples/basic, and commit the result.
 */
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../examples/basic/app';

export const ARCHITECTURE_DOC = path.join(__dirname, '..', 'docs', 'ARCHITECTURE.md');
export const BEGIN_MARKER = '<!-- BEGIN GENERATED -->';
export const END_MARKER = '<!-- END GENERATED -->';
export const REGENERATE = 'npx tsx --tsconfig tsconfig.dev.json scripts/diagram.ts';

/** The parts of a CloudFormation template the diagram reads. */
export interface TemplateLike {
  readonly Resources?: Record<string, { Type: string; Properties?: unknown; Metadata?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/** The synthesized template of examples/basic, with construct paths in each resource's metadata. */
export function basicTemplate(): { stackName: string; template: TemplateLike } {
  const app = buildApp(new App({ context: { 'aws:cdk:enable-path-metadata': true } }));
  const stack = app.synth().stacks[0];
  return { stackName: stack.stackName, template: stack.template as TemplateLike };
}

/** Logical ids a value refers to, with how: `Ref`, or the attribute of `Fn::GetAtt`. */
export function references(value: unknown, resources: ReadonlySet<string>): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (id: string, how: string) => {
    if (!resources.has(id)) return;
    const kinds = found.get(id) ?? new Set<string>();
    kinds.add(how);
    found.set(id, kinds);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      if (key === 'Ref' && typeof arg === 'string') {
        add(arg, 'Ref');
        return;
      }
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
        if (typeof id === 'string') add(id, String(attribute));
        return;
      }
      if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
        const local = new Set(Object.keys((variables ?? {}) as object));
        for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [id, attribute] = match[1].split(/\.(.*)/s);
          if (!local.has(match[1])) add(id, attribute ?? 'Ref');
        }
        walk(variables);
        return;
      }
    }
    entries.forEach(([, child]) => walk(child));
  };
  walk(value);
  return found;
}

/** Locale-independent ordering, so every machine renders the same text. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The construct path of a resource without the stack name and a trailing `/Resource`. */
function label(stackName: string, logicalId: string, metadata: Record<string, unknown> | undefined): string {
  const cdkPath = metadata?.['aws:cdk:path'];
  if (typeof cdkPath !== 'string') return logicalId;
  return cdkPath.replace(new RegExp(`^${stackName}/`), '').replace(/\/Resource$/, '');
}

/** A Mermaid flowchart of the template's resources and outputs and the references between them. */
export function renderMermaid(stackName: string, template: TemplateLike): string {
  const resources = template.Resources ?? {};
  const ids = new Set(Object.keys(resources));
  const nodes = new Map<string, { label: string; text: string; group?: string }>();
  for (const [id, resource] of Object.entries(resources)) {
    const name = label(stackName, id, resource.Metadata);
    const first = name.includes('/') ? name.split('/')[0] : undefined;
    nodes.set(id, { label: name, text: `${name}<br/>${resource.Type}`, group: first });
  }
  const groupSizes = new Map<string, number>();
  for (const node of nodes.values()) {
    if (node.group !== undefined) groupSizes.set(node.group, (groupSizes.get(node.group) ?? 0) + 1);
  }

  const edges: { from: string; to: string; label: string; sortKey: string }[] = [];
  const addEdges = (fromId: string, fromLabel: string, value: unknown) => {
    for (const [to, kinds] of references(value, ids)) {
      if (to === fromId) continue;
      edges.push({
        from: fromId,
        to,
        label: [...kinds].sort().join(', '),
        sortKey: `${fromLabel}\u0000${nodes.get(to)!.label}`,
      });
    }
  };
  for (const [id, resource] of Object.entries(resources)) addEdges(id, nodes.get(id)!.label, resource.Properties);
  const outputs = Object.entries(template.Outputs ?? {}).sort(([a], [b]) => compare(a, b));
  for (const [id, output] of outputs) addEdges(`output_${id}`, `~output ${id}`, output.Value);
  edges.sort((a, b) => compare(a.sortKey, b.sortKey));

  const byLabel = (a: [string, { label: string }], b: [string, { label: string }]) => compare(a[1].label, b[1].label);
  const lines = ['flowchart LR'];
  const grouped = [...nodes].filter(([, n]) => n.group !== undefined && groupSizes.get(n.group)! > 1);
  const groups = [...new Set(grouped.map(([, n]) => n.group!))].sort(compare);
  for (const group of groups) {
    lines.push(`  subgraph group_${group.replace(/[^A-Za-z0-9_]/g, '_')}["${group}"]`);
    for (const [id, node] of grouped.filter(([, n]) => n.group === group).sort(byLabel)) {
      lines.push(`    ${id}["${node.text}"]`);
    }
    lines.push('  end');
  }
  const ungrouped = [...nodes].filter(([id]) => !grouped.some(([g]) => g === id)).sort(byLabel);
  for (const [id, node] of ungrouped) lines.push(`  ${id}["${node.text}"]`);
  for (const [id] of outputs) lines.push(`  output_${id}(["Output ${id}"])`);
  for (const edge of edges) lines.push(`  ${edge.from} -->|${edge.label}| ${edge.to}`);
  return lines.join('\n');
}

/** What goes between the markers: a sentence and the diagram, with the newlines around them. */
export function renderSection(stackName: string, template: TemplateLike): string {
  const resources = Object.keys(template.Resources ?? {}).length;
  const outputs = Object.keys(template.Outputs ?? {}).length;
  return [
    '',
    '',
    `Generated from the synthesized template of \`examples/basic\` (stack \`${stackName}\`: ${resources} resources, ${outputs} output${outputs === 1 ? '' : 's'}) by \`scripts/diagram.ts\`; regenerate with \`${REGENERATE}\`. Node labels are construct paths without the trailing \`/Resource\`; an arrow reads "refers to", labelled \`Ref\` or with the \`Fn::GetAtt\` attribute.`,
    '',
    '```mermaid',
    renderMermaid(stackName, template),
    '```',
    '',
    '',
  ].join('\n');
}

/** The text between the markers of a document. */
export function extractSection(doc: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${BEGIN_MARKER} ... ${END_MARKER} not found`);
  return doc.slice(begin + BEGIN_MARKER.length, end);
}

/** The document with the text between its markers replaced. */
export function replaceSection(doc: string, section: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${BEGIN_MARKER} ... ${END_MARKER} not found`);
  return doc.slice(0, begin + BEGIN_MARKER.length) + section + doc.slice(end);
}

function main(): void {
  const { stackName, template } = basicTemplate();
  const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
  const updated = replaceSection(doc, renderSection(stackName, template));
  const relative = path.relative(process.cwd(), ARCHITECTURE_DOC);
  if (process.argv.includes('--check')) {
    if (updated !== doc) {
      console.error(`${relative} is stale: run ${REGENERATE}`);
      process.exitCode = 1;
    } else {
      console.log(`${relative} is current`);
    }
    return;
  }
  writeFileSync(ARCHITECTURE_DOC, updated);
  console.log(`wrote ${relative}: ${Object.keys(template.Resources ?? {}).length} resources`);
}

if (require.main === module) {
  main();
}
