import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that speaks the BigQuery v2 REST wire format for the calls Satellite
 * makes, holding datasets and rows in memory. The real `@google-cloud/bigquery` client talks
 * to it through `apiEndpoint` (config `BIGQUERY_API_ENDPOINT`); nothing of ours is stubbed.
 *
 * Authentication is checked like Google does: each request carries a JWT signed with a
 * service-account key that `keyFor` issued (self-signed JWT access), or an access token from
 * the OAuth token exchange at `/token`. Revoked keys and denied accounts get Google's errors.
 *
 * More REST calls (load jobs, MERGE …) are added with `handle(...)` and `onQuery(...)`.
 */
export interface BigQueryField {
  readonly name: string;
  /** STRING, INTEGER/INT64, FLOAT/FLOAT64, NUMERIC, BOOLEAN/BOOL, TIMESTAMP, DATE, DATETIME, TIME, BYTES, JSON */
  readonly type: string;
  readonly mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
}

export type BigQueryRow = Record<string, unknown>;

export interface DoubleTable {
  readonly projectId: string;
  readonly datasetId: string;
  readonly tableId: string;
  schema: BigQueryField[];
  rows: BigQueryRow[];
}

export interface DoubleDataset {
  readonly projectId: string;
  readonly datasetId: string;
  readonly location: string;
  readonly tables: Map<string, DoubleTable>;
}

export interface ServiceAccountKeyFile {
  readonly type: 'service_account';
  readonly project_id: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly client_email: string;
  readonly client_id: string;
  readonly auth_uri: string;
  readonly token_uri: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly clientEmail?: string;
}

export interface QueryRequest {
  readonly projectId: string;
  readonly sql: string;
  /** Named parameters decoded to JS values (arrays for ARRAY parameters). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly maximumBytesBilled?: string;
  readonly dryRun: boolean;
  readonly clientEmail: string;
}

export interface QueryResult {
  readonly schema: BigQueryField[];
  readonly rows: BigQueryRow[];
  readonly numDmlAffectedRows?: number;
}

/** Answers a query it understands, or undefined to let the next handler try. */
export type QueryHandler = (request: QueryRequest, double: BigQueryDouble) => QueryResult | undefined;

export interface DoubleRequest {
  readonly method: string;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly rawBody: Buffer;
  readonly clientEmail: string;
  readonly headers: IncomingMessage['headers'];
}

export interface DoubleReply {
  readonly status?: number;
  readonly body: unknown;
}

export type RouteHandler = (request: DoubleRequest, double: BigQueryDouble) => DoubleReply | Promise<DoubleReply>;

export class BigQueryApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly statusText: string,
  ) {
    super(message);
  }
}

interface IssuedKey {
  readonly projectId: string;
  readonly clientEmail: string;
  readonly publicKeyPem: string;
  revoked: boolean;
}

interface StoredJob {
  readonly projectId: string;
  readonly jobId: string;
  readonly location: string;
  readonly statementType: string;
  readonly result: QueryResult;
  readonly configuration: unknown;
  /** Load jobs: rows written, or why the load failed (the job is DONE either way). */
  readonly load?: { readonly outputRows: number };
  readonly errorResult?: { readonly reason: string; readonly message: string };
}

export class BigQueryDouble {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly queries: QueryRequest[] = [];
  readonly datasets = new Map<string, DoubleDataset>();
  private readonly projects = new Set<string>();
  private readonly keys = new Map<string, IssuedKey>();
  private readonly accessTokens = new Map<string, string>();
  /** client_email → permissions it lacks ('*' for all). */
  private readonly denied = new Map<string, Set<string>>();
  private readonly jobs = new Map<string, StoredJob>();
  private readonly routes: { method: string; pattern: RegExp; handler: RouteHandler }[] = [];
  private readonly queryHandlers: QueryHandler[] = [];
  private pendingLoadFailures = 0;
  private server?: Server;

  constructor() {
    this.registerCoreRoutes();
    this.onQuery(selectOne);
    this.onQuery(selectWhereInUnnest);
    this.registerExportRoutes();
    this.onQuery(mergeStaged);
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.serve(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** A new service-account key for the project, as Google's console would download it. */
  keyFor(projectId: string, options: { clientEmail?: string } = {}): ServiceAccountKeyFile {
    this.projects.add(projectId);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    const clientEmail = options.clientEmail ?? `satellite-${keyId.slice(0, 6)}@${projectId}.iam.gserviceaccount.com`;
    this.keys.set(keyId, { projectId, clientEmail, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), revoked: false });
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: String(BigInt(`0x${keyId.slice(0, 12)}`)),
      auth_uri: `${this.url}/o/oauth2/auth`,
      token_uri: `${this.url}/token`,
    };
  }

  /** The key is deleted in the console: every request signed with it is refused. */
  revokeKey(key: Pick<ServiceAccountKeyFile, 'private_key_id'>): void {
    const issued = this.keys.get(key.private_key_id);
    if (issued) issued.revoked = true;
  }

  /** The service account loses permissions (e.g. 'bigquery.datasets.list', 'bigquery.jobs.create', or '*'). */
  deny(clientEmail: string, ...permissions: string[]): void {
    const set = this.denied.get(clientEmail) ?? new Set<string>();
    for (const permission of permissions.length ? permissions : ['*']) set.add(permission);
    this.denied.set(clientEmail, set);
  }

  addDataset(datasetId: string, options: { projectId?: string; location?: string } = {}): DoubleDataset {
    const projectId = options.projectId ?? this.defaultProject();
    this.projects.add(projectId);
    const key = `${projectId}.${datasetId}`;
    const existing = this.datasets.get(key);
    if (existing) return existing;
    const dataset: DoubleDataset = { projectId, datasetId, location: options.location ?? 'US', tables: new Map() };
    this.datasets.set(key, dataset);
    return dataset;
  }

  addTable(datasetId: string, tableId: string, schema: BigQueryField[], rows: BigQueryRow[] = [], options: { projectId?: string } = {}): DoubleTable {
    const dataset = this.addDataset(datasetId, options);
    const table: DoubleTable = { projectId: dataset.projectId, datasetId, tableId, schema: [...schema], rows: [...rows] };
    dataset.tables.set(tableId, table);
    return table;
  }

  table(datasetId: string, tableId: string, projectId = this.defaultProject()): DoubleTable | undefined {
    return this.datasets.get(`${projectId}.${datasetId}`)?.tables.get(tableId);
  }

  rows(datasetId: string, tableId: string, projectId = this.defaultProject()): BigQueryRow[] {
    return this.table(datasetId, tableId, projectId)?.rows ?? [];
  }

  /** The next `count` load jobs end DONE with an error result, as a backend failure would. */
  failNextLoads(count = 1): void {
    this.pendingLoadFailures += count;
  }

  /** Ids of every job the double ran (query and load), in order. */
  jobIds(): string[] {
    return [...this.jobs.values()].map((job) => job.jobId);
  }

  /** Adds a REST call: `pattern` is matched against the path after `/bigquery/v2`. */
  handle(method: string, pattern: RegExp, handler: RouteHandler): void {
    this.routes.unshift({ method, pattern, handler });
  }

  /** Teaches the query engine a statement; later handlers are tried first. */
  onQuery(handler: QueryHandler): void {
    this.queryHandlers.unshift(handler);
  }

  /** Throws Google's 403 when the account lacks the permission. */
  requirePermission(clientEmail: string, permission: string, projectId: string): void {
    const denied = this.denied.get(clientEmail);
    if (denied && (denied.has('*') || denied.has(permission))) {
      throw new BigQueryApiError(
        403,
        'accessDenied',
        `Access Denied: Project ${projectId}: User does not have ${permission} permission in project ${projectId}.`,
        'PERMISSION_DENIED',
      );
    }
  }

  requireProject(projectId: string): void {
    if (!this.projects.has(projectId)) throw new BigQueryApiError(404, 'notFound', `Not found: Project ${projectId}`, 'NOT_FOUND');
  }

  requireDataset(projectId: string, datasetId: string): DoubleDataset {
    this.requireProject(projectId);
    const dataset = this.datasets.get(`${projectId}.${datasetId}`);
    if (!dataset) throw new BigQueryApiError(404, 'notFound', `Not found: Dataset ${projectId}:${datasetId}`, 'NOT_FOUND');
    return dataset;
  }

  requireTable(projectId: string, datasetId: string, tableId: string): DoubleTable {
    const table = this.requireDataset(projectId, datasetId).tables.get(tableId);
    if (!table) throw new BigQueryApiError(404, 'notFound', `Not found: Table ${projectId}:${datasetId}.${tableId}`, 'NOT_FOUND');
    return table;
  }

  private defaultProject(): string {
    const first = this.projects.values().next();
    return first.done ? 'satellite-test' : first.value;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', this.url);
    const method = request.method ?? 'GET';
    let body: unknown = undefined;
    const type = request.headers['content-type'] ?? '';
    if (rawBody.length && type.includes('json')) body = JSON.parse(rawBody.toString('utf8')) as unknown;
    else if (rawBody.length && type.includes('x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')));
    try {
      if (method === 'POST' && url.pathname === '/token') {
        this.requests.push({ method, path: url.pathname, query: url.searchParams, body });
        return send(response, 200, this.exchangeToken(body as Record<string, string>));
      }
      const clientEmail = this.authenticate(request.headers.authorization);
      const path = url.pathname.replace(/^\/bigquery\/v2/, '').replace(/^\/upload\/bigquery\/v2/, '/upload');
      this.requests.push({ method, path, query: url.searchParams, body, clientEmail });
      for (const route of this.routes) {
        if (route.method !== method) continue;
        const match = route.pattern.exec(path);
        if (!match) continue;
        const reply = await route.handler(
          {
            method,
            params: match.slice(1).map((part) => decodeURIComponent(part ?? '')),
            query: url.searchParams,
            body,
            rawBody,
            clientEmail,
            headers: request.headers,
          },
          this,
        );
        return send(response, reply.status ?? 200, reply.body);
      }
      throw new BigQueryApiError(404, 'notFound', `the BigQuery double does not implement ${method} ${path}`, 'NOT_FOUND');
    } catch (error) {
      if (error instanceof BigQueryApiError) {
        return send(response, error.status, {
          error: {
            code: error.status,
            message: error.message,
            errors: [{ message: error.message, domain: 'global', reason: error.reason }],
            status: error.statusText,
          },
        });
      }
      return send(response, 500, { error: { code: 500, message: String(error), errors: [{ reason: 'internalError' }], status: 'INTERNAL' } });
    }
  }

  private authenticate(header: string | undefined): string {
    const unauthenticated = new BigQueryApiError(
      401,
      'authError',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      'UNAUTHENTICATED',
    );
    const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    if (!token) throw unauthenticated;
    const exchanged = this.accessTokens.get(token);
    if (exchanged) {
      return exchanged;
    }
    const verified = this.verifyJwt(token);
    if (!verified) throw unauthenticated;
    return verified;
  }

  /** Returns the signer's client_email when the JWT is signed by a live key of ours. */
  private verifyJwt(jwt: string): string | undefined {
    const [header, payload, signature] = jwt.split('.');
    if (!header || !payload || !signature) return undefined;
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: string; alg?: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string; exp?: number };
    const key = decoded.kid ? this.keys.get(decoded.kid) : [...this.keys.values()].find((candidate) => candidate.clientEmail === claims.iss);
    if (!key || key.revoked || decoded.alg !== 'RS256' || claims.iss !== key.clientEmail) return undefined;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    return verifier.verify(createPublicKey(key.publicKeyPem), Buffer.from(signature, 'base64url')) ? key.clientEmail : undefined;
  }

  private exchangeToken(form: Record<string, string> | undefined): unknown {
    const email = form?.assertion ? this.verifyJwt(form.assertion) : undefined;
    if (!email) throw new BigQueryApiError(400, 'invalid_grant', 'Invalid JWT Signature.', 'invalid_grant');
    const token = `ya29.double-${randomBytes(16).toString('hex')}`;
    this.accessTokens.set(token, email);
    return { access_token: token, expires_in: 3599, token_type: 'Bearer' };
  }

  private registerCoreRoutes(): void {
    const project = '([^/]+)';
    this.handle('GET', new RegExp(`^/projects/${project}/datasets$`), ({ params: [projectId = ''], query, clientEmail }) => {
      this.requireProject(projectId);
      this.requirePermission(clientEmail, 'bigquery.datasets.list', projectId);
      const all = [...this.datasets.values()]
        .filter((dataset) => dataset.projectId === projectId)
        .sort((a, b) => a.datasetId.localeCompare(b.datasetId));
      const { page, nextPageToken } = paginate(all, query);
      return {
        body: {
          kind: 'bigquery#datasetList',
          datasets: page.map((dataset) => ({
            kind: 'bigquery#dataset',
            id: `${projectId}:${dataset.datasetId}`,
            datasetReference: { projectId, datasetId: dataset.datasetId },
            location: dataset.location,
          })),
          ...(nextPageToken ? { nextPageToken } : {}),
        },
      };
    });
    this.handle('GET', new RegExp(`^/projects/${project}/datasets/([^/]+)$`), ({ params: [projectId = '', datasetId = ''], clientEmail }) => {
      this.requirePermission(clientEmail, 'bigquery.datasets.get', projectId);
      const dataset = this.requireDataset(projectId, datasetId);
      return {
        body: { kind: 'bigquery#dataset', id: `${projectId}:${datasetId}`, datasetReference: { projectId, datasetId }, location: dataset.location },
      };
    });
    this.handle(
      'GET',
      new RegExp(`^/projects/${project}/datasets/([^/]+)/tables$`),
      ({ params: [projectId = '', datasetId = ''], query, clientEmail }) => {
        this.requirePermission(clientEmail, 'bigquery.tables.list', projectId);
        const dataset = this.requireDataset(projectId, datasetId);
        const all = [...dataset.tables.values()].sort((a, b) => a.tableId.localeCompare(b.tableId));
        const { page, nextPageToken } = paginate(all, query);
        return {
          body: {
            kind: 'bigquery#tableList',
            tables: page.map((table) => ({
              kind: 'bigquery#table',
              id: `${projectId}:${datasetId}.${table.tableId}`,
              tableReference: { projectId, datasetId, tableId: table.tableId },
              type: 'TABLE',
            })),
            totalItems: all.length,
            ...(nextPageToken ? { nextPageToken } : {}),
          },
        };
      },
    );
    this.handle(
      'GET',
      new RegExp(`^/projects/${project}/datasets/([^/]+)/tables/([^/]+)$`),
      ({ params: [projectId = '', datasetId = '', tableId = ''], clientEmail }) => {
        this.requirePermission(clientEmail, 'bigquery.tables.get', projectId);
        const table = this.requireTable(projectId, datasetId, tableId);
        return {
          body: {
            kind: 'bigquery#table',
            id: `${projectId}:${datasetId}.${tableId}`,
            tableReference: { projectId, datasetId, tableId },
            type: 'TABLE',
            schema: { fields: table.schema },
            numRows: String(table.rows.length),
            location: this.requireDataset(projectId, datasetId).location,
          },
        };
      },
    );
    // jobs.query: the client's fast path for `bigquery.query(...)`.
    this.handle('POST', new RegExp(`^/projects/${project}/queries$`), ({ params: [projectId = ''], body, clientEmail }) => {
      const request = body as QueryBody;
      const job = this.runQuery(projectId, clientEmail, request.query, request.queryParameters, request.maximumBytesBilled, false, request.location, {
        query: request,
      });
      return { body: this.queryResponse(job, useInt64(request.formatOptions?.useInt64Timestamp)) };
    });
    // jobs.insert: `createQueryJob`, dry runs, and everything that is not the fast path.
    this.handle('POST', new RegExp(`^/projects/${project}/jobs$`), ({ params: [projectId = ''], body, clientEmail }) => {
      const job = body as { jobReference?: { jobId?: string; location?: string }; configuration?: { query?: QueryBody; dryRun?: boolean } };
      const query = job.configuration?.query;
      if (!query) throw new BigQueryApiError(400, 'invalid', 'the double only runs query jobs here', 'INVALID_ARGUMENT');
      if (job.jobReference?.jobId) this.refuseExistingJob(projectId, job.jobReference.jobId);
      const stored = this.runQuery(
        projectId,
        clientEmail,
        query.query,
        query.queryParameters,
        query.maximumBytesBilled,
        job.configuration?.dryRun ?? false,
        job.jobReference?.location,
        job.configuration,
        job.jobReference?.jobId,
      );
      return { body: this.jobResource(stored) };
    });
    this.handle('GET', new RegExp(`^/projects/${project}/jobs/([^/]+)$`), ({ params: [projectId = '', jobId = ''] }) => ({
      body: this.jobResource(this.requireJob(projectId, jobId)),
    }));
    this.handle('GET', new RegExp(`^/projects/${project}/queries/([^/]+)$`), ({ params: [projectId = '', jobId = ''], query }) => ({
      body: this.queryResponse(this.requireJob(projectId, jobId), query.get('formatOptions.useInt64Timestamp') === 'true', query),
    }));
  }

  /** jobs.insert with an id that exists answers 409, as BigQuery does: a job id is used once. */
  private refuseExistingJob(projectId: string, jobId: string): void {
    const existing = this.jobs.get(`${projectId}.${jobId}`);
    if (existing) throw new BigQueryApiError(409, 'duplicate', `Already Exists: Job ${projectId}:${existing.location}.${jobId}`, 'ALREADY_EXISTS');
  }

  /** What exports use: tables.insert/patch/delete and load jobs through the upload endpoint. */
  private registerExportRoutes(): void {
    const project = '([^/]+)';
    this.handle(
      'POST',
      new RegExp(`^/projects/${project}/datasets/([^/]+)/tables$`),
      ({ params: [projectId = '', datasetId = ''], body, clientEmail }) => {
        this.requirePermission(clientEmail, 'bigquery.tables.create', projectId);
        const dataset = this.requireDataset(projectId, datasetId);
        const resource = body as { tableReference?: { tableId?: string }; schema?: { fields?: BigQueryField[] } };
        const tableId = resource.tableReference?.tableId ?? '';
        if (dataset.tables.has(tableId))
          throw new BigQueryApiError(409, 'duplicate', `Already Exists: Table ${projectId}:${datasetId}.${tableId}`, 'ALREADY_EXISTS');
        const table = this.addTable(datasetId, tableId, resource.schema?.fields ?? [], [], { projectId });
        return {
          body: {
            kind: 'bigquery#table',
            id: `${projectId}:${datasetId}.${tableId}`,
            tableReference: { projectId, datasetId, tableId },
            schema: { fields: table.schema },
            location: dataset.location,
          },
        };
      },
    );
    this.handle(
      'PATCH',
      new RegExp(`^/projects/${project}/datasets/([^/]+)/tables/([^/]+)$`),
      ({ params: [projectId = '', datasetId = '', tableId = ''], body, clientEmail }) => {
        this.requirePermission(clientEmail, 'bigquery.tables.update', projectId);
        const table = this.requireTable(projectId, datasetId, tableId);
        const fields = (body as { schema?: { fields?: BigQueryField[] } }).schema?.fields;
        if (fields) {
          // BigQuery only lets a patch add columns: every existing one must stay, with its type.
          for (const existing of table.schema) {
            const kept = fields.find((field) => field.name.toLowerCase() === existing.name.toLowerCase());
            if (!kept)
              throw new BigQueryApiError(
                400,
                'invalid',
                `Provided Schema does not match Table ${projectId}:${datasetId}.${tableId}. Cannot add fields (field: ${existing.name})`,
                'INVALID_ARGUMENT',
              );
            if (normalType(kept.type) !== normalType(existing.type)) {
              throw new BigQueryApiError(
                400,
                'invalid',
                `Provided Schema does not match Table ${projectId}:${datasetId}.${tableId}. Field ${existing.name} has changed type from ${existing.type} to ${kept.type}`,
                'INVALID_ARGUMENT',
              );
            }
          }
          table.schema = [...fields];
        }
        return {
          body: {
            kind: 'bigquery#table',
            id: `${projectId}:${datasetId}.${tableId}`,
            tableReference: { projectId, datasetId, tableId },
            schema: { fields: table.schema },
            location: this.requireDataset(projectId, datasetId).location,
          },
        };
      },
    );
    this.handle(
      'DELETE',
      new RegExp(`^/projects/${project}/datasets/([^/]+)/tables/([^/]+)$`),
      ({ params: [projectId = '', datasetId = '', tableId = ''], clientEmail }) => {
        this.requirePermission(clientEmail, 'bigquery.tables.delete', projectId);
        this.requireTable(projectId, datasetId, tableId);
        this.requireDataset(projectId, datasetId).tables.delete(tableId);
        return { status: 204, body: '' };
      },
    );
    // The client's `table.createWriteStream()`: a multipart/related upload of the job resource and the data.
    this.handle('POST', new RegExp(`^/upload/projects/${project}/jobs$`), ({ params: [projectId = ''], query, headers, rawBody, clientEmail }) => {
      if (query.get('uploadType') !== 'multipart')
        throw new BigQueryApiError(400, 'invalid', 'the double accepts multipart uploads only', 'INVALID_ARGUMENT');
      const [metadataPart, data = Buffer.alloc(0)] = parseMultipartRelated(rawBody, headers['content-type'] ?? '');
      const job = JSON.parse(metadataPart?.toString('utf8') ?? '{}') as LoadJobResource;
      const load = job.configuration?.load;
      if (!load?.destinationTable)
        throw new BigQueryApiError(400, 'invalid', 'a load job needs configuration.load.destinationTable', 'INVALID_ARGUMENT');
      this.requireProject(projectId);
      this.requirePermission(clientEmail, 'bigquery.jobs.create', projectId);
      this.requirePermission(clientEmail, 'bigquery.tables.updateData', projectId);
      const jobId = job.jobReference?.jobId ?? `job_${randomBytes(12).toString('hex')}`;
      this.refuseExistingJob(projectId, jobId);
      const dataset = this.requireDataset(load.destinationTable.projectId ?? projectId, load.destinationTable.datasetId ?? '');
      let outcome: Pick<StoredJob, 'load' | 'errorResult'>;
      try {
        outcome = { load: { outputRows: this.applyLoad(dataset, load, data) } };
      } catch (error) {
        if (!(error instanceof BigQueryApiError) || error.status !== 400) throw error;
        outcome = { errorResult: { reason: error.reason, message: error.message } };
      }
      const stored: StoredJob = {
        projectId,
        jobId,
        location: job.jobReference?.location ?? dataset.location,
        statementType: 'LOAD',
        result: { schema: [], rows: [] },
        configuration: job.configuration,
        ...outcome,
      };
      this.jobs.set(`${projectId}.${jobId}`, stored);
      return { body: this.jobResource(stored) };
    });
  }

  /** Applies NDJSON rows to the destination as BigQuery would: all of them or none. Returns the rows written. */
  private applyLoad(dataset: DoubleDataset, load: LoadConfiguration, data: Buffer): number {
    if (this.pendingLoadFailures > 0) {
      this.pendingLoadFailures -= 1;
      throw new BigQueryApiError(400, 'backendError', 'Error encountered during execution. Retrying may solve the problem.', 'INTERNAL');
    }
    if ((load.sourceFormat ?? 'CSV') !== 'NEWLINE_DELIMITED_JSON')
      throw new BigQueryApiError(400, 'invalid', 'the double loads NEWLINE_DELIMITED_JSON only', 'INVALID_ARGUMENT');
    const tableId = load.destinationTable?.tableId ?? '';
    const existing = dataset.tables.get(tableId);
    if (!existing && load.createDisposition === 'CREATE_NEVER')
      throw new BigQueryApiError(404, 'notFound', `Not found: Table ${dataset.projectId}:${dataset.datasetId}.${tableId}`, 'NOT_FOUND');
    const disposition = load.writeDisposition ?? 'WRITE_APPEND';
    const schema = disposition === 'WRITE_TRUNCATE' || !existing ? (load.schema?.fields ?? existing?.schema ?? []) : existing.schema;
    const rows: BigQueryRow[] = [];
    const lines = data
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    for (const [index, line] of lines.entries()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new BigQueryApiError(
          400,
          'invalid',
          `Error while reading data, error message: JSON parsing error in row starting at position ${index}`,
          'INVALID_ARGUMENT',
        );
      }
      rows.push(loadedRow(parsed as Record<string, unknown>, schema, index));
    }
    if (disposition === 'WRITE_EMPTY' && existing && existing.rows.length > 0)
      throw new BigQueryApiError(400, 'invalid', `Already Exists: Table ${tableId} is not empty`, 'INVALID_ARGUMENT');
    const table = existing ?? this.addTable(dataset.datasetId, tableId, schema, [], { projectId: dataset.projectId });
    if (disposition === 'WRITE_TRUNCATE') {
      table.schema = [...schema];
      table.rows = rows;
    } else {
      table.rows.push(...rows);
    }
    return rows.length;
  }

  private runQuery(
    projectId: string,
    clientEmail: string,
    sql: string,
    parameters: QueryParameter[] | undefined,
    maximumBytesBilled: string | undefined,
    dryRun: boolean,
    location: string | undefined,
    configuration: unknown,
    jobId = `job_${randomBytes(12).toString('hex')}`,
  ): StoredJob {
    this.requireProject(projectId);
    this.requirePermission(clientEmail, 'bigquery.jobs.create', projectId);
    const request: QueryRequest = { projectId, sql: sql.trim(), params: decodeParameters(parameters ?? []), maximumBytesBilled, dryRun, clientEmail };
    this.queries.push(request);
    for (const handler of this.queryHandlers) {
      const result = handler(request, this);
      if (result) {
        const job: StoredJob = {
          projectId,
          jobId,
          location: location ?? 'US',
          statementType: sql.trim().split(/\s+/)[0]?.toUpperCase() ?? 'SELECT',
          result: dryRun ? { schema: result.schema, rows: [] } : result,
          configuration,
        };
        this.jobs.set(`${projectId}.${jobId}`, job);
        return job;
      }
    }
    throw new BigQueryApiError(400, 'invalidQuery', `the BigQuery double does not understand: ${sql}`, 'INVALID_ARGUMENT');
  }

  private requireJob(projectId: string, jobId: string): StoredJob {
    const job = this.jobs.get(`${projectId}.${jobId}`);
    if (!job) throw new BigQueryApiError(404, 'notFound', `Not found: Job ${projectId}:${jobId}`, 'NOT_FOUND');
    return job;
  }

  private jobResource(job: StoredJob): unknown {
    return {
      kind: 'bigquery#job',
      id: `${job.projectId}:${job.location}.${job.jobId}`,
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      configuration: job.configuration,
      status: { state: 'DONE', ...(job.errorResult ? { errorResult: job.errorResult, errors: [job.errorResult] } : {}) },
      statistics: job.load
        ? { load: { outputRows: String(job.load.outputRows) } }
        : {
            query: {
              statementType: job.statementType,
              totalBytesProcessed: '0',
              ...(job.result.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: String(job.result.numDmlAffectedRows) } : {}),
            },
          },
    };
  }

  private queryResponse(job: StoredJob, int64Timestamps: boolean, query?: URLSearchParams): unknown {
    const { page, nextPageToken } = paginate(job.result.rows, query ?? new URLSearchParams());
    return {
      kind: 'bigquery#queryResponse',
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      jobComplete: true,
      schema: { fields: job.result.schema },
      rows: page.map((row) => ({ f: job.result.schema.map((field) => ({ v: encodeValue(row[field.name], field, int64Timestamps) })) })),
      totalRows: String(job.result.rows.length),
      totalBytesProcessed: '0',
      cacheHit: false,
      ...(job.result.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: String(job.result.numDmlAffectedRows) } : {}),
      ...(nextPageToken ? { pageToken: nextPageToken } : {}),
    };
  }
}

export async function startBigQueryDouble(): Promise<BigQueryDouble> {
  return new BigQueryDouble().start();
}

interface QueryBody {
  query: string;
  queryParameters?: QueryParameter[];
  maximumBytesBilled?: string;
  location?: string;
  formatOptions?: { useInt64Timestamp?: boolean };
}

interface QueryParameter {
  name?: string;
  parameterType: { type: string; arrayType?: { type: string } };
  parameterValue: { value?: string; arrayValues?: { value?: string }[] };
}

function decodeParameters(parameters: QueryParameter[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const parameter of parameters) {
    if (!parameter.name) continue;
    result[parameter.name] =
      parameter.parameterType.type === 'ARRAY'
        ? (parameter.parameterValue.arrayValues ?? []).map((entry) => entry.value ?? null)
        : (parameter.parameterValue.value ?? null);
  }
  return result;
}

function useInt64(value: boolean | undefined): boolean {
  return value === true;
}

/** Values on the wire are strings (or null), as BigQuery sends them. */
function encodeValue(value: unknown, field: BigQueryField, int64Timestamps: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (field.mode === 'REPEATED' && Array.isArray(value))
    return value.map((item) => ({ v: encodeValue(item, { ...field, mode: 'NULLABLE' }, int64Timestamps) }));
  switch (field.type.toUpperCase()) {
    case 'TIMESTAMP': {
      const micros = BigInt(new Date(value as string | Date).getTime()) * 1000n;
      return int64Timestamps ? micros.toString() : (Number(micros) / 1e6).toExponential().replace('e+', 'E');
    }
    case 'BOOLEAN':
    case 'BOOL':
      return value ? 'true' : 'false';
    case 'BYTES':
      return Buffer.isBuffer(value) ? value.toString('base64') : String(value);
    case 'JSON':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return String(value);
  }
}

function paginate<T>(items: readonly T[], query: URLSearchParams): { page: T[]; nextPageToken?: string } {
  const start = Number(query.get('pageToken') ?? '0') || 0;
  const max = Number(query.get('maxResults') ?? '0') || items.length || 1;
  const page = items.slice(start, start + max);
  return { page, ...(start + max < items.length ? { nextPageToken: String(start + max) } : {}) };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

/** `SELECT 1` — the connection check's test query. */
const selectOne: QueryHandler = (request) =>
  /^SELECT 1( AS \w+)?$/i.test(request.sql) ? { schema: [{ name: 'ok', type: 'INTEGER' }], rows: [{ ok: 1 }] } : undefined;

/**
 * ``SELECT * FROM `p`.`d`.`t` WHERE CAST(`col` AS STRING) IN UNNEST(@keys)`` — the row
 * lookup of external data sources.
 */
const selectWhereInUnnest: QueryHandler = (request, double) => {
  const match = /^SELECT \* FROM `([^`]+)`\.`([^`]+)`\.`([^`]+)` WHERE CAST\(`([^`]+)` AS STRING\) IN UNNEST\(@(\w+)\)$/i.exec(request.sql);
  if (!match) return undefined;
  const [, projectId = '', datasetId = '', tableId = '', column = '', parameter = ''] = match;
  double.requirePermission(request.clientEmail, 'bigquery.tables.getData', projectId);
  const table = double.requireTable(projectId, datasetId, tableId);
  if (!table.schema.some((field) => field.name === column))
    throw new BigQueryApiError(400, 'invalidQuery', `Unrecognized name: ${column}`, 'INVALID_ARGUMENT');
  const keys = new Set((request.params[parameter] as (string | null)[] | undefined) ?? []);
  const rows = table.rows.filter((row) => row[column] !== null && row[column] !== undefined && keys.has(String(row[column])));
  return { schema: table.schema, rows };
};

interface LoadConfiguration {
  destinationTable?: { projectId?: string; datasetId?: string; tableId?: string };
  schema?: { fields?: BigQueryField[] };
  sourceFormat?: string;
  writeDisposition?: 'WRITE_TRUNCATE' | 'WRITE_APPEND' | 'WRITE_EMPTY';
  createDisposition?: 'CREATE_IF_NEEDED' | 'CREATE_NEVER';
}

interface LoadJobResource {
  jobReference?: { jobId?: string; location?: string };
  configuration?: { load?: LoadConfiguration };
}

/** The parts of a `multipart/related` body (the metadata, then the media). */
function parseMultipartRelated(body: Buffer, contentType: string): Buffer[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!/^multipart\/related/i.test(contentType) || !boundary)
    throw new BigQueryApiError(400, 'invalid', 'expected a multipart/related upload', 'INVALID_ARGUMENT');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const afterDelimiter = start + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, afterDelimiter);
    const part = body.subarray(afterDelimiter, next === -1 ? body.length : next);
    const headerEnd = part.indexOf('\r\n\r\n');
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    parts.push(content);
    start = next;
  }
  return parts;
}

function normalType(type: string): string {
  const upper = type.toUpperCase();
  return ({ INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL' } as Record<string, string>)[upper] ?? upper;
}

const loadedTimestamp = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: ?(UTC|Z|[+-]\d{2}:\d{2}))?$/;

/**
 * One NDJSON row checked against the schema as a BigQuery load does: unknown fields and
 * values of the wrong type fail the job. INT64 and FLOAT64 are kept as numbers, TIMESTAMP as
 * an ISO string in UTC, so tests read values as they would from the table.
 */
function loadedRow(source: Record<string, unknown>, schema: readonly BigQueryField[], index: number): BigQueryRow {
  const invalid = (message: string) =>
    new BigQueryApiError(
      400,
      'invalid',
      `Error while reading data, error message: JSON table encountered too many errors. Row ${index}: ${message}`,
      'INVALID_ARGUMENT',
    );
  const row: BigQueryRow = Object.fromEntries(schema.map((field) => [field.name, null]));
  for (const [name, value] of Object.entries(source)) {
    const field = schema.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!field) throw invalid(`No such field: ${name}.`);
    if (value === null) continue;
    switch (normalType(field.type)) {
      case 'STRING':
        if (typeof value !== 'string') throw invalid(`Could not convert value to string. Field: ${name}; Value: ${JSON.stringify(value)}`);
        row[field.name] = value;
        break;
      case 'INT64': {
        const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
        if (!/^-?\d+$/.test(text)) throw invalid(`Could not parse '${String(value)}' as INT64 for field ${name}`);
        row[field.name] = Number.isSafeInteger(Number(text)) ? Number(text) : text;
        break;
      }
      case 'FLOAT64': {
        const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
        if (!Number.isFinite(number)) throw invalid(`Could not parse '${String(value)}' as DOUBLE for field ${name}`);
        row[field.name] = number;
        break;
      }
      case 'TIMESTAMP': {
        const match = typeof value === 'string' ? loadedTimestamp.exec(value) : null;
        if (!match) throw invalid(`Could not parse '${String(value)}' as a timestamp for field ${name}`);
        const zone = !match[3] || match[3] === 'UTC' ? 'Z' : match[3];
        row[field.name] = new Date(`${match[1]}T${match[2]}${zone}`).toISOString();
        break;
      }
      default:
        row[field.name] = value;
    }
  }
  return row;
}

/**
 * The exporter's statement, parsed rather than matched whole, so a column left out of SET or
 * INSERT stays out of the table:
 *   MERGE `p`.`d`.`t` AS T USING `p`.`d`.`s` AS S ON T.`k` = S.`k` [AND …]
 *   WHEN MATCHED AND (T.`v` IS NULL OR S.`v` > T.`v`) THEN UPDATE SET `c` = S.`c`, …
 *   WHEN NOT MATCHED THEN INSERT (`c`, …) VALUES (S.`c`, …)
 * Like BigQuery, it fails when two staged rows match one table row.
 */
const mergeStaged: QueryHandler = (request, double) => {
  const table = '`([^`]+)`\\.`([^`]+)`\\.`([^`]+)`';
  const match = new RegExp(
    `^MERGE ${table} AS T\\s+USING ${table} AS S\\s+ON (.+?)\\s+WHEN MATCHED AND \\(T\\.\`([^\`]+)\` IS NULL OR S\\.\`\\8\` > T\\.\`\\8\`\\) THEN\\s+UPDATE SET (.+?)\\s+WHEN NOT MATCHED THEN\\s+INSERT \\(([^)]*)\\) VALUES \\(([^)]*)\\)$`,
    's',
  ).exec(request.sql);
  if (!match) return undefined;
  const [
    ,
    targetProject = '',
    targetDataset = '',
    targetTable = '',
    stagingProject = '',
    stagingDataset = '',
    stagingTable = '',
    on = '',
    version = '',
    set = '',
    insertColumns = '',
    insertValues = '',
  ] = match;
  double.requirePermission(request.clientEmail, 'bigquery.tables.updateData', targetProject);
  const target = double.requireTable(targetProject, targetDataset, targetTable);
  const staging = double.requireTable(stagingProject, stagingDataset, stagingTable);
  const unrecognized = (name: string) => new BigQueryApiError(400, 'invalidQuery', `Unrecognized name: ${name}`, 'INVALID_ARGUMENT');
  const column = (table: DoubleTable, name: string) => {
    const field = table.schema.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!field) throw unrecognized(name);
    return field.name;
  };
  const keys = on.split(/\s+AND\s+/).map((condition) => {
    const pair = /^T\.`([^`]+)` = S\.`([^`]+)`$/.exec(condition.trim());
    if (!pair || pair[1] !== pair[2])
      throw new BigQueryApiError(400, 'invalidQuery', `the double does not understand ON ${condition}`, 'INVALID_ARGUMENT');
    return { target: column(target, pair[1]!), staged: column(staging, pair[2]!) };
  });
  const assignments = set.split(/,\s*/).map((assignment) => {
    const pair = /^`([^`]+)` = S\.`([^`]+)`$/.exec(assignment.trim());
    if (!pair) throw new BigQueryApiError(400, 'invalidQuery', `the double does not understand SET ${assignment}`, 'INVALID_ARGUMENT');
    return { target: column(target, pair[1]!), staged: column(staging, pair[2]!) };
  });
  const names = (list: string, prefix: string) =>
    list.split(/,\s*/).map((entry) => new RegExp(`^${prefix}\`([^\`]+)\`$`).exec(entry.trim())?.[1] ?? '');
  const inserted = names(insertColumns, '').map((name) => column(target, name));
  const values = names(insertValues, 'S\\.').map((name) => column(staging, name));
  if (inserted.length !== values.length)
    throw new BigQueryApiError(400, 'invalidQuery', 'INSERT has more target columns than values', 'INVALID_ARGUMENT');
  const targetVersion = column(target, version);
  const stagedVersion = column(staging, version);

  const sameKey = (row: BigQueryRow, staged: BigQueryRow) =>
    keys.every((key) => row[key.target] !== null && row[key.target] !== undefined && String(row[key.target]) === String(staged[key.staged]));
  const matchedBy = new Map<BigQueryRow, number>();
  const updates: { row: BigQueryRow; staged: BigQueryRow }[] = [];
  const inserts: BigQueryRow[] = [];
  for (const staged of staging.rows) {
    const row = target.rows.find((candidate) => sameKey(candidate, staged));
    if (!row) {
      inserts.push(staged);
      continue;
    }
    matchedBy.set(row, (matchedBy.get(row) ?? 0) + 1);
    if (matchedBy.get(row)! > 1)
      throw new BigQueryApiError(400, 'invalidQuery', 'UPDATE/MERGE must match at most one source row for each target row', 'INVALID_ARGUMENT');
    const current = row[targetVersion];
    const incoming = staged[stagedVersion];
    if (
      current === null ||
      current === undefined ||
      (incoming !== null && incoming !== undefined && BigInt(String(incoming)) > BigInt(String(current)))
    )
      updates.push({ row, staged });
  }
  for (const { row, staged } of updates) for (const assignment of assignments) row[assignment.target] = staged[assignment.staged] ?? null;
  for (const staged of inserts) {
    const row: BigQueryRow = Object.fromEntries(target.schema.map((field) => [field.name, null]));
    inserted.forEach((name, index) => (row[name] = staged[values[index]!] ?? null));
    target.rows.push(row);
  }
  return { schema: [], rows: [], numDmlAffectedRows: updates.length + inserts.length };
};
