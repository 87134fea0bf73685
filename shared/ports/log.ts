/**
 * The operational log the use cases write to: a message and opaque attributes (ids, counts,
 * reasons) — never a name, an address or an answer. Handlers pass Powertools' Logger.
 */
export interface OpsLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** For callers (tests, the twin's tools) that want no log at all. */
export const silentLog: OpsLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Log lines carry opaque ids and fixed reasons only; the type keeps objects (and PII) out. */
export type OpaqueAttributes = Record<string, string | number | boolean | undefined>;
export interface OpaqueLog {
  info(message: string, ...attributes: OpaqueAttributes[]): void;
  warn(message: string, ...attributes: OpaqueAttributes[]): void;
  error(message: string, ...attributes: OpaqueAttributes[]): void;
}
