import { readFileSync } from 'fs';
import {
  ARCHITECTURE_DOC,
  REGENERATE,
  TemplateLike,
  basicTemplate,
  extractSection,
  references,
  renderMermaid,
  renderSection,
  replaceSection,
} from '../../scripts/diagram';

describe('the generated diagram of docs/ARCHITECTURE.md', () => {
  test('equals a fresh rendering of the synthesized examples/basic template', () => {
    const { stackName, template } = basicTemplate();
    const committed = extractSection(readFileSync(ARCHITECTURE_DOC, 'utf8'));
    const fresh = renderSection(stackName, template);
    if (committed !== fresh) {
      throw new Error(`docs/ARCHITECTURE.md is stale: run ${REGENERATE} and commit the result`);
    }
    expect(committed).toBe(fresh);
  });

  test('finds Ref, Fn::GetAtt (both forms) and Fn::Sub references to resources only', () => {
    const resources = new Set(['Bucket', 'Role', 'Key']);
    const found = references(
      {
        A: { Ref: 'Bucket' },
        B: { 'Fn::GetAtt': ['Role', 'Arn'] },
        C: { 'Fn::GetAtt': 'Key.Arn' },
        D: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/*' },
        E: { 'Fn::Sub': ['${Local}-${Role.RoleId}-${!Literal}', { Local: { Ref: 'AWS::Region' } }] },
        F: { Ref: 'AWS::AccountId' },
        G: { Ref: 'NotAResource' },
      },
      resources,
    );
    expect(Object.fromEntries([...found].map(([id, kinds]) => [id, [...kinds].sort()]))).toEqual({
      Bucket: ['Ref'],
      Role: ['Arn', 'RoleId'],
      Key: ['Arn'],
    });
  });

  test('renders grouped nodes, outputs and labelled edges in a stable order', () => {
    const path = (p: string) => ({ 'aws:cdk:path': `S/${p}` });
    const template: TemplateLike = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Metadata: path('Runner/Roles/Role/Resource') },
        Policy: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: { Roles: [{ Ref: 'Role' }], Doc: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
          Metadata: path('Runner/Roles/Policy/Resource'),
        },
        Bucket: { Type: 'AWS::S3::Bucket', Metadata: path('Runner/State/Bucket/Resource') },
        Provider: { Type: 'AWS::IAM::OIDCProvider', Metadata: path('Provider/Resource') },
      },
      Outputs: { Body: { Value: { 'Fn::Join': ['', [{ Ref: 'Bucket' }, { 'Fn::GetAtt': ['Role', 'Arn'] }]] } } },
    };
    expect(renderMermaid('S', template).split('\n')).toEqual([
      'flowchart LR',
      '  subgraph group_Runner["Runner"]',
      '    Policy["Runner/Roles/Policy<br/>AWS::IAM::ManagedPolicy"]',
      '    Role["Runner/Roles/Role<br/>AWS::IAM::Role"]',
      '    Bucket["Runner/State/Bucket<br/>AWS::S3::Bucket"]',
      '  end',
      '  Provider["Provider<br/>AWS::IAM::OIDCProvider"]',
      '  output_Body(["Output Body"])',
      '  Policy -->|Ref| Role',
      '  Policy -->|Arn| Bucket',
      '  output_Body -->|Arn| Role',
      '  output_Body -->|Ref| Bucket',
    ]);
  });

  test('replaces only the text between the markers', () => {
    const doc = 'before\n<!-- BEGIN GENERATED -->\nold\n<!-- END GENERATED -->\nafter\n';
    const updated = replaceSection(doc, '\nnew\n');
    expect(updated).toBe('before\n<!-- BEGIN GENERATED -->\nnew\n<!-- END GENERATED -->\nafter\n');
    expect(extractSection(updated)).toBe('\nnew\n');
    expect(() => extractSection('no markers')).toThrow(/not found/);
  });
});
