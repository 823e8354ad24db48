/**
 * AppDatabase — the app's role (login, not superuser) and the database it owns, plus a
 * connect-only role for pgBouncer's healthcheck. Managed with @pulumi/postgresql through a provider
 * configured from the server's outputs. `manageRole: false` skips all of it for an external server
 * that hands out a ready database URL.
 *
 * Passwords: each role's password comes from an `armp:infra:Secret` (generated once, kept in state)
 * or from config, and the role's password is set to a SCRAM-SHA-256 *verifier* computed once from
 * it with the Secret's stored salt. PostgreSQL stores a pre-computed verifier as-is, so the same
 * string can go into pgBouncer's userlist and pgBouncer can log in with it (issue 4).
 */
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { scramSha256Verifier } from "../pgbouncer";
import { parsePostgresUrl, postgresUrl } from "./config";
import { DatabaseAccess } from "./providers/database-access";
import { Secret } from "./providers/secret";

export interface AppDatabaseServer {
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly internalHost: pulumi.Input<string>;
  readonly internalPort: pulumi.Input<number>;
  readonly adminUser: pulumi.Input<string>;
  readonly adminPassword: pulumi.Input<string>;
  readonly adminDatabase: pulumi.Input<string>;
  /** The postgresql provider's sslmode (lib/pq: disable, require, verify-ca, verify-full). */
  readonly sslMode: pulumi.Input<string>;
  /** Secret. The admin's URL, for the DatabaseAccess resource. */
  readonly adminUrl: pulumi.Input<string>;
}

/** TLS parameters (libpq's) put into every URL the stack builds for this server. */
export interface UrlTls {
  sslmode: string;
  /** A CA file path or "system". */
  sslrootcert?: string;
}

export interface AppDatabaseArgs {
  /** Where to create the role and database (PostgresServer's outputs). Required when manageRole. */
  readonly server?: AppDatabaseServer;
  /** Create the role, database and grants. Defaults to true. */
  readonly manageRole?: boolean;
  /** Database name. Defaults to "armp". */
  readonly databaseName?: string;
  /** App role name. Defaults to "armp_app". */
  readonly roleName?: string;
  /** App role password (secret). Defaults to a generated one, stable across runs. */
  readonly password?: pulumi.Input<string>;
  /** Connect-only role for pgBouncer's healthcheck. Defaults to "armp_healthcheck". */
  readonly healthcheckRole?: string;
  /**
   * The superuser flag of the admin connection. Defaults to true. A superuser admin lets the
   * provider read role passwords back (a hand-changed one shows as a diff); a non-superuser admin
   * makes it grant itself the new role to hand over ownership.
   */
  readonly adminIsSuperuser?: pulumi.Input<boolean>;
  /** The CA file the provider checks the server certificate against (lib/pq's sslrootcert). */
  readonly sslRootCert?: string;
  /** TLS parameters for the app's and the migration's URLs (and DatabaseAccess's). Undefined: none. */
  readonly urlTls?: UrlTls;
  /** Create the connect-only healthcheck role (pgBouncer's). Defaults to true. */
  readonly healthcheck?: boolean;
  /** manageRole=false: the ready database URL (secret). Required then. */
  readonly databaseUrl?: pulumi.Input<string>;
}

export interface RoleCredentials {
  readonly name: string;
  /** Secret. */
  readonly password: pulumi.Output<string>;
  /** Secret; the exact string PostgreSQL stores in pg_authid.rolpassword. */
  readonly verifier: pulumi.Output<string>;
}

export class AppDatabase extends pulumi.ComponentResource {
  public readonly databaseName: pulumi.Output<string>;
  public readonly roleName: pulumi.Output<string>;
  /** Direct URL for the Pulumi host (migrations, advisory locks); secret. */
  public readonly url: pulumi.Output<string>;
  /** Direct URL for containers on the server's network; secret. */
  public readonly internalUrl: pulumi.Output<string>;
  /** Undefined when manageRole is false (the stack does not know the server's verifier then). */
  public readonly app?: RoleCredentials;
  /** Undefined when manageRole is false or pgBouncer is off (no healthcheck to log in). */
  public readonly healthcheck?: RoleCredentials;
  /** The resources pgBouncer's login depends on (roles exist with these verifiers). */
  public readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: AppDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("armp:infra:AppDatabase", name, {}, opts);

    if (args.manageRole === false) {
      if (args.databaseUrl === undefined) {
        throw new pulumi.ResourceError("armp-postgres:databaseUrl is required when armp-postgres:manageRole=false.", this);
      }
      const url = pulumi.secret(args.databaseUrl);
      const parsed = pulumi.output(args.databaseUrl).apply((u) => parsePostgresUrl("armp-postgres:databaseUrl", u));
      // Names are not secrets; only the URL (password) is.
      this.databaseName = pulumi.unsecret(parsed.database);
      this.roleName = pulumi.unsecret(parsed.user);
      this.url = url;
      this.internalUrl = url;
      this.registerOutputs({ databaseName: this.databaseName, roleName: this.roleName, url: this.url });
      return;
    }

    if (args.server === undefined) {
      throw new pulumi.ResourceError("AppDatabase needs the server's outputs when armp-postgres:manageRole is true.", this);
    }
    const server = args.server;
    const dbName = args.databaseName ?? "armp";
    const roleName = args.roleName ?? "armp_app";
    const healthName = args.healthcheckRole ?? "armp_healthcheck";

    const provider = new postgresql.Provider(
      `${name}-pg`,
      {
        host: server.host,
        port: server.port,
        username: server.adminUser,
        password: server.adminPassword,
        database: server.adminDatabase,
        sslmode: server.sslMode,
        ...(args.sslRootCert !== undefined ? { sslrootcert: args.sslRootCert } : {}),
        superuser: args.adminIsSuperuser ?? true,
        connectTimeout: 15,
      },
      { parent: this },
    );
    const child = { parent: this, provider };

    this.app = this.credentials(`${name}-app`, roleName, args.password);
    const health = args.healthcheck === false ? undefined : this.credentials(`${name}-healthcheck`, healthName, undefined);
    if (health) this.healthcheck = health;

    const role = new postgresql.Role(
      `${name}-app-role`,
      {
        name: roleName,
        login: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        inherit: true,
        // A SCRAM verifier: PostgreSQL stores it unchanged (it never re-hashes a verifier).
        password: this.app.verifier,
        encryptedPassword: true,
      },
      child,
    );
    const healthRole = health
      ? new postgresql.Role(
          `${name}-healthcheck-role`,
          {
            name: healthName,
            login: true,
            superuser: false,
            createDatabase: false,
            createRole: false,
            // It only runs SELECT 1 every few seconds; two slots cover an overlapping check.
            connectionLimit: 2,
            password: health.verifier,
            encryptedPassword: true,
          },
          child,
        )
      : undefined;
    const database = new postgresql.Database(
      `${name}-db`,
      // UTF8 whatever template1 is: SQLite text is UTF-8. template0 is required to choose an encoding.
      { name: dbName, owner: role.name, encoding: "UTF8", template: "template0" },
      child,
    );

    const password = this.app.password;
    const tls = args.urlTls;
    const urlOf = (user: string, pw: string, host: string, port: number, db: string): string =>
      postgresUrl({ user, password: pw, host, port, database: db, ...(tls ? { sslmode: tls.sslmode, ...(tls.sslrootcert ? { sslrootcert: tls.sslrootcert } : {}) } : {}) });
    // The owner has every database privilege by owning it, and schema public through
    // pg_database_owner (PostgreSQL 15+): no grant of the provider's is needed for the app, and its
    // database grants are silent no-ops for an admin that is not a superuser. DatabaseAccess takes
    // PUBLIC's defaults away and lets the healthcheck role connect, acting as the owner.
    const access = new DatabaseAccess(
      `${name}-db-access`,
      {
        adminUrl: pulumi.all([server.adminUrl]).apply(([u]) => withTls(u, tls)),
        database: database.name,
        owner: role.name,
        connectRoles: healthRole ? [healthRole.name] : [],
        ownerVerifier: this.app.verifier,
        ownerUrl: pulumi.all([role.name, password, server.host, server.port, database.name]).apply(([user, pw, h, p, db]) => urlOf(user, pw, h, p, db)),
      },
      { parent: this, dependsOn: [role, database, ...(healthRole ? [healthRole] : [])] },
    );
    this.ready.push(role, ...(healthRole ? [healthRole] : []), database, access);

    // URLs are built from the resources' outputs so that a client of the URL waits for them.
    const build = (host: pulumi.Input<string>, port: pulumi.Input<number>) =>
      pulumi.secret(pulumi.all([role.name, password, host, port, database.name, access.id]).apply(([user, pw, h, p, db]) => urlOf(user, pw, h, p, db)));
    this.databaseName = database.name;
    this.roleName = role.name;
    this.url = build(server.host, server.port);
    this.internalUrl = build(server.internalHost, server.internalPort);
    this.registerOutputs({ databaseName: this.databaseName, roleName: this.roleName, url: this.url, internalUrl: this.internalUrl });
  }

  /** Password (configured or generated) and its verifier with the Secret's stored salt. */
  private credentials(resourceName: string, role: string, configured: pulumi.Input<string> | undefined): RoleCredentials {
    const secret = new Secret(`${resourceName}-password`, { length: 24 }, { parent: this });
    const password = pulumi.secret(configured ?? secret.value);
    const verifier = pulumi.secret(
      pulumi.all([password, secret.salt]).apply(([pw, salt]) => scramSha256Verifier(pw, { salt: Buffer.from(salt, "base64") })),
    );
    return { name: role, password, verifier };
  }
}

/** `url` with libpq's TLS parameters set to `tls` (replacing any it had); unchanged without tls. */
export function withTls(url: string, tls: UrlTls | undefined): string {
  if (!tls) return url;
  const u = new URL(url);
  u.searchParams.set("sslmode", tls.sslmode);
  if (tls.sslrootcert) u.searchParams.set("sslrootcert", tls.sslrootcert);
  else u.searchParams.delete("sslrootcert");
  return u.toString();
}
