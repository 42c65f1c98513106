import { nextRetryDelaySeconds, retrySchedule } from '../../shared/webhooks/backoff';
import { activityPayload, type ActivityRow } from '../../shared/webhooks/payload';

describe('nextRetryDelaySeconds', () => {
  const middle = () => 0.5;
  it('follows 1, 2, 4, 8, 16, 32 and then 60 base units', () => {
    expect(Array.from({ length: 9 }, (_, index) => nextRetryDelaySeconds(index + 1, 60, middle) / 60)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });
  it('jitters by at most 10 % either way', () => {
    expect(nextRetryDelaySeconds(7, 60, () => 0)).toBe(3240);
    expect(nextRetryDelaySeconds(7, 60, () => 1)).toBe(3960);
  });
  it('retries at once with a zero base and stays within SQS’s 12-hour visibility limit', () => {
    expect(nextRetryDelaySeconds(3, 0, middle)).toBe(0);
    expect(nextRetryDelaySeconds(50, 3600, middle)).toBe(43_200);
  });
});

describe('retrySchedule', () => {
  it('is the schedule nextRetryDelaySeconds follows, before jitter, as the API shows it', () => {
    for (const base of [1, 60, 3600]) {
      const schedule = retrySchedule(base);
      const unjittered = (failures: number) => nextRetryDelaySeconds(failures, base, () => 0.5);
      expect(schedule.delaysSeconds.map((_, index) => unjittered(index + 1))).toEqual(schedule.delaysSeconds);
      expect(unjittered(schedule.delaysSeconds.length + 1)).toBe(schedule.thenEverySeconds);
      expect(unjittered(schedule.delaysSeconds.length + 5)).toBe(schedule.thenEverySeconds);
      expect(nextRetryDelaySeconds(1, base, () => 1)).toBe(Math.round(schedule.delaysSeconds[0]! * (1 + schedule.jitterRatio)));
    }
  });
});

describe('activityPayload presence rules', () => {
  const row = (overrides: Partial<ActivityRow>): ActivityRow => ({
    id: 1,
    contact_id: 5,
    iid: 'i',
    activity_status: 'DELIVERED',
    media_type: 'email',
    occurred_at: new Date('2024-01-02T03:04:05.678Z'),
    external_customer_id: null,
    email: 'a@b.c',
    sms: null,
    viber: null,
    mobilepush: null,
    webpush: null,
    message_id: 9,
    message_instance_id: null,
    message_name: null,
    message_tags: null,
    message_url: null,
    broadcast_id: null,
    click_event_link: 'https://x.example/l',
    status_description: 'should not show',
    hard_bounce: true,
    source_event_id: null,
    source_event_key: null,
    source_event_type_id: null,
    source_event_type_key: null,
    workflow_id: null,
    workflow_block_id: null,
    workflow_instance_id: null,
    subscriptions: null,
    status_data: {},
    ...overrides,
  });

  it('leaves out what does not apply instead of sending null', () => {
    expect(activityPayload(row({}))).toEqual({
      iid: 'i',
      contactId: 5,
      email: 'a@b.c',
      mediaType: 'email',
      activityStatus: 'DELIVERED',
      messageId: 9,
      activityDateTime: '2024-01-02T03:04:05',
      statusData: {},
    });
  });
  it('sends clickEventLink only for CLICKED', () => {
    expect(activityPayload(row({ activity_status: 'CLICKED' })).clickEventLink).toBe('https://x.example/l');
  });
  it('sends hardBounce and statusDescription only for UNDELIVERED', () => {
    expect(activityPayload(row({ activity_status: 'UNDELIVERED' }))).toMatchObject({ hardBounce: true, statusDescription: 'should not show' });
    expect(activityPayload(row({ activity_status: 'UNDELIVERED', hard_bounce: null, status_description: null }))).toMatchObject({
      hardBounce: false,
    });
    expect(activityPayload(row({ activity_status: 'UNDELIVERED', status_description: null }))).not.toHaveProperty('statusDescription');
  });
  it('writes every key in the order of the seed’s examples, whatever is absent', () => {
    const full = row({
      activity_status: 'UNDELIVERED',
      media_type: 'Web Push',
      external_customer_id: 'x',
      sms: '1',
      viber: '2',
      mobilepush: '3',
      webpush: '4',
      message_instance_id: 7,
      message_name: 'n',
      message_tags: 't',
      message_url: 'u',
      broadcast_id: 8,
      source_event_id: 10,
      source_event_key: 'k',
      source_event_type_id: 11,
      source_event_type_key: 'tk',
      workflow_id: 12,
      workflow_block_id: 'b',
      workflow_instance_id: 'wi',
      subscriptions: ['s'],
      status_data: { a: 1 },
    });
    expect(Object.keys(activityPayload(full))).toEqual([
      'broadcastId',
      'messageName',
      'workflowId',
      'workflowBlockId',
      'sourceEventId',
      'sourceEventKey',
      'sourceEventTypeId',
      'sourceEventTypeKey',
      'workflowInstanceId',
      'hardBounce',
      'iid',
      'contactId',
      'externalCustomerId',
      'email',
      'sms',
      'viber',
      'mobilepush',
      'webpush',
      'mediaType',
      'activityStatus',
      'messageId',
      'messageInstanceId',
      'messageTag',
      'activityDateTime',
      'statusDescription',
      'viewMessageLink',
      'subscriptons',
      'statusData',
    ]);
    expect(activityPayload(full).mediaType).toBe('webpush');
    expect(Object.keys(activityPayload(row({ activity_status: 'CLICKED' })))).toEqual([
      'iid',
      'contactId',
      'email',
      'mediaType',
      'activityStatus',
      'messageId',
      'activityDateTime',
      'clickEventLink',
      'statusData',
    ]);
  });
  it('sends subscription category keys under the seed’s name', () => {
    expect(activityPayload(row({ activity_status: 'SUBSCRIPTION_CHANGED', subscriptions: ['news', 'sale'] })).subscriptons).toEqual(['news', 'sale']);
  });
});
