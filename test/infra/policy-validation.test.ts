import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { LOCALSTACK_CONTEXT } from '../../localstack/settings.ts';
import { buildStack, VPC_CONTEXT } from './synth.ts';

/**
 * cfn-guard's Control Tower proactive controls (`@cdklabs/cdk-validator-cfnguard`) run at every
 * synth beside cdk-nag. This file reads the validation report synth writes to `cdk.out` and holds
 * it to no finding that is not acknowledged, in every configuration, each acknowledgment with its
 * reason; and shows on a bare stack that the plugin does report what it finds.
 */

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: 'success' | 'failure';
  readonly violations: readonly { ruleName: string; violatingResources: unknown[] }[];
  readonly suppressedViolations?: readonly { ruleName: string; reason?: string }[];
}

const CFN_GUARD = 'cdk-validator-cfnguard';

function guardReport(outdir: string): PluginReport | undefined {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  return report.pluginReports.find((plugin) => plugin.pluginName === CFN_GUARD);
}

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  default: {},
  VPC: VPC_CONTEXT,
  'VPC, IAM auth off, alarm e-mail': { ...VPC_CONTEXT, API_AUTH: 'none', ALARM_EMAIL: 'ops@example.com' },
  LocalStack: LOCALSTACK_CONTEXT,
  'HTTP API': { API_KIND: 'http' },
  'HTTP API, VPC, IAM auth off': { ...VPC_CONTEXT, API_KIND: 'http', API_AUTH: 'none' },
};

describe('cfn-guard Control Tower rules', () => {
  it.each(Object.entries(CONFIGURATIONS))('find nothing unacknowledged in the %s stack', (_, context) => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'tfsr-guard-'));
    const { app } = buildStack(context, { outdir });

    // Act
    app.synth();

    // Assess
    const report = guardReport(outdir);
    expect(report?.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report?.conclusion).toBe('success');
    for (const suppressed of report?.suppressedViolations ?? []) {
      expect(suppressed.reason, suppressed.ruleName).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it('report what they find: a log group with a short retention and no key, on a bare stack', () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'tfsr-guard-'));
    const app = new App({ outdir });
    new CfnLogGroup(new Stack(app, 'Control'), 'Logs', { retentionInDays: 7 });
    Validations.of(app).addPlugins(new CfnGuardValidator());

    // Act
    try {
      app.synth();
    } catch {
      // A failing validation may also stop synth; the report is written either way.
    }

    // Assess
    const rules = guardReport(outdir)?.violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(
      expect.arrayContaining([
        'cloudwatch_log_group_retention_period_check',
        'cloudwatch_log_group_encrypted_check',
      ]),
    );
  });
});
