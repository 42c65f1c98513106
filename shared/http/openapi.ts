import * as z from 'zod';
import { methodGroups, openToApps, rights, rightsOpen, type MethodGroup } from '../accounts/rights';
import { scopeDescriptions } from '../oauth/scopes';
import type { Access, ResponseSpec, Route } from './route';

/** The routes of one capability: a tag of the document. */
export interface RouteGroup {
  readonly name: string;
  readonly description: string;
  readonly routes: readonly Route[];
}

export interface DocumentSettings {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  /** Where the API answers; the OAuth flow's URLs are under it too. */
  readonly serverUrl: string;
  readonly groups: readonly RouteGroup[];
  /** Requests Satellite sends to the customer (OpenAPI 3.1 `webhooks`). */
  readonly webhooks?: Readonly<Record<string, WebhookSpec>>;
}

/** A request Satellite makes to a URL the customer gave it. */
export interface WebhookSpec {
  readonly method: 'GET' | 'POST';
  readonly summary: string;
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: z.ZodType }>>;
  readonly body?: z.ZodType;
  readonly example?: unknown;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Operation>> };
export interface Operation {
  readonly operationId: string;
  readonly responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
  readonly [key: string]: unknown;
}

/** The one error body every route answers with (the OAuth token endpoints excepted: RFC 6749 shape). */
export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.string().meta({ description: 'Machine-readable, stable: branch on this.', examples: ['VALIDATION_FAILED'] }),
        message: z.string().meta({ description: 'For people; may change.' }),
        details: z
          .array(z.object({ path: z.string().optional(), message: z.string() }))
          .optional()
          .meta({ description: 'Which fields were refused, for VALIDATION_FAILED (at most 20).' }),
      })
      .strict(),
  })
  .strict()
  .meta({ title: 'Error' });

/**
 * Schemas a recursive zod schema needs (`$defs`): in an OpenAPI document a `#/$defs/…`
 * reference would resolve against the document's root, so they move to components.
 * Set while one document is built.
 */
let hoisted: Record<string, JsonSchema> | undefined;

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses) of a zod schema, as a request (input) or an answer (output) has it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, $defs, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  if (!$defs) return json;
  if (!hoisted) throw new Error('a recursive schema needs a document to hold its definitions');
  // A request's and an answer's version of one schema can differ (defaults, transforms): each keeps its own name.
  const names: Record<string, string> = {};
  for (const key of Object.keys($defs)) {
    const base = key.startsWith('__schema') ? `Schema${Object.keys(hoisted).length}` : key;
    names[key] = io === 'input' ? `${base}Input` : base;
  }
  const relink = (value: unknown): JsonSchema =>
    JSON.parse(
      JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_match, key: string) => JSON.stringify(`#/components/schemas/${names[key] ?? key}`)),
    ) as JsonSchema;
  for (const [key, definition] of Object.entries($defs as Record<string, JsonSchema>)) {
    const name = names[key]!;
    const linked = relink(definition);
    if (hoisted[name] && JSON.stringify(hoisted[name]) !== JSON.stringify(linked)) throw new Error(`two different schemas are named ${name}`);
    hoisted[name] = linked;
  }
  return relink(json);
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** Errors any route may answer, by what it accepts and who may call it; a route adds its own. */
function sharedErrors(route: Route): Record<number, string[]> {
  const errors: Record<number, string[]> = {};
  const add = (status: number, ...codes: string[]) => {
    errors[status] = [...new Set([...(errors[status] ?? []), ...codes])];
  };
  if (route.params || route.query || route.body) add(400, 'VALIDATION_FAILED');
  if (route.body && route.bodyFormat === 'json') add(400, 'BODY_REQUIRED', 'MALFORMED_JSON');
  if (route.body && route.bodyFormat !== 'raw') add(415, 'UNSUPPORTED_MEDIA_TYPE');
  if (route.body || route.bodyFormat === 'raw') add(413, 'PAYLOAD_TOO_LARGE');
  if (route.access !== 'public') {
    add(401, 'UNAUTHORIZED', 'INVALID_TOKEN');
    add(403, 'INSUFFICIENT_SCOPE');
    if (!openToApps(route.access)) add(403, 'API_KEY_REQUIRED');
    add(429, 'RATE_LIMITED');
  }
  for (const [status, codes] of Object.entries(route.docs?.errors ?? {})) add(Number(status), ...(codes ?? []));
  return errors;
}

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'The request was refused: a parameter, a field or the body breaks its rule (the details name which).',
  401: 'No credentials, or they are not valid (an unknown or revoked API key, an expired access token).',
  403: 'The credentials are valid but lack the right (scope) this method group needs.',
  404: 'Not found in this account.',
  409: 'Conflicts with the current state.',
  410: 'Gone.',
  413: 'The body is larger than the API accepts.',
  415: 'The body is not in the media type this route reads.',
  422: 'Understood but cannot be done as asked.',
  429: 'Past the per-account rate; retry after the seconds in `Retry-After`.',
  502: "A system Satellite called on the account's behalf failed.",
  503: 'Temporarily unavailable; retry later.',
};

function errorResponse(status: number, codes: readonly string[]): Operation['responses'][string] {
  return {
    description: `${ERROR_DESCRIPTIONS[status] ?? 'Refused.'} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
    ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } } } : {}),
    content: {
      'application/json': {
        schema: ERROR_REF,
        examples: Object.fromEntries(codes.map((code) => [code, { value: { error: { code, message: exampleMessage(code) } } }])),
      },
    },
  } as Operation['responses'][string];
}

function exampleMessage(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

function successResponse(spec: ResponseSpec): Operation['responses'][string] {
  const contentType = spec.contentType ?? 'application/json';
  const headers = spec.headers
    ? Object.fromEntries(
        Object.entries(spec.headers).map(([name, header]) => [
          name,
          { description: header.description, schema: jsonSchemaOf(header.schema, 'output') },
        ]),
      )
    : undefined;
  const hasContent = spec.schema !== undefined || spec.contentType !== undefined;
  return {
    description: spec.description,
    ...(headers ? { headers } : {}),
    ...(hasContent
      ? {
          content: {
            [contentType]: {
              ...(spec.schema ? { schema: jsonSchemaOf(spec.schema, 'output') } : {}),
              ...(spec.example !== undefined ? { example: spec.example } : {}),
            },
          },
        }
      : {}),
  };
}

/** The OAuth scopes (API key rights) any of which opens a method group. */
export function rightsOpening(group: MethodGroup): string[] {
  return rights.filter((right) => rightsOpen([right], group));
}

function securityOf(access: Access): Record<string, string[]>[] {
  if (access === 'public') return [];
  const basic = { apiKey: [] };
  if (!openToApps(access)) return [basic];
  return [basic, ...rightsOpening(access).map((scope) => ({ oauth2: [scope] }))];
}

function accessNote(access: Access): string {
  if (access === 'public') return 'No authentication.';
  const opening = rightsOpening(access)
    .map((right) => `\`${right}\``)
    .join(', ');
  const appNote = openToApps(access) ? '' : ' Only an API key: partner apps acting through OAuth never reach it.';
  return `Method group \`${access}\`: opened by the right (API key) or scope (OAuth) ${opening}.${appNote}`;
}

/** `POST /api/v1/contact/{id}` → `postContactById`: stable names for generated clients. */
export function operationIdOf(route: Pick<Route, 'method' | 'path'>): string {
  const words = route.path
    .replace(/^\/api\/v1\//, '/')
    .split(/[/.\-_]+/)
    .filter(Boolean)
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      return parameter?.[1] ? `By${capitalised(parameter[1])}` : capitalised(segment);
    });
  return route.method.toLowerCase() + words.join('');
}

const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  return Object.entries(properties).map(([name, property]) => {
    const field = shape[name];
    // A default lives on the parsed side (a number once read); a URL carries it as text.
    const parsedDefault = field?.safeParse(undefined);
    const withDefault =
      location === 'query' && parsedDefault?.success && parsedDefault.data !== undefined
        ? { ...property, default: String(parsedDefault.data) }
        : property;
    const range = field ? rangeOf(jsonSchemaOf(field, 'output')) : undefined;
    return { name, in: location, required: location === 'path' || required.has(name), ...(range ? { description: range } : {}), schema: withDefault };
  });
}

/** A number read from text keeps its bounds on the parsed side: they are stated in words beside the text's pattern. */
function rangeOf(parsed: JsonSchema): string | undefined {
  if (parsed.type !== 'integer' && parsed.type !== 'number') return undefined;
  const minimum = typeof parsed.minimum === 'number' ? parsed.minimum : undefined;
  const maximum = typeof parsed.maximum === 'number' && parsed.maximum < Number.MAX_SAFE_INTEGER ? parsed.maximum : undefined;
  const kind = parsed.type === 'integer' ? 'A whole number' : 'A number';
  if (minimum !== undefined && maximum !== undefined) return `${kind} from ${minimum} to ${maximum}.`;
  if (minimum !== undefined) return `${kind}, at least ${minimum}.`;
  if (maximum !== undefined) return `${kind}, at most ${maximum}.`;
  return `${kind}.`;
}

function requestBodyOf(route: Route): unknown {
  if (route.docs?.rawBody) {
    const { contentTypes, schema, description } = route.docs.rawBody;
    const content = Object.fromEntries(
      contentTypes.map((type) => [
        type,
        schema ? { schema: jsonSchemaOf(schema, 'input') } : { schema: { type: 'string', contentEncoding: 'binary' } },
      ]),
    );
    return { required: true, description, content };
  }
  if (!route.body) return undefined;
  const mediaType = route.bodyFormat === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
  return {
    required: true,
    content: {
      [mediaType]: {
        schema: jsonSchemaOf(route.body, 'input'),
        ...(route.docs?.requestExample !== undefined ? { example: route.docs.requestExample } : {}),
      },
    },
  };
}

function operationOf(route: Route, tag: string): Operation {
  if (!route.docs) throw new Error(`${route.method} ${route.path} declares no docs: its summary and answers belong in the document`);
  const responses: Operation['responses'] = {};
  for (const [status, spec] of Object.entries(route.docs.responses)) if (spec) responses[status] = successResponse(spec);
  for (const [status, codes] of Object.entries(sharedErrors(route))) responses[status] ??= errorResponse(Number(status), codes);
  responses.default = {
    description: 'Any other failure, in the same error shape (500 `INTERNAL` carries no internals).',
    content: { 'application/json': { schema: ERROR_REF } },
  };
  const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query'), ...parametersOf(route.docs.query, 'query')];
  const requestBody = requestBodyOf(route);
  return {
    operationId: operationIdOf(route),
    tags: [tag],
    summary: route.docs.summary,
    description: [route.docs.description, accessNote(route.access)].filter(Boolean).join('\n\n'),
    ...(route.access === 'public' ? {} : { 'x-method-group': route.access }),
    security: securityOf(route.access),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

function webhookOf(name: string, spec: WebhookSpec): Record<string, unknown> {
  const parameters = Object.entries(spec.headers ?? {}).map(([header, { description, schema }]) => ({
    name: header,
    in: 'header',
    required: true,
    description,
    schema: jsonSchemaOf(schema, 'output'),
  }));
  return {
    [spec.method.toLowerCase()]: {
      operationId: name,
      summary: spec.summary,
      description: spec.description,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: jsonSchemaOf(spec.body, 'output'), ...(spec.example !== undefined ? { example: spec.example } : {}) },
              },
            },
          }
        : {}),
      responses: Object.fromEntries(Object.entries(spec.responses).map(([status, response]) => [status, successResponse(response)])),
    },
  };
}

/** The OpenAPI 3.1 document of the given routes: built from the zod schemas the router validates with. */
export function buildOpenApiDocument(settings: DocumentSettings): OpenApiDocument {
  const definitions: Record<string, JsonSchema> = {};
  hoisted = definitions;
  try {
    return documentOf(settings, definitions);
  } finally {
    hoisted = undefined;
  }
}

function documentOf(settings: DocumentSettings, definitions: Record<string, JsonSchema>): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  for (const group of settings.groups) {
    for (const route of group.routes) {
      const operation = operationOf(route, group.name);
      if (operationIds.has(operation.operationId)) throw new Error(`two routes make the operation id ${operation.operationId}`);
      operationIds.add(operation.operationId);
      (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
    }
  }
  const base = settings.serverUrl.replace(/\/+$/, '');
  return {
    openapi: '3.1.1',
    info: { title: settings.title, version: settings.version, description: settings.description },
    servers: [{ url: base }],
    tags: settings.groups.map((group) => ({ name: group.name, description: group.description })),
    paths,
    ...(settings.webhooks
      ? { webhooks: Object.fromEntries(Object.entries(settings.webhooks).map(([name, spec]) => [name, webhookOf(name, spec)])) }
      : {}),
    components: {
      schemas: { Error: jsonSchemaOf(errorBodySchema, 'output'), ...definitions },
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'basic',
          description:
            'HTTP Basic: any user name, an account API key as the password. A key carries one right, which opens the method groups listed on each operation.',
        },
        oauth2: {
          type: 'oauth2',
          description:
            'A partner app acting on an account (authorization code flow, PKCE S256 supported). Access tokens live 172,800 s, refresh tokens 2,592,000 s.',
          flows: {
            authorizationCode: {
              authorizationUrl: `${base}/oauth/authorize`,
              tokenUrl: `${base}/oauth/token`,
              refreshUrl: `${base}/oauth/token`,
              scopes: { ...scopeDescriptions },
            },
          },
        },
      },
    },
    'x-method-groups': Object.fromEntries(methodGroups.map((group) => [group, rightsOpening(group)])),
  };
}
