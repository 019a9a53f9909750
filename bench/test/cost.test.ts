/**
 * The cost model (bench/cost.ts) against synthesized templates: each line's quantity is what the
 * template holds, counted here with aws-cdk-lib's assertions, times the price of prices.json.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { buildApp as basicApp } from '../../examples/basic/app';
import { buildApp as productionApp } from '../../examples/complete-production/app';
import { jobCost, monthlyCost, PRICES, USAGE } from '../cost';
import PRICE_LIST from '../prices.json';
import { synthScale } from '../scale';

/** The example's app with its cdk.json context; CDK's template validation off (it checks templates, the model reads them). */
const appProps = (example: string) => ({
  context: JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', example, 'cdk.json'), 'utf8')).context,
  builtinCloudFormationValidation: false,
});
const templateOf = (app: App) => Template.fromJSON(app.synth().stacks[0].template);
const count = (t: Template, type: string) => Object.keys(t.findResources(type)).length;
const line = (cost: ReturnType<typeof monthlyCost>, item: string) => cost.lines.find((l) => l.item.startsWith(item));

describe('monthlyCost of examples/complete-production', () => {
  // GIVEN the example's synthesized template
  const template = templateOf(productionApp(new App(appProps('complete-production'))));
  // WHEN it is priced
  const cost = monthlyCost(template.toJSON());

  test('prices each key, alarm and dashboard the template holds', () => {
    for (const [item, type, price] of [
      ['KMS customer managed keys', 'AWS::KMS::Key', PRICES.kmsKeyMonth],
      ['CloudWatch alarm metrics', 'AWS::CloudWatch::Alarm', PRICES.alarmMetricMonth],
      ['CloudWatch dashboards', 'AWS::CloudWatch::Dashboard', PRICES.dashboardMonth],
    ] as const) {
      expect(count(template, type)).toBeGreaterThan(0);
      expect(line(cost, item)).toMatchObject({ quantity: count(template, type) });
      expect(line(cost, item)!.monthlyUsd).toBeCloseTo(count(template, type) * price.usd, 10);
    }
  });

  test('counts the API token the registration reads once, and stores the usage of each bucket', () => {
    const registrations = template.findResources('Custom::PlatformOrchestratorRunner');
    const tokens = new Set(Object.values(registrations).map((r) => r.Properties.TokenSecretArn));
    expect(line(cost, 'Secrets Manager secret')!.quantity).toBe(tokens.size);
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    const logging = buckets.filter((b) => b.Properties.LoggingConfiguration);
    const replicated = buckets.filter((b) => b.Properties.ReplicationConfiguration);
    expect(logging.length).toBeGreaterThan(0);
    expect(replicated.length).toBeGreaterThan(0);
    // the access-logs bucket holds logs, every other one state
    expect(line(cost, 'S3 Standard: state')!.quantity).toBe((buckets.length - 1) * USAGE.stateGb);
    expect(line(cost, 'S3 Standard: access logs')!.quantity).toBeCloseTo(logging.length * USAGE.accessLogsGb, 10);
    expect(line(cost, 'S3 Standard-IA: state replicas')!.monthlyUsd).toBeCloseTo(
      replicated.length * USAGE.stateGb * PRICES.s3StandardIaGbMonth.usd,
      10,
    );
  });

  test('the total is the sum of its lines', () => {
    expect(cost.totalUsd).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.quantity * PRICES[l.price].usd, 0),
      10,
    );
  });
});

test('examples/basic costs only the storage of its usage', () => {
  const cost = monthlyCost(templateOf(basicApp(new App(appProps('basic')))).toJSON());
  expect(cost.lines.map((l) => [l.item, l.quantity])).toEqual([
    [`S3 Standard: state, ${USAGE.stateGb} GB each`, USAGE.stateGb],
    [`S3 Standard: access logs, ${USAGE.accessLogsGb} GB each`, USAGE.accessLogsGb],
  ]);
});

test("each production runner adds its key and alarms; the dashboard and the token are the stack's", () => {
  const [one, two] = [1, 2].map((n) => monthlyCost(synthScale('production', n).template));
  expect(line(two, 'KMS')!.quantity).toBe(2 * line(one, 'KMS')!.quantity);
  expect(line(two, 'CloudWatch alarm metrics')!.quantity).toBe(2 * line(one, 'CloudWatch alarm metrics')!.quantity);
  expect(line(two, 'CloudWatch dashboards')!.quantity).toBe(1);
  expect(line(two, 'Secrets Manager secret')!.quantity).toBe(1);
});

test('a resource type the model does not know, and a high-resolution alarm, are errors rather than free', () => {
  expect(() => monthlyCost({ Resources: { Nat: { Type: 'AWS::EC2::NatGateway' } } })).toThrow(
    'no price and not free while idle: AWS::EC2::NatGateway',
  );
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Alarms');
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Jobs' });
  new cloudwatch.Alarm(stack, 'Fast', {
    metric: metric.with({ period: Duration.seconds(10) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  expect(() => monthlyCost(Template.fromStack(stack).toJSON())).toThrow(/high resolution/);
});

test("a job of the orchestrator's size is billed per second, at least a minute, at the Fargate prices", () => {
  const perMinute = (0.5 * PRICES.fargateVcpuHour.usd + 1 * PRICES.fargateGbHour.usd) / 60;
  expect(jobCost({ vcpu: 0.5, memoryGb: 1, minutes: 5 })).toBeCloseTo(5 * perMinute, 12);
  expect(jobCost({ vcpu: 0.5, memoryGb: 1, minutes: 0.25 })).toBeCloseTo(perMinute, 12);
});

test('every price names its AWS pricing page and the day it was looked up', () => {
  for (const p of Object.values(PRICE_LIST.prices)) {
    expect(p.source).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z0-9-]+\/pricing\/$/);
    expect(p.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(p.usd).toBeGreaterThan(0);
  }
});
