/**
 * Whether a name is a real IANA time zone, remembered per name. Luxon's IANAZone.isValidZone builds
 * an Intl.DateTimeFormat on every call, and every parse of a client, a plan or a schedule asks it.
 * The zone database does not change while a process runs, so a name found valid stays valid; an
 * unknown name is asked again each time (it is an input error, and is not kept).
 */
import { IANAZone } from 'luxon';

const KNOWN = new Set<string>();

export function isKnownZone(name: string): boolean {
  if (KNOWN.has(name)) return true;
  if (!IANAZone.isValidZone(name)) return false;
  KNOWN.add(name);
  return true;
}
