/**
 * The runner profiles of the scale app (scripts/bench/apps/scale-app.ts). `basic` and
 * `production` are the profiles of section 2; the others take features away from `production` to
 * measure what each adds to synth: `hardened` has neither registration nor monitoring,
 * `registered` adds the registration, `monitored` the monitoring.
 */
export type ScaleProfile = 'basic' | 'hardened' | 'registered' | 'monitored' | 'production';

export const SCALE_PROFILES: readonly ScaleProfile[] = ['basic', 'hardened', 'registered', 'monitored', 'production'];
