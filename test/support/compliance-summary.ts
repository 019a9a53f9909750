import { App, AppProps } from 'aws-cdk-lib';
import { countFindings, runCompliance } from './compliance';

/**
 * A few lines for `npm run synth`: per rule set, the findings before acknowledgement, how many
 * are acknowledged (with a reason in the construct) and how many are open.
 */
export function complianceSummaryLines(name: string, build: (props: AppProps) => App): string[] {
  const result = runCompliance({ name, description: name, build });
  const rows = result.ruleSets.map((rs) => {
    const { total, acknowledged, open } = countFindings(rs);
    return `  ${rs.ruleSet.title.padEnd(34)} ${String(total).padStart(3)} findings, ${String(acknowledged).padStart(3)} acknowledged, ${String(open).padStart(3)} open`;
  });
  const open = rows.length === 0 ? 0 : result.ruleSets.reduce((n, rs) => n + countFindings(rs).open, 0);
  return [
    `Compliance of ${name} (cdk-nag v3 packs and the AWS Control Tower proactive controls; details in docs/COMPLIANCE.md):`,
    ...rows,
    open === 0
      ? '  No open findings.'
      : `  ${open} OPEN finding(s): run npm run compliance and read docs/COMPLIANCE.md.`,
  ];
}
