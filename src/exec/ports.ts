/**
 * A distinct port range per vibe, so dev servers started in parallel vibes
 * do not collide: `PORT` = the range's first port, `VIBE_PORT_BASE` the
 * same, 10 ports each from 20000. Kept as settings `port:<vibe>`; slots of
 * vibes that no longer exist are reused.
 */
import type { MetaStore } from "../meta/meta_store.ts";

export const PORT_FIRST = 20000;
export const PORTS_PER_VIBE = 10;
const SLOTS = 4000;

export function portBase(meta: MetaStore, vibe: string): number {
  return meta.transaction(() => {
    const own = meta.getSetting(`port:${vibe}`);
    if (own) return Number(own);
    const used = new Set<number>();
    for (const s of meta.listSettings("port:")) {
      if (meta.getVibe(s.key.slice(5))) used.add(Number(s.value));
    }
    for (let k = 0; k < SLOTS; k++) {
      const base = PORT_FIRST + k * PORTS_PER_VIBE;
      if (!used.has(base)) {
        meta.setSetting(`port:${vibe}`, String(base));
        return base;
      }
    }
    return PORT_FIRST; // 4,000 live vibes: share rather than fail
  });
}
