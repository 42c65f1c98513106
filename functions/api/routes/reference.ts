import * as z from 'zod';
import { publicBaseUrlOf } from '../../../shared/config';
import type { OpenApiDocument } from '../../../shared/http/openapi';
import { json } from '../../../shared/http/answers';
import { ok, route, type Route } from '../../../shared/http/route';
import { referenceAsset, referenceAssets, type ReferenceAssetName } from '../reference/assets';
import { REFERENCE_CSP, referencePageHtml, referenceStartScript } from '../reference/page';

/** Swagger UI's files change only with the package: a browser keeps them a day. */
const ASSET_CACHE = 'public, max-age=86400';
const assetNames = Object.keys(referenceAssets) as [ReferenceAssetName, ...ReferenceAssetName[]];

/** This API's OpenAPI document and its reference page, both public. `documentFor` builds the document for a base URL and version. */
export function referenceRoutes(documentFor: (serverUrl: string, version: string) => OpenApiDocument): readonly Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/openapi.json',
      access: 'public',
      docs: {
        summary: 'This OpenAPI 3.1 document',
        description: 'Built from the same zod schemas the API validates requests with; generate clients from it.',
        responses: {
          200: json('The document.', z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) })),
        },
      },
      handle: async ({ platform }) =>
        ok(documentFor(publicBaseUrlOf(platform.config), platform.config.version), {
          'cache-control': 'public, max-age=300',
          'access-control-allow-origin': '*',
        }),
    }),
    route({
      method: 'GET',
      path: '/docs',
      access: 'public',
      docs: {
        summary: 'API reference page',
        description: 'Swagger UI on this document, served from this origin under a strict Content-Security-Policy.',
        responses: { 200: { description: 'The page.', contentType: 'text/html' } },
      },
      handle: async () => ({
        status: 200,
        body: referencePageHtml,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': REFERENCE_CSP,
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
        },
      }),
    }),
    route({
      method: 'GET',
      path: '/docs/reference.js',
      access: 'public',
      docs: {
        summary: "The reference page's start script",
        responses: { 200: { description: 'The script.', contentType: 'text/javascript' } },
      },
      handle: async () => ({
        status: 200,
        body: referenceStartScript,
        headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
      }),
    }),
    route({
      method: 'GET',
      path: '/docs/assets/{asset}',
      access: 'public',
      params: z.object({ asset: z.enum(assetNames) }).strict(),
      docs: {
        summary: "The reference page's Swagger UI files",
        responses: { 200: { description: 'The file.', contentType: 'application/octet-stream' } },
      },
      handle: async ({ params }) => ({
        status: 200,
        body: referenceAsset(params.asset).toString('utf8'),
        headers: {
          'content-type': referenceAssets[params.asset].contentType,
          'cache-control': ASSET_CACHE,
          ...(params.asset === 'oauth2-redirect.html' ? { 'content-security-policy': REFERENCE_CSP } : {}),
        },
      }),
    }),
  ];
}
