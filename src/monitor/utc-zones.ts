/**
 * Time zone names whose offset from UTC is zero at every instant (the IANA `etcetera` and `backward`
 * links to UTC and GMT): the monitor reads the clock in them with plain arithmetic and checks them
 * without `Intl`, whose first `DateTimeFormat` in a process costs ~8 MB resident.
 */
export const UTC_ZONES: ReadonlySet<string> = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'GMT0', 'GMT+0', 'GMT-0', 'Etc/Greenwich', 'Greenwich']);
