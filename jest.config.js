/** Jest projects split like node-pg-migrate's suites: unit (no servers), integration
 * (real PostgreSQL, SQLite, pgbouncer; started by test/support/global-setup), e2e (real Pulumi CLI),
 * docker (the docker stack's containers on a real Docker engine; `npm run test:docker`). */
const tsJest = { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] };
const common = { testEnvironment: "node", transform: tsJest, moduleFileExtensions: ["ts", "js", "json"] };
module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/test/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/support/global-teardown.ts",
      setupFilesAfterEnv: ["<rootDir>/test/support/timeout-integration.ts"],
    },
    {
      ...common,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      globalSetup: "<rootDir>/test/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/support/global-teardown.ts",
      setupFilesAfterEnv: ["<rootDir>/test/support/timeout-e2e.ts"],
    },
    { ...common, displayName: "docker", testMatch: ["<rootDir>/test/docker/**/*.test.ts"] },
  ],
};
