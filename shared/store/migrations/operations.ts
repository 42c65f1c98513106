import type { Migration } from '../migrate';
import { APP_DATABASE_ROLE } from '../database-roles';

/** Operations (900–999): database roles and job leases. */
export const operationsMigrations: readonly Migration[] = [
  {
    version: 900,
    name: 'application role with DML only',
    sql: `
      -- Roles belong to the cluster, not the database: another database may have created it.
      -- A local DATABASE_URL user without CREATEROLE skips the role (locally every part
      -- connects as that user anyway; docs/deploy.md, "Database users").
      DO $$
      BEGIN
        BEGIN
          CREATE ROLE ${APP_DATABASE_ROLE} NOLOGIN;
        EXCEPTION
          WHEN duplicate_object OR unique_violation THEN NULL;
          WHEN insufficient_privilege THEN
            RAISE NOTICE 'no CREATEROLE: the application role is left out';
            RETURN;
        END;
        GRANT USAGE ON SCHEMA public TO ${APP_DATABASE_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_DATABASE_ROLE};
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${APP_DATABASE_ROLE};
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${APP_DATABASE_ROLE};
        -- Tables, sequences and functions later migrations create (as the migrating user) too.
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_DATABASE_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${APP_DATABASE_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${APP_DATABASE_ROLE};
      END $$;
    `,
  },
  {
    version: 901,
    name: 'job leases',
    sql: `
      -- One row per job that must not run twice at once (an export dataset, a broadcast). A
      -- lease is a row, not a session lock, so holding it pins no connection through RDS Proxy;
      -- it expires on its own when its holder dies (the worker's timeout has passed).
      CREATE TABLE job_leases (
        job_key     text PRIMARY KEY,
        holder      uuid NOT NULL,
        expires_at  timestamptz NOT NULL
      );
    `,
  },
  {
    version: 902,
    name: 'the migrating role grants the application role DML on what it creates',
    sql: `
      -- Default privileges belong to the role that creates the objects. 900 set them for
      -- whoever applied it; on AWS the migrations now run as the migrator's role
      -- (shared/store/database-roles.ts), which takes them here. Skipped where 900 made no
      -- application role.
      DO $$
      BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_DATABASE_ROLE}') THEN
          ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_DATABASE_ROLE};
          ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${APP_DATABASE_ROLE};
          ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${APP_DATABASE_ROLE};
        END IF;
      END $$;
    `,
  },
];
