import { propertyTests } from './configurations';

/** Half of the property's runs, with its own seeds; the other half is configurations-b.test.ts (a second jest worker). */
propertyTests('a', { plausible: 1501, hostile: 1502 });
