import { AppError, Conflict, NotFound, ValidationFailed } from '../errors';

export class WebhookNotSet extends NotFound {
  constructor() {
    super('webhook', 'WEBHOOK_NOT_SET');
  }
}

export class WebhookUrlRefused extends ValidationFailed {
  constructor(message: string, code: string) {
    super(message, [{ path: 'body.url', message }], code);
  }
}

/** The verification GET did not answer 2xx: the setting is refused and nothing is saved. */
export class WebhookVerificationFailed extends AppError {
  constructor(code: string, message: string) {
    super('unprocessable', code, message);
  }
}

export class WebhookNotSuspended extends Conflict {
  constructor() {
    super('the webhook is active; only a suspended webhook can be resumed', 'WEBHOOK_NOT_SUSPENDED');
  }
}

export class ActivitiesNotFound extends NotFound {
  constructor(ids: readonly number[]) {
    super(`activities ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}`, 'ACTIVITY_NOT_FOUND');
  }
}
