// Bundles the code that runs outside the construct library, at build time, so users need
// neither esbuild nor Docker at synth time:
// - Lambda handlers (src/**/*.lambda.ts) into assets/<name>/index.js, for the Node.js runtime,
//   with the AWS SDK v3 left to the runtime that provides it;
// - the CLI into bin/po-ecs-runner.js, self-contained (the package has no runtime dependencies).
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, statSync } from 'fs';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The TypeScript settings esbuild applies, fixed here so that no tsconfig.json on disk is read: the
 * root tsconfig.json is git-ignored (jsii writes it), so reading it would make the bytes, and so the
 * handler's asset hash, depend on the machine. These are the settings of tsconfig.dev.json that
 * change esbuild's output.
 */
export const TSCONFIG_RAW = {
  compilerOptions: {
    target: 'ES2022',
    useDefineForClassFields: true,
    alwaysStrict: true,
    strict: true,
    esModuleInterop: true,
    verbatimModuleSyntax: false,
    experimentalDecorators: false,
    preserveValueImports: false,
    importsNotUsedAsValues: 'remove',
  },
};

/** Every bundle: entry point (must exist), output file, and how it runs. */
export const BUNDLES = [
  {
    // Runner registration custom resource handler (src/registration/runner-registration.ts).
    entry: 'src/registration/runtime/registration.lambda.ts',
    outfile: 'assets/registration-handler/index.js',
    external: ['@aws-sdk/*'],
  },
  {
    // The po-ecs-runner CLI: register, deregister, status.
    entry: 'src/cli/po-ecs-runner.ts',
    outfile: 'bin/po-ecs-runner.js',
    banner: '#!/usr/bin/env node',
    executable: true,
    // The SDK clients' ES module builds: esbuild drops the operations and models the CLI does not
    // use (their CommonJS builds are one file per client, kept whole).
    mainFields: ['module', 'main'],
  },
];

async function main() {
  for (const b of BUNDLES) {
    const entry = join(root, b.entry);
    if (!existsSync(entry)) throw new Error(`bundle entry ${b.entry} does not exist`);
    const outfile = join(root, b.outfile);
    mkdirSync(dirname(outfile), { recursive: true });
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: b.minify ?? true,
      sourcemap: false,
      legalComments: 'none',
      external: b.external ?? [],
      mainFields: b.mainFields,
      banner: b.banner ? { js: b.banner } : undefined,
      logLevel: 'warning',
      tsconfigRaw: TSCONFIG_RAW,
    });
    // writeFileSync's mode only applies to a new file; esbuild has already written this one.
    if (b.executable) chmodSync(outfile, 0o755);
    if (!process.env.CI_QUIET) console.log(`bundled ${b.entry} -> ${b.outfile} (${statSync(outfile).size} bytes)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
