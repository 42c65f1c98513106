import type { RouteGroup } from '../../../shared/http/openapi';
import type { Route } from '../../../shared/http/route';
import { openApiDocumentFor } from '../openapi-document';
import { accountsRoutes } from './accounts';
import { connectorsRoutes } from './connectors';
import { consoleRoutes } from './console';
import { accountInfoRoutes } from './account-info';
import { contactListsRoutes } from './contact-lists';
import { contactsRoutes } from './contacts';
import { emailRoutes } from './email';
import { exportsRoutes } from './exports';
import { instantMessagesRoutes } from './instant-messages';
import { messagingRoutes } from './messaging';
import { oauthRoutes } from './oauth';
import { referenceRoutes } from './reference';
import { pastEventsRoutes } from './past-events';
import { systemRoutes } from './system';
import { textMessagesRoutes } from './text-messages';
import { webhooksRoutes } from './webhooks';

const capabilities: RouteGroup[] = [
  { name: 'System', description: 'Version and health of the API.', routes: systemRoutes },
  { name: 'API keys', description: "The account's own API keys, each with one right (seed 004).", routes: accountsRoutes },
  {
    name: 'Contacts',
    description: 'Contacts keyed by externalCustomerId (seed 002), events, activities, orders, conditional groups.',
    routes: contactsRoutes,
  },
  {
    name: 'Connectors',
    description: 'PostgreSQL and BigQuery connectors, Check connection, catalogs, external data sources (seeds 000, 003).',
    routes: connectorsRoutes,
  },
  {
    name: 'Messaging',
    description: 'Email messages with Velocity, preview, smartsend, broadcasts, regular workflows and their trigger events (seed 000).',
    routes: messagingRoutes,
  },
  { name: 'Exports', description: "Data export of the eight datasets into the customer's warehouse (seeds 000, 003).", routes: exportsRoutes },
  { name: 'Webhooks', description: "The account's activity webhook (seed 001); what it receives is under `webhooks`.", routes: webhooksRoutes },
  {
    name: 'OAuth',
    description: 'OAuth 2.0 for partner apps: the protocol endpoints, app registration, connected apps (seed 004).',
    routes: oauthRoutes,
  },
  {
    name: 'Console',
    description: "The web console's sign-in: a cookie session for a person, beside API keys and OAuth tokens.",
    routes: consoleRoutes,
  },
  {
    name: 'Email',
    description: "The account's email sender settings and suppressions; the tracking, click and unsubscribe links in sent email.",
    routes: emailRoutes,
  },
  {
    name: 'Account',
    description: "The account's info, balance, address books, subscription categories, interfaces and interactions (seed 004's general methods).",
    routes: accountInfoRoutes,
  },
  {
    name: 'Contact lists',
    description: 'Lookup by email, subscriptions, the unsubscribed list, static group detach, file uploads (seed 004).',
    routes: contactListsRoutes,
  },
  { name: 'Past events', description: 'Events recorded at their own times, without launching workflows (seed 004).', routes: pastEventsRoutes },
  {
    name: 'Instant messages',
    description: 'Instant email, the older prepared send, message status and language versions, web-view links (seed 004).',
    routes: instantMessagesRoutes,
  },
  {
    name: 'SMS and Viber',
    description: 'SMS and Viber messages, sender interfaces, instant sends and their status (seed 004).',
    routes: textMessagesRoutes,
  },
];

/** Every route of the HTTP API by capability: the router's routes and the document's operations, from one list. */
export const apiRouteGroups: readonly RouteGroup[] = [
  ...capabilities,
  // The document lists the reference routes too; it is built on first request, once this list exists.
  { name: 'Reference', description: 'This document and its reference page.', routes: referenceRoutes(openApiDocumentFor(() => apiRouteGroups)) },
];

/** Every route of the HTTP API, by capability. */
export const apiRoutes: readonly Route[] = apiRouteGroups.flatMap((group) => group.routes);
