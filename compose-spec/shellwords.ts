// Splits a command string into words like a POSIX shell would, without expanding anything:
// `command: echo "a b"` runs echo with one argument, as in docker compose.

export class ShellWordsError extends Error {}

export function splitShellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new ShellWordsError(`trailing backslash in '${s}'`);
      // Backslash-newline is a line continuation, not a character.
      if (s[i + 1] !== '\n') {
        cur += s[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw new ShellWordsError(`unterminated single quote in '${s}'`);
      cur += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new ShellWordsError(`unterminated double quote in '${s}'`);
        const d = s[j]!;
        if (d === '"') break;
        if (d === '\\' && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1]!)) {
          if (s[j + 1] !== '\n') cur += s[j + 1];
          j += 2;
          continue;
        }
        cur += d;
        j++;
      }
      inWord = true;
      i = j + 1;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
