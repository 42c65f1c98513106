import type { RouteGroup } from '../../../shared/http/openapi';
import type { Route } from '../../../shared/http/route';
import { openApiDocumentFor } from '../openapi-document';
import { accountsRoutes } from './accounts';
import { connectorsRoutes } from './connectors';
import { consoleRoutes } from './console';
import { contactsRoutes } from './contacts';
import { emailRoutes } from './email';
import { exportsRoutes } from './exports';
import { messagingRoutes } from './messaging';
import { oauthRoutes } from './oauth';
import { referenceRoutes } from './reference';
import { systemRoutes } from './system';
import { webhooksRoutes } from './webhooks';

const capabilities: RouteGroup[] = [
  { name: 'System', description: 'Version and health of the API.', routes: systemRoutes },
  { name: 'API keys', description: "The account's own API keys, each with one right (seed 004).", routes: accountsRoutes },
  { name: 'Contacts', description: 'Contacts keyed by externalCustomerId (seed 002), events, activities, orders, conditional groups.', routes: contactsRoutes },
  { name: 'Connectors', description: 'PostgreSQL and BigQuery connectors, Check connection, catalogs, external data sources (seeds 000, 003).', routes: connectorsRoutes },
  { name: 'Messaging', description: 'Email messages with Velocity, preview, smartsend, broadcasts, regular workflows and their trigger events (seed 000).', routes: messagingRoutes },
  { name: 'Exports', description: 'Data export of the eight datasets into the customer\'s warehouse (seeds 000, 003).', routes: exportsRoutes },
  { name: 'Webhooks', description: 'The account\'s activity webhook (seed 001); what it receives is under `webhooks`.', routes: webhooksRoutes },
  { name: 'OAuth', description: 'OAuth 2.0 for partner apps: the protocol endpoints, app registration, connected apps (seed 004).', routes: oauthRoutes },
  { name: 'Console', description: 'The web console\'s sign-in: a cookie session for a person, beside API keys and OAuth tokens.', routes: consoleRoutes },
  { name: 'Email', description: 'The account\'s email sender settings and suppressions; the tracking, click and unsubscribe links in sent email.', routes: emailRoutes },
];

/** Every route of the HTTP API by capability: the router's routes and the document's operations, from one list. */
export const apiRouteGroups: readonly RouteGroup[] = [
  ...capabilities,
  // The document lists the reference routes too; it is built on first request, once this list exists.
  { name: 'Reference', description: 'This document and its reference page.', routes: referenceRoutes(openApiDocumentFor(() => apiRouteGroups)) },
];

/** Every route of the HTTP API, by capability. */
export const apiRoutes: readonly Route[] = apiRouteGroups.flatMap((group) => group.routes);
