/**
 * `npm run compliance`: synthesizes the compliance profiles with the five rule sets and writes
 * docs/COMPLIANCE.md. The compliance test renders the same document and fails when the
 * committed file differs, so run this after any change that adds, fixes or acknowledges a
 * finding, and commit the result.
 */
import * as fs from 'fs';
import * as path from 'path';
import { countFindings, openFindings, runCompliance } from '../test/support/compliance';
import { COMPLIANCE_DOC, renderComplianceMarkdown } from '../test/support/compliance-report';
import { allProfiles } from '../test/support/profiles';

function main(): void {
  const profiles = allProfiles();
  const results = profiles.map((p) => runCompliance(p));
  fs.mkdirSync(path.dirname(COMPLIANCE_DOC), { recursive: true });
  fs.writeFileSync(COMPLIANCE_DOC, renderComplianceMarkdown(profiles, results));
  console.log(`wrote ${path.relative(process.cwd(), COMPLIANCE_DOC)}`);
  for (const r of results) {
    const counts = r.ruleSets
      .map((rs) => {
        const c = countFindings(rs);
        return `${rs.ruleSet.id} ${c.total}/${c.acknowledged}/${c.open}`;
      })
      .join(', ');
    console.log(`  ${r.profile} (findings/acknowledged/open): ${counts}; ${openFindings(r).length} open`);
  }
}

main();
