import type { z } from 'zod';
import type { Principal } from '../accounts/authenticate';
import type { MethodGroup } from '../accounts/rights';
import type { Logger } from '../logger';
import type { Platform } from '../platform';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Access = MethodGroup | 'public';
export type BodyFormat = 'json' | 'form' | 'raw';

export interface Reply {
  readonly status: number;
  /** Serialised as JSON unless it is a string or a Buffer (then sent as is, with `headers` naming its type). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: readonly string[];
}

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
  readonly sourceIp: string;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDefinition<PS, QS, BS, A extends Access> {
  readonly method: HttpMethod;
  /** `/api/v1/contact/{id}` */
  readonly path: string;
  readonly access: A;
  readonly params?: PS;
  readonly query?: QS;
  readonly body?: BS;
  readonly bodyFormat?: BodyFormat;
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
  } as unknown as Route;
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown): Reply => ({ status: 201, body });
export const accepted = (body: unknown): Reply => ({ status: 202, body });
export const noContent = (): Reply => ({ status: 204 });
