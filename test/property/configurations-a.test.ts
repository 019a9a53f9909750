import { checkConfigurations } from './configurations';

/** Half of the property's runs; the other half is in configurations-b.test.ts (a second jest worker). */
const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);

describe('property: any configuration synthesizes a schema-valid body or fails with the library error', () => {
  test(`${RUNS} random and hostile configurations (a)`, () => {
    // GIVEN random and hostile props WHEN a runner is built and synthesized THEN see configurations.ts
    const { synthesized, rejected } = checkConfigurations(RUNS);
    // The generators must exercise both outcomes substantially, or the property proves little.
    expect(synthesized).toBeGreaterThan(RUNS * 0.1);
    expect(rejected).toBeGreaterThan(RUNS * 0.1);
    console.log(`property (a): ${synthesized} synthesized, ${rejected} rejected by validation`);
  });
});
