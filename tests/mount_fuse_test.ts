/**
 * The mount-level POSIX suite and the differential tester against a
 * FUSE-mounted vibe (workspace Vfs over a real git repo, served by the real
 * daemon in its own process), with a native directory as the control.
 */
import { registerMountSuite } from "./mount_suite.ts";
import { differential } from "./differential.ts";
import { makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";
import { cleanupDaemon, fuseUnavailable, vibeOk } from "./helpers/vibe_cli.ts";

const skip = fuseUnavailable();

async function mountedVibe(id: string) {
  const repo = await makeRepo(SAMPLE_FILES);
  const mnt = await Deno.makeTempDir({ prefix: "vibe-suite-" });
  await vibeOk(repo, "init");
  await vibeOk(repo, "spawn", id, "--mount", `${mnt}/${id}`);
  return {
    dir: `${mnt}/${id}`,
    cleanup: async () => {
      await cleanupDaemon(repo, mnt);
      await Deno.remove(repo, { recursive: true }).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    },
  };
}

registerMountSuite("fuse-vibe", () => mountedVibe("suite"), skip ? { skip } : {});

Deno.test({
  name: "fuse-vibe: differential against a native directory (3,000 seeded ops)",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const seed = Number(Deno.env.get("VIBE_TEST_SEED") ?? Math.floor(Math.random() * 1e9));
    const m = await mountedVibe("diff");
    const native = await Deno.makeTempDir({ prefix: "vibe-native-" });
    await Deno.chmod(native, 0o755); // as the mkdir below creates its side
    try {
      await Deno.mkdir(`${m.dir}/area`);
      await differential({ a: `${m.dir}/area`, b: native, seed, ops: 3000, label: "fuse-vibe" });
    } finally {
      await m.cleanup();
      await Deno.remove(native, { recursive: true }).catch(() => {});
    }
  },
});
