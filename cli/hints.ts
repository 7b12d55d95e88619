// Our CLI's hints after a daemon's error: the daemon keeps Docker's words (Docker's clients match
// them), and only our CLI says what to do next.

const NO_SUCH_IMAGE = /^No such image: (\S+)$/;

/** The daemon's message with our hint added where one helps ("No such image: x" → try: tsswarm pull x). */
export function withHint(message: string): string {
  const m = NO_SUCH_IMAGE.exec(message.trim());
  if (m) return `${message.trim()} — try: tsswarm pull ${m[1]!}`;
  return message;
}
