/**
 * Bundled in place of `@aws-sdk/client-pinpoint-sms-voice-v2` into functions that send no SMS
 * (SatelliteFunction's `uses`). Reaching it anyway is a wiring mistake, and says so.
 */
class AbsentSms {
  constructor() {
    throw new Error(
      '@aws-sdk/client-pinpoint-sms-voice-v2 is not bundled into this function: declare `uses: { sms: true }` on its SatelliteFunction',
    );
  }
}

export class PinpointSMSVoiceV2Client extends AbsentSms {}
export class SendTextMessageCommand extends AbsentSms {}
