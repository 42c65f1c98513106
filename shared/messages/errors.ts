import { AppError, NotFound, type ErrorDetail } from '../errors';
import type { TemplateError } from '../templates/render';

export class MessageNotFound extends NotFound {
  constructor() {
    super('message', 'MESSAGE_NOT_FOUND');
  }
}

function describe(error: TemplateError): string {
  return error.line !== undefined ? `${error.message} (line ${error.line}, column ${error.column})` : error.message;
}

/** A template that does not parse (on save) or does not render (on preview): 400 or 422. */
export class TemplateInvalid extends AppError {
  constructor(failures: readonly { readonly path: string; readonly error: TemplateError }[], kind: 'invalid' | 'unprocessable' = 'invalid') {
    const first = failures[0]?.error;
    const details: ErrorDetail[] = failures.map(({ path, error }) => ({ path, message: describe(error) }));
    super(
      kind,
      first?.code ?? 'TEMPLATE_SYNTAX',
      first ? `the template does not ${kind === 'invalid' ? 'parse' : 'render'}: ${describe(first)}` : 'invalid template',
      details,
    );
  }
}
