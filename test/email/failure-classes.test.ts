import { refusedSend } from '../../shared/adapters/aws/refused-send';
import { SES_REFUSALS } from '../../shared/adapters/aws/ses-channel';
import { SMS_REFUSALS } from '../../shared/adapters/aws/end-user-messaging-sms-channel';
import { classifySmtpFailure } from '../../shared/adapters/smtp/smtp-channel';

/** What a refused send means: a hard bounce (suppress), a failure for good, a retry, or a slow-down. */
describe('SMTP answers', () => {
  it.each([
    [
      { responseCode: 550, response: '550 5.1.1 user unknown', command: 'RCPT TO' },
      { permanent: true, recipientRejected: true, throttled: false },
    ],
    [
      { responseCode: 554, response: '554 5.7.1 message refused as spam', command: 'DATA' },
      { permanent: true, recipientRejected: true, throttled: false },
    ],
    // The sender's address refused: not the recipient's fault.
    [
      { responseCode: 553, response: '553 5.7.1 sender not allowed', command: 'MAIL FROM' },
      { permanent: true, recipientRejected: false, throttled: false },
    ],
    // A wrong password or an unreachable relay: fixed in the settings, then retried.
    [
      { responseCode: 535, response: '535 5.7.8 authentication failed', command: 'AUTH PLAIN' },
      { permanent: false, recipientRejected: false, throttled: false },
    ],
    [
      { code: 'ECONNECTION', message: 'connect ECONNREFUSED', command: 'CONN' },
      { permanent: false, recipientRejected: false, throttled: false },
    ],
    [
      { responseCode: 451, response: '451 4.3.0 try later', command: 'RCPT TO' },
      { permanent: false, recipientRejected: false, throttled: false },
    ],
    [
      { responseCode: 454, response: '454 4.7.0 slow down', command: 'RCPT TO' },
      { permanent: false, recipientRejected: false, throttled: true },
    ],
    [
      { responseCode: 421, response: '421 4.7.0 too many connections', command: 'CONN' },
      { permanent: false, recipientRejected: false, throttled: true },
    ],
  ])('%o → %o', (error, expected) => {
    expect(classifySmtpFailure(error)).toMatchObject({ kind: 'rejected', ...expected });
  });
});

describe('SES API errors', () => {
  it.each([
    [
      { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } },
      { permanent: false, throttled: true },
    ],
    [
      { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } },
      { permanent: false, throttled: true },
    ],
    [
      { name: 'MessageRejected', $metadata: { httpStatusCode: 400 } },
      { permanent: true, throttled: false },
    ],
    [
      { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } },
      { permanent: false, throttled: false },
    ],
  ])('%o → %o', (error, expected) => {
    expect(refusedSend(error, SES_REFUSALS)).toMatchObject({ kind: 'rejected', recipientRejected: false, ...expected });
  });
});

describe('AWS End User Messaging SMS refusals', () => {
  it.each([
    [
      { name: 'ValidationException', message: 'not a valid destination' },
      { permanent: true, recipientRejected: true, throttled: false },
    ],
    [
      { name: 'ThrottlingException', message: 'rate exceeded' },
      { permanent: false, recipientRejected: false, throttled: true },
    ],
    [
      { name: 'ServiceQuotaExceededException', message: 'spend limit' },
      { permanent: false, recipientRejected: false, throttled: true },
    ],
    [
      { name: 'InternalServerException', $metadata: { httpStatusCode: 429 } },
      { permanent: false, recipientRejected: false, throttled: true },
    ],
    [
      { name: 'InternalServerException', message: 'try again' },
      { permanent: false, recipientRejected: false, throttled: false },
    ],
  ])('%o → %o', (error, expected) => {
    expect(refusedSend(error, SMS_REFUSALS)).toMatchObject({ kind: 'rejected', ...expected });
  });
});
