// Entry of the separate bundle `node_modules/@aws-lambda-powertools/tracer/index.js` (SatelliteFunction's `tracerPackage`).
export * from '@aws-lambda-powertools/tracer';
