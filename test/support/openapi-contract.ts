import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocumentFor } from '../../functions/api/openapi-document';
import { apiRouteGroups, apiRoutes } from '../../functions/api/routes';
import type { OpenApiDocument } from '../../shared/http/openapi';
import { Router } from '../../shared/http/router';

/** The API's document as the API serves it (the server URL aside). */
export const apiDocument: OpenApiDocument = openApiDocumentFor(() => apiRouteGroups)('http://127.0.0.1');

const router = new Router(apiRoutes);
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(apiDocument, 'openapi.json');
const compiled = new Map<string, ValidateFunction>();

const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function validatorAt(reference: string): ValidateFunction {
  let validate = compiled.get(reference);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json#/${reference}` });
    compiled.set(reference, validate);
  }
  return validate;
}

export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

/**
 * Where an answer breaks the document: its status is not one the operation lists, or its body
 * does not match the schema listed for that status. Undefined when it keeps to it.
 */
export function contractBreach(method: string, url: string, answer: Answer): string | undefined {
  const { pathname } = new URL(url, 'http://127.0.0.1');
  // API Gateway's own refusal of a body past its limit never reaches the function: its shape is the gateway's.
  if (answer.status === 413 && /^\{"message":/.test(answer.text)) return undefined;
  let path: string;
  try {
    path = router.match(method.toUpperCase(), pathname).route.path;
  } catch {
    // No such route (404) or method (405): the shared error shape.
    return bodyBreach('components/schemas/Error', answer, `${method} ${pathname}`);
  }
  const operation = apiDocument.paths[path]?.[method.toLowerCase()];
  if (!operation) return `${method} ${path} is routed but not in the document`;
  const status = String(answer.status);
  const response = operation.responses[status] ? status : operation.responses.default && answer.status >= 400 ? 'default' : undefined;
  if (!response)
    return `${method} ${path} answered ${status}, which the document does not list (it lists ${Object.keys(operation.responses).join(', ')})`;
  const content = operation.responses[response]?.content;
  if (!content) return answer.text === '' ? undefined : `${method} ${path} ${status}: the document promises no body, the answer has one`;
  if (content['application/json']) {
    if (!content['application/json'].schema) return undefined;
    return bodyBreach(
      pointer('paths', path, method.toLowerCase(), 'responses', response, 'content', 'application/json', 'schema'),
      answer,
      `${method} ${path} ${status}`,
    );
  }
  const declared = Object.keys(content);
  const type = (answer.contentType ?? '').split(';')[0]?.trim() ?? '';
  if (!declared.includes('application/octet-stream') && !declared.includes(type)) {
    return `${method} ${path} ${status}: answered ${type || 'no content type'}, the document says ${declared.join(' or ')}`;
  }
  return undefined;
}

function bodyBreach(reference: string, answer: Answer, where: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `${where}: the body is not JSON: ${answer.text.slice(0, 200)}`;
  }
  const validate = validatorAt(reference);
  if (validate(body)) return undefined;
  return `${where}: the body breaks the document: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}\n${answer.text.slice(0, 500)}`;
}

/**
 * Where a request Satellite sent a webhook receiver breaks the document's `webhooks`: a header
 * it promises is missing, or the body does not match. Undefined when it keeps to it.
 */
export function webhookBreach(method: string, headers: Readonly<Record<string, string>>, body: string): string | undefined {
  const name = method === 'POST' ? 'activities' : 'verification';
  const operation = (apiDocument.webhooks as Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown }>>)[name]?.[
    method.toLowerCase()
  ];
  if (!operation) return `the document has no ${method} webhook`;
  const missing = (operation.parameters ?? []).map((parameter) => parameter.name).filter((header) => headers[header] === undefined);
  if (missing.length > 0) return `${method} webhook without ${missing.join(', ')}`;
  if (!operation.requestBody) return undefined;
  return bodyBreach(
    pointer('webhooks', name, 'post', 'requestBody', 'content', 'application/json', 'schema'),
    { status: 0, contentType: 'application/json', text: body },
    `${method} webhook`,
  );
}
