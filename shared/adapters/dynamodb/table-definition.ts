/**
 * The one table's shape, shared by the CDK stateful stack and the local twin so that the key
 * schema and indexes cannot drift between what is deployed and what is tested.
 *
 * Single-table layout (pk / sk):
 *   CLIENT#<clientId>   CLIENT                  the client (profile, preferences, suppression)
 *   CLIENT#<clientId>   PLAN#<planId>           a plan; GSI3 while a maintenance action is pending
 *   CLIENT#<clientId>   SESSION#<sessionId>     a session; GSI1 by start day, GSI2 by therapist
 *   CLIENT#<clientId>   CHECKIN#<sessionId>     check-in answers; GSI2 by therapist and time
 *   CLIENT#<clientId>   REQUEST#<sessionId>     a reschedule request; GSI2 by therapist and time
 *   CLIENT#<clientId>   PLANLOG#<planId>#<id>   a change to a plan (its history); GSI2 by therapist and time
 *   CLIENT#<clientId>   DAYCAP#<yyyy-mm-dd>     the client's non-urgent email of that local day (TTL)
 *   EMAIL#<address>     EMAIL                   email → client id, for bounce and complaint events
 *   THERAPIST#<id>      THERAPIST               the therapist
 *   MSG#<messageName>   MSG                     the message ledger; GSI1 by day for the outbox, once
 *                                               settled or released (a claim carries no index keys)
 *   TOKEN#<tokenId>     TOKEN                   a consumed single-use link token (TTL)
 *   REF#SESSION#<id>    REF                     session id → client id (CLI, simulation, web)
 *   REF#PLAN#<id>       REF                     plan id → client id
 *   INTAKE#<src>#<id>   INTAKE                  one booking-system delivery and its outcome; GSI1 by day (`INTAKE#day`)
 *   BOOKING#<src>#<uid> BOOKING                 a source booking → its session, with the newest source version applied
 *   ERASED#CLIENT#<id>  ERASED                  an erased client's tombstone: refuses a re-import of the id
 *   ERASED#EMAIL#<hash> ERASED                  the same, by the SHA-256 of the address: a late webhook is ignored
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export const INDEXES = {
  /** Sessions by UTC start day (`SESSIONS#yyyy-mm-dd`) and settled ledger entries by day (`OUTBOX#yyyy-mm-dd`). */
  byDay: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** A therapist's sessions, check-ins, requests and plans (`THERAPIST#id`, sk `<TYPE>#<instant>#id`). */
  byTherapist: { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Plans with a pending maintenance action (`MAINT#yyyy-mm`, sk `<actionAt>#planId`); sparse. */
  maintenance: { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
} as const satisfies Record<string, IndexDefinition>;

export const ALL_INDEXES: readonly IndexDefinition[] = Object.values(INDEXES);
