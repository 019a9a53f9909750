import { App, AppProps } from 'aws-cdk-lib';
import { countFindings, openFindings, runCompliance } from './compliance';

/**
 * A few lines for `npm run synth`: per rule set, the findings before acknowledgement, how many
 * are acknowledged (with a reason in the construct) and how many are open.
 */
export function complianceSummaryLines(name: string, build: (props: AppProps) => App): string[] {
  const result = runCompliance({ name, description: name, build });
  const width = Math.max(...result.ruleSets.map((rs) => rs.ruleSet.title.length));
  const rows = result.ruleSets.map((rs) => {
    const { total, acknowledged, open } = countFindings(rs);
    return `  ${rs.ruleSet.title.padEnd(width)} ${String(total).padStart(3)} findings, ${String(acknowledged).padStart(3)} acknowledged, ${String(open).padStart(3)} open`;
  });
  const open = openFindings(result);
  const rules = [
    ...new Set(open.map((f) => f.ruleId.replace(/^[^-]+-(?=[A-Z])/, '').replace(/^cdk-validator-cfnguard::/, ''))),
  ].sort();
  return [
    `Compliance of ${name} (cdk-nag v3 packs and the AWS Control Tower proactive controls; details in docs/COMPLIANCE.md):`,
    ...rows,
    open.length === 0
      ? '  No open findings.'
      : `  ${open.length} open finding(s) of ${rules.length} rule(s): ${rules.join(', ')}.\n` +
        '  The production profile (a KMS key, replication, ...) closes them: see docs/COMPLIANCE.md and examples/complete-production.',
  ];
}
