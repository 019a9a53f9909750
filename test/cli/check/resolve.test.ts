/**
 * The engine's template resolver with a deployed stack's physical ids, in the strict mode the live
 * check (`check --stack`) reads the deployed template with: deployed names and ARNs, the stack's
 * own pseudo parameters, and a refusal, never a placeholder, for what it cannot resolve exactly.
 * (These cases were the live check's own resolver's behaviour, which this resolver replaces.)
 */
import { UnresolvedError, resolveTemplate } from '../../../src/cli/check/resolve';

const ACCOUNT = '123456789012';
const ENV = { account: ACCOUNT, region: 'eu-central-1', partition: 'aws' };
const STACK_ID = `arn:aws:cloudformation:eu-central-1:${ACCOUNT}:stack/Deployed/abc`;
const template = {
  Parameters: { BootstrapVersion: { Type: 'String', Default: '/cdk-bootstrap/hnb659fds/version' } },
  Conditions: { Always: { 'Fn::Equals': ['a', 'a'] } },
  Resources: {
    Role: { Type: 'AWS::IAM::Role', Properties: { Path: '/runner/' } },
    Bucket: { Type: 'AWS::S3::Bucket' },
    Key: { Type: 'AWS::KMS::Key' },
    Cluster: { Type: 'AWS::ECS::Cluster' },
    Group: { Type: 'AWS::EC2::SecurityGroup' },
    Topic: { Type: 'AWS::SNS::Topic' },
    Handler: { Type: 'AWS::Lambda::Function' },
    NotDeployed: { Type: 'AWS::IAM::Role' },
  },
};
const deployed = {
  Role: 'runner-role-abc123',
  Bucket: 'state-bucket-abc123',
  Key: '11111111-2222-3333-4444-555555555555',
  Cluster: `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/jobs-abc123`,
  Group: 'sg-0123456789abcdef0',
  Topic: `arn:aws:sns:eu-central-1:${ACCOUNT}:alarms-abc123`,
  Handler: 'handler-abc123',
};
const strict = () =>
  resolveTemplate(template, ENV, deployed, { strict: true, stackName: 'Deployed', stackId: STACK_ID });

describe('with the deployed physical ids', () => {
  test('names and ARNs are the deployed ones, and lead back to their logical ids', () => {
    // GIVEN the deployed template, WHEN its references are resolved
    const t = strict();
    // THEN each is the deployed value
    expect(t.resolve({ 'Fn::GetAtt': ['Role', 'Arn'] })).toBe(`arn:aws:iam::${ACCOUNT}:role/runner/runner-role-abc123`);
    expect(t.resolve({ Ref: 'Bucket' })).toBe('state-bucket-abc123');
    expect(t.resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe('arn:aws:s3:::state-bucket-abc123');
    expect(t.resolve({ 'Fn::GetAtt': ['Key', 'Arn'] })).toBe(
      `arn:aws:kms:eu-central-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
    );
    expect(t.resolve({ 'Fn::GetAtt': ['Key', 'KeyId'] })).toBe('11111111-2222-3333-4444-555555555555');
    expect(t.resolve({ 'Fn::GetAtt': ['Cluster', 'Arn'] })).toBe(deployed.Cluster);
    expect(t.resolve({ 'Fn::GetAtt': ['Group', 'GroupId'] })).toBe('sg-0123456789abcdef0');
    expect(t.resolve({ 'Fn::GetAtt': ['Topic', 'TopicArn'] })).toBe(deployed.Topic);
    expect(t.resolve({ 'Fn::GetAtt': ['Handler', 'Arn'] })).toBe(
      `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:handler-abc123`,
    );
    expect(t.logicalIdOf(`arn:aws:iam::${ACCOUNT}:role/runner/runner-role-abc123`)).toBe('Role');
    expect(t.logicalIdOf(deployed.Cluster)).toBe('Cluster');
  });

  test('Fn::Sub, Fn::Join, Fn::Select and Fn::Split, with the stack own pseudo parameters', () => {
    const t = strict();
    expect(t.resolve({ 'Fn::Sub': '${AWS::StackName}/${AWS::Region}/${Bucket}/${Role.Arn}/${!Literal}' })).toBe(
      `Deployed/eu-central-1/state-bucket-abc123/arn:aws:iam::${ACCOUNT}:role/runner/runner-role-abc123/\${Literal}`,
    );
    expect(t.resolve({ 'Fn::Sub': ['${X}-${AWS::StackId}', { X: { Ref: 'Bucket' } }] })).toBe(
      `state-bucket-abc123-${STACK_ID}`,
    );
    expect(t.resolve({ 'Fn::Join': ['/', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::AccountId' }]] })).toBe(
      `aws/${ACCOUNT}`,
    );
    expect(t.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['-', { Ref: 'Bucket' }] }] })).toBe('bucket');
  });

  test('strict: what cannot be resolved exactly is refused, not guessed', () => {
    const t = strict();
    expect(() => t.resolve({ Ref: 'NotDeployed' })).toThrow(UnresolvedError);
    expect(() => t.resolve({ 'Fn::GetAtt': ['NotDeployed', 'Arn'] })).toThrow(/NotDeployed.*not in the deployed stack/);
    expect(() => t.resolve({ Ref: 'Missing' })).toThrow(/Ref to Missing/);
    expect(() => t.resolve({ Ref: 'BootstrapVersion' })).toThrow(/parameter BootstrapVersion/);
    expect(() => t.resolve({ 'Fn::GetAtt': ['Bucket', 'DomainName'] })).toThrow(/Fn::GetAtt Bucket.DomainName/);
    expect(() => t.resolve({ 'Fn::If': ['Always', 'a', 'b'] })).toThrow(/Fn::If/);
    expect(() => t.resolve({ 'Fn::ImportValue': 'Shared' })).toThrow(/Fn::ImportValue/);
    expect(() => t.resolve({ 'Fn::GetAZs': '' })).toThrow(/Fn::GetAZs/);
    expect(() => t.resolve({ 'Fn::FindInMap': ['M', 'a', 'b'] })).toThrow(/Fn::FindInMap/);
    expect(() => t.resolve({ 'Fn::Sub': '${AWS::NotAPseudo}' })).toThrow(UnresolvedError);
  });

  test('not strict (the offline check): placeholders and notes instead', () => {
    const t = resolveTemplate(template, ENV, deployed);
    expect(t.resolve({ Ref: 'NotDeployed' })).toBe('NotDeployed');
    expect(t.resolve({ 'Fn::If': ['Always', 'a', 'b'] })).toBe('a');
    expect(t.resolve({ Ref: 'AWS::StackName' })).toBe('Stack');
    expect(t.notes).toContain('Fn::If on condition Always: took the true branch');
  });
});
