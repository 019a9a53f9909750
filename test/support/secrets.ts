import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

let counter = 0;

/**
 * A job secret from an ARN string, as a user writes it: `ecs.Secret.fromSecretsManager` of
 * `Secret.fromSecretCompleteArn` for a Secrets Manager ARN, `ecs.Secret.fromSsmParameter` of the
 * parameter for an SSM ARN.
 */
export function secretFromArn(scope: Construct, arn: string): ecs.Secret {
  const id = `JobSecret${counter++}`;
  const ssmArn = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(arn);
  if (ssmArn) {
    return ecs.Secret.fromSsmParameter(
      ssm.StringParameter.fromStringParameterAttributes(scope, id, { parameterName: ssmArn[1] }),
    );
  }
  return ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn));
}

/**
 * A job secret of any `valueFrom`, without a scope (for generated configurations): reads like a
 * secret of that ARN and grants what ECS needs on it.
 */
export function rawSecret(arn: string): ecs.Secret {
  return {
    arn,
    hasField: false,
    grantRead: (grantee: iam.IGrantable) =>
      iam.Grant.addToPrincipal({
        grantee,
        actions: arn.includes(':ssm:') ? ['ssm:GetParameters'] : ['secretsmanager:GetSecretValue'],
        resourceArns: [arn],
      }),
  };
}
