import { ConnectorFailed } from '../connectors/errors';
import { AppError } from '../errors';

/**
 * The customer's database refused a query Satellite sent it for a data source (a segment's
 * conditions, the rows a message reads): a value its column type cannot read, a column or
 * table dropped since the source was saved, a function the server lacks. Answered 422 with
 * the SQLSTATE, never a 500. The message is ours, not the driver's: the server's text can
 * quote the customer's rows.
 */
export class SourceQueryRejected extends AppError {
  constructor(
    readonly sqlState: string,
    /** Retrying the same query cannot succeed until someone changes the data, the table or the segment. */
    readonly permanent: boolean,
  ) {
    super(
      'unprocessable',
      'SOURCE_QUERY_REJECTED',
      `the database behind the data source refused the query (SQLSTATE ${sqlState}: ${describeClass(sqlState)})`,
      [{ path: 'sqlState', message: sqlState }],
    );
  }
}

/**
 * SQLSTATE classes (PostgreSQL appendix A) whose failure the same query meets again: data
 * exceptions (22: 'AAAA-BBBB-DDDD' read as a date), syntax or access rule violations (42: a
 * dropped column), unsupported features (0A), invalid catalog or schema names (3D, 3F).
 */
const PERMANENT_CLASSES: ReadonlySet<string> = new Set(['22', '42', '0A', '3D', '3F', '2F', '39', '38']);

function describeClass(sqlState: string): string {
  switch (sqlState.slice(0, 2)) {
    case '22':
      return 'a value in the table could not be read as the type the query needs';
    case '42':
      return 'the table or one of its columns is not as it was when the source was saved';
    case '0A':
      return 'the server does not support a feature the query uses';
    case '40':
      return 'the transaction was rolled back by the server; it will be retried';
    case '53':
      return 'the server is out of a resource';
    case '57':
      return 'the server cancelled or is shutting down the query';
    default:
      return 'the server refused the query';
  }
}

/**
 * Any failure of a query on a customer's PostgreSQL as a typed error: ours pass as they are,
 * a server error becomes `SourceQueryRejected`, anything else (a connection lost mid-query)
 * `CONNECTION_FAILED`.
 */
export function sourceQueryFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return new SourceQueryRejected(code, PERMANENT_CLASSES.has(code.slice(0, 2)));
  return new ConnectorFailed('CONNECTION_FAILED', 'the connection to the database was lost during the query');
}

/** The same for BigQuery, after `bigQueryFailure` mapped what it knows (a missing table passes it as is). */
export function bigQuerySourceFailure(mapped: unknown): AppError {
  if (mapped instanceof AppError) return mapped;
  return new ConnectorFailed('BIGQUERY_QUERY_FAILED', 'BigQuery could not run the query (has the table changed since the source was saved?)');
}

/** A failure retrying cannot fix: the segment, the source or the customer's data must change first. */
export function isPermanentSourceFailure(error: unknown): boolean {
  if (error instanceof SourceQueryRejected) return error.permanent;
  if (error instanceof ConnectorFailed) return error.code === 'PERMISSION_DENIED' || error.code === 'BIGQUERY_QUERY_FAILED';
  return error instanceof AppError && (error.kind === 'invalid' || error.kind === 'not_found' || error.kind === 'unprocessable');
}
