import { AppError } from '../errors';

/**
 * A destination table Satellite did not create (eSputnik's own export, a hand-made one) has
 * something Satellite cannot safely fix: a column of another type, a NOT NULL column it
 * leaves empty, a view in the table's place. Nothing is written until the customer fixes it.
 */
export class DestinationTableIncompatible extends AppError {
  constructor(table: string, problems: readonly string[]) {
    super('unprocessable', 'DESTINATION_TABLE_INCOMPATIBLE', `table ${table} cannot take the export: ${summarize(problems)}`);
  }
}

/**
 * A destination table without Satellite's key whose rows do not allow adding it (an empty or
 * repeated key). Without the key every later pass would fail, so the first one writes nothing.
 */
export class DestinationTableKeyInvalid extends AppError {
  constructor(table: string, problem: string) {
    super('unprocessable', 'DESTINATION_TABLE_KEY_INVALID', `table ${table} has no usable key: ${problem}`);
  }
}

/** At most five problems in a message, and how many more there are. */
function summarize(problems: readonly string[]): string {
  const shown = problems.slice(0, 5).join('; ');
  return problems.length > 5 ? `${shown}; and ${problems.length - 5} more` : shown;
}
