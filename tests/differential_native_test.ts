/**
 * The differential tester native-vs-native: two plain temp dirs must always
 * agree, which proves the tester (its op generator, outcome recording and
 * tree comparison) is deterministic and sound. Seed: env VIBE_TEST_SEED, else
 * random (printed).
 */
import assert from "node:assert/strict";
import { differential } from "./differential.ts";

async function withRoots(fn: (a: string, b: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "vibe_differential_" });
  try {
    await Deno.mkdir(`${root}/a`);
    await Deno.mkdir(`${root}/b`);
    await fn(`${root}/a`, `${root}/b`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("differential: native vs native, 3,000 ops", async () => {
  const env = Deno.env.get("VIBE_TEST_SEED");
  const seed = env !== undefined && env !== "" ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  console.log(`differential seed ${seed}`);
  await withRoots((a, b) => differential({ a, b, seed, ops: 3000, label: "native/native" }));
});

Deno.test("differential: reports a divergence with its seed", async () => {
  await withRoots(async (a, b) => {
    // A name the generator never makes: only listings and the final tree see it.
    await Deno.writeFile(`${b}/zz-extra`, new TextEncoder().encode("only in b"));
    await assert.rejects(
      differential({ a, b, seed: 7, ops: 200, label: "divergent" }),
      (e: Error) => /seed 7\b/.test(e.message) && /zz-extra/.test(e.message),
    );
  });
});
