/**
 * Everything the serialized providers call, in one module so the provider closures need a
 * single `require` (see dynamic-providers.ts). Compiled to dist/migrate/providers/lifecycles.js.
 */
export { schemaLifecycle } from "./schema-lifecycle";
export { dataLifecycle } from "./data-lifecycle";
export { indexesLifecycle } from "./indexes-lifecycle";
export { verificationLifecycle } from "./verification-lifecycle";
export { captureLifecycle } from "./capture-lifecycle";
export { rollbackGuardLifecycle } from "./rollback-guard-lifecycle";
