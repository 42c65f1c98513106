// Entry of the separate bundle `node_modules/@aws-sdk/client-sesv2/index.js` (SatelliteFunction's `optionalPackages`).
export * from '@aws-sdk/client-sesv2';
