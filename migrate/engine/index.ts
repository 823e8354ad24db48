/**
 * Engine public API (docs/CONTRACTS.md). Pure: no Pulumi imports. Every function opens and closes
 * its own connections; the SQLite source is only ever opened read-only.
 */
export { MigrationError, isMigrationError, type ErrorCode, type ErrorMeta } from "./errors";
export { redactUrl } from "./url";
export type { TargetRef } from "./pg";
export type { MappingOptions, ColumnMapping, ValueKind } from "./typemap";
export { decisionLines, type DecisionOptions, type EpochChoice, type TypeDecision } from "./decide";
export { columnType, type IndexSpec } from "./ddl";
export { buildNameMap, type NameChange, type NameKind, type NameMap, type Renames } from "./names";
export { planMigration, fingerprintSchema, sourceIndexes, fkCoveringIndexes, columnWarnings, type MigrationPlan, type TablePlan, type ViewPlan, type SchemaFingerprint } from "./plan";
export type { Finding, FindingKind, TableProfile, ColumnProfile } from "./profile";
export { fingerprintData, type DataFingerprint } from "./fingerprint";
export { createViews, dropViews, type ViewResult } from "./views/create";
export { createTables, alterTables, dropTables, truncateTables, createIndexes, dropIndexes } from "./target-ddl";
export { copyData, type CopyReport, type CopyProgress, type CopyOptions, type TableCopyReport } from "./copy";
export { verify, type VerifyReport, type VerifyTableReport } from "./verify";
export { runMigration, type RunReport, type RunOptions, type RunTableReport } from "./run";
export { LOCK_KEY } from "./lock";
export { installCapture, removeCapture, type CaptureStatus } from "./capture";
export { syncChanges, type SyncOptions, type SyncReport } from "./sync";
export { cutover, type CutoverOptions, type CutoverReport, type CutoverPhase } from "./cutover";
export { installTargetCapture, removeTargetCapture, rollbackChanges, targetCaptureStatus, type TargetCaptureStatus, type RollbackReport, type RollbackOptions } from "./rollback";
