/** The hand-written TypeScript files of src/, for the structure tests. */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

export const SRC = path.join(__dirname, '..', '..', 'src');

/** Every .ts file under `dir`, as paths relative to `dir` with `/` separators. */
export function tsFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

export function readSource(file: string): string {
  return readFileSync(path.join(SRC, file), 'utf8');
}
