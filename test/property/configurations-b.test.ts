import { propertyTests } from './configurations';

/** Half of the property's runs, with its own seeds; the other half is configurations-a.test.ts (a second jest worker). */
propertyTests('b', { plausible: 1503, hostile: 1504 });
