/**
 * The Pulumi program (entry: index.ts at the project root re-exports this module; see Pulumi.yaml).
 * Reads the `armp-postgres:` stack config, composes PostgresServer, AppDatabase, PgBouncer,
 * AppEnvironment and the migration, and exports what a user needs. Secret outputs stay secrets.
 *
 * Stack outputs (only those that apply to the configuration are exported, so a disabled part
 * leaves no empty output behind): postgresMode, postgresHost, postgresPort, databaseName, appRole,
 * pgbouncerEnabled, pgbouncerHost, pgbouncerPort, pgbouncerIni, DATABASE_URL (secret; through
 * pgBouncer when it runs), DIRECT_DATABASE_URL (secret), ENVIRONMENT, LOG_LEVEL, envFile,
 * envFileBackup, postgresVolume, migrationReport.
 */
import { readConfig } from "./config";
import { createStack, stackOutputs, type MigrationFactory } from "./stack";

// SEAM (issue 4 -> providers issue): the Migration component (migrate/providers/migration.ts,
// `armp:migrate:Migration`) had not landed when this was written. Once it exists, wire it here:
//
//   import { Migration } from "../migrate/providers/migration";
//   const migration: MigrationFactory = (name, args, opts) => new Migration(name, args, opts);
//
// Until then no migration resources are declared and `migrationReport` is not exported; the
// migration keys (migrationEnabled, sourcePath, extraIndexes, castOverrides, timestamptz,
// targetSchema, migrationJobs) are read and validated already.
const migration: MigrationFactory | undefined = undefined;

// `export =`: the module's exports object is the stack's outputs, so only what applies is exported.
export = stackOutputs(createStack(readConfig(), migration ? { migration } : {}));
