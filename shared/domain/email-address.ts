/**
 * One client per address, whatever its case. Mail systems treat `Sam@Example.com` and
 * `sam@example.com` as one mailbox, so every comparison (the store's email lookup, an import's
 * duplicate check, a bounce or complaint, an intake) goes through `normalizeEmail`. The address
 * is still stored and sent to as the clinic wrote it.
 */
export function normalizeEmail(address: string): string {
  return address.trim().toLowerCase();
}

export function sameEmail(a: string, b: string): boolean {
  return normalizeEmail(a) === normalizeEmail(b);
}
