/**
 * Bundled in place of `@aws-sdk/client-sesv2` into functions that send no email
 * (SatelliteFunction's `uses`). Reaching it anyway is a wiring mistake, and says so.
 */
class AbsentSes {
  constructor() {
    throw new Error('@aws-sdk/client-sesv2 is not bundled into this function: declare `uses: { email: true }` on its SatelliteFunction');
  }
}

export class SESv2Client extends AbsentSes {}
export class SendEmailCommand extends AbsentSes {}
