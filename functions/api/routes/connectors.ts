import * as z from 'zod';
import { idParameter, idPath, wholeNumberParameter } from '../../../shared/http/paging';
import { listColumns, listDatasets, listTables, MAX_PAGE_SIZE } from '../../../shared/connectors/catalog';
import { getConnector } from '../../../shared/connectors/connector';
import { createConnector, deleteConnector, listConnectors, updateConnector, viewOf } from '../../../shared/connectors/connector-store';
import { connectorCheckInput, connectorInput, connectorUpdate } from '../../../shared/connectors/settings';
import { checkConnectorSettings, checkSavedConnector, checkWarningCodes } from '../../../shared/connectors/validation';
import { created, noContent, ok, route, type Route } from '../../../shared/http/route';
import { connectorValidationPaths } from '../../../shared/topology';
import { createSource, deleteSource, getSource, legacyId, listSources, sourceName, updateSource } from '../../../shared/sources/sources';
import { connectorErrorCodes } from '../../../shared/connectors/errors';
import { json, nothing, numericId, timestamp } from '../../../shared/http/answers';

const catalogName = z.string().min(1).max(1024);
const page = z
  .object({
    limit: wholeNumberParameter(1, MAX_PAGE_SIZE).default(100),
    pageToken: z.string().max(1024).optional(),
  })
  .strict();

const checkWarning = z.object({ code: z.enum(checkWarningCodes), message: z.string() });
const connectorCheck = z.discriminatedUnion('kind', [
  z.object({
    ok: z.literal(true),
    kind: z.literal('postgres'),
    serverVersion: z.string(),
    latencyMs: z.number(),
    ssl: z.boolean(),
    privileges: z.object({ read: z.boolean(), readableTables: z.number().int(), export: z.boolean() }),
    warnings: z.array(checkWarning),
  }),
  z.object({
    ok: z.literal(true),
    kind: z.literal('bigquery'),
    projectId: z.string(),
    clientEmail: z.string(),
    latencyMs: z.number(),
    datasets: z.number().int(),
    warnings: z.array(checkWarning),
  }),
]);
const connectorView = z.object({
  id: numericId,
  kind: z.enum(['postgres', 'bigquery']),
  name: z.string(),
  uniqueKey: z.object({ column: z.string(), contactField: z.string() }),
  postgres: z
    .object({
      host: z.string(),
      port: z.number().int(),
      database: z.string(),
      user: z.string(),
      sslMode: z.string(),
      schema: z.string().meta({ description: 'The schema exports write to and data sources browse first (`public` unless set).' }),
      caCertificate: z.string().optional(),
    })
    .optional(),
  bigquery: z.object({ projectId: z.string(), clientEmail: z.string(), location: z.string().optional() }).optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const sourceView = z.looseObject({
  id: numericId,
  connectorId: numericId,
  name: z.string(),
  dataset: z.string(),
  table: z.string(),
  legacyId: numericId.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

/**
 * "Check connection", before and after saving. In AWS these two routes are served by their own
 * Lambda (functions/validate-connector) behind the same HTTP API; locally the API serves them.
 */
export const connectorValidationRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: connectorValidationPaths.unsaved,
    access: 'settings',
    docs: {
      summary: 'Check connection (before saving)',
      description:
        'Connects and runs a test query with the given settings. Each failure has its own code; a connection without SSL passes with a NOT_SSL warning, a `schema` the database lacks (or the role may not use) with SCHEMA_NOT_FOUND.',
      requestExample: {
        kind: 'postgres',
        host: 'db.example.com',
        database: 'shop',
        user: 'satellite_reader',
        password: 'secret',
        sslMode: 'require',
      },
      responses: { 200: json('The connection works.', connectorCheck) },
      errors: { 422: [...connectorErrorCodes] },
    },
    body: connectorCheckInput,
    handle: async ({ platform, body }) => ok(await checkConnectorSettings(platform, body)),
  }),
  route({
    method: 'POST',
    path: connectorValidationPaths.saved,
    access: 'settings',
    docs: {
      summary: 'Check connection (a saved connector)',
      responses: { 200: json('The connection works.', connectorCheck) },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 422: [...connectorErrorCodes] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await checkSavedConnector(platform, principal.accountId, params.id)),
  }),
];

export const connectorsRoutes: readonly Route[] = [
  ...connectorValidationRoutes,
  route({
    method: 'POST',
    path: '/api/v1/connectors',
    access: 'settings',
    docs: {
      summary: 'Save a connector',
      description:
        'PostgreSQL (port defaults to 5432) or BigQuery (a service-account key). The password or key goes to the secrets store and never comes back.',
      responses: { 201: json('The connector, without its credential.', connectorView) },
    },
    body: connectorInput,
    handle: async ({ platform, principal, body }) => created(await createConnector(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors',
    access: 'settings',
    docs: {
      summary: 'List connectors',
      responses: { 200: json('The connectors.', z.object({ connectors: z.array(connectorView) })) },
    },
    handle: async ({ platform, principal }) => ok({ connectors: await listConnectors(platform, principal.accountId) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
    docs: {
      summary: 'Get a connector',
      responses: { 200: json('The connector, without its credential.', connectorView) },
      errors: { 404: ['CONNECTOR_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(viewOf(await getConnector(platform.db, principal.accountId, params.id))),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
    docs: {
      summary: 'Change a connector',
      responses: { 200: json('The connector.', connectorView) },
      errors: { 404: ['CONNECTOR_NOT_FOUND'] },
    },
    params: idPath,
    body: connectorUpdate,
    handle: async ({ platform, principal, params, body }) => ok(await updateConnector(platform, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
    docs: {
      summary: 'Delete a connector',
      responses: { 204: nothing('Deleted, with its secret.') },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 409: ['CONNECTOR_IN_USE'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => {
      await deleteConnector(platform, principal.accountId, params.id);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors/{id}/datasets',
    access: 'settings',
    docs: {
      summary: "A connector's datasets (schemas)",
      responses: {
        200: json('One page of datasets.', z.object({ datasets: z.array(z.object({ name: z.string() })), nextPageToken: z.string().optional() })),
      },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 422: [...connectorErrorCodes] },
    },
    params: idPath,
    query: page,
    handle: async ({ platform, principal, params, query }) => {
      const connector = await getConnector(platform.db, principal.accountId, params.id);
      const { items, nextPageToken } = await listDatasets(platform, connector, query);
      return ok({ datasets: items, ...(nextPageToken ? { nextPageToken } : {}) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors/{id}/datasets/{dataset}/tables',
    access: 'settings',
    docs: {
      summary: "A dataset's tables",
      responses: {
        200: json(
          'One page of tables.',
          z.object({ tables: z.array(z.object({ name: z.string(), type: z.string() })), nextPageToken: z.string().optional() }),
        ),
      },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 422: [...connectorErrorCodes] },
    },
    params: idPath.extend({ dataset: catalogName }),
    query: page,
    handle: async ({ platform, principal, params, query }) => {
      const connector = await getConnector(platform.db, principal.accountId, params.id);
      const { items, nextPageToken } = await listTables(platform, connector, params.dataset, query);
      return ok({ tables: items, ...(nextPageToken ? { nextPageToken } : {}) });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors/{id}/datasets/{dataset}/tables/{table}/columns',
    access: 'settings',
    docs: {
      summary: "A table's columns",
      responses: {
        200: json('The columns.', z.object({ columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean() })) })),
      },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 422: [...connectorErrorCodes] },
    },
    params: idPath.extend({ dataset: catalogName, table: catalogName }),
    handle: async ({ platform, principal, params }) => {
      const connector = await getConnector(platform.db, principal.accountId, params.id);
      return ok({ columns: await listColumns(platform, connector, params.dataset, params.table) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/datasources',
    access: 'settings',
    docs: {
      summary: 'Save an external data source',
      description: 'A table of a connector, under a name templates use (`$data.<name>`); it gets a numeric id (triggered messages use `$data.<id>`).',
      requestExample: { connectorId: 1, dataset: 'public', table: 'promo_codes', name: 'promo_codes' },
      responses: { 201: json('The data source.', sourceView) },
      errors: { 404: ['CONNECTOR_NOT_FOUND'], 409: ['SOURCE_NAME_TAKEN'] },
    },
    body: z
      .object({
        connectorId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        dataset: catalogName,
        table: catalogName,
        name: sourceName,
        legacyId: legacyId.optional(),
      })
      .strict(),
    handle: async ({ platform, principal, body }) => created(await createSource(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/datasources',
    access: 'settings',
    docs: {
      summary: 'List data sources',
      responses: { 200: json('The data sources.', z.object({ datasources: z.array(sourceView) })) },
    },
    query: z.object({ connectorId: idParameter.optional() }).strict(),
    handle: async ({ platform, principal, query }) => ok({ datasources: await listSources(platform.db, principal.accountId, query.connectorId) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/datasources/{id}',
    access: 'settings',
    docs: {
      summary: 'Get a data source',
      responses: { 200: json('The data source.', sourceView) },
      errors: { 404: ['SOURCE_NOT_FOUND'] },
    },
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await getSource(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/datasources/{id}',
    access: 'settings',
    docs: {
      summary: 'Rename a data source',
      responses: { 200: json('The data source.', sourceView) },
      errors: { 404: ['SOURCE_NOT_FOUND'], 409: ['SOURCE_NAME_TAKEN', 'SOURCE_IN_USE'] },
    },
    params: idPath,
    body: z
      .object({ name: sourceName.optional(), legacyId: legacyId.nullable().optional() })
      .strict()
      .refine((changes) => changes.name !== undefined || changes.legacyId !== undefined, 'give name or legacyId'),
    handle: async ({ platform, principal, params, body }) => ok(await updateSource(platform, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/datasources/{id}',
    access: 'settings',
    docs: {
      summary: 'Delete a data source',
      description: 'Refused while a segment, message or workflow uses it, unless `force=true`.',
      responses: { 204: nothing('Deleted.') },
      errors: { 404: ['SOURCE_NOT_FOUND'], 409: ['SOURCE_IN_USE'] },
    },
    params: idPath,
    query: z.object({ force: z.enum(['true', 'false']).default('false') }).strict(),
    handle: async ({ platform, principal, params, query }) => {
      await deleteSource(platform, principal.accountId, params.id, query.force === 'true');
      return noContent();
    },
  }),
];
