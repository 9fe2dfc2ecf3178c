/** Secret and epoch of the server that captured tests/fixtures/nfs_golden/ (handles in the frames are valid for it). */
export const GOLDEN_SECRET = new Uint8Array(16).map((_, i) => 0xa0 + i);
export const GOLDEN_EPOCH = 1_735_689_600_000;

/** Reads a golden frame: hex, whitespace ignored. */
export async function readGolden(name: string): Promise<Uint8Array> {
  const url = new URL(`../fixtures/nfs_golden/${name}.hex`, import.meta.url);
  const hex = (await Deno.readTextFile(url)).replace(/\s+/g, "");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
