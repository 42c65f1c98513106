// Entry of the separate bundle `node_modules/@google-cloud/bigquery/index.js` (SatelliteFunction's `optionalPackages`).
// Named, not `export *`: the main bundle keeps `import()` of an external package native, and
// Node finds a CommonJS file's named exports only when esbuild can list them (BigQuery's own
// files are CommonJS, whose names `export *` cannot see).
export { BigQuery } from '@google-cloud/bigquery';
