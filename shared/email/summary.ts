/**
 * The therapist's follow-up summary email: counts at the top, red flags first, then who needs a
 * reply, who is slipping on maintenance, the other check-ins (compact), and what is coming up;
 * with every check-in of the period in an attached CSV. In parts: the document
 * (summary-document.ts, its sections in summary-sections.ts), the CSV (summary-csv.ts) and the
 * size guard that composes them under 1 MB (summary-size.ts).
 */
export { checkInsCsv, csvCell, CSV_COLUMNS, CSV_FILENAME, toCsv } from './summary-csv.js';
export { emptySummaryLine, summaryDocument, summarySubject, type DocumentOptions } from './summary-document.js';
export { ADJUST_LABEL, COMPACT_NOTE_CHARS, type ChartRef } from './summary-sections.js';
export { composeSummary, encodedSize, MAX_RAW_MESSAGE_BYTES, type ComposedSummary } from './summary-size.js';
