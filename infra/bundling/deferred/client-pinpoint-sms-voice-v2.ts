// Entry of the separate bundle `node_modules/@aws-sdk/client-pinpoint-sms-voice-v2/index.js` (SatelliteFunction's `optionalPackages`).
export * from '@aws-sdk/client-pinpoint-sms-voice-v2';
