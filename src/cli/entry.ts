/** Process entry: the fast path for `spawn --no-mount`, commander for everything else. */
import { parseFastSpawn } from "./fast_path.ts";

export async function run(args: string[]): Promise<number> {
  const fast = parseFastSpawn(args);
  if (fast) return await (await import("./fast_path.ts")).runFastSpawn(fast);
  const { main } = await import("./main.ts");
  return await main(args);
}
