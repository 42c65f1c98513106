import * as z from 'zod';
import { idPath, wholeNumberParameter } from '../../../shared/http/paging';
import { ValidationFailed } from '../../../shared/errors';
import { datasetNames } from '../../../shared/exports/datasets';
import { createExport, deleteExport, exportIntervals, getExport, listExports, updateExport, type DataExport } from '../../../shared/exports/exports';
import { listRuns, startExportRuns } from '../../../shared/exports/runs';
import { accepted, created, noContent, ok, route, type Route } from '../../../shared/http/route';
import { json, nothing, nullableTimestamp, numericId, timestamp } from '../../../shared/http/answers';

const datasetList = z.array(z.enum(datasetNames)).min(1).max(datasetNames.length);
// A PostgreSQL schema or BigQuery dataset name: identifiers are quoted when used, this only bounds them.
const schemaName = z.string().trim().min(1).max(63);

const createBody = z
  .object({
    connectorId: z.number().int().positive(),
    datasets: datasetList,
    interval: z.enum(exportIntervals).optional(),
    schema: schemaName.optional(),
    dataset: schemaName.optional(),
    paused: z.boolean().optional(),
  })
  .strict();

const updateBody = z
  .object({
    datasets: datasetList.optional(),
    interval: z.enum(exportIntervals).optional(),
    schema: schemaName.optional(),
    dataset: schemaName.optional(),
    paused: z.boolean().optional(),
  })
  .strict();

/** `schema` for PostgreSQL, `dataset` for BigQuery: the same setting under each warehouse's word. */
function targetOf(body: { schema?: string; dataset?: string }): string | undefined {
  if (body.schema !== undefined && body.dataset !== undefined) {
    throw new ValidationFailed('give schema (PostgreSQL) or dataset (BigQuery), not both', [
      { path: 'body.dataset', message: 'conflicts with schema' },
    ]);
  }
  return body.schema ?? body.dataset;
}

function view(dataExport: DataExport) {
  const { accountId: _accountId, schema, ...rest } = dataExport;
  return { ...rest, ...(dataExport.destination === 'postgres' ? { schema } : { dataset: schema }) };
}

const exportView = z.object({
  id: numericId,
  connectorId: numericId,
  destination: z.enum(['postgres', 'bigquery']),
  datasets: z.array(z.enum(datasetNames)),
  interval: z.enum(exportIntervals),
  schema: z.string().optional().meta({ description: 'PostgreSQL schema.' }),
  dataset: z.string().optional().meta({ description: 'BigQuery dataset.' }),
  paused: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const exportRunView = z.object({
  id: numericId,
  exportId: numericId,
  dataset: z.enum(datasetNames),
  trigger: z.enum(['schedule', 'manual']),
  status: z.enum(['queued', 'running', 'retrying', 'succeeded', 'failed']),
  rowsWritten: z.number().int(),
  attempts: z.number().int(),
  queuedAt: timestamp,
  startedAt: nullableTimestamp,
  finishedAt: nullableTimestamp,
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const exportsRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: '/api/v1/exports',
    access: 'settings',
    docs: {
      summary: 'Create a data export',
      description:
        "Datasets go to the connector's warehouse on the interval (BigQuery: daily); tables are created on the first run, rows then upserted by a stable key.",
      requestExample: { connectorId: 1, datasets: ['contacts', 'contactActivities'], interval: 'hourly', schema: 'satellite' },
      responses: { 201: json('The export.', exportView) },
      errors: { 404: ['CONNECTOR_NOT_FOUND'] },
    },
    body: createBody,
    handle: async ({ body, platform, principal }) => {
      const dataExport = await createExport(platform, principal.accountId, { ...body, schema: targetOf(body) });
      return created(view(dataExport));
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/exports',
    access: 'settings',
    docs: {
      summary: 'List data exports',
      responses: { 200: json('The exports.', z.array(exportView)) },
    },
    handle: async ({ platform, principal }) => ok((await listExports(platform, principal.accountId)).map(view)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/exports/{id}',
    access: 'settings',
    docs: {
      summary: 'Get a data export',
      responses: { 200: json('The export.', exportView) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ params, platform, principal }) => ok(view(await getExport(platform.db, principal.accountId, params.id))),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/exports/{id}',
    access: 'settings',
    docs: {
      summary: 'Change a data export',
      responses: { 200: json('The export.', exportView) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    body: updateBody,
    handle: async ({ params, body, platform, principal }) => {
      const { dataset: _dataset, ...changes } = body;
      return ok(view(await updateExport(platform, principal.accountId, params.id, { ...changes, schema: targetOf(body) })));
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/exports/{id}/pause',
    access: 'settings',
    docs: {
      summary: 'Pause a data export',
      responses: { 200: json('The export, paused.', exportView) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ params, platform, principal }) => ok(view(await updateExport(platform, principal.accountId, params.id, { paused: true }))),
  }),
  route({
    method: 'POST',
    path: '/api/v1/exports/{id}/resume',
    access: 'settings',
    docs: {
      summary: 'Resume a data export',
      responses: { 200: json('The export, running on its interval again.', exportView) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ params, platform, principal }) => ok(view(await updateExport(platform, principal.accountId, params.id, { paused: false }))),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/exports/{id}',
    access: 'settings',
    docs: {
      summary: 'Delete a data export',
      description: 'Its schedule goes too; the tables already written stay in the warehouse.',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ params, platform, principal }) => {
      await deleteExport(platform, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/exports/{id}/run',
    access: 'settings',
    docs: {
      summary: 'Run a data export now',
      description: 'One run per dataset; a dataset whose run is under way keeps that one.',
      responses: { 202: json('The runs now active.', z.object({ runs: z.array(exportRunView) })) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ params, platform, principal }) => accepted({ runs: await startExportRuns(platform, principal.accountId, params.id, 'manual') }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/exports/{id}/runs',
    access: 'settings',
    docs: {
      summary: "A data export's run history",
      responses: { 200: json('The latest runs, newest first.', z.array(exportRunView)) },
      errors: { 404: ['EXPORT_NOT_FOUND'] },
    },
    params: idPath,
    query: z.object({ limit: wholeNumberParameter(1, 500).default(100) }).strict(),
    handle: async ({ params, query, platform, principal }) => ok(await listRuns(platform, principal.accountId, params.id, query.limit)),
  }),
];
