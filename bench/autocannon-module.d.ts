// autocannon ships no types; the signed load uses only its documented options and result.
declare module 'autocannon' {
  const autocannon: (opts: Record<string, unknown>) => Promise<unknown>;
  export default autocannon;
}
