/** Reads the stacks and assets of a cloud assembly directory. */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import type { CfnTemplate } from './cost-model';

export interface StackTemplate {
  readonly name: string;
  readonly templatePath: string;
  readonly template: CfnTemplate;
  /** Size of the template file CDK wrote (what CloudFormation receives). */
  readonly bytes: number;
  readonly resources: number;
  readonly outputs: number;
}

export interface FileAsset {
  readonly path: string;
  readonly packaging: string;
  readonly bytes: number;
}

export interface Assembly {
  readonly stacks: StackTemplate[];
  readonly fileAssets: FileAsset[];
  readonly dockerImages: number;
}

function dirBytes(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((sum, name) => sum + dirBytes(path.join(p, name)), 0);
}

/** Every stack (nested assemblies of stages included) and every asset of the assembly. */
export function readAssembly(dir: string): Assembly {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const stacks: StackTemplate[] = [];
  const fileAssets: FileAsset[] = [];
  let dockerImages = 0;
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templatePath = path.join(dir, artifact.properties.templateFile);
      const template = JSON.parse(readFileSync(templatePath, 'utf8'));
      stacks.push({
        name: artifact.displayName ?? id,
        templatePath,
        template,
        bytes: statSync(templatePath).size,
        resources: Object.keys(template.Resources ?? {}).length,
        outputs: Object.keys(template.Outputs ?? {}).length,
      });
    } else if (artifact.type === 'cdk:asset-manifest') {
      const assets = JSON.parse(readFileSync(path.join(dir, artifact.properties.file), 'utf8'));
      for (const file of Object.values<any>(assets.files ?? {})) {
        if (file.source?.path?.endsWith('.template.json')) continue; // the templates themselves
        if (fileAssets.some((a) => a.path === file.source.path)) continue; // shared by several stacks
        fileAssets.push({
          path: file.source.path,
          packaging: file.source.packaging ?? 'file',
          bytes: dirBytes(path.join(dir, file.source.path)),
        });
      }
      dockerImages += Object.keys(assets.dockerImages ?? {}).length;
    } else if (artifact.type === 'cdk:cloud-assembly') {
      const nested = readAssembly(path.join(dir, artifact.properties.directoryName));
      stacks.push(...nested.stacks);
      fileAssets.push(...nested.fileAssets);
      dockerImages += nested.dockerImages;
    }
  }
  return { stacks, fileAssets, dockerImages };
}
