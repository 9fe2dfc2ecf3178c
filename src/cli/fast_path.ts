/**
 * The one invocation agents run by the hundred, `vibe spawn <id> --no-mount
 * [--from <rev>] [--json] [-C <dir>]`, parsed without loading commander:
 * commander pulls in Node's process/fs/child_process layers (~25 ms of a
 * ~55 ms spawn). The parser is strict: any other token (help, unknown flags,
 * mounting) returns null and the invocation goes through commander as usual,
 * so behaviour and messages stay commander's for everything else.
 */
import type { SpawnFlags } from "./commands.ts";

export interface FastSpawn {
  cwd: string;
  id: string;
  flags: SpawnFlags;
}

/** The parsed fast invocation, or null when commander must handle `args`. */
export function parseFastSpawn(args: string[]): FastSpawn | null {
  let cwd: string | undefined;
  let i = 0;
  if (args[0] === "-C" || args[0] === "--cwd") {
    cwd = args[1];
    i = 2;
  }
  if (args[i] !== "spawn") return null;
  let id: string | undefined;
  let noMount = false;
  let json = false;
  let from: string | undefined;
  for (i++; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--no-mount") noMount = true;
    else if (a === "--json") json = true;
    else if (a === "--from" && i + 1 < args.length && !args[i + 1]!.startsWith("-")) {
      from = args[++i];
    } else if (a.startsWith("--from=") && a.length > 7) from = a.slice(7);
    else if (!a.startsWith("-") && id === undefined) id = a;
    else return null;
  }
  if (id === undefined || !noMount || cwd === "") return null;
  const flags: SpawnFlags = { mount: false, json };
  if (from !== undefined) flags.from = from;
  return { cwd: cwd ?? Deno.cwd(), id, flags };
}

export async function runFastSpawn(f: FastSpawn): Promise<number> {
  const { runSpawn } = await import("./commands.ts");
  const { reportError } = await import("./output.ts");
  try {
    await runSpawn(f.cwd, f.id, f.flags);
    return 0;
  } catch (e) {
    return reportError(e, f.flags.json === true);
  }
}
