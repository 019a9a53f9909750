import * as path from 'path';

/** The repository root. */
export const ROOT = path.join(__dirname, '..', '..');
/** Scratch space of the benchmarks (ignored by git). */
export const BENCH_DIR = path.join(ROOT, '.bench');
/** Where `compileApps` writes the apps as plain JavaScript. */
export const APP_DIR = path.join(BENCH_DIR, 'app');
/** Cloud assemblies of the benchmark runs. */
export const OUT_DIR = path.join(BENCH_DIR, 'out');

/** The example whose synth time is measured against an empty app (issue 6). */
export const COMPLETE_PRODUCTION_EXAMPLE = 'examples/complete-production/app.ts';
/** The basic profile. */
export const BASIC_EXAMPLE = 'examples/basic/app.ts';
/** The registration handler bundle (`npm run bundle`). */
export const HANDLER_BUNDLE = 'assets/registration-handler/index.js';
/** The report. */
export const REPORT = 'docs/BENCHMARKS.md';
