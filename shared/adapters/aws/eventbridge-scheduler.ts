import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import type { ScheduleDefinition, Scheduler } from '../../ports/scheduler';

/** One EventBridge Scheduler schedule per definition, all in the stack's schedule group. */
export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly group: string,
    private readonly roleArn: string,
    private readonly targets: Readonly<Record<string, string>>,
  ) {}

  async upsert(schedule: ScheduleDefinition): Promise<void> {
    const targetArn = this.targets[schedule.target];
    if (!targetArn) throw new Error(`no schedule target named ${schedule.target}`);
    const input: CreateScheduleCommandInput = {
      Name: schedule.name,
      GroupName: this.group,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: 'UTC',
      State: schedule.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: targetArn,
        RoleArn: this.roleArn,
        // EventBridge Scheduler delivers Input as the Lambda event; we shape it like an EventBridge event.
        Input: JSON.stringify({
          id: '<aws.scheduler.execution-id>',
          source: 'satellite.scheduler',
          'detail-type': schedule.target,
          time: '<aws.scheduler.scheduled-time>',
          detail: schedule.detail,
        }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    };
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.group }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
