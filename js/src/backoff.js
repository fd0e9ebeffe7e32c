// Sente's reconnect backoff: encore's `exp-backoff` without bounds (PROTOCOL.md §5.10).

/**
 * The wait before reconnect attempt `attempt` (the client calls it from the
 * second attempt on; the first retry is immediate): with b = 2^min(n, 36),
 * floor((b + random()·b) · 0.5 · 1000) ms, uniform in [b·500, b·1000).
 *
 * @param {number} attempt
 * @param {() => number} [random] uniform in [0, 1); Math.random by default
 */
export function expBackoff(attempt, random = Math.random) {
  const b = 2 ** Math.min(Math.max(attempt, 0), 36);
  let u = Number(random());
  if (Number.isNaN(u)) u = 0;
  u = Math.min(Math.max(u, 0), 1);
  return Math.floor((b + u * b) * 0.5 * 1000);
}
