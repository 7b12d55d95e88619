// Code-unit order of strings, as Go's sort.Strings and Docker's tables have it (not localeCompare).
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
