/** Weekday names of a rule's `time.days`, Monday first (used by the schema and the time window check). */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
