/**
 * Sets `key` in `map` as its newest entry and drops the oldest past `capacity`: a Map keeps
 * insertion order, so it serves as a small least-recently-set cache (the last known answers, the
 * decoded snapshots, the encoded bodies).
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value as K);
}
