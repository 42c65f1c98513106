// Entry of the separate bundle `node_modules/@aws-sdk/client-scheduler/index.js` (SatelliteFunction's `optionalPackages`).
export * from '@aws-sdk/client-scheduler';
