/** Adds `value` to the set `groups` holds for `key` (a new set for a key not seen yet). */
export function addToGroup<K, V>(groups: Map<K, Set<V>>, key: K, value: V): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, new Set([value]));
  else group.add(value);
}
