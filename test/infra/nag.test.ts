import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { validationSummary } from '../../infra/aws/registry-app.ts';
import { LOCALSTACK_CONTEXT } from '../../localstack/settings.ts';
import { buildStack, VPC_CONTEXT } from './synth.ts';

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  default: {},
  'VPC, created security group': VPC_CONTEXT,
  'VPC, given security groups, configured clusters': {
    ...VPC_CONTEXT,
    SECURITY_GROUP_IDS: ['sg-0123456789abcdef0'],
    CLUSTER_ARNS: ['arn:aws:ecs:eu-west-1:123456789012:cluster/ml'],
  },
  LocalStack: LOCALSTACK_CONTEXT,
  'HTTP API': { API_KIND: 'http' },
  'HTTP API, IAM auth off': { API_KIND: 'http', API_AUTH: 'none' },
};

/** Rules acknowledged somewhere in the stack, each for a stated reason (see the constructs). */
const ACKNOWLEDGEABLE = new Set([
  'AwsSolutions-APIG3', // no WAF by default
  'AwsSolutions-APIG4', // only with API_AUTH=none (REST and HTTP API)
  'AwsSolutions-APIG6', // execution logs off, access logs on
  'AwsSolutions-COG4', // IAM authorization, not Cognito
  'AwsSolutions-IAM4', // API Gateway's account logging role
  'AwsSolutions-IAM5', // ECS/EC2 reads, Lambda ENI and X-Ray actions without resource-level permissions
  'AwsSolutions-L1', // runtime pinned to nodejs22.x
  'AwsSolutions-SQS3', // the DLQ is itself a DLQ
]);

const ACKNOWLEDGED = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;

interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgmentsOf(construct: IConstruct): Acknowledgment[] {
  return construct.node.metadata
    .filter((entry) => entry.type === ACKNOWLEDGED)
    .flatMap((entry) =>
      Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
        path: construct.node.path,
        id,
        reason,
      })),
    );
}

/** The AwsSolutions findings of the synthesized template with no acknowledgment at all. */
function rawFindings(template: object): { rule: string; logicalId: string }[] {
  const file = join(mkdtempSync(join(tmpdir(), 'tfsr-nag-')), 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const bare = new Stack(new App(), 'Bare');
  new CfnInclude(bare, 'Template', { templateFile: file });
  return new AwsSolutionsChecks().validateScope(bare).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      logicalId: String(resource.constructPath?.split('/').pop()),
    })),
  );
}

describe('cdk-nag AwsSolutions', () => {
  describe.each(Object.entries(CONFIGURATIONS))('%s', (_name, context) => {
    const { stack, template } = buildStack(context);

    it('reports no finding that is not acknowledged', () => {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('leaves no unacknowledged warning or error from CDK itself', () => {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    });

    it('acknowledges each finding on the construct it concerns, with a reason, and nothing more', () => {
      const findings = rawFindings(template.toJSON());
      const acknowledgments = stack.node.findAll().flatMap(acknowledgmentsOf);
      const nagAcknowledgments = acknowledgments.filter((ack) =>
        /^(Annotation::)?AwsSolutions-/.test(ack.id),
      );

      for (const ack of acknowledgments) {
        expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(30);
      }
      for (const ack of nagAcknowledgments) {
        expect(ACKNOWLEDGEABLE, `${ack.path} ${ack.id}`).toContain(
          ack.id.replace(/^Annotation::/, '').replace(/\[.*$/, ''),
        );
      }

      const cfnByLogicalId = new Map(
        stack.node
          .findAll()
          .filter((node): node is CfnResource => node instanceof CfnResource)
          .map((cfn) => [stack.resolve(cfn.logicalId) as string, cfn]),
      );
      const used = new Set<Acknowledgment>();
      for (const finding of findings) {
        const resource = cfnByLogicalId.get(finding.logicalId);
        expect(resource, finding.logicalId).toBeDefined();
        const covering = nagAcknowledgments.filter(
          (ack) =>
            ack.id.replace(/^Annotation::/, '') === finding.rule &&
            (resource?.node.path === ack.path || resource?.node.path.startsWith(`${ack.path}/`)),
        );
        expect(covering, `${finding.rule} on ${resource?.node.path}`).not.toEqual([]);
        for (const ack of covering) used.add(ack);
      }
      const stale = nagAcknowledgments.filter((ack) => !used.has(ack)).map((ack) => `${ack.path} ${ack.id}`);
      expect(stale).toEqual([]);
    });
  });

  it('runs as a synth validation plugin and stops synth on a finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Control');
    new CfnQueue(stack, 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  it("says in synth's output that it ran, counting the acknowledged findings", () => {
    // Prepare
    const { app, stack } = buildStack();
    app.synth();

    // Act
    const summary = validationSummary(app);

    // Assess
    const acknowledged = stack.node.findAll().flatMap(acknowledgmentsOf);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(summary).toBe(
      `policy validation passed (cdk-nag AwsSolutions, cfn-guard Control Tower rules): no unacknowledged findings (${acknowledged.length} acknowledged, ${new Set(acknowledged.map((a) => a.id)).size} rules, each with its reason in the template metadata)`,
    );
  });
});
