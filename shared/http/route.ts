import * as z from 'zod';
import type { Principal } from '../accounts/authenticate';
import type { MethodGroup } from '../accounts/rights';
import type { Logger } from '../logger';
import type { Platform } from '../platform';
import type { Reply } from '../reply';

export type { Reply };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Access = MethodGroup | 'public';
export type BodyFormat = 'json' | 'form' | 'raw';

export interface RouteRequest<P, Q, B, A extends Access> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly principal: A extends 'public' ? Principal | undefined : Principal;
  readonly platform: Platform;
  readonly log: Logger;
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
  /** The query string as sent, for the OAuth endpoints, which must see a parameter given twice. */
  readonly rawQuery: string;
  readonly sourceIp: string;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/**
 * One answer a route gives, as the OpenAPI document states it: a JSON body's zod schema, or
 * another media type (HTML, a script) with no schema. The test harness checks every answer
 * the suite receives against these, so the contract cannot drift from the code.
 */
export interface ResponseSpec {
  readonly description: string;
  readonly schema?: Schema;
  /** `application/json` when a schema is given and this is not. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
  readonly example?: unknown;
}

/** A route's own error codes by status, beside those every route shares (validation, auth, rate). */
export type RouteErrors = Readonly<Partial<Record<number, readonly string[]>>>;

/** What the OpenAPI document says about a route beyond its input schemas. */
export interface RouteDocumentation {
  readonly summary: string;
  readonly description?: string;
  /** Success answers by status; the route's handler answers with one of these. */
  readonly responses: Readonly<Partial<Record<number, ResponseSpec>>>;
  readonly errors?: RouteErrors;
  readonly requestExample?: unknown;
  /** The query parameters a route reads itself, when `query` only bounds them as a free record. */
  readonly query?: Schema;
  /** A body the route reads itself (`bodyFormat: 'raw'`): its media types and, for a form, its fields. */
  readonly rawBody?: { readonly contentTypes: readonly string[]; readonly schema?: Schema; readonly description: string };
}

export interface RouteDefinition<PS, QS, BS, A extends Access> {
  readonly method: HttpMethod;
  /** `/api/v1/contact/{id}` */
  readonly path: string;
  readonly access: A;
  readonly params?: PS;
  readonly query?: QS;
  readonly body?: BS;
  readonly bodyFormat?: BodyFormat;
  /** Every API route has one (a test holds it to that); fixtures in tests may leave it out. */
  readonly docs?: RouteDocumentation;
  handle(request: RouteRequest<Out<PS>, Out<QS>, Out<BS>, A>): Promise<Reply>;
}

/** A route with its types erased, as the router keeps it. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly access: Access;
  readonly params?: Schema;
  readonly query?: Schema;
  readonly body?: Schema;
  readonly bodyFormat: BodyFormat;
  /**
   * The query parameter names the route knows, read from its query schema; any other name is
   * refused, even with an empty value. `'any'` for a schema that is not an object of named
   * parameters (the OAuth protocol endpoints, which RFC 6749 §3.1 tells to ignore unknown ones).
   */
  readonly queryNames: readonly string[] | 'any';
  readonly docs?: RouteDocumentation;
  handle(request: RouteRequest<unknown, unknown, unknown, Access>): Promise<Reply>;
}

export function route<
  PS extends Schema | undefined = undefined,
  QS extends Schema | undefined = undefined,
  BS extends Schema | undefined = undefined,
  A extends Access = Access,
>(definition: RouteDefinition<PS, QS, BS, A>): Route {
  return {
    ...definition,
    bodyFormat: definition.bodyFormat ?? 'json',
    queryNames: namesOf(definition.query),
  };
}

/** A route without a query schema knows no parameter at all. */
function namesOf(schema: Schema | undefined): readonly string[] | 'any' {
  if (schema === undefined) return [];
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return namesOf((schema.in instanceof z.ZodTransform ? schema.out : schema.in) as Schema);
  return 'any';
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown): Reply => ({ status: 201, body });
export const accepted = (body: unknown): Reply => ({ status: 202, body });
export const noContent = (): Reply => ({ status: 204 });
