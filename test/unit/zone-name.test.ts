import { describe, expect, it } from 'vitest';
import { isKnownZone } from '../../shared/domain/zone-name.js';
import { clientSchema } from '../../shared/domain/model.js';

describe('isKnownZone', () => {
  it('knows a real IANA zone, asked once or again', () => {
    expect(isKnownZone('Europe/London')).toBe(true);
    expect(isKnownZone('Europe/London')).toBe(true);
    expect(isKnownZone('America/Chicago')).toBe(true);
  });

  it('refuses a made-up zone every time it is asked, and an empty name', () => {
    expect(isKnownZone('Fantasia/Castle')).toBe(false);
    expect(isKnownZone('Fantasia/Castle')).toBe(false);
    expect(isKnownZone('')).toBe(false);
  });

  it("is the rule a client's time zone is parsed with", () => {
    const client = { id: 'c-1', name: 'Sam Patel', email: 'sam@example.com' };
    expect(clientSchema.safeParse({ ...client, timezone: 'Europe/London' }).success).toBe(true);
    const refused = clientSchema.safeParse({ ...client, timezone: 'Fantasia/Castle' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toContain('"Fantasia/Castle" is not a known IANA time zone');
  });
});
