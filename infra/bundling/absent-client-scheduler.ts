/**
 * Bundled in place of `@aws-sdk/client-scheduler` into functions that manage no schedules
 * (SatelliteFunction's `uses`). Reaching it anyway is a wiring mistake, and says so.
 */
class AbsentScheduler {
  constructor() {
    throw new Error('@aws-sdk/client-scheduler is not bundled into this function: declare `uses: { scheduler: true }` on its SatelliteFunction');
  }
}

export class SchedulerClient extends AbsentScheduler {}
export class CreateScheduleCommand extends AbsentScheduler {}
export class UpdateScheduleCommand extends AbsentScheduler {}
export class DeleteScheduleCommand extends AbsentScheduler {}
export class ConflictException extends AbsentScheduler {}
export class ResourceNotFoundException extends AbsentScheduler {}
