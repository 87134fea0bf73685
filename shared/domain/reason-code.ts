/**
 * A skip or failure reason as a short, bounded code for a metric dimension: the ledger keeps the
 * whole sentence, a metric needs few distinct values (each is its own CloudWatch series).
 */
const PREFIXES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^deferred to /, 'deferred'],
  [/^gave up after /, 'gave-up'],
  [/^outcome unknown/, 'outcome-unknown'],
  [/^too late/, 'too-late'],
  // Booking emails: the sentence goes on after a colon to say what the client was told instead.
  [/^cancelled within the undo window/, 'cancelled-in-undo-window'],
  [/^moved within the undo window/, 'moved-in-undo-window'],
  [/^\w+ emails are turned off in the stage config/, 'turned-off'],
];

/** `superseded by a later reminder` → `superseded-by-a-later-reminder`; `MessageRejected: …` → `MessageRejected`. */
export function reasonCode(reason: string | undefined): string {
  if (!reason) return 'unknown';
  for (const [pattern, code] of PREFIXES) if (pattern.test(reason)) return code;
  // A permanent SES error is recorded as `<ErrorName>: <message>`: the name is the code.
  const error = /^([A-Z][A-Za-z]{2,60}): /.exec(reason);
  if (error) return error[1]!;
  // The fixed lowercase sentences of the time rules and the skip decisions.
  if (/^[a-z][a-z ,'’-]{2,80}$/.test(reason)) return reason.replace(/[^a-z]+/g, '-').replace(/-+$/, '');
  return 'other';
}
