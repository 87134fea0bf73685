/** Fixtures write instants as text; `instant('2027-02-01T10:00:00Z')` makes the branded Instant a port expects. */
export { toInstant as instant } from '../../shared/domain/time.js';
