import { run } from "./src/cli/entry.ts";

Deno.exit(await run(Deno.args));
