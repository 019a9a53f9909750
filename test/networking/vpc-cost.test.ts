/**
 * The README's cost of the VPC a runner creates is computed, not typed: the billable resources are
 * counted in the synthesized template and priced with the list prices below (per month of 730 hours).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner, RunnerNetwork } from 'platform-orchestrator-ecs-runner';
import { newStack } from '../support/stacks';

const HOURS = 730;
/** Assumed usage a month. */
const NAT_GB = 10;
const FLOW_LOG_GB = 1;

/**
 * List prices (USD), looked up 2026-12-01: NAT gateway hour and GB processed (Amazon VPC pricing),
 * public IPv4 address hour, CloudWatch Logs vended-log ingestion (first 10 TB) and storage per GB-month.
 */
const PRICES = {
  'us-east-1': { natHour: 0.045, natGb: 0.045, ipv4Hour: 0.005, logsIngestGb: 0.5, logsStoreGb: 0.03 },
  'eu-central-1': { natHour: 0.052, natGb: 0.052, ipv4Hour: 0.005, logsIngestGb: 0.63, logsStoreGb: 0.0324 },
};
type Region = keyof typeof PRICES;

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The README's cost rows, by item, as [us-east-1, eu-central-1]. */
function readmeTable(): Map<string, string[]> {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /<!-- vpc-cost:begin -->\n([\s\S]*?)<!-- vpc-cost:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no vpc-cost table');
  const rows = block[1]
    .trim()
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/\*\*/g, '')),
    );
  return new Map(rows.map(([item, ...prices]) => [item, prices]));
}

/** Count the billable resources in the template of a runner with `natGateways`, and price them. */
function monthly(natGateways: number, region: Region) {
  const stack = newStack({ env: { account: '123456789012', region } });
  new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    runnerId: 'cost',
    network: RunnerNetwork.createVpc({ natGateways }),
  });
  const template = Template.fromStack(stack);
  const nats = Object.keys(template.findResources('AWS::EC2::NatGateway')).length;
  const ips = Object.keys(template.findResources('AWS::EC2::EIP')).length;
  const flowLogs = Object.keys(template.findResources('AWS::EC2::FlowLog')).length;
  // Nothing else of the VPC is billed by the hour: no endpoints, no VPN, no transit gateway.
  for (const type of ['AWS::EC2::VPCEndpoint', 'AWS::EC2::VPNGateway', 'AWS::EC2::TransitGateway']) {
    template.resourceCountIs(type, 0);
  }
  const p = PRICES[region];
  const rows = {
    nat: nats * HOURS * p.natHour,
    ipv4: ips * HOURS * p.ipv4Hour,
    data: NAT_GB * p.natGb,
    ingest: flowLogs * FLOW_LOG_GB * p.logsIngestGb,
    store: flowLogs * FLOW_LOG_GB * p.logsStoreGb,
  };
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  return { nats, ips, flowLogs, rows, total };
}

describe('the monthly cost of the created VPC in the README', () => {
  const table = readmeTable();
  const regions: Region[] = ['us-east-1', 'eu-central-1'];

  test.each(regions.map((r, i) => [r, i] as const))(
    '%s: each row and the totals match the template',
    (region, column) => {
      // GIVEN / WHEN the default runner (one NAT gateway) and one with two
      const one = monthly(1, region);
      const two = monthly(2, region);

      // THEN the template has what the rows price
      expect([one.nats, one.ips, one.flowLogs]).toEqual([1, 1, 1]);
      expect([two.nats, two.ips]).toEqual([2, 2]);
      // AND the README's numbers are the computed ones
      const cell = (item: string) => table.get(item)?.[column];
      expect(cell('NAT gateway, 730 hours')).toBe(usd(one.rows.nat));
      expect(cell('its public IPv4 address, 730 hours')).toBe(usd(one.rows.ipv4));
      expect(cell(`NAT data processing, ${NAT_GB} GB`)).toBe(usd(one.rows.data));
      expect(cell(`flow logs ingestion, ${FLOW_LOG_GB} GB`)).toBe(usd(one.rows.ingest));
      expect(cell(`flow logs storage, ${FLOW_LOG_GB} GB`)).toBe(usd(one.rows.store));
      expect(cell('one NAT gateway')).toBe(usd(one.total));
      expect(cell('`natGateways: 2`')).toBe(usd(two.total));
    },
  );
});
