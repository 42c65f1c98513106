import { z } from 'zod';
import { idParameter, idPath, wholeNumberParameter } from '../../../shared/http/paging';
import { listColumns, listDatasets, listTables, MAX_PAGE_SIZE } from '../../../shared/connectors/catalog';
import { getConnector } from '../../../shared/connectors/connector';
import { createConnector, deleteConnector, listConnectors, updateConnector, viewOf } from '../../../shared/connectors/connector-store';
import { connectorCheckInput, connectorInput, connectorUpdate } from '../../../shared/connectors/settings';
import { checkConnectorSettings, checkSavedConnector } from '../../../shared/connectors/validation';
import { created, noContent, ok, route, type Route } from '../../../shared/http/route';
import { connectorValidationPaths } from '../../../shared/topology';
import { createSource, deleteSource, getSource, legacyId, listSources, sourceName, updateSource } from '../../../shared/sources/sources';

const catalogName = z.string().min(1).max(1024);
const page = z.object({
  limit: wholeNumberParameter(1, MAX_PAGE_SIZE).default(100),
  pageToken: z.string().max(1024).optional(),
}).strict();

/**
 * "Check connection", before and after saving. In AWS these two routes are served by their own
 * Lambda (functions/validate-connector) behind the same HTTP API; locally the API serves them.
 */
export const connectorValidationRoutes: readonly Route[] = [
  route({
    method: 'POST',
    path: connectorValidationPaths.unsaved,
    access: 'settings',
    body: connectorCheckInput,
    handle: async ({ platform, body }) => ok(await checkConnectorSettings(platform, body)),
  }),
  route({
    method: 'POST',
    path: connectorValidationPaths.saved,
    access: 'settings',
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
    body: connectorInput,
    handle: async ({ platform, principal, body }) => created(await createConnector(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors',
    access: 'settings',
    handle: async ({ platform, principal }) => ok({ connectors: await listConnectors(platform, principal.accountId) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(viewOf(await getConnector(platform.db, principal.accountId, params.id))),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
    params: idPath,
    body: connectorUpdate,
    handle: async ({ platform, principal, params, body }) => ok(await updateConnector(platform, principal.accountId, params.id, body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/connectors/{id}',
    access: 'settings',
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
    body: z.object({ connectorId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), dataset: catalogName, table: catalogName, name: sourceName, legacyId: legacyId.optional() }).strict(),
    handle: async ({ platform, principal, body }) => created(await createSource(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/datasources',
    access: 'settings',
    query: z.object({ connectorId: idParameter.optional() }).strict(),
    handle: async ({ platform, principal, query }) => ok({ datasources: await listSources(platform.db, principal.accountId, query.connectorId) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/datasources/{id}',
    access: 'settings',
    params: idPath,
    handle: async ({ platform, principal, params }) => ok(await getSource(platform.db, principal.accountId, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/datasources/{id}',
    access: 'settings',
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
    params: idPath,
    query: z.object({ force: z.enum(['true', 'false']).default('false') }).strict(),
    handle: async ({ platform, principal, params, query }) => {
      await deleteSource(platform, principal.accountId, params.id, query.force === 'true');
      return noContent();
    },
  }),
];
