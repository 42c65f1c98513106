import type { PlatformConfig } from '../config';
import type { ChannelRoute, EmailChannel, EmailChannels } from '../ports/email-channel';
import type { Scheduler } from '../ports/scheduler';
import type { TextChannel } from '../ports/text-channel';
import type { Tracing } from '../ports/tracing';

/*
 * Adapters whose packages are imported on first use rather than at module load. Each AWS SDK
 * client costs 15-20 ms of a cold start and nodemailer about as much, and most functions never
 * send an email or an SMS nor manage a schedule: only the invocation that does pays the import.
 */

/** `load` once; a failed load is tried again by the next caller rather than remembered. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}

function localEndpoint(endpoint: string | undefined) {
  return endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {};
}

/** SES through one client, SMTP through pooled transports per relay; both created on first send. */
export function emailChannelsOnFirstUse(config: PlatformConfig, tracing: Tracing): EmailChannels {
  let smtpOpened = false;
  const smtp = once(async () => {
    const { SmtpChannels } = await import('./smtp/smtp-channel.js');
    smtpOpened = true;
    return new SmtpChannels();
  });
  const ses = once(async () => {
    const [{ SESv2Client }, { SesChannel }] = await Promise.all([import('@aws-sdk/client-sesv2'), import('./aws/ses-channel.js')]);
    return new SesChannel(
      tracing.instrumentAwsClient(new SESv2Client({ region: config.region, ...localEndpoint(config.email.sesEndpoint) })),
      config.email.sesConfigurationSet,
    );
  });
  return {
    open: (route: ChannelRoute): EmailChannel => {
      const channel = once(async () => (route.kind === 'smtp' ? (await smtp()).open(route) : ses()));
      return { send: async (email) => (await channel()).send(email) };
    },
    close: async () => {
      if (smtpOpened) await (await smtp()).close();
    },
  };
}

/** SMS through AWS End User Messaging (the local sink speaks its wire format), its client created on first send. */
export function smsChannelOnFirstUse(config: PlatformConfig, tracing: Tracing): TextChannel {
  const channel = once(async () => {
    const [{ PinpointSMSVoiceV2Client }, { EndUserMessagingSmsChannel }] = await Promise.all([
      import('@aws-sdk/client-pinpoint-sms-voice-v2'),
      import('./aws/end-user-messaging-sms-channel.js'),
    ]);
    return new EndUserMessagingSmsChannel(
      tracing.instrumentAwsClient(
        new PinpointSMSVoiceV2Client({
          region: config.region,
          // One try per hand-over: the texts queue retries with its own spaced backoff.
          maxAttempts: 1,
          ...localEndpoint(config.text.smsEndpoint),
        }),
      ),
      config.text.smsConfigurationSet,
    );
  });
  return { send: async (message) => (await channel()).send(message) };
}

/** EventBridge Scheduler in the stack's group, its client created on the first change of a schedule. */
export function eventBridgeSchedulerOnFirstUse(config: PlatformConfig, group: string, roleArn: string, tracing: Tracing): Scheduler {
  const scheduler = once(async () => {
    const [{ SchedulerClient }, { EventBridgeScheduler }] = await Promise.all([
      import('@aws-sdk/client-scheduler'),
      import('./aws/eventbridge-scheduler.js'),
    ]);
    return new EventBridgeScheduler(
      tracing.instrumentAwsClient(new SchedulerClient({ region: config.region })),
      group,
      roleArn,
      config.schedulerTargets,
    );
  });
  return {
    upsert: async (schedule) => (await scheduler()).upsert(schedule),
    delete: async (name) => (await scheduler()).delete(name),
  };
}
