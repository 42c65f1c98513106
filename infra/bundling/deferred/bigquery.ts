// Entry of the separate bundle `node_modules/@google-cloud/bigquery/index.js` (SatelliteFunction's `optionalPackages`).
export * from '@google-cloud/bigquery';
