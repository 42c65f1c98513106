/**
 * Bundled in place of `@google-cloud/bigquery` into functions that never talk to BigQuery
 * (SatelliteFunction's `uses`): the package is about half a megabyte and 60 ms of module load.
 * Reaching it anyway is a wiring mistake, and says so.
 */
export class BigQuery {
  constructor() {
    throw new Error('@google-cloud/bigquery is not bundled into this function: declare `uses: { bigQuery: true }` on its SatelliteFunction');
  }
}
