import { Fn, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { AppFunctionNetwork } from './app-function.ts';

export interface ProbeNetworkProps {
  /** The VPC the ECS tasks' private IPs are reachable from. */
  readonly vpcId: string;
  /** Private subnets (with a route to DynamoDB: NAT gateway or a DynamoDB gateway endpoint). */
  readonly subnetIds: readonly string[];
  /**
   * @default - one security group is created, allowing all outbound traffic; let it in on the tasks' REST port
   */
  readonly securityGroupIds?: readonly string[];
}

/**
 * Where the probing functions run so they can reach private task IPs. Imported by id, with no
 * lookup, so `cdk synth` stays offline.
 */
export class ProbeNetwork extends Construct implements AppFunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
  /** The security group created here, if none was given: allow it in on the tasks' security groups. */
  readonly createdSecurityGroup: ec2.SecurityGroup | undefined;

  constructor(scope: Construct, id: string, props: ProbeNetworkProps) {
    super(scope, id);
    if (props.subnetIds.length === 0) {
      throw new Error(
        `ProbeNetwork for ${props.vpcId} got no subnetIds: name the private subnets the functions run in.`,
      );
    }
    // Only the id matters: subnets are given explicitly, never selected by type, so neither the
    // AZ list nor the subnets' route tables are needed (and synth needs no lookup).
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: Fn.getAzs() });
    Validations.of(this.vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      reason: 'Subnets are passed explicitly; nothing selects subnets of this VPC by AZ.',
    });
    this.vpcSubnets = {
      subnets: props.subnetIds.map((subnetId, index) => {
        const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${index}`, subnetId);
        Validations.of(subnet).acknowledge({
          id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason: 'Only the subnet id is used (Lambda VpcConfig); its route table is not read.',
        });
        return subnet;
      }),
    };
    const given = props.securityGroupIds ?? [];
    if (given.length > 0) {
      this.createdSecurityGroup = undefined;
      this.securityGroups = given.map((sgId, index) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${index}`, sgId, { mutable: false }),
      );
    } else {
      this.createdSecurityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: 'tf-serving-registry probing functions: outbound to TF Serving tasks and AWS APIs',
        allowAllOutbound: true,
      });
      this.securityGroups = [this.createdSecurityGroup];
    }
  }
}
