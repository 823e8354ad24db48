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
import { Migration } from "../migrate/providers/migration";
import { readConfig } from "./config";
import { createStack, stackOutputs, type MigrationFactory } from "./stack";

// The migration (armp:migrate:Migration) writes over DIRECT_DATABASE_URL; createStack decides
// whether to declare it (armp-postgres:migrationEnabled) and with which arguments.
const migration: MigrationFactory = (name, args, opts) => new Migration(name, args, opts);

// `export =`: the module's exports object is the stack's outputs, so only what applies is exported.
export = stackOutputs(createStack(readConfig(), { migration }));
