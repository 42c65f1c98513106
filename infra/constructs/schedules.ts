import { Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { scheduleTargetVariable } from '../../shared/config';
import type { ScheduleTargetName } from '../../shared/topology';
import { wildcardFinding, type SatelliteFunction } from './satellite-function';

/**
 * EventBridge Scheduler: the group holding one schedule per export (created at run time by
 * the API through the scheduler port) and the role the schedules assume to invoke targets.
 */
export class SatelliteSchedules extends Construct {
  readonly group: CfnScheduleGroup;
  readonly role: Role;
  private readonly targets = new Map<ScheduleTargetName, IFunction>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.group = new CfnScheduleGroup(this, 'Group', { name: `${Stack.of(this).stackName}-schedules` });
    this.role = new Role(this, 'InvokeRole', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
  }

  /** A function schedules may invoke, by the target name the domain uses. */
  addTarget(name: ScheduleTargetName, fn: IFunction): void {
    this.targets.set(name, fn);
    // Schedules invoke the unqualified ARN, so the role needs no `:*` version wildcard (grantInvoke adds one).
    this.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
  }

  /** Lets `fn` create, update and delete schedules in the group, aimed at the registered targets. */
  grantManage(fn: SatelliteFunction): void {
    const stack = Stack.of(this);
    fn.addEnvironment('SCHEDULER_GROUP', this.group.name ?? '');
    fn.addEnvironment('SCHEDULER_ROLE_ARN', this.role.roleArn);
    for (const [name, target] of this.targets) fn.addEnvironment(scheduleTargetVariable(name), target.functionArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
        resources: [stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.name}/*` })],
      }),
    );
    fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['iam:PassRole'], resources: [this.role.roleArn] }));
    Validations.of(fn).acknowledge({
      id: wildcardFinding(stack, 'scheduler', `schedule/${this.group.name}/*`),
      reason: 'Schedules are created at run time, one per export; the wildcard is limited to the stack schedule group.',
    });
  }
}
